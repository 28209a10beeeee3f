"""The one clock every wait goes through (retry backoff, Retry-After, rate-limit resets).

Live runs use `RealClock`. Replays and tests use `VirtualClock`: sleeping advances its time instantly, so
a recorded 429 with `Retry-After: 30` costs nothing, and the waits are kept for the result to show.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime


class Clock:
    def now(self) -> float:
        """Seconds since the epoch."""
        raise NotImplementedError

    async def sleep(self, seconds: float) -> None:
        raise NotImplementedError

    def utcnow(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=UTC)


class RealClock(Clock):
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class VirtualClock(Clock):
    """Time that only moves when someone sleeps."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self.waits: list[float] = []

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.waits.append(seconds)
        self._now += seconds
        # Give other tasks their turn, as a real sleep would, without waiting.
        await asyncio.sleep(0)
