"""Peak memory of a big live sync (issue 12 point 8): `harness dryrun --live` of a sync that pages through a
local fake provider, `--records` records in all (default 1,000,000, 1,000 a page), in a cold child process.

The provider is a real HTTP server on 127.0.0.1 in this process (`tests/fakes/server_base.FakeServer`); the
sync saves plain dicts validated against a four-field model. Measured for the child (`wait4` through a
small launcher, as in `headline.py`): peak RSS and CPU time, for the plain run, for `--json` (the whole
result printed) and for `--record` (the cassette written too). Target: under 300 MB peak RSS. The peak per
record is printed too, so a run at another size (`--records 200000`) shows whether memory grows with the
records.

    python bench/memory.py [--records N] [--per-page N] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from headline import HARNESS, child
from rich.console import Console
from rich.table import Table

from tests.fakes.server_base import FakeServer, Reply, Seen

SYNC = '''
from pydantic import BaseModel
from harness import sync

class Item(BaseModel):
    id: str
    name: str
    price: float
    updated_at: str

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
    def __init__(self, pages: int, per_page: int) -> None:
        self.pages, self.per_page = pages, per_page
        super().__init__(self.handle)

    def handle(self, req: Seen) -> Reply:
        page = int(req.q("page") or 1)
        items = [{"id": f"{(page - 1) * self.per_page + i:08d}", "name": f"Item {page}-{i}", "price": i + 0.5,
                  "updated_at": "2026-01-05T10:00:00Z"} for i in range(self.per_page)]
        headers = {"link": f'<{self.base_url}/items?page={page + 1}>; rel="next"'} if page < self.pages else {}
        return Reply(200, {"items": items}, headers)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--per-page", type=int, default=1_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    pages = max(1, args.records // args.per_page)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, Pages(pages, args.per_page) as server:
        root = Path(tmp)
        (root / "functions/bench/syncs").mkdir(parents=True)
        (root / "functions/bench/syncs/items.py").write_text(textwrap.dedent(SYNC))
        (root / "fixtures").mkdir()
        (root / "fixtures/connections.yaml").write_text(CONNECTIONS % server.base_url)
        (root / "pyproject.toml").write_text(PYPROJECT)
        for name, extra in (("dryrun --live", ["--live"]), ("dryrun --live --json", ["--live", "--json"]),
                            ("dryrun --record", ["--record"])):
            run = child([HARNESS, "dryrun", "items", "c1", *extra], root)
            assert run.code == 0, f"{name} failed"
            rows.append({"run": name, "cpu_s": round(run.cpu, 2), "rss_mb": round(run.rss_mb),
                         "bytes_per_record": round(run.rss_mb * 1024 * 1024 / (pages * args.per_page))})
    out = {"records": pages * args.per_page, "pages": pages, "runs": rows, "target_mb": 300,
           "met": all(r["rss_mb"] < 300 for r in rows)}
    console = Console(file=sys.stderr if args.json else sys.stdout)
    table = Table(title=f"a live sync of {out['records']:,} records ({pages:,} pages) from a local fake provider")
    for col in ("run", "CPU s", "peak RSS MB", "peak bytes / record"):
        table.add_column(col, justify="left" if col == "run" else "right")
    for r in rows:
        table.add_row(r["run"], f"{r['cpu_s']:.2f}", str(r["rss_mb"]), str(r["bytes_per_record"]))
    console.print(table)
    console.print(f"target: peak RSS under 300 MB -> {'met' if out['met'] else 'MISSED'}")
    if args.json:
        print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
