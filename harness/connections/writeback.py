"""What harness writes back for a file connection: refreshed tokens and persisted metadata.

The connections file is never rewritten: it is the user's (comments, layout and `${ENV}` references stay
theirs, and a secret must not be written into a file that is usually committed). Instead:

- `.harness/tokens.json` (mode 0600, git-ignored) holds refreshed credentials per connection;
- `.harness/metadata.json` holds metadata persisted by `--persist-metadata`.

Each entry remembers a fingerprint of what the connections file said when it was written; it is applied
over the file only while the file (after `${ENV}` expansion) still says that. Editing the file, or
exporting a new token, wins over a stale stored value.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..atomic import write_atomic

TOKENS = "tokens.json"
METADATA = "metadata.json"


def fingerprint(value: Any) -> str:
    raw = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _key(source: str | None, connection_id: str) -> str:
    return f"{source or ''}#{connection_id}"


def _ensure_ignored(state_dir: Path) -> None:
    ignore = state_dir / ".gitignore"
    if not ignore.exists():
        # Throw-away and private state; the last deployed state is meant to be committed.
        write_atomic(ignore, "*\n!.gitignore\n!deployed.json\n")


def load(state_dir: Path, name: str, source: str | None, connection_id: str, base: Any) -> Any | None:
    """The stored value for the connection, if it was written over exactly `base`."""
    entry = _read(state_dir / name).get(_key(source, connection_id))
    if not isinstance(entry, dict) or entry.get("base") != fingerprint(base):
        return None
    return entry.get("value")


def save(state_dir: Path, name: str, source: str | None, connection_id: str, base: Any, value: Any) -> Path:
    path = state_dir / name
    data = _read(path)
    data[_key(source, connection_id)] = {"base": fingerprint(base), "value": value}
    _ensure_ignored(state_dir)
    # Private (tokens): the mode is set before the rename, so the file is never readable by others.
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", mode=0o600)
    return path
