"""Loading a large cassette: a 40 MB file of JSON pages, read with harness's loader and with vcrpy's.

Goal (issue 4, issue 15): under a second cold, under half a second warm, on the 2-core machine. Our loader
has libyaml parse the file's bytes and builds the data itself (`harness.cassettes.yaml_build`: the same data
as PyYAML's safe loader, without its per-node machinery), with the garbage collector paused while the
document is built (it otherwise re-walks the growing document), then turns the pretty-printed bodies back
into their exact original bytes. With the project's cache (`.harness/cache`, what a replay passes), the
first load also writes the parse (`harness.cassettes.parsed_cache`) and every later load of the unchanged
file reads that instead of the YAML (a chunk at a time as a replay plays it: the warm figure reads every
interaction).

Beside them, the floors in the same run: reading the file with its UTF-8 check, and libyaml's parse alone
(`yaml.load` with PyYAML's `CSafeLoader`, and with harness's `CassetteLoader`), GC paused as ours is; vcrpy's
persister runs as it does in vcrpy, collector on.
CPU time (user + system of this process) is the measure, the median of `--runs` runs (default 3, the least
also shown): the machine is shared.

    python bench/cassette_load.py [--mb 40] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from harness.cassettes.format import Cassette, Interaction, dump_cassette, load_cassette
from harness.cassettes.yaml_build import CassetteLoader


def build(path: Path, megabytes: float) -> int:
    body = '{"items":[' + ",".join(f'{{"id":{i},"title":"issue {i}","body":"{"x" * 60}"}}' for i in range(40)) + "]}"

    def item(n: int) -> Interaction:
        return Interaction("GET", f"https://api.example.com/items?page={n}", {"Accept": ["*/*"]}, None, 200, "OK",
                           {"content-type": ["application/json"]}, body)

    one = len(dump_cassette(Cassette([item(0)], {})).encode())
    count = int(megabytes * 1_010_000) // one + 1  # a little over, so the file is at least that size
    path.write_text(dump_cassette(Cassette([item(n) for n in range(count)], {})))
    return count


def timed(runs: int, fn: Any, before: Any = None, *, pause_gc: bool = False) -> list[float]:
    """CPU seconds of each of `runs` calls of `fn`, from a collected heap (`pause_gc`: with the collector
    paused, as load_cassette pauses it; for the floors)."""
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        gc.collect()
        if pause_gc:
            gc.disable()
        try:
            started = time.process_time()
            fn()
            times.append(time.process_time() - started)
        finally:
            gc.enable()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.yaml"
        count = build(path, args.mb)
        size = path.stat().st_size / 1e6
        cache = Path(tmp) / "cache"
        raw = path.read_bytes()
        rows["floor: read the file, check it is UTF-8"] = timed(args.runs, lambda: path.read_bytes().decode())
        rows["floor: libyaml parse, PyYAML's CSafeLoader"] = timed(
            args.runs, lambda: yaml.load(raw, Loader=yaml.CSafeLoader), pause_gc=True)
        rows["libyaml parse, harness's CassetteLoader"] = timed(
            args.runs, lambda: yaml.load(raw, Loader=CassetteLoader), pause_gc=True)
        rows["harness, no cache"] = timed(args.runs, lambda: load_cassette(path))
        rows["harness, cold: parse and write the cache"] = timed(
            args.runs, lambda: load_cassette(path, cache), before=lambda: shutil.rmtree(cache, ignore_errors=True))
        # A cache hit reads its interactions a chunk at a time as a replay plays them: the warm figure reads
        # every one of them, as a whole replay does, or it would time little more than hashing the file.
        rows["harness, warm: from the cache"] = timed(args.runs, lambda: list(load_cassette(path, cache).interactions))
        from vcr.persisters.filesystem import FilesystemPersister
        from vcr.serializers import yamlserializer

        rows["vcrpy (1 run)"] = timed(1, lambda: FilesystemPersister.load_cassette(str(path), yamlserializer))
    median = {k: statistics.median(v) for k, v in rows.items()}
    no_cache, cold, warm = (median[f"harness, {k}"] for k in ("no cache", "cold: parse and write the cache",
                                                              "warm: from the cache"))
    out = {"interactions": count, "file_mb": round(size, 1), "runs": args.runs,
           "cpu_s_median": {k: round(v, 3) for k, v in median.items()},
           "cpu_s_least": {k: round(min(v), 3) for k, v in rows.items()},
           "targets_s": {"cold": 1.0, "warm": 0.5}, "met": no_cache < 1.0 and cold < 1.0 and warm < 0.5,
           "cpus": os.cpu_count()}
    if args.json:
        print(json.dumps(out, indent=2))
        return
    table = Table(title=f"loading a {size:.1f} MB cassette ({count:,} interactions), CPU seconds")
    for col in ("what", f"median of {args.runs}", "least"):
        table.add_column(col, justify="left" if col == "what" else "right")
    for name, values in rows.items():
        table.add_row(name, f"{statistics.median(values):.3f}", f"{min(values):.3f}")
    console = Console()
    console.print(table)
    console.print(f"targets: no cache and cold under 1 s, warm under 0.5 s -> {'met' if out['met'] else 'MISSED'}; "
                  f"cpus: {os.cpu_count()}")


if __name__ == "__main__":
    main()
