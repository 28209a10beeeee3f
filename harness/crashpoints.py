"""Named crash points: where a test can make harness die as `kill -9` would, deterministically.

`crash_point("deploy-switch")` does nothing unless `$HARNESS_TEST_KILL_AT` names that point (`deploy-switch`)
or that point and a detail (`atomic-write:default.yaml`); then the process sends itself SIGKILL on the spot:
no `finally`, no `atexit`, no flush. The recovery tests use it to stop a run at an exact step instead of
racing a timer. Unset (always, outside the test suite), a crash point costs one environment lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "HARNESS_TEST_KILL_AT"


def crash_point(name: str, detail: str | None = None) -> None:
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    if wanted == name or (detail is not None and wanted == f"{name}:{detail}"):
        os.kill(os.getpid(), signal.SIGKILL)
