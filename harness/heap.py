"""Managing a big run's heap: `release_freed()` asks the C allocator to return its free pages, and
`collector_paused()` keeps the cyclic garbage collector off while a big acyclic structure is built.

glibc's malloc keeps freed memory in its heap for reuse; a big replay frees a lot of it (the cassette's raw
bytes once parsed, each response body once played, the run's store once the snapshot is built) while the
records it keeps are still growing, so the process's peak RSS would count the freed memory too.
`malloc_trim(0)` hands the free pages back (a walk of the heap: about a millisecond). Elsewhere than glibc
it does nothing.

Building a big parse (a cassette, a snapshot, a replay's index) allocates hundreds of thousands of
containers while other data is alive: the collector would re-walk the growing heap again and again (most
of such a load's time). Parsed JSON and YAML data holds no cycles, so nothing is left for it to find
afterwards.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import gc
import sys
from collections.abc import Callable, Iterator


@functools.cache
def _trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None  # musl and other C libraries have no malloc_trim
    return trim


def release_freed() -> None:
    """Return the allocator's free pages to the system (no-op where that is not possible)."""
    trim = _trim()
    if trim is not None:
        trim(0)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a while (restored as it was)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
