"""What a records store is: the protocol the context writes through, and the rules every store shares.

Content identity is the md5 of the record's compact JSON, key order included (Nango's `data_hash`).
`batch_update` deep-merges (objects key by key, arrays and scalars replaced). `track_deletes_end` without a
start is an error, as in Nango.
"""

from __future__ import annotations

import builtins
import hashlib
from dataclasses import dataclass, field
from typing import Any, Protocol

import pydantic_core

from ..errors import HarnessError


def content_hash(row: dict[str, Any]) -> str:
    return hashlib.md5(pydantic_core.to_json(row), usedforsecurity=False).hexdigest()


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Objects merge key by key; arrays and scalars are replaced (Nango's batchUpdate)."""
    out = dict(base)
    for key, value in patch.items():
        old = out.get(key)
        out[key] = deep_merge(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
    return out


@dataclass
class SaveOutcome:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Each saved row's line (`harness.records.lines`), when the store made them: the result's log can
    # share them instead of encoding the rows again.
    lines: list[str] | None = None


class TrackDeletesError(HarnessError):
    """`track_deletes_end` without a matching `track_deletes_start`."""


def track_error(model: str) -> TrackDeletesError:
    return TrackDeletesError(f"track_deletes_end({model!r}) without track_deletes_start({model!r})",
                             hint="call track_deletes_start before saving the full set")


def public_record(data: dict[str, Any], created: float, updated: float, deleted: float | None,
                  seq: int) -> dict[str, Any]:
    """A stored record as reads return it, with Nango's `_nango_metadata`."""
    action = "DELETED" if deleted is not None else ("ADDED" if created == updated else "UPDATED")
    return {**data, "_nango_metadata": {"first_seen_at": created, "last_modified_at": updated,
                                        "last_action": action, "deleted_at": deleted, "cursor": str(seq)}}


class RecordStore(Protocol):
    def save(self, model: str, rows: builtins.list[dict[str, Any]]) -> SaveOutcome: ...

    def update(self, model: str, rows: builtins.list[dict[str, Any]]) -> builtins.list[dict[str, Any]]: ...

    def delete(self, model: str, rows: builtins.list[dict[str, Any]]) -> builtins.list[str]: ...

    def track_deletes_start(self, model: str) -> None: ...

    def track_deletes_end(self, model: str) -> builtins.list[str]: ...

    def list(self, model: str, *, modified_after: float | None = None, cursor: str | None = None,
             limit: int = 100) -> tuple[builtins.list[dict[str, Any]], str | None]: ...

    def get_by_ids(self, model: str, ids: builtins.list[str]) -> dict[str, dict[str, Any]]: ...
