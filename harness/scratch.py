"""Scratch space a crash cannot leave behind for good: `.harness/tmp/`, and owner tags for temporary files.

Every temporary thing harness makes while it runs (a throw-away copy of the records store, a release
folder being filled before its rename) lives in `.harness/tmp/` under a name that carries its owner,
`<kind>-<pid>-<start>-<random>`, where `start` is the process's start time (so a reused pid is not taken
for the owner). The owner removes its entry when it is done; whoever creates a new entry first removes
every entry whose owner is gone, so what a SIGKILLed run left is removed at the next start. Temporary files
of atomic writes (`atomic.py`) carry the same tag and are swept from the folder they were written in.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

TMP_DIR = "tmp"
# `<pid>-<start>`: start is the process start time in clock ticks (Linux), or 0 where it is unknown.
_TAG = re.compile(r"(?P<pid>[1-9][0-9]{0,9})-(?P<start>[0-9]{1,20})")
_ENTRY = re.compile(r"[a-z][a-z0-9]*-" + _TAG.pattern + r"-[0-9a-f]{8,32}")
_tag_cache: tuple[int, str] | None = None


def _start_time(pid: int) -> str | None:
    """The process's start time from /proc (Linux); None when there is no such process; "0" elsewhere."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return None if Path("/proc/self/stat").exists() else "0"
    except OSError:
        return "0"
    # The command name (field 2) is in parentheses and may hold spaces: split after its last ")".
    fields = raw[raw.rfind(")") + 2:].split()
    if len(fields) < 20:
        return "0"
    if fields[0] in ("Z", "X"):  # a zombie or dead task: not running any more
        return None
    return fields[19]


def owner_tag() -> str:
    """`<pid>-<start>` of this process (recomputed after a fork)."""
    global _tag_cache
    pid = os.getpid()
    if _tag_cache is None or _tag_cache[0] != pid:
        _tag_cache = (pid, f"{pid}-{_start_time(pid) or '0'}")
    return _tag_cache[1]


def is_alive(tag: str) -> bool:
    """Whether the process a tag names still runs (True when that cannot be told: never remove a live
    process's files)."""
    m = _TAG.fullmatch(tag)
    if m is None:
        return True
    pid = int(m.group("pid"))
    if pid == os.getpid():
        return tag == owner_tag()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's live process
    except OSError:
        return True
    start = _start_time(pid)
    if start is None:
        return False
    recorded = m.group("start")
    return recorded == "0" or start == "0" or start == recorded


def new_name(kind: str) -> str:
    return f"{kind}-{owner_tag()}-{secrets.token_hex(6)}"


def tag_of(name: str) -> str | None:
    """The owner tag inside an entry name, if it is one of ours."""
    m = _ENTRY.fullmatch(name)
    return f"{m.group('pid')}-{m.group('start')}" if m else None


def _remove(path: Path) -> bool:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


def sweep(state_dir: Path) -> list[Path]:
    """Remove the entries of `.harness/tmp/` whose owner is gone; the paths removed."""
    root = state_dir / TMP_DIR
    removed: list[Path] = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for entry in entries:
        tag = tag_of(entry.name)
        if tag is not None and not is_alive(tag) and _remove(Path(entry.path)):
            removed.append(Path(entry.path))
    if removed:
        with contextlib.suppress(OSError):  # what is left, if nothing: a process making its own makes it again
            root.rmdir()
    return removed


def scratch_dir(state_dir: Path, kind: str) -> Path:
    """A new private folder in `.harness/tmp/`, owned by this process (the caller removes it when done, with
    `remove`)."""
    sweep(state_dir)
    root = state_dir / TMP_DIR
    path = root / new_name(kind)
    for _ in range(10):
        try:
            # Another process may remove the emptied `tmp/` (`remove`) at any point here: between these two
            # (the second then finds no folder), or within the first (pathlib's exist_ok saw it exist, then
            # not a folder): `tmp/` is made again.
            root.mkdir(parents=True, exist_ok=True)
            path.mkdir(mode=0o700)
            return path
        except (FileNotFoundError, FileExistsError):
            if path.is_dir():
                raise  # a name already taken: not a race of `tmp/`
    root.mkdir(parents=True, exist_ok=True)
    path.mkdir(mode=0o700)  # the error, if it still has one
    return path


def remove(state_dir: Path, path: Path) -> None:
    """Remove a scratch folder of `scratch_dir`, and `.harness/tmp/` with it when nothing else is left there (a
    run left an empty folder behind; another process making its own meanwhile makes it again)."""
    shutil.rmtree(path, ignore_errors=True)
    root = state_dir / TMP_DIR
    if path.parent == root:
        with contextlib.suppress(OSError):  # not empty, or already gone
            root.rmdir()


@contextlib.contextmanager
def scratch(state_dir: Path, kind: str) -> Iterator[Path]:
    """`scratch_dir`, removed on the way out (a SIGKILL leaves it to the next `sweep`)."""
    path = scratch_dir(state_dir, kind)
    try:
        yield path
    finally:
        remove(state_dir, path)
