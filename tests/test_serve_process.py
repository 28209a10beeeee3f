"""`harness serve` as a user runs it: a real process, a ready line, signals, a crash and a restart.

The tests that only drive server processes in folders of their own do it ahead, on the other core
(tests/early.py): each one's body is its work function, just above it, asserts included (they fail the test
when it collects the work); the test itself only collects it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pytest

from tests import early
from tests.cli_process import HarnessProcess
from tests.fakes import http_client
from tests.serve_support import KEY, cassette, full_project, wait_for

READY = re.compile(r"^harness serve: listening on (http://127\.0\.0\.1:\d+) \(replay; Ctrl-C to stop\)$")


class ServeProcess:
    """`harness serve --port 0 ARGS` in `root`, in the environment of `ctx` (work done ahead), which owns it."""

    def __init__(self, ctx: early.Context, root: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.ctx = ctx
        self.root = root
        self.args = args
        self.env = env or {}
        self.lines: list[str] = []

    def __enter__(self) -> Self:
        self.proc = self.ctx.own(HarnessProcess(["serve", "--port", "0", "--secret-key", KEY, *self.args],
                                                cwd=self.root, stream="stderr",
                                                env={**self.ctx.env, "PYTHONUNBUFFERED": "1", **self.env}))
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            if m := READY.match(self.lines[-1]):
                self.url = m.group(1)
                break
        else:
            self.proc.close()
            raise AssertionError("no ready line: " + "\n".join(self.lines))
        threading.Thread(target=self._drain, daemon=True).start()
        self.client = http_client(base_url=self.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=20)
        return self

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.client.close()
        self.proc.close()

    def status(self, sync: str = "slow") -> dict[str, Any]:
        entry: dict[str, Any] = self.client.get("/sync/status", params={
            "syncs": sync, "provider_config_key": "github", "connection_id": "demo"}).json()["syncs"][0]
        return entry

    def trigger(self, sync: str = "slow") -> None:
        response = self.client.post("/sync/trigger", json={"syncs": [sync], "provider_config_key": "github",
                                                           "connection_id": "demo"})
        assert response.status_code == 200, response.text


def stored(store: Path) -> tuple[int, str]:
    db = sqlite3.connect(store)
    try:
        count = db.execute("SELECT COUNT(*) FROM records WHERE model='Slow'").fetchone()[0]
        check = db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()
    return count, check


def last_run(store: Path) -> dict[str, Any]:
    state = json.loads(store.with_name(store.stem + ".state.json").read_text())
    run: dict[str, Any] = state["runs"]["github/slow/demo"][-1]
    return run


def project(ctx: early.Context) -> Path:
    return full_project(ctx.folder / "p")


@early.ahead("test_a_stop_mid_run_interrupts_it_after_the_grace_and_keeps_whole_batches")
def _stop_mid_run(ctx: early.Context) -> None:
    root = project(ctx)
    cassette(root, "github", "slow", "sync", metadata={"batches": 300, "pause": 0.02})  # 6 s of batches
    store = ctx.folder / "state" / "serve.sqlite"
    with ServeProcess(ctx, root, "--no-schedule", "--store", str(store), "--grace", "0.1") as server:
        server.trigger()
        wait_for("a few batches", lambda: server.status()["recordCount"]["Slow"] >= 20)
        assert server.status()["status"] == "RUNNING"
        assert server.stop() == 0
    count, check = stored(store)
    assert check == "ok" and 20 <= count < 3000 and count % 10 == 0  # each batch whole, or not at all
    run = last_run(store)
    assert run["status"] == "STOPPED" and run["error"]["type"] == "script_aborted"
    assert any("sync github/slow demo: failed" in line and "script_aborted" in line for line in server.lines)
    # After a restart the status says so, and the records are still there.
    with ServeProcess(ctx, root, "--no-schedule", "--store", str(store)) as again:
        status = again.status()
        assert status["latestExecutionStatus"] == "STOPPED" and status["error"]["type"] == "script_aborted"
        assert status["recordCount"] == {"Slow": count}
        assert again.stop(signal.SIGINT) == 0


def test_a_stop_mid_run_interrupts_it_after_the_grace_and_keeps_whole_batches() -> None:
    _stop_mid_run.result()


@early.ahead("test_a_second_signal_interrupts_at_once")
def _second_signal(ctx: early.Context) -> None:
    root = project(ctx)
    cassette(root, "github", "slow", "sync", metadata={"batches": 300, "pause": 0.05})
    store = ctx.folder / "serve.sqlite"
    with ServeProcess(ctx, root, "--no-schedule", "--store", str(store), "--grace", "60") as server:
        server.trigger()
        wait_for("a batch", lambda: server.status()["recordCount"]["Slow"] >= 10)
        server.proc.send_signal(signal.SIGTERM)  # a clean stop: the run may take its 60 s grace...
        assert server.stop(signal.SIGINT, timeout=20) == 0  # ...but a second signal interrupts it now
    assert last_run(store)["error"]["type"] == "script_aborted"
    assert stored(store)[1] == "ok"


def test_a_second_signal_interrupts_at_once() -> None:
    _second_signal.result()


def refused(url: str) -> bool:
    """Nothing listens at `url` any more (a stopping server closes its socket first)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.socket() as probe:
        return probe.connect_ex((host, int(port))) != 0


