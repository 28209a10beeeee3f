"""The headline figure (SPEC §15): a sync of 10,000 pages and 500,000 records, replayed from its cassette,
validated, and compared with its snapshot, end to end.

A synthetic project is built in a temporary folder: a sync that pages through `/items?page=N` (link
pagination, 50 records a page) and a cassette of 10,000 interactions written by harness's own cassette
writer. The first pass writes the snapshot; the timed pass replays the scenario as the pytest plugin does
(`run_scenario`: load, index, replay, validate every record, store) and compares the whole run with the
snapshot. Target: under 10 s. vcrpy's replay alone would scan the cassette for each of the 10,000 requests
(about 117 ms a request at this size, see bench/replay.py: over 19 minutes).

    python bench/headline.py [--pages N] [--per-page N] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.cassettes.format import Cassette, Interaction, write_cassette
from harness.pipeline import RunRequest, execute
from harness.project import load_project
from harness.secrets.scrubber import Scrubber
from harness.snapshots.document import SnapshotSettings, snapshot_document
from harness.snapshots.files import compare, dump_snapshot

SYNC = '''
from pydantic import BaseModel
from harness import sync

class Item(BaseModel):
    id: str
    name: str
    price: float
    updated_at: str

@sync(models=[Item], frequency="every hour")
async def items(nango):
    async for page in nango.paginate("/items", params={"page": 1},
                                     paginate={"type": "link", "link_rel_in_response_header": "next"}):
        await nango.batch_save(page, "Item")
'''
BASE = "https://api.example.com"


def build(root: Path, pages: int, per_page: int) -> None:
    (root / "functions/shop/syncs").mkdir(parents=True)
    (root / "functions/shop/syncs/items.py").write_text(textwrap.dedent(SYNC))
    (root / "pyproject.toml").write_text('[tool.harness]\nfunctions = "functions"\ncassettes = "cassettes"\n')
    interactions = []
    for page in range(1, pages + 1):
        rows = [{"id": str((page - 1) * per_page + i), "name": f"Item {page}-{i}", "price": i + 0.5,
                 "updated_at": "2026-01-01T10:00:00Z"} for i in range(per_page)]
        headers = {"content-type": ["application/json"]}
        if page < pages:
            headers["link"] = [f'<{BASE}/items?page={page + 1}>; rel="next"']
        interactions.append(Interaction("GET", f"{BASE}/items?page={page}", {}, None, 200, "OK", headers,
                                        json.dumps(rows, separators=(",", ":"))))
    context = {"function": "items", "integration": "shop", "type": "sync", "scenario": "big",
               "recorded_at": "2026-01-01T12:00:00Z",
               "connection": {"connection_id": "c1", "provider": "bench-shop", "integration": "shop",
                              "base_url": BASE, "connection_config": {}, "metadata": None,
                              "credentials": {"type": "NONE"}}}
    path = root / "cassettes/shop/items/big.yaml"
    write_cassette(path, Cassette(interactions, context), Scrubber({}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--per-page", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        build(root, args.pages, args.per_page)
        build_s = time.perf_counter() - started
        project = load_project(root)
        settings = SnapshotSettings()
        snap = root / "cassettes/shop/items/big.snapshot.json"
        first = execute(RunRequest("items", scenario="big", mode="replay", project=project, block_network=True))
        assert first.result.ok, first.result.error
        snap.write_text(dump_snapshot(snapshot_document(first.result, settings)))

        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        ran = execute(RunRequest("items", scenario="big", mode="replay", project=project, block_network=True))
        t1 = time.perf_counter()
        doc = snapshot_document(ran.result, settings)
        cmp = compare(doc, snap.read_text(), settings.apply, str(snap))
        t2 = time.perf_counter()
        assert ran.result.ok and cmp.same
        records = len(ran.result.records("Item"))
        timings = {"replay, validate and store (load included)": t1 - t0, "snapshot document and compare": t2 - t1,
                   "end to end": t2 - t0}
        size_mb = (root / "cassettes/shop/items/big.yaml").stat().st_size / 1e6
    out: dict[str, Any] = {"pages": args.pages, "records": records, "cassette_mb": round(size_mb, 1),
                           "build_s": round(build_s, 2), "timings_s": {k: round(v, 2) for k, v in timings.items()},
                           "target_s": 10, "met": timings["end to end"] < 10}
    if args.json:
        print(json.dumps(out, indent=2))
        return
    table = Table(title=f"{args.pages:,} pages, {records:,} records, cassette {size_mb:.1f} MB")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    for step, seconds in timings.items():
        table.add_row(step, f"{seconds:.2f}")
    console = Console(file=sys.stdout)
    console.print(table)
    verdict = "met" if out["met"] else "MISSED"
    console.print(f"target: end to end under 10 s -> {verdict}; vcrpy's replay alone: about 10,000 x 117 ms "
                  "= 19.5 min (bench/replay.py)")


if __name__ == "__main__":
    main()
