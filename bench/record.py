"""Recording cost against the live run it records: 2,000 pages from a local fake provider.

The provider (a real HTTP server on 127.0.0.1) answers `/items?page=N` with 10 items, a `Link` to the next
page carrying a fresh server-issued `signature=` and a fresh `Set-Cookie` session on every page (what
CDNs and signed-pagination APIs send): every page teaches the scrubber new secrets, the case where
re-scanning every learned value made recording quadratic. A sync pages through it with Nango-style link
pagination and saves every item.

Both runs go through the pipeline as `harness dryrun` does (`--live`, then `--record`), best of `--runs`,
interleaved. The target (issue 11): recording costs at most 1.5x the live run. The ratio is printed, with
the cassette's size and how many secrets were learned.

    python bench/record.py [--pages 2000] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from harness.pipeline import RunRequest, execute
from harness.project import load_project
from tests.fakes.server_base import FakeServer, Reply, Seen

SYNC = '''
from pydantic import BaseModel, ConfigDict
from harness import sync

class Item(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str

@sync(models=[Item])
async def items(nango):
    async for page in nango.paginate("/items", paginate={"type": "link", "link_rel_in_response_header": "next",
                                                        "response_path": "items"}):
        await nango.batch_save(page, Item)
'''
PYPROJECT = """\
[tool.harness]
functions = "functions"
cassettes = "cassettes"
[tool.harness.providers.bench]
base_url = "${connectionConfig.base}"
"""
CONNECTIONS = """
connections:
  c1:
    provider: bench
    integration: bench
    connection_config: {base: "%s"}
    credentials: {type: API_KEY, apiKey: "bench-api-key-123456"}
"""


class Pages(FakeServer):
    def __init__(self, pages: int) -> None:
        self.pages = pages
        self.counter = itertools.count()
        super().__init__(self.handle)

    def handle(self, req: Seen) -> Reply:
        page = int(req.q("page") or 1)
        n = next(self.counter)
        items = [{"id": f"{page}-{i}", "title": f"Item {i} of page {page}", "state": "open",
                  "body": "x" * 80, "updated_at": "2026-01-05T10:00:00Z"} for i in range(10)]
        headers = {"set-cookie": f"__cf_bm=sess{n:06d}a1b2c3d4e5; path=/; expires=Wed, 21 Oct 2026 07:28:00 GMT; "
                                 "domain=127.0.0.1; HttpOnly; Secure; SameSite=None"}
        if page < self.pages:
            headers["link"] = f'<{self.base_url}/items?page={page + 1}&signature=sig{n:06d}f9e8d7c6>; rel="next"'
        return Reply(200, {"items": items}, headers)


def measure(root: Path, mode: str, scenario: str) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process, server threads included, records saved)."""
    project = load_project(root)
    started, cpu = time.perf_counter(), time.process_time()
    outcome = execute(RunRequest("items", "c1", mode=mode, scenario=scenario, project=project))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    result = outcome.result
    assert result.ok, result.error
    return elapsed, cpu, len(result.records("Item"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    console = Console(stderr=args.json)
    with tempfile.TemporaryDirectory() as tmp, Pages(args.pages) as server:
        root = Path(tmp)
        (root / "functions/bench/syncs").mkdir(parents=True)
        (root / "functions/bench/syncs/items.py").write_text(textwrap.dedent(SYNC))
        (root / "fixtures").mkdir()
        (root / "fixtures/connections.yaml").write_text(CONNECTIONS % server.base_url)
        (root / "pyproject.toml").write_text(PYPROJECT)
        live: list[tuple[float, float]] = []
        record: list[tuple[float, float]] = []
        measure(root, "live", "warm")  # imports, first connections
        for n in range(args.runs):
            wall, cpu, _ = measure(root, "live", "x")
            live.append((wall, cpu))
            wall, cpu, records = measure(root, "record", f"r{n}")
            record.append((wall, cpu))
        cassette = root / "cassettes/bench/items/r0.yaml"
        size = cassette.stat().st_size
        text = cassette.read_text()
    live_wall, live_cpu = min(w for w, _ in live), min(c for _, c in live)
    rec_wall, rec_cpu = min(w for w, _ in record), min(c for _, c in record)
    doc: dict[str, Any] = {"pages": args.pages, "records": records, "live_s": live_wall, "record_s": rec_wall,
                           "ratio": rec_wall / live_wall, "live_cpu_s": live_cpu, "record_cpu_s": rec_cpu,
                           "cpu_ratio": rec_cpu / live_cpu, "cassette_bytes": size,
                           "placeholders": text.count("<scrubbed") + text.count("%3Cscrubbed"),
                           "raw_session_left": text.count("a1b2c3d4e5"), "target_ratio": 1.5}
    table = Table(title=f"recording {args.pages} pages (best of {args.runs})", title_justify="left")
    for col in ("run", "wall s", "vs live", "CPU s", "vs live "):
        table.add_column(col, justify="right" if col != "run" else "left")
    table.add_row("live", f"{live_wall:.2f}", "1.00x", f"{live_cpu:.2f}", "1.00x")
    table.add_row("record (scrub + cassette)", f"{rec_wall:.2f}", f"{doc['ratio']:.2f}x", f"{rec_cpu:.2f}",
                  f"{doc['cpu_ratio']:.2f}x")
    console.print(table)
    # CPU time is what the machine spent (the fake server's threads included); wall time also counts
    # other processes of a shared machine.
    verdict = "met" if doc["cpu_ratio"] <= 1.5 else "NOT met"
    console.print(f"target (record CPU <= 1.5x live): {verdict}; cassette {size / 1e6:.1f} MB, "
                  f"{doc['placeholders']} placeholders, {doc['raw_session_left']} raw session values left")
    if args.json:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
