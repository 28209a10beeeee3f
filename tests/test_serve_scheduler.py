"""The scheduler on a manual clock: a sync every 30 s, pause and start, one run at a time, --no-schedule."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from harness.project import load_project
from harness.serve.config import ServeConfig
from harness.serve.runtime import Runtime
from harness.serve.timekeeping import ManualClock
from tests.serve_support import cassette, full_project

T0 = 1_800_000_000.0


def drive(root: Path, scenario: Callable[[Runtime, ManualClock], Awaitable[None]], **options: Any) -> list[str]:
    """Run `scenario` against a runtime on a manual clock; returns the log lines."""
    logs: list[str] = []
    clock = ManualClock(T0)
    config = ServeConfig(secret_key="k", **{"schedule": True, **options})
    runtime = Runtime(load_project(root), config, clock=clock, log=logs.append)

    async def main() -> None:
        await runtime.start()
        try:
            await scenario(runtime, clock)
        finally:
            await runtime.stop()

    asyncio.run(main())
    return logs


async def settle(rt: Runtime) -> None:
    """Let the scheduler react to the clock, then wait for the runs it started."""
    for _ in range(20):
        await asyncio.sleep(0)
    await rt.idle()


def starts(rt: Runtime, sync: str) -> list[float]:
    return [r.started_at - T0 for r in rt.state.runs.get(f"github/{sync}/demo", [])]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return full_project(tmp_path / "p")


def test_a_sync_every_30_seconds(root: Path) -> None:
    seen: dict[str, Any] = {}

    async def scenario(rt: Runtime, clock: ManualClock) -> None:
        await settle(rt)
        assert starts(rt, "items") == [0.0]  # auto-start: at once
        items = rt.registry.sync("github", "items")
        demo = rt.registry.connection("github", "demo")
        assert rt.scheduler.next_run(items, demo) == T0 + 30
        clock.advance(29)
        await settle(rt)
        assert starts(rt, "items") == [0.0]
        clock.advance(1)
        await settle(rt)
        assert starts(rt, "items") == [0.0, 30.0]
        clock.advance(30)
        await settle(rt)
        clock.advance(30)
        await settle(rt)
        assert starts(rt, "items") == [0.0, 30.0, 60.0, 90.0]
        # A long gap runs once, then keeps to the original slots (a fixed rate).
        clock.advance(100)
        await settle(rt)
        assert starts(rt, "items") == [0.0, 30.0, 60.0, 90.0, 190.0]
        assert rt.scheduler.next_run(items, demo) == T0 + 210
        rt.scheduler.pause(items, demo)
        clock.advance(120)
        await settle(rt)
        assert len(starts(rt, "items")) == 5 and rt.scheduler.next_run(items, demo) is None
        rt.scheduler.start(items, demo)  # a paused schedule that starts runs at once
        await settle(rt)
        assert starts(rt, "items")[-1] == 310.0 and rt.scheduler.next_run(items, demo) == T0 + 340
        rt.scheduler.start(items, demo)  # already started: no effect
        await settle(rt)
        seen["runs"] = rt.state.runs["github/items/demo"]
        seen["issues"] = starts(rt, "issues")
        seen["slow"] = starts(rt, "slow")

    drive(root, scenario)
    kinds = [r.kind for r in seen["runs"]]
    assert kinds == ["INITIAL"] + ["INCREMENTAL"] * 5 and all(r.trigger == "schedule" for r in seen["runs"][:5])
    assert all(r.status == "SUCCESS" for r in seen["runs"])
    # issues runs every hour (only its first slot came), slow is not auto-started.
    assert seen["issues"] == [0.0] and seen["slow"] == []


def test_a_slot_is_skipped_while_the_previous_run_goes_on(root: Path, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    cassette(root, "github", "slow", "sync", metadata={"gate": str(gate)})

    async def scenario(rt: Runtime, clock: ManualClock) -> None:
        slow = rt.registry.sync("github", "slow")
        demo = rt.registry.connection("github", "demo")
        rt.scheduler.start(slow, demo)
        for _ in range(20):
            await asyncio.sleep(0)
        assert rt.runner.busy(slow, demo) and "github/slow/demo" in rt.runner.running
        clock.advance(30)  # the second slot comes while run 1 waits for the gate
        for _ in range(20):
            await asyncio.sleep(0)
        # A trigger meanwhile waits for the run in flight, and never overlaps it.
        rt.runner.trigger(slow, demo, trigger="api")
        gate.write_text("open")
        await settle(rt)
        runs = rt.state.runs["github/slow/demo"]
        assert [r.trigger for r in runs] == ["schedule", "api"]
        assert runs[1].started_at >= runs[0].finished_at  # type: ignore[operator]
        # (items, auto-started, waited behind slow on the one replay thread: its slot is skipped too)
        assert [t for k, t in rt.scheduler.skipped if k == "github/slow/demo"] == [T0 + 30]
        clock.advance(30)
        await settle(rt)
        assert [r.trigger for r in rt.state.runs["github/slow/demo"]] == ["schedule", "api", "schedule"]

    logs = drive(root, scenario)
    assert any("still going; this slot is skipped" in line for line in logs)


def test_no_schedule_runs_nothing_on_its_own(root: Path) -> None:
    async def scenario(rt: Runtime, clock: ManualClock) -> None:
        await settle(rt)
        clock.advance(3600)
        await settle(rt)
        assert rt.state.runs == {}
        items = rt.registry.sync("github", "items")
        demo = rt.registry.connection("github", "demo")
        rt.scheduler.start(items, demo)
        await settle(rt)
        assert rt.state.runs == {} and rt.scheduler.next_run(items, demo) is None
        assert rt.scheduler.status(items, demo) == "STARTED"
        await rt.runner.sync(items, demo, trigger="api")
        assert starts(rt, "items") == [3600.0]

    drive(root, scenario, schedule=False)


def test_concurrent_triggers_run_one_at_a_time_in_order(root: Path) -> None:
    async def scenario(rt: Runtime, clock: ManualClock) -> None:
        issues = rt.registry.sync("github", "issues")
        demo = rt.registry.connection("github", "demo")
        tasks = [rt.runner.trigger(issues, demo, trigger="api", reset=i == 1) for i in range(3)]
        done = await asyncio.gather(*tasks)
        assert [r.kind for r in done if r] == ["INITIAL", "FULL", "INCREMENTAL"]
        runs = rt.state.runs["github/issues/demo"]
        assert len(runs) == 3
        assert all(a.finished_at is not None and a.finished_at <= b.started_at for a, b in itertools.pairwise(runs))

    drive(root, scenario, schedule=False)
