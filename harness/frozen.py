"""Freezing the wall clock for a replay: `datetime.now()` and `time.time()` return the recording's moment.

time-machine does it (`time.monotonic()` is left alone so asyncio keeps working). Two things around it:

- inside a user's freezegun `freeze_time` (which time-machine refuses to start under), harness freezes
  through freezegun instead, at the replay's moment, and restores the user's frozen clock afterwards;
- time-machine imports pytest when it can, which costs a CLI replay about 100 ms; outside a pytest process
  it is imported with pytest hidden, so `harness dryrun` never loads pytest.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from datetime import datetime
from types import ModuleType


def _freezegun_active() -> bool:
    api = sys.modules.get("freezegun.api")
    return bool(api is not None and getattr(api, "freeze_factories", None))


def _time_machine() -> ModuleType:
    if "time_machine" in sys.modules or "pytest" in sys.modules:
        import time_machine

        return time_machine
    sys.modules["pytest"] = None  # type: ignore[assignment]  # `import pytest` raises ImportError meanwhile
    try:
        import time_machine
    finally:
        del sys.modules["pytest"]
    return time_machine


@contextlib.contextmanager
def frozen_at(at: datetime | None) -> Iterator[None]:
    """Inside, the wall clock stands at `at` (nothing changes when `at` is None)."""
    if at is None:
        yield
        return
    if _freezegun_active():
        import freezegun

        with freezegun.freeze_time(at):
            yield
        return
    with _time_machine().travel(at, tick=False):
        yield
