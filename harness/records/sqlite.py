"""The SQLite records store (`.harness/records.sqlite`): records and checkpoints per connection.

Rows are keyed by (connection, integration, model, id), `model` being the full name (`Issue` or
`Issue::variant`). The semantics are `MemoryStore`'s (see `records/store.py`), persisted, so consecutive runs
behave as they do in production: a second run of an unchanged sync counts its records as unchanged, a record
dropped from a full refresh is soft-deleted by `track_deletes_end`. Each call is one transaction. Dry runs
work on a throw-away copy (`SqliteStore.scratch_copy`, in `.harness/tmp/`) unless `--persist` is given.

Several processes may use one store at once (two `--persist` runs, a `harness records list` meanwhile):

- WAL journal, so readers never wait for a writer, and a busy timeout (`BUSY_TIMEOUT_S`, or
  `$HARNESS_STORE_TIMEOUT` seconds) for writers waiting for each other;
- `seq`, the change cursor, comes from a counter row read and advanced inside each write transaction
  (`BEGIN IMMEDIATE`, so one writer at a time): unique across processes, and increasing in commit order,
  so a reader paging with `seq > cursor` sees every change exactly once whatever commits meanwhile;
- a lock held beyond the timeout, or a damaged file, is a `StoreError` (exit 5) naming the store; the
  first one is raised again by `close()`, so a function that swallowed it cannot turn it into a success;
- the file is created with mode 0600 (it holds provider data); its WAL files follow its mode.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import random
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pydantic_core

from ..errors import StoreError
from .store import SaveOutcome, content_hash, deep_merge, public_record, track_error

BUSY_TIMEOUT_S = 30.0
TIMEOUT_ENV = "HARNESS_STORE_TIMEOUT"
T = TypeVar("T")

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
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
_CHUNK = 900  # stays under SQLite's bound-variable limit with room for the key columns


def _chunks(items: builtins.list[str]) -> Iterator[builtins.list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]


def _dumps(value: Any) -> str:
    return pydantic_core.to_json(value).decode("utf-8")


def busy_timeout() -> float:
    """Seconds a writer waits for another one before the store reports itself locked."""
    raw = os.environ.get(TIMEOUT_ENV)
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not 0 <= value <= 86400:
            raise StoreError(f"${TIMEOUT_ENV}={raw!r} is not a number of seconds", hint="e.g. 30")
        return value
    return BUSY_TIMEOUT_S


def _create_private(path: Path) -> None:
    """The store file with mode 0600 (before SQLite opens it); an existing one loses group/other bits."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                os.chmod(path, mode & 0o700)
        return
    os.close(fd)


