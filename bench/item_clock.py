"""A pytest plugin for `headline.py`'s scale-curve children: the process's CPU time when its first test item
starts, written to `$HARNESS_BENCH_CLOCK`.

The launcher knows the child's whole CPU time at exit (`wait4`); minus this, it is the work from the item's
start to the process's end (the replay, the compare, pytest's session end, the interpreter freeing what the
run held), without interpreter start-up, imports and collection, which cost the same at every size but
vary by 20-30% from one cold process to the next on this machine and drown a small size's marginal cost.
"""

from __future__ import annotations

import os
import time

import pytest

_written = False


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    global _written
    path = os.environ.get("HARNESS_BENCH_CLOCK")
    if path and not _written:
        _written = True
        with open(path, "w", encoding="ascii") as fh:
            fh.write(repr(time.process_time()))