@early.ahead("test_a_run_in_flight_finishes_within_the_grace")
def _in_flight(ctx: early.Context) -> None:
    root = project(ctx)
    # The run saves its first batch, then waits for the gate, which opens only once the server is stopping.
    gate = ctx.folder / "gate"
    cassette(root, "github", "slow", "sync", metadata={"batches": 4, "gate": str(gate), "gate_at": 1})
    store = ctx.folder / "serve.sqlite"
    with ServeProcess(ctx, root, "--no-schedule", "--store", str(store), "--grace", "20") as server:
        server.trigger()
        wait_for("the first batch", lambda: server.status()["recordCount"]["Slow"] >= 10)
        server.proc.send_signal(signal.SIGTERM)
        wait_for("the server to stop listening", lambda: refused(server.url))
        assert server.proc.poll() is None  # still waiting for the run
        gate.touch()
        assert server.proc.wait(30) == 0
    assert stored(store) == (40, "ok")
    assert last_run(store)["status"] == "SUCCESS"


def test_a_run_in_flight_finishes_within_the_grace() -> None:
    _in_flight.result()


@early.ahead("test_a_crash_mid_run_is_reported_after_the_restart")
def _crash_mid_run(ctx: early.Context) -> None:
    root = project(ctx)
    cassette(root, "github", "slow", "sync", metadata={"batches": 300, "pause": 0.05})
    store = ctx.folder / "serve.sqlite"
    with ServeProcess(ctx, root, "--no-schedule", "--store", str(store)) as server:
        server.trigger()
        wait_for("a batch", lambda: server.status()["recordCount"]["Slow"] >= 10)
        assert server.stop(signal.SIGKILL) == -signal.SIGKILL
    assert last_run(store)["status"] == "RUNNING"  # what the crash left
    count, check = stored(store)
    assert check == "ok" and count % 10 == 0
    with ServeProcess(ctx, root, "--no-schedule", "--store", str(store)) as again:
        assert again.status()["latestExecutionStatus"] == "STOPPED"
        assert any("stopped during its run; marked failed" in line for line in again.lines)
        assert again.stop() == 0
    assert last_run(store)["error"]["type"] == "script_aborted"


def test_a_crash_mid_run_is_reported_after_the_restart() -> None:
    _crash_mid_run.result()


@early.ahead("test_schedules_and_a_generated_key")
def _schedules(ctx: early.Context) -> None:
    root = project(ctx)
    env = dict(ctx.env)
    env.pop("HARNESS_SERVE_SECRET_KEY", None)
    with ctx.own(HarnessProcess(["serve", "--port", "0"], cwd=root, env=env, stream="stderr")) as proc:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        key = re.search(r"Authorization: Bearer (harness-[0-9a-f]{32})", first)
        assert key, first
        ready = READY.match(proc.stderr.readline().rstrip("\n"))
        assert ready
        client = http_client(base_url=ready.group(1), headers={"Authorization": f"Bearer {key.group(1)}"})
        # auto-start: issues and items ran at the start, on their own.
        status = wait_for("the first scheduled run", lambda: (s := client.get("/sync/status", params={
            "syncs": "issues", "provider_config_key": "github"}).json()["syncs"][0]).get("finishedAt") and s)
        assert status["latestResult"]["Issue"]["added"] == 12 and status["nextScheduledSyncAt"] is not None
        client.close()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0


def test_schedules_and_a_generated_key() -> None:
    _schedules.result()


def _stop_runs_the_runtimes_stop(ctx: early.Context, open_connection: bool) -> None:
    # Idle, the server stops without uvicorn's waits; with a connection open, through them. Either way the
    # runtime's own stop runs: its scratch folder is removed (and nothing of it was in $TMPDIR).
    root = project(ctx)
    tmp = ctx.folder / "tmp"
    tmp.mkdir()
    scratch = root / ".harness" / "tmp"
    with ServeProcess(ctx, root, "--no-schedule", env={"TMPDIR": str(tmp)}) as server:
        assert server.status("issues")["status"]
        assert [p.name[:6] for p in scratch.iterdir()] == ["serve-"]
        if not open_connection:
            server.client.close()
        assert server.stop() == 0
    assert not scratch.exists() and list(tmp.iterdir()) == []  # `.harness/tmp/` itself too, left empty


