"""The in-memory records store: Nango's record semantics for the length of one run (or one test).

Per model, records are keyed by id. A save of a new id is *added*, of a live id with different content
*updated*, with the same content nothing; a save of a soft-deleted id revives it as added. `update` deep-merges
into live records (unknown or deleted ids ignored), `delete` soft-deletes, and a `track_deletes` window
soft-deletes the live records not saved since it started. Content identity is Nango's: the same compact JSON,
key order included (the SQLite store keeps its md5).

Each record is held as its line (`harness.records.lines`: compact JSON, keys sorted), decoded when it is read,
plus what its key order was: a third of a dict's memory, and the same string the run's result and snapshot
use. Two saves are the same content when their lines and their key orders are equal; the order is the tuple
of top-level keys (shared by every record with that order), or, for a record holding a nested object, the
record's compact JSON itself.
"""

from __future__ import annotations

import builtins
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_json

from .lines import encode_line, record_lines
from .store import SaveOutcome, deep_merge, public_record, track_error

Order = tuple[str, ...] | bytes


@dataclass(slots=True)
class StoredRecord:
    line: str  # the record's JSON, keys sorted
    order: Order  # its key order (see the module's docstring)
    created_at: float
    updated_at: float
    seq: int
    deleted_at: float | None = None
    generation: int = 0

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.line)
        return data


class MemoryStore:
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._models: dict[str, dict[str, StoredRecord]] = {}
        self._seq = itertools.count(1)
        self._tracking: dict[str, int] = {}
        self._generation = itertools.count(1)
        self._orders: dict[tuple[str, ...], tuple[str, ...]] = {}

    def _table(self, model: str) -> dict[str, StoredRecord]:
        return self._models.setdefault(model, {})

    def _order(self, row: dict[str, Any], line: str) -> Order:
        # A `{` past the first character may be a nested object (or only a brace in a string): then the
        # record's own compact JSON is its order, exact at any depth. Otherwise the top-level keys are.
        if line.find("{", 1) != -1:
            return to_json(row)
        keys = tuple(row)
        return self._orders.setdefault(keys, keys)

    def save(self, model: str, rows: list[dict[str, Any]]) -> SaveOutcome:
        table = self._table(model)
        gen = self._tracking.get(model, 0)
        lines = record_lines(rows)
        out = SaveOutcome(lines=lines)
        now = self._now()
        seq = self._seq
        order = self._order
        added, updated, unchanged = out.added.append, out.updated.append, out.unchanged.append
        for row, line in zip(rows, lines, strict=True):
            rid = row["id"]
            cur = table.get(rid)
            if cur is None or cur.deleted_at is not None:
                table[rid] = StoredRecord(line, order(row, line), now, now, next(seq), None, gen)
                added(rid)
                continue
            keys = order(row, line)
            if cur.line != line or cur.order != keys:
                cur.line, cur.order, cur.updated_at, cur.seq = line, keys, now, next(seq)
                updated(rid)
            else:
                unchanged(rid)
            cur.generation = gen
        return out

    def update(self, model: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        table = self._table(model)
        merged: list[dict[str, Any]] = []
        now = self._now()
        for row in rows:
            cur = table.get(row["id"])
            if cur is None or cur.deleted_at is not None:
                continue
            data = deep_merge(_ordered(cur), row)
            line = encode_line(data)
            cur.line, cur.order, cur.updated_at, cur.seq = line, self._order(data, line), now, next(self._seq)
            merged.append(data)
        return merged

    def delete(self, model: str, rows: list[dict[str, Any]]) -> list[str]:
        table = self._table(model)
        deleted: list[str] = []
        now = self._now()
        for row in rows:
            rid = row["id"]
            cur = table.get(rid)
            if cur is None:
                # A tombstone, so a later read of the change stream still sees the delete.
                line = encode_line(row)
                table[rid] = StoredRecord(line, self._order(row, line), now, now, next(self._seq), deleted_at=now)
                continue
            if cur.deleted_at is None:
                cur.deleted_at, cur.updated_at, cur.seq = now, now, next(self._seq)
                deleted.append(rid)
        return deleted

    def track_deletes_start(self, model: str) -> None:
        self._tracking[model] = next(self._generation)

    def track_deletes_end(self, model: str) -> list[str]:
        if model not in self._tracking:
            raise track_error(model)
        gen = self._tracking.pop(model)
        now = self._now()
        gone: list[str] = []
        # In change order (oldest first), as the SQLite store returns them.
        stale = sorted(((cur.seq, rid, cur) for rid, cur in self._table(model).items()
                        if cur.deleted_at is None and cur.generation != gen), key=lambda t: t[0])
        for _, rid, cur in stale:
            cur.deleted_at, cur.updated_at, cur.seq = now, now, next(self._seq)
            gone.append(rid)
        return gone

    def _public(self, cur: StoredRecord) -> dict[str, Any]:
        return public_record(_ordered(cur), cur.created_at, cur.updated_at, cur.deleted_at, cur.seq)

    def list(self, model: str, *, modified_after: float | None = None, cursor: str | None = None,
             limit: int = 100) -> tuple[builtins.list[dict[str, Any]], str | None]:
        """A page of the change stream, oldest change first; `cursor` continues after the last one read."""
        after = int(cursor) if cursor else 0
        rows = sorted((c for c in self._table(model).values()
                       if c.seq > after and (modified_after is None or c.updated_at >= modified_after)),
                      key=lambda c: c.seq)
        page = rows[:limit]
        next_cursor = str(page[-1].seq) if len(rows) > limit else None
        return [self._public(c) for c in page], next_cursor

    def get_by_ids(self, model: str, ids: builtins.list[str]) -> dict[str, dict[str, Any]]:
        table = self._table(model)
        return {rid: self._public(table[rid]) for rid in ids if rid in table}


def _ordered(cur: StoredRecord) -> dict[str, Any]:
    """The record as saved, keys in the order they were saved in (reads and merges keep it)."""
    if isinstance(cur.order, bytes):
        exact: dict[str, Any] = json.loads(cur.order)
        return exact
    data = cur.data
    if tuple(data) == cur.order:
        return data
    return {k: data[k] for k in cur.order}
