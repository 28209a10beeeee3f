"""The serve's clocks: wall time that a replay's frozen time cannot reach, and a manual clock for tests.

A replay freezes `time.time()` and `datetime.now()` for the whole process while it runs (time-machine
patches them globally), so the server reads the real time through time-machine's escape hatch: record
timestamps, run times and schedules stay on the wall clock. `ManualClock` moves only when a test calls
`advance()`, waking every sleeper whose deadline has passed, so a schedule of "every 30 seconds" can be
stepped through deterministically.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time

from ..clock import Clock


def wall_time() -> float:
    """Seconds since the epoch, even while a replay has frozen `time.time()`."""
    try:
        from time_machine import escape_hatch
    except ImportError:  # pragma: no cover - time-machine is a dependency of harness
        return time.time()
    return escape_hatch.time.time() if escape_hatch.is_travelling() else time.time()


class WallClock(Clock):
    def now(self) -> float:
        return wall_time()

    async def sleep(self, seconds: float) -> None:
        # asyncio's timers run on the monotonic clock, which time-machine leaves alone.
        await asyncio.sleep(max(0.0, seconds))


class ManualClock(Clock):
    """Time that moves only when `advance()` is called; `sleep()` waits for it."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), future))
        await future

    def advance(self, seconds: float) -> None:
        """Move time forward and wake the sleepers that are due (call it from the event loop's thread)."""
        self._now += seconds
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
