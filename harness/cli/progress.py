"""A progress line on stderr while a live run goes (requests made, records saved), only on a terminal."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..result import RunResult


@contextmanager
def live_progress(label: str, enabled: bool) -> Iterator[Callable[[RunResult], None] | None]:
    """Yields the callback to pass as `DryRun.progress` (None when stderr is not a terminal or not wanted)."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from .render import make_console

    console = make_console(stderr=True)
    last = 0.0
    with console.status(f"{label}: starting") as status:

        def update(result: RunResult) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last < 0.1:  # a redraw per request would cost more than the request on a replay
                return
            last = now
            totals = result.totals()
            saved = sum(len(c.saved) for c in result.models.values())
            status.update(f"{label}: {len(result.requests)} request(s), {saved} record(s) saved, "
                          f"{totals['added']} added")

        yield update
