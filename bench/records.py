"""Records throughput: validated `batch_save` of 150,000 four-field records, in memory and into SQLite.

A sync run saves the records in batches of 1,000 through `nango.batch_save` (id normalisation, pydantic
validation in strict JSON mode, duplicate check, then the store: content identity, added / updated counting),
exactly as a replayed sync would. Targets (SPEC §15): in memory >= 300,000 records/s, SQLite >= 50,000
records/s. A second pass saves the same records again (all unchanged), what an incremental re-run costs.

    python bench/records.py [--records N] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from harness import SyncContext, sync
from harness.connections.model import Connection
from harness.http.stack import HttpStack
from harness.providers.catalog import Provider
from harness.records.memory import MemoryStore
from harness.records.sqlite import SqliteStore
from harness.records.store import RecordStore
from harness.runner import run
from harness.secrets.scrubber import Scrubber
from harness.validation import prepare_records

BATCH = 1000


class Row(BaseModel):
    id: str
    title: str
    state: str
    updated_at: str


def rows(n: int) -> list[dict[str, Any]]:
    return [{"id": str(i), "title": f"Issue number {i}", "state": "open" if i % 3 else "closed",
             "updated_at": f"2026-01-{1 + i % 28:02d}T10:00:00Z"} for i in range(n)]


def save_all(store: RecordStore, data: list[dict[str, Any]]) -> float:
    """One sync run that saves `data` in batches through `nango.batch_save`, on `store`; seconds taken."""

    @sync(models=[Row], name="bench")
    async def bench(nango: SyncContext) -> None:
        for i in range(0, len(data), BATCH):
            await nango.batch_save(data[i:i + BATCH], "Row")

    connection = Connection(connection_id="c", provider="bench", integration="bench")
    scrubber = Scrubber({})
    stack = HttpStack(httpx.MockTransport(lambda request: httpx.Response(404)), "replay", scrubber)
    started = time.perf_counter()
    result = run(bench, connection, stack, provider=Provider(name="bench"), base_url="https://x", store=store)
    elapsed = time.perf_counter() - started
    assert result.ok and len(result.records("Row")) == len(data), result.error
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=150_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data = rows(args.records)
    results: list[dict[str, Any]] = []
    validate = time.perf_counter()
    for i in range(0, len(data), BATCH):
        prepare_records(data[i:i + BATCH], Row, "Row", strict=True)
    validate = time.perf_counter() - validate
    results.append({"store": "validation only", "first_s": validate, "again_s": None, "target": None})
    memory = MemoryStore(time.time)
    results.append({"store": "memory", "first_s": save_all(memory, data), "again_s": save_all(memory, data),
                    "target": 300_000})
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = SqliteStore(Path(tmp) / "records.sqlite", "conn", "integ", time.time)
        results.append({"store": "sqlite", "first_s": save_all(sqlite, data), "again_s": save_all(sqlite, data),
                        "target": 50_000})
        sqlite.close()
    for r in results:
        r["first_per_s"] = round(args.records / r["first_s"])
        r["again_per_s"] = round(args.records / r["again_s"]) if r["again_s"] else None
        r["met"] = None if r["target"] is None else r["first_per_s"] >= r["target"]
    if args.json:
        print(json.dumps({"records": args.records, "results": results}, indent=2))
        return
    table = Table(title=f"batch_save of {args.records:,} validated records (batches of {BATCH})")
    for col in ("store", "first save (added)", "records/s", "second save (unchanged)", "records/s", "target"):
        table.add_column(col, justify="right")
    for r in results:
        target = "" if r["target"] is None else f">= {r['target']:,}/s {'met' if r['met'] else 'MISSED'}"
        again = f"{r['again_s']:.2f} s" if r["again_s"] else ""
        again_rate = f"{r['again_per_s']:,}" if r["again_per_s"] else ""
        table.add_row(r["store"], f"{r['first_s']:.2f} s", f"{r['first_per_s']:,}", again, again_rate, target)
    Console(file=sys.stdout).print(table)


if __name__ == "__main__":
    main()
