"""The SQLite records store (`.harness/records.sqlite`): records and checkpoints per connection.

Rows are keyed by (connection, integration, model, id), `model` being the full name (`Issue` or
`Issue::variant`). The semantics are `MemoryStore`'s (see `records/store.py`), persisted, so consecutive runs
behave as they do in production: a second run of an unchanged sync counts its records as unchanged, a record
dropped from a full refresh is soft-deleted by `track_deletes_end`. Each call is one transaction. Dry runs
work on a throw-away copy (`SqliteStore.scratch_copy`) unless `--persist` is given.
"""

from __future__ import annotations

import builtins
import itertools
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pydantic_core

from .store import SaveOutcome, content_hash, deep_merge, public_record, track_error

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    connection TEXT NOT NULL, integration TEXT NOT NULL, model TEXT NOT NULL, id TEXT NOT NULL,
    data TEXT NOT NULL, hash TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    deleted_at REAL, seq INTEGER NOT NULL, generation INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (connection, integration, model, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_by_seq ON records (connection, integration, model, seq);
CREATE TABLE IF NOT EXISTS checkpoints (
    connection TEXT NOT NULL, integration TEXT NOT NULL, key TEXT NOT NULL, data TEXT,
    PRIMARY KEY (connection, integration, key)
);
"""
_CHUNK = 900  # stays under SQLite's bound-variable limit with room for the key columns


def _chunks(items: builtins.list[str]) -> Iterator[builtins.list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]


def _dumps(value: Any) -> str:
    return pydantic_core.to_json(value).decode("utf-8")


class SqliteStore:
    def __init__(self, path: Path, connection_id: str, integration: str, now: Callable[[], float]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._key = (connection_id, integration)
        self._now = now
        top = self._db.execute("SELECT MAX(seq) FROM records").fetchone()[0]
        self._seq = itertools.count((top or 0) + 1)
        self._tracking: dict[str, int] = {}
        top_gen = self._db.execute("SELECT MAX(generation) FROM records").fetchone()[0]
        self._generation = itertools.count((top_gen or 0) + 1)

    @classmethod
    def scratch_copy(cls, path: Path, connection_id: str, integration: str,
                     now: Callable[[], float]) -> SqliteStore:
        """A throw-away copy of the store at `path` (or an empty one), deleted when closed."""
        folder = Path(tempfile.mkdtemp(prefix="harness-store-"))
        target = folder / "records.sqlite"
        if path.is_file():
            src = sqlite3.connect(str(path))
            dst = sqlite3.connect(str(target))
            with dst:
                src.backup(dst)
            src.close()
            dst.close()
        store = cls(target, connection_id, integration, now)
        store._scratch = folder
        return store

    _scratch: Path | None = None

    def close(self) -> None:
        self._db.close()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _existing(self, db: sqlite3.Connection, model: str,
                  ids: builtins.list[str]) -> dict[str, tuple[str, float | None, str]]:
        found: dict[str, tuple[str, float | None, str]] = {}
        for part in _chunks(ids):
            marks = ",".join("?" * len(part))
            rows = db.execute(f"SELECT id, hash, deleted_at, data FROM records WHERE connection=? AND integration=? "
                              f"AND model=? AND id IN ({marks})", (*self._key, model, *part))
            for rid, digest, deleted, data in rows:
                found[rid] = (digest, deleted, data)
        return found

    # -- records -----------------------------------------------------------------------------------
    def save(self, model: str, rows: builtins.list[dict[str, Any]]) -> SaveOutcome:
        out = SaveOutcome()
        now = self._now()
        gen = self._tracking.get(model, 0)
        conn, integ = self._key
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        touches: list[tuple[Any, ...]] = []
        with self._tx() as db:
            existing = self._existing(db, model, [r["id"] for r in rows])
            for row in rows:
                rid = row["id"]
                digest = content_hash(row)
                cur = existing.get(rid)
                if cur is None or cur[1] is not None:
                    inserts.append((conn, integ, model, rid, _dumps(row), digest, now, now, next(self._seq), gen))
                    out.added.append(rid)
                elif cur[0] != digest:
                    updates.append((_dumps(row), digest, now, next(self._seq), gen, conn, integ, model, rid))
                    out.updated.append(rid)
                else:
                    out.unchanged.append(rid)
                    if gen:
                        touches.append((gen, conn, integ, model, rid))
                existing[rid] = (digest, None, "")
            db.executemany("INSERT OR REPLACE INTO records (connection, integration, model, id, data, hash, "
                           "created_at, updated_at, deleted_at, seq, generation) VALUES (?,?,?,?,?,?,?,?,NULL,?,?)",
                           inserts)
            db.executemany("UPDATE records SET data=?, hash=?, updated_at=?, seq=?, generation=? "
                           "WHERE connection=? AND integration=? AND model=? AND id=?", updates)
            db.executemany("UPDATE records SET generation=? WHERE connection=? AND integration=? AND model=? "
                           "AND id=?", touches)
        return out

    def update(self, model: str, rows: builtins.list[dict[str, Any]]) -> builtins.list[dict[str, Any]]:
        merged: list[dict[str, Any]] = []
        now = self._now()
        with self._tx() as db:
            existing = self._existing(db, model, [r["id"] for r in rows])
            for row in rows:
                cur = existing.get(row["id"])
                if cur is None or cur[1] is not None:
                    continue
                data = deep_merge(json.loads(cur[2]), row)
                text = _dumps(data)
                db.execute("UPDATE records SET data=?, hash=?, updated_at=?, seq=? WHERE connection=? AND "
                           "integration=? AND model=? AND id=?",
                           (text, content_hash(data), now, next(self._seq), *self._key, model, row["id"]))
                existing[row["id"]] = (content_hash(data), None, text)
                merged.append(data)
        return merged

    def delete(self, model: str, rows: builtins.list[dict[str, Any]]) -> builtins.list[str]:
        deleted: list[str] = []
        now = self._now()
        with self._tx() as db:
            existing = self._existing(db, model, [r["id"] for r in rows])
            for row in rows:
                rid = row["id"]
                cur = existing.get(rid)
                if cur is None:
                    # A tombstone, so the change stream still shows the delete.
                    db.execute("INSERT INTO records (connection, integration, model, id, data, hash, created_at, "
                               "updated_at, deleted_at, seq) VALUES (?,?,?,?,?,?,?,?,?,?)",
                               (*self._key, model, rid, _dumps(row), content_hash(row), now, now, now,
                                next(self._seq)))
                    existing[rid] = ("", now, "")
                elif cur[1] is None:
                    db.execute("UPDATE records SET deleted_at=?, updated_at=?, seq=? WHERE connection=? AND "
                               "integration=? AND model=? AND id=?",
                               (now, now, next(self._seq), *self._key, model, rid))
                    existing[rid] = (cur[0], now, cur[2])
                    deleted.append(rid)
        return deleted

    def track_deletes_start(self, model: str) -> None:
        self._tracking[model] = next(self._generation)

    def track_deletes_end(self, model: str) -> builtins.list[str]:
        if model not in self._tracking:
            raise track_error(model)
        gen = self._tracking.pop(model)
        now = self._now()
        with self._tx() as db:
            gone = [r[0] for r in db.execute(
                "SELECT id FROM records WHERE connection=? AND integration=? AND model=? AND deleted_at IS NULL "
                "AND generation != ? ORDER BY seq", (*self._key, model, gen))]
            db.executemany("UPDATE records SET deleted_at=?, updated_at=?, seq=? WHERE connection=? AND "
                           "integration=? AND model=? AND id=?",
                           [(now, now, next(self._seq), *self._key, model, rid) for rid in gone])
        return gone

    def list(self, model: str, *, modified_after: float | None = None, cursor: str | None = None,
             limit: int = 100) -> tuple[builtins.list[dict[str, Any]], str | None]:
        after = int(cursor) if cursor else 0
        sql = ("SELECT data, created_at, updated_at, deleted_at, seq FROM records WHERE connection=? AND "
               "integration=? AND model=? AND seq > ?")
        args: list[Any] = [*self._key, model, after]
        if modified_after is not None:
            sql += " AND updated_at >= ?"
            args.append(modified_after)
        rows = self._db.execute(sql + " ORDER BY seq LIMIT ?", (*args, limit + 1)).fetchall()
        page = rows[:limit]
        out = [public_record(json.loads(d), c, u, x, s) for d, c, u, x, s in page]
        return out, (str(page[-1][4]) if len(rows) > limit else None)

    def get_by_ids(self, model: str, ids: builtins.list[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for part in _chunks(ids):
            marks = ",".join("?" * len(part))
            for rid, d, c, u, x, s in self._db.execute(
                    f"SELECT id, data, created_at, updated_at, deleted_at, seq FROM records WHERE connection=? AND "
                    f"integration=? AND model=? AND id IN ({marks})", (*self._key, model, *part)):
                out[rid] = public_record(json.loads(d), c, u, x, s)
        return {rid: out[rid] for rid in ids if rid in out}

    def models(self) -> builtins.list[str]:
        return [r[0] for r in self._db.execute(
            "SELECT DISTINCT model FROM records WHERE connection=? AND integration=? ORDER BY model", self._key)]

    # -- checkpoints ------------------------------------------------------------------
    def get_checkpoint(self, key: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT data FROM checkpoints WHERE connection=? AND integration=? AND key=?",
                               (*self._key, key)).fetchone()
        return json.loads(row[0]) if row and row[0] is not None else None

    def set_checkpoint(self, key: str, value: dict[str, Any] | None) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO checkpoints VALUES (?,?,?,?)",
                       (*self._key, key, None if value is None else _dumps(value)))
