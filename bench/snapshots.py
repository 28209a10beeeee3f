"""Snapshot benchmark: how long comparing a large scenario's snapshot takes, ours against syrupy's own and
against the floor (a plain `json` encode-and-compare).

What it measures
    One sync run with N records (150,000 by default; `--records`) of a 7-field model, 30 saved checkpoints
    and 3,000 requests, as a harness `RunResult`. Each implementation first writes its snapshot file from it
    (not timed), then the timed part is what one assertion costs: turn the in-memory value into the stored
    form, read the file, and decide equality:
      (a) harness   what a scenario item does: the records held as their lines (`RecordLog(encoded=True)`,
                    the encoding included in the time: a run makes them as it saves), `snapshot_document`,
                    and `compare_file` (the layout compared with the file a megabyte at a time; only a
                    difference parses the file and compares in canonical form);
      (b) json      syrupy's `JSONSnapshotExtension`: `serialize(doc)` then the file read, `matches`;
      (c) amber     syrupy's `AmberSnapshotExtension` (its default): `serialize(doc)`, the `.ambr` file
                    read through `AmberDataSerializer.read_file`, `matches`;
      (d) floor     one C `json.dumps` of the document (plain dicts, keys sorted) compared with the stored
                    text of the same encoding, read from its file: the least any comparison does;
      (e) floor+parse  (d), then the stored file read and parsed (`json.loads`) and compared with the
                    document as data: the least a comparison of a changed or reformatted file does (the same
                    floor as `headline_floor.py --parse-stored`).
    And harness's slow paths: one record changed (the test fails with its record-level report), and the
    stored file re-indented by hand (the test passes), each against (e) (SPEC: within 2x of a plain json
    encode-and-compare, matching or not). (b) and (c) get the same data: the harness snapshot document as
    plain dicts (what a user would assert with syrupy), so only the comparison machinery differs. Best of
    `--repeat` runs (default 3), with the cyclic garbage collector left on as in a test session.

How to read the output
    One table: seconds per implementation, the file size, "vs json" (divided by syrupy-json's) and "vs
    floor" (the matching comparison over (d), the slow paths over (e)). Targets: harness at most as slow as
    syrupy's JSON extension, and within 2x of its floor, matching or not. `--json` writes the figures as one
    JSON document to stdout (the table then goes to stderr).
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

from harness.records.log import Keeping, RecordLog
from harness.result import Exchange, RunResult
from harness.snapshots.diff import describe_differences
from harness.snapshots.document import SnapshotSettings, snapshot_document
from harness.snapshots.files import compare_file, dump_snapshot


def make_rows(records: int) -> list[dict[str, Any]]:
    return [{"id": str(1_000_000 + n), "number": n, "title": f"Issue {n}", "state": "open" if n % 3 else
             "closed", "author": f"user{n % 97}", "labels": ["bug"] if n % 5 == 0 else [],
             "updated_at": f"2026-01-{1 + n % 28:02d}T10:00:00Z"} for n in range(records)]


def make_result(rows: list[dict[str, Any]], *, encoded: bool) -> RunResult:
    """The run's result; `encoded`: its records held as lines, as a scenario run holds them."""
    result = RunResult(function="issues", integration="github", function_type="sync", connection_id="demo",
                       mode="replay", scenario="big")
    changes = result.model("Issue")
    changes.saved = RecordLog(rows, keeping=Keeping(encoded=encoded))
    changes.added_count = len(rows)
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

    rows = make_rows(args.records)
    settings = SnapshotSettings()
    doc = json.loads(dump_snapshot(snapshot_document(make_result(rows, encoded=False), settings)))  # plain data
    folder = Path(tempfile.mkdtemp(prefix="harness-bench-"))
    ours_path = folder / "big.snapshot.json"
    ours_path.write_text(dump_snapshot(doc), encoding="utf-8")
    reformatted_path = folder / "reformatted.snapshot.json"
    reformatted_path.write_text(json.dumps(doc, indent=4, ensure_ascii=False) + "\n", encoding="utf-8")
    floor_path = folder / "floor.json"
    floor_path.write_text(json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
                          encoding="utf-8")
    json_ext, amber_ext = JSONSnapshotExtension(), AmberSnapshotExtension()
    json_path = folder / "test_big.json"
    json_path.write_text(str(json_ext.serialize(doc)), encoding="utf-8")
    amber_path = folder / "test_big.ambr"
    collection = SnapshotCollection(location=str(amber_path))
    collection.add(Snapshot(name="test_big", data=amber_ext.serialize(doc)))
    AmberDataSerializer.write_file(collection, merge=False)

    def ours_against(path: Path, saved: list[dict[str, Any]]) -> Any:
        current = snapshot_document(make_result(saved, encoded=True), settings)
        return compare_file(current, path, settings.apply, str(path))

    def ours() -> bool:
        return ours_against(ours_path, rows).same

    def syrupy_json() -> bool:
        serialized = json_ext.serialize(doc)
        stored = json_ext.read_snapshot_data_from_location(snapshot_location=str(json_path),
                                                           snapshot_name="test_big", session_id="bench")
        return json_ext.matches(serialized_data=serialized, snapshot_data=stored)

    def syrupy_amber() -> bool:
        serialized = amber_ext.serialize(doc)
        stored = AmberDataSerializer.read_file(str(amber_path)).get("test_big")
        return amber_ext.matches(serialized_data=serialized, snapshot_data=stored.data if stored else None)

    def floor() -> bool:
        encoded = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return encoded == floor_path.read_text(encoding="utf-8")

    def floor_parse() -> bool:
        # The floor, plus parsing the stored file and comparing as data (what `headline_floor.py
        # --parse-stored` adds): what a comparison of a changed or reformatted file cannot avoid.
        floor()
        return bool(json.loads(ours_path.read_text(encoding="utf-8")) == doc)

    changed_rows = make_rows(args.records)
    changed_rows[7]["title"] = "Changed"

    def ours_mismatch() -> list[str]:
        cmp = ours_against(ours_path, changed_rows)
        if cmp.same or cmp.stored is None or cmp.current is None:
            return []
        return describe_differences(cmp.stored, cmp.current)

    def ours_reformatted() -> bool:
        return ours_against(reformatted_path, rows).same

    rows_out: list[dict[str, Any]] = []
    for name, fn, path in (("harness", ours, ours_path), ("syrupy json", syrupy_json, json_path),
                           ("syrupy amber", syrupy_amber, amber_path), ("floor", floor, floor_path),
                           ("floor+parse", floor_parse, ours_path),
                           ("harness (mismatch + diff)", ours_mismatch, ours_path),
                           ("harness (reformatted file)", ours_reformatted, reformatted_path)):
        seconds, value = best(fn, args.repeat)
        if name == "harness (mismatch + diff)":
            assert value and "1 changed" in value[0], value
        else:
            assert value is True, f"{name} did not match its own snapshot"
        rows_out.append({"name": name, "seconds": round(seconds, 4), "file_mb": round(path.stat().st_size / 1e6, 2)})
    by_name = {r["name"]: r["seconds"] for r in rows_out}
    for row in rows_out:
        floor_s = by_name["floor"] if row["name"] in ("harness", "floor") else by_name["floor+parse"]
        row["vs_floor"] = round(row["seconds"] / floor_s, 3) if row["name"].startswith("harness") else None
    base = by_name["syrupy json"]
    for row in rows_out:
        row["vs_json"] = round(row["seconds"] / base, 3) if base else None

    console = Console(stderr=args.json)
    table = Table(title=f"Comparing a {args.records:,}-record scenario snapshot (best of {args.repeat})")
    for col in ("implementation", "seconds", "file MB", "vs json", "vs floor"):
        table.add_column(col, justify="left" if col == "implementation" else "right")
    for row in rows_out:
        vs_floor = f"{row['vs_floor']:.2f}x" if row["vs_floor"] is not None else ""
        table.add_row(row["name"], f"{row['seconds']:.3f}", f"{row['file_mb']:.1f}", f"{row['vs_json']:.2f}",
                      vs_floor)
    console.print(table)
    ours_s = by_name["harness"]
    worst = max(r["vs_floor"] for r in rows_out if r["vs_floor"] is not None)
    console.print(f"goals: harness at most as slow as syrupy's JSON extension -> "
                  f"{'met' if ours_s <= base else 'NOT met'} ({ours_s:.3f} s vs {base:.3f} s); within 2x of the "
                  f"floor, matching or not -> {'met' if worst <= 2 else 'NOT met'} (worst {worst:.2f}x)")
    if args.json:
        json.dump({"records": args.records, "repeat": args.repeat, "results": rows_out}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
