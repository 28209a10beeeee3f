"""`harness serve` against the same work done in-process: an action round trip, and listing a big model.

Starts `harness serve` as a user does (a subprocess, replay, `--no-schedule`) on a copy of the bundled example
plus a `bulk` sync that saves N records (100,000 by default; no provider calls), then measures, side by side:

- action round trip: `POST /action/trigger` for `create-issue` with its recorded input, over one kept-alive
  httpx connection (HTTP in, replay, HTTP out), p50 and p90 of `--actions` calls after warm-up; against
  `harness.pipeline.execute` of the same replay in this process. Target: p50 under 20 ms.
- listing: every page of the `Bulk` model through `GET /records/` with `next_cursor` (limit 100, Nango's
  default, and 1,000), records/s; against reading the same pages in-process from the same SQLite file
  (`SqliteStore.list`, which parses each record). Target: 20,000 records/s or more at limit 100.

    python bench/serve.py [--records N] [--actions N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from harness.pipeline import RunRequest, execute
from harness.project import load_project
from harness.records.sqlite import SqliteStore

REPO = Path(__file__).resolve().parents[1]
KEY = "sk-bench"
INPUT = {"title": "Found a bug", "body": "It breaks on Tuesdays.", "labels": ["bug"]}
BULK = '''
from pydantic import BaseModel

from harness import SyncContext, sync


class Bulk(BaseModel):
    id: str
    title: str
    state: str
    updated_at: str


@sync(models=[Bulk], frequency="every day", auto_start=False)
async def bulk(nango: SyncContext) -> None:
    n = (await nango.get_metadata() or {}).get("records", 100000)
    for start in range(0, n, 1000):
        await nango.batch_save([{"id": str(i), "title": f"Issue number {i}", "state": "open",
                                 "updated_at": "2026-01-01T10:00:00Z"} for i in range(start, min(n, start + 1000))],
                               Bulk)
'''
CASSETTE = """harness:
  format: 1
  function: bulk
  integration: github
  type: sync
  scenario: default
  recorded_at: '2026-11-27T09:00:00Z'
  metadata: {records: %d}
  connection: {connection_id: demo, provider: github, integration: github, base_url: 'https://api.github.com',
               credentials: {type: OAUTH2, access_token: '<scrubbed:access_token>'}, connection_config: {}}
