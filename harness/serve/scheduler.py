"""Syncs on their frequency: one schedule per sync and connection, on the server's clock.

A schedule is STARTED (auto-start syncs, or after `POST /sync/start`) or PAUSED. A started schedule runs at
once, then every `frequency` after that first slot (a fixed rate, as Nango's schedules). A slot that comes
while the previous run of that sync and connection is still going (or waiting) is skipped, so there is
never more than one at a time. With `--no-schedule` nothing runs on its own: schedules still record
STARTED or PAUSED for the status, and only triggers run syncs.

The loop sleeps on the clock until the next slot or until a schedule changes, so a `ManualClock` steps it
deterministically in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass

from ..clock import Clock
from ..definitions import SyncDefinition
from .registry import ServeConnection
from .runs import Runner
from .server_state import run_key


@dataclass
class Schedule:
    sync: SyncDefinition
    connection: ServeConnection
    status: str  # STARTED | PAUSED
    next_at: float | None = None

    @property
    def key(self) -> str:
        return run_key(self.connection.integration, self.sync.name, self.connection.connection_id)


class Scheduler:
    def __init__(self, runner: Runner, clock: Clock, *, enabled: bool, log: Callable[[str], None]) -> None:
        self.runner = runner
        self.clock = clock
        self.enabled = enabled
        self.log = log
        self.schedules: dict[str, Schedule] = {}
        self.skipped: list[tuple[str, float]] = []
        self._changed = asyncio.Event()
        self._stopped = False
        self._task: asyncio.Task[None] | None = None

    def add(self, sync: SyncDefinition, conn: ServeConnection) -> Schedule:
        entry = Schedule(sync, conn, "STARTED" if sync.auto_start else "PAUSED")
        existing = self.schedules.setdefault(entry.key, entry)
        if existing is entry and entry.status == "STARTED" and self.enabled:
            entry.next_at = self.clock.now()
            self._changed.set()
        return existing

    def get(self, sync: SyncDefinition, conn: ServeConnection) -> Schedule:
        return self.schedules.get(run_key(conn.integration, sync.name, conn.connection_id)) or self.add(sync, conn)

    def status(self, sync: SyncDefinition, conn: ServeConnection) -> str:
        """STARTED or PAUSED, without creating a schedule."""
        entry = self.schedules.get(run_key(conn.integration, sync.name, conn.connection_id))
        if entry is not None:
            return entry.status
        return "STARTED" if sync.auto_start else "PAUSED"

    def remove_connection(self, conn: ServeConnection) -> None:
        for key in [k for k, s in self.schedules.items() if s.connection.key == conn.key]:
            del self.schedules[key]
        self._changed.set()

    def pause(self, sync: SyncDefinition, conn: ServeConnection) -> None:
        entry = self.get(sync, conn)
        entry.status, entry.next_at = "PAUSED", None
        self._changed.set()

    def start(self, sync: SyncDefinition, conn: ServeConnection) -> None:
        """Start a paused schedule: it runs at once, then on its frequency (no effect when started)."""
        entry = self.get(sync, conn)
        if entry.status == "STARTED":
            return
        entry.status = "STARTED"
        if self.enabled:
            entry.next_at = self.clock.now()
            self._changed.set()

    def next_run(self, sync: SyncDefinition, conn: ServeConnection) -> float | None:
        entry = self.schedules.get(run_key(conn.integration, sync.name, conn.connection_id))
        if entry is None or entry.status != "STARTED" or not self.enabled:
            return None
        return entry.next_at

    def _due(self, now: float) -> None:
        for entry in list(self.schedules.values()):
            if entry.status != "STARTED" or entry.next_at is None or entry.next_at > now:
                continue
            if self.runner.busy(entry.sync, entry.connection):
                self.skipped.append((entry.key, entry.next_at))
                self.log(f"sync {entry.sync.qualified_name} {entry.connection.connection_id}: the previous run is "
                         "still going; this slot is skipped")
            else:
                self.runner.trigger(entry.sync, entry.connection, trigger="schedule")
            period = entry.sync.frequency_seconds
            entry.next_at += (math.floor((now - entry.next_at) / period) + 1) * period

    async def run(self) -> None:
        while not self._stopped:
            now = self.clock.now()
            self._due(now)
            slots = [e.next_at for e in self.schedules.values() if e.status == "STARTED" and e.next_at is not None]
            self._changed.clear()
            waits: set[asyncio.Task[object]] = {asyncio.ensure_future(self._changed.wait())}
            if slots:
                waits.add(asyncio.ensure_future(self.clock.sleep(max(0.0, min(slots) - now))))
            try:
                _, rest = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in waits:
                    task.cancel()
            for task in rest:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def begin(self) -> None:
        if self.enabled and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        self._stopped = True
        self._changed.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