def _stop_work(open_connection: bool) -> early.Work[None]:
    """The work of one parametrization (`test_...[True]`)."""

    def work(ctx: early.Context) -> None:
        _stop_runs_the_runtimes_stop(ctx, open_connection)

    return early.ahead(f"test_a_stop_runs_the_runtimes_stop_idle_or_not[{open_connection}]")(work)


_STOPS = {open_connection: _stop_work(open_connection) for open_connection in (False, True)}


@pytest.mark.parametrize("open_connection", [False, True])
def test_a_stop_runs_the_runtimes_stop_idle_or_not(open_connection: bool) -> None:
    _STOPS[open_connection].result()


@early.ahead("test_a_killed_servers_scratch_folder_is_swept_at_the_next_start")
def _killed_scratch(ctx: early.Context) -> None:
    root = project(ctx)
    with ServeProcess(ctx, root, "--no-schedule") as server:
        [left] = (root / ".harness" / "tmp").iterdir()
        assert server.stop(signal.SIGKILL) == -signal.SIGKILL
    assert left.is_dir()
    with ServeProcess(ctx, root, "--no-schedule") as again:
        assert not left.exists()
        assert again.stop() == 0


def test_a_killed_servers_scratch_folder_is_swept_at_the_next_start() -> None:
    _killed_scratch.result()


# Its process, in a project of its own, starts ahead, on the other core (tests/early.py); the test checks its
# error line.
@early.ahead("test_a_port_in_use_is_a_one_line_error")
def _port_in_use(ctx: early.Context) -> tuple[int, subprocess.CompletedProcess[str]]:
    root = full_project(ctx.folder / "p")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = ctx.run([sys.executable, "-m", "harness", "serve", "--port", str(port), "--secret-key", "k"],
                       cwd=root, env=ctx.env, capture_output=True, text=True, timeout=60)
    return port, done


def test_a_port_in_use_is_a_one_line_error() -> None:
    port, done = _port_in_use.result()
    assert done.returncode == 2
    assert done.stderr.strip() == (f"error: port {port} on 127.0.0.1 is already in use (stop what uses it, or pass "
                                   "--port N (0 picks a free port))")


@early.ahead("test_spans_on_the_console")
def _spans(ctx: early.Context) -> None:
    with ServeProcess(ctx, project(ctx), "--no-schedule", "--otel-console") as server:
        server.trigger("issues")
        wait_for("the run", lambda: server.status("issues").get("latestExecutionStatus") == "SUCCESS")
        wait_for("the spans", lambda: any('"name": "sync github/issues"' in line for line in server.lines))
        assert server.stop() == 0
    text = "\n".join(server.lines)
    assert '"name": "GET /repos/octocat/hello-world/issues"' in text and '"harness.model.Issue.added": 12' in text


def test_spans_on_the_console() -> None:
    _spans.result()


def test_an_idle_stop_awaits_the_apps_shutdown() -> None:
    # An idle stop skips uvicorn's waits, not the app's lifespan shutdown: the runtime's stop runs whole (one
    # left to the end of the event loop would be cancelled at its first await).
    import uvicorn
    from starlette.applications import Starlette

    from harness.serve.server import _Server

    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("started")
        yield
        await asyncio.sleep(0.01)
        events.append("stopped")

    server = _Server(uvicorn.Config(Starlette(lifespan=lifespan), log_config=None, lifespan="on"))
    loops: list[asyncio.AbstractEventLoop] = []

    async def main(sock: socket.socket) -> None:
        loops.append(asyncio.get_running_loop())
        await server.serve(sockets=[sock])

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        thread = threading.Thread(target=asyncio.run, args=(main(sock),))
        thread.start()
        wait_for("the server to start", lambda: server.started)
        loops[0].call_soon_threadsafe(server.stop)
        thread.join(30)
    assert not thread.is_alive() and events == ["started", "stopped"]


def test_a_project_without_a_writable_state_folder_still_serves_replays(tmp_path: Path) -> None:
    # `.harness` is a file here (as good as read-only, even for root): the scratch folder goes to $TMPDIR.
    from tests.serve_support import Served

    root = full_project(tmp_path / "p")
    (root / ".harness").write_text("not a folder")
    with Served(root) as served:
        assert Path(tempfile.gettempdir()) in served.runtime.tmp_dir.parents
        served.run_sync()
        assert served.records().json()["records"]
    assert not served.runtime.tmp_dir.exists()
