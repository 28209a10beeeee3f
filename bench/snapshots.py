"""Snapshot benchmark: how long comparing a large scenario's snapshot takes, ours against syrupy's own.

What it measures
    One sync run with N records (150,000 by default; `--records`) of a 7-field model, 30 saved checkpoints
    and 3,000 requests, as a harness `RunResult`. Each implementation first writes its snapshot file from it
    (not timed), then the timed part is what one passing assertion costs: turn the in-memory value into the
    stored form, read the file, and decide equality:
      (a) harness   `snapshot_document(result)` (records keyed and sorted by id, excludes applied),
                    written out in the snapshot layout and compared with the file's text; only when the
                    texts differ is the file parsed and compared in canonical form (what a scenario item
                    does; a passing comparison never parses the file);
      (b) json      syrupy's `JSONSnapshotExtension`: `serialize(doc)` then the file read, `matches`;
      (c) amber     syrupy's `AmberSnapshotExtension` (its default): `serialize(doc)`, the `.ambr` file
                    read through `AmberDataSerializer.read_file`, `matches`.
    (b) and (c) get the same data: the harness snapshot document as plain dicts (what a user would assert
    with syrupy), so only the comparison machinery differs. Best of `--repeat` runs (default 3), with the
    cyclic garbage collector left on as in a test session. It also times the mismatch path of (a): one
    record changed, producing the record-level report.

How to read the output
    One table: seconds per implementation, the file size, and "vs json": the implementation's time divided
    by syrupy-json's (below 1.0 is faster). The goal is harness at most as slow as syrupy's JSON extension.
    `--json` writes the figures as one JSON document to stdout (the table then goes to stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.result import Exchange, RunResult
from harness.snapshots.diff import describe_differences
from harness.snapshots.document import SnapshotSettings, snapshot_document
from harness.snapshots.files import compare, dump_snapshot


def make_result(records: int) -> RunResult:
    result = RunResult(function="issues", integration="github", function_type="sync", connection_id="demo",
                       mode="replay", scenario="big")
    changes = result.model("Issue")
    changes.saved = [{"id": str(1_000_000 + n), "number": n, "title": f"Issue {n}", "state": "open" if n % 3 else
                      "closed", "author": f"user{n % 97}", "labels": ["bug"] if n % 5 == 0 else [],
                      "updated_at": f"2026-01-{1 + n % 28:02d}T10:00:00Z"} for n in range(records)]
    changes.added_count = records
    result.checkpoints = [{"since": f"2026-01-{1 + n % 28:02d}T10:00:00Z"} for n in range(30)]
    result.final_checkpoint = result.checkpoints[-1]
    result.requests = [Exchange("GET", f"https://api.github.com/repos/o/r/issues?page={n}", 200, 1.0, "replay")
                       for n in range(3000)]
    return result


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - started)
    return min(times), value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=150_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    args = parser.parse_args()

    from syrupy.data import Snapshot, SnapshotCollection
    from syrupy.extensions.amber import AmberSnapshotExtension
    from syrupy.extensions.amber.serializer import AmberDataSerializer
    from syrupy.extensions.json import JSONSnapshotExtension

    result = make_result(args.records)
    settings = SnapshotSettings()
    doc = snapshot_document(result, settings)
    folder = Path(tempfile.mkdtemp(prefix="harness-bench-"))
    ours_path = folder / "big.snapshot.json"
    ours_path.write_text(dump_snapshot(doc), encoding="utf-8")
    json_ext, amber_ext = JSONSnapshotExtension(), AmberSnapshotExtension()
    json_path = folder / "test_big.json"
    json_path.write_text(str(json_ext.serialize(doc)), encoding="utf-8")
    amber_path = folder / "test_big.ambr"
    collection = SnapshotCollection(location=str(amber_path))
    collection.add(Snapshot(name="test_big", data=amber_ext.serialize(doc)))
    AmberDataSerializer.write_file(collection, merge=False)

    def ours() -> bool:
        current = snapshot_document(result, settings)
        return compare(current, ours_path.read_text(encoding="utf-8"), settings.apply, str(ours_path)).same

    def syrupy_json() -> bool:
        serialized = json_ext.serialize(doc)
        stored = json_ext.read_snapshot_data_from_location(snapshot_location=str(json_path),
                                                           snapshot_name="test_big", session_id="bench")
        return json_ext.matches(serialized_data=serialized, snapshot_data=stored)

    def syrupy_amber() -> bool:
        serialized = amber_ext.serialize(doc)
        stored = AmberDataSerializer.read_file(str(amber_path)).get("test_big")
        return amber_ext.matches(serialized_data=serialized, snapshot_data=stored.data if stored else None)

    changed = make_result(args.records)
    changed.models["Issue"].saved[7]["title"] = "Changed"

    def ours_mismatch() -> list[str]:
        current = snapshot_document(changed, settings)
        cmp = compare(current, ours_path.read_text(encoding="utf-8"), settings.apply, str(ours_path))
        if cmp.same or cmp.stored is None or cmp.current is None:
            return []
        return describe_differences(cmp.stored, cmp.current)

    rows: list[dict[str, Any]] = []
    for name, fn, path in (("harness", ours, ours_path), ("syrupy json", syrupy_json, json_path),
                           ("syrupy amber", syrupy_amber, amber_path), ("harness (mismatch + diff)",
                                                                         ours_mismatch, ours_path)):
        seconds, value = best(fn, args.repeat)
        if name == "harness (mismatch + diff)":
            assert value and "1 changed" in value[0], value
        else:
            assert value is True, f"{name} did not match its own snapshot"
        rows.append({"name": name, "seconds": round(seconds, 4), "file_mb": round(path.stat().st_size / 1e6, 2)})
    base = next(r["seconds"] for r in rows if r["name"] == "syrupy json")
    for row in rows:
        row["vs_json"] = round(row["seconds"] / base, 3) if base else None

    console = Console(stderr=args.json)
    table = Table(title=f"Comparing a {args.records:,}-record scenario snapshot (best of {args.repeat})")
    for col in ("implementation", "seconds", "file MB", "vs json"):
        table.add_column(col, justify="left" if col == "implementation" else "right")
    for row in rows:
        table.add_row(row["name"], f"{row['seconds']:.3f}", f"{row['file_mb']:.1f}", f"{row['vs_json']:.2f}")
    console.print(table)
    ours_s = rows[0]["seconds"]
    console.print(f"goal (harness at most as slow as syrupy's JSON extension): "
                  f"{'met' if ours_s <= base else 'NOT met'} ({ours_s:.3f} s vs {base:.3f} s)")
    if args.json:
        json.dump({"records": args.records, "repeat": args.repeat, "results": rows}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