interactions: []
version: 1
"""


def project(root: Path, records: int) -> Path:
    for folder in ("functions", "cassettes", "fixtures"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text('[tool.harness]\nfunctions = "functions"\n')
    (root / "functions/github/syncs/bulk.py").write_text(BULK)
    (root / "cassettes/github/bulk").mkdir(parents=True)
    (root / "cassettes/github/bulk/default.yaml").write_text(CASSETTE % records)
    return root


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def in_process_actions(root: Path, n: int) -> list[float]:
    proj = load_project(root)
    times = []
    for i in range(n + 5):
        t = time.perf_counter()
        outcome = execute(RunRequest(function="create-issue", connection_id="demo", mode="replay", input=INPUT,
                                     project=proj))
        if i >= 5:
            times.append((time.perf_counter() - t) * 1000)
        assert outcome.result.ok
    return times


def served_actions(client: httpx.Client, n: int) -> list[float]:
    times = []
    headers = {"Connection-Id": "demo", "Provider-Config-Key": "github"}
    for i in range(n + 5):
        t = time.perf_counter()
        response = client.post("/action/trigger", json={"action_name": "create-issue", "input": INPUT},
                               headers=headers)
        if i >= 5:
            times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, response.text
    return times


def served_listing(client: httpx.Client, limit: int) -> tuple[int, float]:
    headers = {"Connection-Id": "demo", "Provider-Config-Key": "github"}
    count, cursor = 0, None
    t = time.perf_counter()
    while True:
        params: dict[str, Any] = {"model": "Bulk", "limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/records/", params=params, headers=headers).json()
        count += len(page["records"])
        cursor = page["next_cursor"]
        if cursor is None:
            return count, time.perf_counter() - t


def in_process_listing(store_path: Path, limit: int) -> tuple[int, float]:
    store = SqliteStore(store_path, "demo", "github", time.time)
    count, cursor = 0, None
    t = time.perf_counter()
    try:
        while True:
            rows, cursor = store.list("Bulk", cursor=cursor, limit=limit)
            count += len(rows)
            if cursor is None:
                return count, time.perf_counter() - t
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--actions", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    console = Console(stderr=args.json)
    tmp = Path(tempfile.mkdtemp(prefix="harness-bench-serve-"))
    root = project(tmp / "p", args.records)
    store = tmp / "serve.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "harness", "serve", "--port", "0", "--secret-key", KEY,
                             "--no-schedule", "--store", str(store)], cwd=root, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stderr is not None
        ready = re.search(r"(http://127\.0\.0\.1:\d+)", proc.stderr.readline())
        assert ready, "harness serve did not start"
        client = httpx.Client(base_url=ready.group(1), headers={"Authorization": f"Bearer {KEY}"}, timeout=120)
        served = served_actions(client, args.actions)
        local = in_process_actions(root, args.actions)
        t = time.perf_counter()
        client.post("/sync/trigger", json={"syncs": ["bulk"], "provider_config_key": "github",
                                           "connection_id": "demo"})
        while client.get("/sync/status", params={"syncs": "bulk", "provider_config_key": "github",
                                                 "connection_id": "demo"}).json()["syncs"][0].get(
                "latestExecutionStatus") != "SUCCESS":
            time.sleep(0.05)
        sync_s = time.perf_counter() - t
        listings = {}
        for limit in (100, 1000):
            n, s = served_listing(client, limit)
            m, ls = in_process_listing(store, limit)
            assert n == m == args.records, (n, m)
            listings[limit] = {"served_s": s, "served_per_s": n / s, "in_process_s": ls, "in_process_per_s": m / ls}
        client.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        shutil.rmtree(tmp, ignore_errors=True)

    figures = {
        "actions": {"served_p50_ms": statistics.median(served), "served_p90_ms": percentile(served, 0.9),
                    "in_process_p50_ms": statistics.median(local), "in_process_p90_ms": percentile(local, 0.9),
                    "calls": args.actions},
        "sync_of_records_s": sync_s, "records": args.records, "listing": listings,
    }
    table = Table(title=f"harness serve against in-process ({args.records:,} records, {args.actions} actions)")
    for col in ("what", "served", "in-process", "served / in-process", "target"):
        table.add_column(col)
    a = figures["actions"]
    table.add_row("action round trip p50", f"{a['served_p50_ms']:.2f} ms", f"{a['in_process_p50_ms']:.2f} ms",
                  f"{a['served_p50_ms'] / a['in_process_p50_ms']:.2f}x", "< 20 ms")
    table.add_row("action round trip p90", f"{a['served_p90_ms']:.2f} ms", f"{a['in_process_p90_ms']:.2f} ms",
                  f"{a['served_p90_ms'] / a['in_process_p90_ms']:.2f}x", "")
    for limit, fig in listings.items():
        table.add_row(f"list every page, limit {limit}", f"{fig['served_per_s']:,.0f} records/s",
                      f"{fig['in_process_per_s']:,.0f} records/s",
                      f"{fig['in_process_per_s'] / fig['served_per_s']:.2f}x slower" if fig['served_per_s'] <
                      fig['in_process_per_s'] else f"{fig['served_per_s'] / fig['in_process_per_s']:.2f}x faster",
                      ">= 20,000 records/s" if limit == 100 else "")
    console.print(table)
    console.print(f"sync of {args.records:,} records through the server (trigger to status SUCCESS): {sync_s:.2f} s")
    if args.json:
        sys.stdout.write(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
