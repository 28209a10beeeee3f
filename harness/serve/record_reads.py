"""Reading the SQLite records store as Nango's `GET /records` answers, and the few writes runs need.

The rows are those `harness.records.sqlite.SqliteStore` writes (its semantics: added / updated / deleted,
soft deletes, one `seq` per change); this module only reads them, oldest change first, with Nango's
`_nango_metadata` and paging: `next_cursor` is the cursor of the last record returned when more follow
(`null` otherwise), and passing it back returns the records strictly after it. `modified_after` is
inclusive; `filter` keeps records whose last action is one of `added`, `updated`, `deleted`.

A page is built as text: each stored record is already compact JSON, so the metadata is spliced in before
its closing brace instead of parsing and re-encoding every record (the listing's whole cost otherwise).
"""

from __future__ import annotations

import functools
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

ACTIONS = ("added", "updated", "deleted")
MAX_LIMIT = 10_000
MAX_IDS = 100

_ACTION_SQL = {
    "deleted": "deleted_at IS NOT NULL",
    "added": "(deleted_at IS NULL AND created_at = updated_at)",
    "updated": "(deleted_at IS NULL AND created_at != updated_at)",
}


def iso(ts: float | None) -> str | None:
    """Nango's timestamps: ISO 8601 in UTC with milliseconds (`2026-01-01T10:00:00.000Z`)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@functools.lru_cache(maxsize=8192)
def _metadata_head(created: float, updated: float, deleted: float | None) -> str:
    # A batch of records shares its timestamps, so this is computed once per batch, not per record.
    action = "DELETED" if deleted is not None else ("ADDED" if created == updated else "UPDATED")
    deleted_at = f'"{iso(deleted)}"' if deleted is not None else "null"
    return (f',"_nango_metadata":{{"first_seen_at":"{iso(created)}","last_modified_at":"{iso(updated)}",'
            f'"last_action":"{action}","deleted_at":{deleted_at},"pruned_at":null,"cursor":"')


def _record(data: str, created: float, updated: float, deleted: float | None, seq: int) -> str:
    # A stored record is a compact JSON object with at least its `id`: the metadata goes before its `}`.
    return f'{data[:-1]}{_metadata_head(created, updated, deleted)}{seq}"}}}}'


class RecordReader:
    """Reads one records database; used from the event loop's thread only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._db.execute("PRAGMA busy_timeout=5000")
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def page(self, connection: str, integration: str, model: str, *, modified_after: float | None = None,
             cursor: int = 0, limit: int = 100, actions: tuple[str, ...] = (), ids: list[str] | None = None
             ) -> tuple[str, str | None]:
        """`{"records": [...], "next_cursor": ...}` as JSON text, and the next cursor."""
        sql = ("SELECT data, created_at, updated_at, deleted_at, seq FROM records WHERE connection=? AND "
               "integration=? AND model=? AND seq > ?")
        args: list[object] = [connection, integration, model, cursor]
        if modified_after is not None:
            sql += " AND updated_at >= ?"
            args.append(modified_after)
        if actions and set(actions) != set(ACTIONS):
            sql += " AND (" + " OR ".join(_ACTION_SQL[a] for a in actions) + ")"
        if ids:
            sql += f" AND id IN ({','.join('?' * len(ids))})"
            args.extend(ids)
        rows = self._conn().execute(sql + " ORDER BY seq LIMIT ?", (*args, limit + 1)).fetchall()
        page = rows[:limit]
        next_cursor = str(page[-1][4]) if len(rows) > limit else None
        records = ",".join([_record(d, c, u, x, s) for d, c, u, x, s in page])
        return f'{{"records":[{records}],"next_cursor":{json.dumps(next_cursor)}}}', next_cursor

    def counts(self, connection: str, integration: str, models: list[str]) -> dict[str, int]:
        """Records not deleted, per model (what Nango's status calls `recordCount`)."""
        out = dict.fromkeys(models, 0)
        if not models:
            return out
        marks = ",".join("?" * len(models))
        rows = self._conn().execute(
            f"SELECT model, COUNT(*) FROM records WHERE connection=? AND integration=? AND model IN ({marks}) "
            "AND deleted_at IS NULL GROUP BY model", (connection, integration, *models))
        out.update({model: n for model, n in rows})
        return out


def clear_records(db: sqlite3.Connection, connection: str, integration: str, models: list[str]) -> int:
    """Hard-delete a sync's records (a trigger with `emptyCache`, as Nango's `clearRecordsIfNeeded`)."""
    marks = ",".join("?" * len(models))
    with db:
        cur = db.execute(f"DELETE FROM records WHERE connection=? AND integration=? AND model IN ({marks})",
                         (connection, integration, *models))
    return cur.rowcount


def delete_connection(db: sqlite3.Connection, connection: str, integration: str) -> None:
    """A deleted connection's records and checkpoints go with it (as in Nango)."""
    with db:
        db.execute("DELETE FROM records WHERE connection=? AND integration=?", (connection, integration))
        db.execute("DELETE FROM checkpoints WHERE connection=? AND integration=?", (connection, integration))
