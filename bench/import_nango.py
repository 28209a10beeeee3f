"""`harness import-nango` on a whole generated catalog: ~6,000 recordings in one command.

The catalog mimics Nango's template repository: `--integrations` folders (default 1,000) with
`tests/<function>.test.json` files (default 5 each) and a legacy `mocks/` folder with one more function,
symlinked alias integrations, and a `paginate/` folder. Every recording has 3 API entries with realistic
headers (`Set-Cookie` with attributes, `Link`, rate-limit headers) and ~2 KB JSON bodies, some with data
fields named `key`, `token`, `password`. The command runs as a user runs it (a subprocess); the target
(issue 11) is under 2 minutes for the catalog, with every recording scrubbed on its own.

    python bench/import_nango.py [--integrations 1000] [--functions 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console


def entry(n: int, integration: str) -> dict[str, Any]:
    rows = [{"id": f"{n}-{i}", "key": f"PRJ-{i}", "name": f"Row {i} of {integration}", "token": None,
             "description": "lorem ipsum " * 8} for i in range(12)]
    return {"request": {"params": {"limit": 100, "cursor": f"c{n}"}, "headers": {"Accept": "application/json"}},
            "response": {"data": rows, "next": f"c{n + 1}"}, "status": 200,
            "headers": {"set-cookie": [f"sid=s{n:08d}abcdef; Path=/; Domain=.{integration}.com; Secure; HttpOnly",
                                       "theme=light; Max-Age=3600"],
                        "link": f'<https://api.{integration}.com/v1/rows?cursor=c{n + 1}>; rel="next"',
                        "x-ratelimit-remaining": "99"}}


def write_catalog(root: Path, integrations: int, functions: int) -> int:
    count = 0
    for i in range(integrations):
        name = f"prov{i:04d}"
        tests = root / name / "tests"
        tests.mkdir(parents=True)
        for f in range(functions):
            api = {"get": {f"/v1/rows{f}": [entry(n, name) for n in range(3)]}}
            data = {"input": {"key": "PRJ", "password": "data-not-a-secret"}, "output": {"ok": True}, "api": api}
            (tests / f"fetch-{f}.test.json").write_text(json.dumps(data))
            count += 1
        legacy = root / name / "mocks"
        (legacy / "nango/get/proxy/v1/items/sync-items").mkdir(parents=True)
        ident = {"method": "get", "endpoint": "v1/items", "params": [], "headers": []}
        (legacy / "nango/get/proxy/v1/items/sync-items" / f"{'a' * 40}.json").write_text(json.dumps(
            {"method": "get", "endpoint": "v1/items", "requestIdentity": ident, "response": entry(0, name)["response"],
             "status": 200, "headers": entry(0, name)["headers"]}))
        (legacy / "sync-items/Item").mkdir(parents=True)
        (legacy / "sync-items/Item/batchSave.json").write_text(json.dumps([{"id": "1"}]))
        (legacy / "paginate").mkdir()
        count += 1
        if i % 50 == 0:
            (root / f"{name}-alias").symlink_to(root / name)
    return count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--integrations", type=int, default=1000)
    parser.add_argument("--functions", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    console = Console(stderr=args.json)
    harness = str(Path(sys.executable).with_name("harness"))
    with tempfile.TemporaryDirectory() as tmp:
        catalog, out = Path(tmp) / "catalog", Path(tmp) / "out"
        recordings = write_catalog(catalog, args.integrations, args.functions)
        started = time.perf_counter()
        proc = subprocess.run([harness, "import-nango", str(catalog), "--out", str(out)], capture_output=True,
                              text=True, check=False, env={**os.environ, "CI": ""})
        elapsed = time.perf_counter() - started
        written = sum(1 for _ in out.rglob("nango.yaml"))
        summary = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
    doc = {"recordings": recordings, "written": written, "seconds": elapsed, "ms_per_recording":
           elapsed * 1000 / max(recordings, 1), "exit_code": proc.returncode, "summary": summary, "target_s": 120}
    console.print(f"import-nango: {recordings} recordings -> {written} cassettes in {elapsed:.1f} s "
                  f"({doc['ms_per_recording']:.1f} ms each), exit {proc.returncode}; {summary}")
    met = elapsed < 120 and written == recordings
    console.print(f"target (whole catalog under 120 s): {'met' if met else 'NOT met'}")
    if args.json:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
