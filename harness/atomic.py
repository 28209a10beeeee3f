"""Atomic file writes: a reader (or a crash) sees the old file or the complete new one, never a part.

`HARNESS_CRASH_AT=<stage>` makes the writing process kill itself (SIGKILL, no clean-up) at one stage of the
write: `created` (the temporary file exists, empty), `half` (half of the bytes written), `written` (all bytes
written, not yet synced), `synced` (fsync done, not yet renamed) or `renamed` (the new file in place). The
crash-safety tests use it to stop a write at exactly the point they check, instead of at a random moment.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from pathlib import Path

CRASH_ENV = "HARNESS_CRASH_AT"
CRASH_STAGES = ("created", "half", "written", "synced", "renamed")


def _crash_point(stage: str) -> None:
    if os.environ.get(CRASH_ENV) == stage:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


def write_atomic(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            _crash_point("created")
            half = len(raw) // 2
            fh.write(raw[:half])
            fh.flush()
            _crash_point("half")
            fh.write(raw[half:])
            fh.flush()
            _crash_point("written")
            os.fsync(fh.fileno())
            _crash_point("synced")
        os.replace(tmp, path)
        _crash_point("renamed")
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