class SqliteStore:
    def __init__(self, path: Path, connection_id: str, integration: str, now: Callable[[], float], *,
                 timeout: float | None = None) -> None:
        self.path = path
        self._timeout = busy_timeout() if timeout is None else timeout
        self.failure: StoreError | None = None
        self._key = (connection_id, integration)
        self._now = now
        self._tracking: dict[str, int] = {}
        from .. import scratch

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            scratch.sweep(path.parent)  # scratch copies a killed run left in .harness/tmp/
            _create_private(path)
        except OSError as exc:
            raise StoreError(f"cannot create the records store {path}: {exc.strerror or exc}") from None
        self._db = self._guard("opening it", lambda: sqlite3.connect(str(path), isolation_level=None,
                                                                      timeout=self._timeout))
        self._setup_waiting()

    def _setup_waiting(self) -> None:
        """`_setup`, tried again while another process holds the file, until the busy timeout has passed.

        Processes opening a new file at once can be refused at once rather than made to wait: switching
        the journal to WAL, or upgrading a read lock to a write lock while another process waits for one,
        is answered "database is locked" without SQLite's busy wait (it would deadlock). So the wait is
        done here, and the error says how long it really waited."""
        deadline = time.monotonic() + self._timeout
        pause = 0.002
        while True:
            try:
                self._setup()
                return
            except sqlite3.Error as exc:
                text = str(exc)
                locked = isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)
                if not locked or time.monotonic() >= deadline:
                    raise self._fail("opening it", exc) from None
            time.sleep(pause + random.random() * pause)  # jitter: four openers should not retry in step
            pause = min(pause * 2, 0.1)

    def _setup(self) -> None:
        db = self._db
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if {"records", "checkpoints", "counters"} <= tables:
            return  # nothing to create: opening takes no write lock
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            if db.execute("SELECT COUNT(*) FROM counters").fetchone()[0] == 0:
                self._migrate(db)
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        """Counters for a store written before they existed; duplicate `seq` values (two processes that
        counted on their own) renumbered once, in their order, so cursors can tell every change apart."""
        total, distinct, top, top_gen = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT seq), MAX(seq), MAX(generation) FROM records").fetchone()
        if total != distinct:
            keys = db.execute("SELECT connection, integration, model, id FROM records "
                              "ORDER BY seq, updated_at, connection, integration, model, id").fetchall()
            db.executemany("UPDATE records SET seq=? WHERE connection=? AND integration=? AND model=? AND id=?",
                           [(n, *k) for n, k in enumerate(keys, 1)])
            top = len(keys)
        db.executemany("INSERT INTO counters VALUES (?, ?)", [("seq", top or 0), ("generation", top_gen or 0)])

    def _fail(self, doing: str, exc: sqlite3.Error) -> StoreError:
        text = str(exc)
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
            err = StoreError(f"the records store {self.path} stayed locked by another process for "
                             f"{self._timeout:g} s ({doing})",
                             hint=f"another run with --persist holds it: let it finish, or wait longer with "
                                  f"${TIMEOUT_ENV}=SECONDS")
        else:
            err = StoreError(f"the records store {self.path} failed ({doing}): {text}",
                             hint="if the file is damaged, move it away: a new one is made on the next run")
        if self.failure is None:
            self.failure = err
        return err

    def _guard(self, doing: str, work: Callable[[], T]) -> T:
        try:
            return work()
        except sqlite3.Error as exc:
            raise self._fail(doing, exc) from None

    def _query(self, sql: str, args: tuple[Any, ...]) -> builtins.list[Any]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise self._fail("reading", exc) from None

    @classmethod
    def scratch_copy(cls, path: Path, connection_id: str, integration: str,
                     now: Callable[[], float]) -> SqliteStore:
        """A throw-away copy of the store at `path` (or an empty one), in `.harness/tmp/` beside it
        (removed when closed; after a crash, by the next run that makes a scratch folder)."""
        from .. import scratch
        from ..crashpoints import crash_point

        folder = scratch.scratch_dir(path.parent, "store")
        target = folder / "records.sqlite"
        try:
            if path.is_file():
                timeout = busy_timeout()

                def copy() -> None:
                    src = sqlite3.connect(str(path), timeout=timeout)
                    try:
                        _create_private(target)
                        dst = sqlite3.connect(str(target))
                        try:
                            with dst:
                                src.backup(dst)
                        finally:
                            dst.close()
                    finally:
                        src.close()

                try:
                    copy()
                except sqlite3.Error as exc:
                    raise StoreError(f"cannot copy the records store {path}: {exc}",
                                     hint="another process may hold it; try again") from None
            crash_point("store-scratch-ready")
            store = cls(target, connection_id, integration, now)
        except BaseException:
            scratch.remove(path.parent, folder)
            raise
        store._scratch = folder
        return store

    _scratch: Path | None = None

    def close(self) -> None:
        """Close (and remove a scratch copy); then raise the first store error of the run, if any."""
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        if self._scratch is not None:
            from .. import scratch

            scratch.remove(self._scratch.parent.parent, self._scratch)  # `.harness/tmp/<folder>`
        if self.failure is not None:
            raise self.failure

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding the write lock from the start (so `seq` is allocated by one
        writer at a time, in commit order)."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._fail("waiting to write", exc) from None
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise self._fail("writing", exc) from None
            raise

    @staticmethod
    def _counter(db: sqlite3.Connection, name: str) -> int:
        return int(db.execute("SELECT value FROM counters WHERE name=?", (name,)).fetchone()[0])

    @staticmethod
    def _set_counter(db: sqlite3.Connection, name: str, value: int) -> None:
        db.execute("UPDATE counters SET value=? WHERE name=?", (value, name))

    @contextmanager
    def _write(self) -> Iterator[tuple[sqlite3.Connection, Callable[[], int]]]:
        """A write transaction and the `seq` allocator of its changes (the counter is saved on commit)."""
        with self._tx() as db:
            top = self._counter(db, "seq")
            box = [top]

            def next_seq() -> int:
                box[0] += 1
                return box[0]

            yield db, next_seq
            if box[0] != top:
                self._set_counter(db, "seq", box[0])

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
        with self._write() as (db, next_seq):
            existing = self._existing(db, model, [r["id"] for r in rows])
            for row in rows:
                rid = row["id"]
                digest = content_hash(row)
                cur = existing.get(rid)
                if cur is None or cur[1] is not None:
                    inserts.append((conn, integ, model, rid, _dumps(row), digest, now, now, next_seq(), gen))
                    out.added.append(rid)
                elif cur[0] != digest:
                    updates.append((_dumps(row), digest, now, next_seq(), gen, conn, integ, model, rid))
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
        with self._write() as (db, next_seq):
            existing = self._existing(db, model, [r["id"] for r in rows])
            for row in rows:
                cur = existing.get(row["id"])
                if cur is None or cur[1] is not None:
                    continue
                data = deep_merge(json.loads(cur[2]), row)
                text = _dumps(data)
                db.execute("UPDATE records SET data=?, hash=?, updated_at=?, seq=? WHERE connection=? AND "
                           "integration=? AND model=? AND id=?",
                           (text, content_hash(data), now, next_seq(), *self._key, model, row["id"]))
                existing[row["id"]] = (content_hash(data), None, text)
                merged.append(data)
        return merged

    def delete(self, model: str, rows: builtins.list[dict[str, Any]]) -> builtins.list[str]:
        deleted: list[str] = []
        now = self._now()
        with self._write() as (db, next_seq):
            existing = self._existing(db, model, [r["id"] for r in rows])
            for row in rows:
                rid = row["id"]
                cur = existing.get(rid)
                if cur is None:
                    # A tombstone, so the change stream still shows the delete.
                    db.execute("INSERT INTO records (connection, integration, model, id, data, hash, created_at, "
                               "updated_at, deleted_at, seq) VALUES (?,?,?,?,?,?,?,?,?,?)",
                               (*self._key, model, rid, _dumps(row), content_hash(row), now, now, now,
                                next_seq()))
                    existing[rid] = ("", now, "")
                elif cur[1] is None:
                    db.execute("UPDATE records SET deleted_at=?, updated_at=?, seq=? WHERE connection=? AND "
                               "integration=? AND model=? AND id=?",
                               (now, now, next_seq(), *self._key, model, rid))
                    existing[rid] = (cur[0], now, cur[2])
                    deleted.append(rid)
        return deleted

    def track_deletes_start(self, model: str) -> None:
        # A generation no other run (in this process or another) has: records it touches carry it.
        with self._tx() as db:
            gen = self._counter(db, "generation") + 1
            self._set_counter(db, "generation", gen)
        self._tracking[model] = gen

    def track_deletes_end(self, model: str) -> builtins.list[str]:
        if model not in self._tracking:
            raise track_error(model)
        gen = self._tracking.pop(model)
        now = self._now()
        with self._write() as (db, next_seq):
            gone = [r[0] for r in db.execute(
                "SELECT id FROM records WHERE connection=? AND integration=? AND model=? AND deleted_at IS NULL "
                "AND generation != ? ORDER BY seq", (*self._key, model, gen))]
            db.executemany("UPDATE records SET deleted_at=?, updated_at=?, seq=? WHERE connection=? AND "
                           "integration=? AND model=? AND id=?",
                           [(now, now, next_seq(), *self._key, model, rid) for rid in gone])
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
        rows = self._query(sql + " ORDER BY seq LIMIT ?", (*args, limit + 1))
        page = rows[:limit]
        out = [public_record(json.loads(d), c, u, x, s) for d, c, u, x, s in page]
        return out, (str(page[-1][4]) if len(rows) > limit else None)

    def get_by_ids(self, model: str, ids: builtins.list[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for part in _chunks(ids):
            marks = ",".join("?" * len(part))
            rows = self._query(f"SELECT id, data, created_at, updated_at, deleted_at, seq FROM records WHERE "
                               f"connection=? AND integration=? AND model=? AND id IN ({marks})",
                               (*self._key, model, *part))
            for rid, d, c, u, x, s in rows:
                out[rid] = public_record(json.loads(d), c, u, x, s)
        return {rid: out[rid] for rid in ids if rid in out}

    def models(self) -> builtins.list[str]:
        return [r[0] for r in self._query(
            "SELECT DISTINCT model FROM records WHERE connection=? AND integration=? ORDER BY model", self._key)]

    # -- checkpoints ------------------------------------------------------------------
    def get_checkpoint(self, key: str) -> dict[str, Any] | None:
        rows = self._query("SELECT data FROM checkpoints WHERE connection=? AND integration=? AND key=?",
                           (*self._key, key))
        return json.loads(rows[0][0]) if rows and rows[0][0] is not None else None

    def set_checkpoint(self, key: str, value: dict[str, Any] | None) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO checkpoints VALUES (?,?,?,?)",
                       (*self._key, key, None if value is None else _dumps(value)))
