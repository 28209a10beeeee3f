"""Atomic file writes: a reader (or a crash) sees the old file or the complete new one, never a part.

The data goes to a temporary file beside the target (same folder, so the rename is atomic), is fsynced,
then renamed over the target; the folder is fsynced too. Permissions: a file meant to be committed
(cassettes, snapshots, scaffolded code) gets the usual ones, `0666` less the umask, or keeps the mode of
the file it replaces; a private file (tokens, the records store) passes `mode=0o600`, which is set on the
temporary file before it is renamed, so the secret is never readable by others, not even for an instant.

Crash points (`harness.crashpoints`, `$HARNESS_TEST_KILL_AT`) stop a write at one stage, as `kill -9` would:
`atomic-created` (the temporary file exists, empty), `atomic-half` (half of the bytes written),
`atomic-written` (all written, not synced), `atomic-synced`, `atomic-write` (just before the rename) and
`atomic-renamed` (the new file in place); the crash-safety tests use them instead of a random moment.

The temporary file is named `.<name>.~<pid>-<start>-<random>.tmp` (see `scratch.py`): a run killed before
its rename leaves it behind, and the next atomic write into that folder removes it once its owner is gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from . import scratch
from .crashpoints import crash_point

CRASH_STAGES = ("created", "half", "written", "synced", "renamed")  # `atomic-<stage>` crash points

_TEMP = re.compile(r"\..+\.~(?P<tag>[0-9]+-[0-9]+)-[0-9a-f]{8,32}\.tmp")


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.~{scratch.owner_tag()}-{secrets.token_hex(6)}.tmp")


def sweep_folder(folder: Path) -> list[Path]:
    """Remove the temporary files of atomic writes in `folder` whose writer is gone; the paths removed."""
    removed: list[Path] = []
    try:
        entries = [e for e in os.scandir(folder) if e.name.endswith(".tmp") and e.name.startswith(".")]
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP.fullmatch(entry.name)
        if m is None or scratch.is_alive(m.group("tag")):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def sweep_tree(root: Path) -> list[Path]:
    """`sweep_folder` over `root` and every folder below it (hidden folders and `__pycache__` skipped)."""
    removed: list[Path] = []
    for folder, dirs, _files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        removed += sweep_folder(Path(folder))
    return removed


def sweep_project(state_dir: Path, *trees: Path) -> list[Path]:
    """What killed runs left in a project: `.harness/tmp/` entries, and the temporary files of atomic writes
    in `.harness/` and in `trees` (the cassettes and functions folders), whose owner is gone."""
    removed = scratch.sweep(state_dir) + sweep_folder(state_dir)
    for tree in trees:
        removed += sweep_tree(tree)
    return removed


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(path: Path, data: str | bytes | Iterable[str], *, mode: int | None = None) -> None:
    """Write `data` to `path` atomically. `mode` (e.g. `0o600`) sets the permissions exactly; without it
    the file keeps the mode of the one it replaces, or gets `0666` less the umask. `data` may be an
    iterable of text pieces (a big cassette written as it is made); an exception from it leaves the target
    as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_folder(path.parent)
    if isinstance(data, (str, bytes)):
        raw = data.encode("utf-8") if isinstance(data, str) else data
        half = len(raw) // 2
        pieces: Iterable[bytes] = (raw[:half], raw[half:])
    else:
        pieces = (piece.encode("utf-8") for piece in data)
    keep: int | None = None
    if mode is None:
        with contextlib.suppress(OSError):
            keep = stat.S_IMODE(os.stat(path).st_mode)
    tmp = _temp_name(path)
    # O_EXCL: never write through a file (or a symlink) someone else put there.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                 0o600 if mode is not None else 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            chosen = mode if mode is not None else keep
            if chosen is not None:
                os.fchmod(fh.fileno(), chosen)
            crash_point("atomic-created", path.name)
            for n, piece in enumerate(pieces):
                fh.write(piece)
                if n == 0:
                    fh.flush()
                    crash_point("atomic-half", path.name)
            fh.flush()
            crash_point("atomic-written", path.name)
            os.fsync(fh.fileno())
            crash_point("atomic-synced", path.name)
        crash_point("atomic-write", path.name)
        os.replace(tmp, path)
        crash_point("atomic-renamed", path.name)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(path.parent)


class Unwritable(NamedTuple):
    """Why a folder takes no file: the nearest `part` of it that exists, what is wrong with it, and the fix."""

    part: Path
    reason: str
    not_a_folder: bool

    @property
    def fix(self) -> str:
        return "move that file out of the way" if self.not_a_folder else "fix its permissions"


def unwritable(folder: Path) -> Unwritable | None:
    """Why no file can be written into `folder` (created with its parents if missing); None when a write can
    go ahead.

    A command that writes several files asks this of every target folder before its first write, so a
    folder it cannot write is refused with the project as it was, not found after half the files are in.
    Probed by creating and removing a file, since permission bits say nothing to root or on read-only mounts.
    """
    import tempfile

    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return Unwritable(existing, "is not a folder", True)
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        return Unwritable(existing, f"is not writable ({exc.strerror})", False)
    return None
