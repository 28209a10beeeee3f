"""Loading a large cassette: a 40 MB file of JSON pages, read with harness's loader and with vcrpy's.

Goal (issue 4, issue 15): under a second cold, under half a second warm, on the 2-core machine. Our loader
uses libyaml's C loader with the garbage collector paused while the document is built (it otherwise re-walks
the growing document), then turns the pretty-printed bodies back into their exact original bytes. With the
project's cache (`.harness/cache`, what a replay passes), the first load also writes the parse
(`harness.cassettes.parsed_cache`) and every later load of the unchanged file reads that instead of the YAML.
CPU time (user + system of this process) is the measure: the machine is shared.

    python bench/cassette_load.py [--mb 40] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.cassettes.format import Cassette, Interaction, dump_cassette, load_cassette


def build(path: Path, megabytes: float) -> int:
    body = '{"items":[' + ",".join(f'{{"id":{i},"title":"issue {i}","body":"{"x" * 60}"}}' for i in range(40)) + "]}"

    def item(n: int) -> Interaction:
        return Interaction("GET", f"https://api.example.com/items?page={n}", {"Accept": ["*/*"]}, None, 200, "OK",
                           {"content-type": ["application/json"]}, body)

    one = len(dump_cassette(Cassette([item(0)], {})).encode())
    count = int(megabytes * 1_010_000) // one + 1  # a little over, so the file is at least that size
    path.write_text(dump_cassette(Cassette([item(n) for n in range(count)], {})))
    return count


def best_of(runs: int, fn: Any, before: Any = None) -> float:
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        started = time.process_time()
        fn()
        times.append(time.process_time() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.yaml"
        count = build(path, args.mb)
        size = path.stat().st_size / 1e6
        cache = Path(tmp) / "cache"
        ours = best_of(3, lambda: load_cassette(path))
        cold = best_of(3, lambda: load_cassette(path, cache), before=lambda: shutil.rmtree(cache, ignore_errors=True))
        warm = best_of(3, lambda: load_cassette(path, cache))
        from vcr.persisters.filesystem import FilesystemPersister
        from vcr.serializers import yamlserializer

        theirs = best_of(1, lambda: FilesystemPersister.load_cassette(str(path), yamlserializer))
    out = {"interactions": count, "file_mb": round(size, 1), "harness_s": round(ours, 3),
           "harness_cold_cache_s": round(cold, 3), "harness_warm_cache_s": round(warm, 3),
           "vcrpy_s": round(theirs, 3), "targets_s": {"cold": 1.0, "warm": 0.5},
           "met": ours < 1.0 and cold < 1.0 and warm < 0.5}
    if args.json:
        print(json.dumps(out, indent=2))
        return
    table = Table(title=f"loading a {size:.1f} MB cassette ({count:,} interactions)")
    for col in ("loader", "CPU seconds"):
        table.add_column(col)
    table.add_row("harness, no cache (best of 3)", f"{ours:.2f}")
    table.add_row("harness, cold: parse and write the cache (best of 3)", f"{cold:.2f}")
    table.add_row("harness, warm: from the cache (best of 3)", f"{warm:.3f}")
    table.add_row("vcrpy (1 run)", f"{theirs:.2f}")
    console = Console()
    console.print(table)
    console.print(f"targets: cold under 1 s, warm under 0.5 s -> {'met' if out['met'] else 'MISSED'}")


if __name__ == "__main__":
    main()
