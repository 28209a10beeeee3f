"""Names that become parts of paths: scenario, integration, function, template and file names.

A name from any input (a CLI option, a Nango recording's file name, a cassette's contents) goes through
`check_name` before it is joined to a folder, so none can climb out of its folder (`..`, `/`, `\\`, a drive,
a NUL) or hide (a leading dot). A bad name is a `UsageError` (exit 2) raised before anything is written.
"""

from __future__ import annotations

import re
from pathlib import Path

from .errors import UsageError

# Letters, digits, dashes and underscores; a dot only inside (`refresh.run2` is run 2 of `refresh`).
_NAME = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")
MAX_NAME = 120


def is_safe_name(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_NAME and _NAME.fullmatch(value) is not None


def check_name(kind: str, value: object, *, where: str | None = None) -> str:
    """`value` when it is safe as one path segment; else a one-line `UsageError` naming `kind`."""
    if is_safe_name(value):
        assert isinstance(value, str)
        return value
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "...'"
    origin = f" in {where}" if where else ""
    raise UsageError(f"bad {kind} name {shown}{origin}",
                     hint=f"use letters, digits, dashes and underscores (at most {MAX_NAME} characters)")


def inside(folder: Path, path: Path) -> bool:
    """Whether `path` (resolved) lies inside `folder` (resolved): the last guard before a write."""
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True
