"""The headline (SPEC §15), measured honestly: a cold process running a 10,000-page, 500,000-record scenario
the way a user does, against a cold process doing only its irreducible work on the same files.

A synthetic project is built in a temporary folder: a sync written as the README teaches (it pages through
`/items?page=N` with link pagination and saves pydantic model instances, 50 a page) and its cassette, written
by harness's own cassette writer (bodies pretty-printed for review, as every recording is). Its snapshot is
written once (`pytest --snapshot-update`, not timed). Then, interleaved, `--runs` rounds (default 3) of:

  pytest        `python -m pytest -q -p no:cacheprovider --harness-scenario big` in the project (a scenario
                item: load the cassette, replay, validate and store every record, compare the snapshot)
  mismatch      the same with one record's `name` changed in the stored snapshot (a failing test: exit 1)
  reformatted   the same with the stored snapshot re-indented (4 spaces; the test passes)
  dryrun        `harness dryrun items c1 --replay --scenario big` (the CLI's replay, no snapshot)
  floor         `bench/headline_floor.py`: libyaml's C parse of the cassette, httpx's own per-request cost
                (MockTransport), decoding the bodies, validating every record into the model, one C `json`
                encode of the records sorted by id (see that file)
  floor+parse   the floor plus parsing the stored snapshot (the irreducible part of a reformatted or
                mismatching compare); mismatch and reformatted are divided by this one
  floor, cached the floor with the cassette's parse read from a marshal of its plain data (what harness's
                parsed-cassette cache makes of the YAML parse: the floor once the parse is cached), and
                the same +parse

Each is a child process; its CPU time (user + system) and peak RSS come from `os.wait4`, so both are the
child's own. CPU time is the measure because the machine is shared (wall time is printed too). Medians of
the rounds; every figure is measured in this run.

The children run in a user's environment: a new virtual environment (in the bench's temporary folder) with
this repository installed from source, not editable, and pytest, and nothing else (`pip install . pytest`,
about 10 s from pip's cache), as `pip install integration-harness` gives a user. A development environment
holds plugins and packages a user's does not (selenium's trio, which anyio's pytest plugin then imports,
xdist, hypothesis: about 0.2 s of every pytest start-up) and an editable install's import hook.
`--python PATH` runs the children with that interpreter instead (`--python current` for this one).

The scale curve (`--scale`, default `1000,10000`; `--scale full` adds 100,000 pages, 5,000,000 records,
long) runs the pytest item at each size and prints the CPU cost per page and per record: raw, and marginal
(over the same project with one page, which is interpreter and pytest start-up). Flat means the marginal
cost per page varies by at most 15% across sizes. Peak RSS per size shows whether memory is bounded. Each
round runs the one-page project and then the size's, and the marginal cost is the median of the rounds'
differences: the machine's speed drifts over minutes (the one-page project took 0.83-0.97 s in two runs of
the bench an hour apart), and a pair shares its moment. The 1,000-page size gets three times the rounds:
its marginal is a difference of two short runs.

    python bench/headline.py [--pages N] [--runs N] [--scale 1000,10000|full|none] [--python PATH] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.cassettes.format import Cassette, Interaction, write_cassette
from harness.secrets.scrubber import Scrubber

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PY = sys.executable  # the children's interpreter (a user's environment: see `user_environment`)
HARNESS = str(Path(PY).with_name("harness"))
PER_PAGE = 50
BASE = "https://api.example.com"

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
        await nango.batch_save([Item(id=r["id"], name=r["name"], price=r["price"], updated_at=r["updated_at"])
                                for r in page], "Item")
'''
PYPROJECT = '''[tool.harness]
functions = "functions"
cassettes = "cassettes"

[tool.pytest.ini_options]
testpaths = ["cassettes"]
'''


def build(root: Path, pages: int) -> Path:
    """The project; returns its cassette's path."""
    (root / "functions/shop/syncs").mkdir(parents=True)
    (root / "functions/shop/syncs/items.py").write_text(textwrap.dedent(SYNC))
    (root / "pyproject.toml").write_text(PYPROJECT)
    interactions = []
    for page in range(1, pages + 1):
        rows = [{"id": f"{(page - 1) * PER_PAGE + i:08d}", "name": f"Item {page}-{i}", "price": i + 0.5,
                 "updated_at": "2026-01-01T10:00:00Z"} for i in range(PER_PAGE)]
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
    return path


@dataclass
class Child:
    cpu: float
    wall: float
    rss_mb: float
    code: int
    work: float | None = None  # CPU from the first test item's start to the exit (`item_clock.py`)


# Linux starts a forked child's peak RSS at its parent's current RSS, and this process holds the whole
# project it built: so children are started by a small launcher, which reports their `wait4` figures.
LAUNCH = """
import json, os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as fh:
    json.dump({"cpu": usage.ru_utime + usage.ru_stime, "rss_kb": usage.ru_maxrss,
               "code": os.waitstatus_to_exitcode(status)}, fh)
"""


def child(cmd: list[str], cwd: Path, *, clock: bool = False) -> Child:
    """Run one cold child process; its own CPU time and peak RSS (Linux: ru_maxrss in KiB); with `clock`
    (a pytest child), also its CPU time from its first item's start to its exit."""
    env = {**os.environ, "NO_COLOR": "1"}
    if clock:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH", "")) if p)
        cmd = [*cmd, "-p", "item_clock"]
    # A user's interpreter caches bytecode (and pytest its assertion-rewritten modules); the first child
    # (the snapshot update) warms those caches.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("CI", None)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "usage.json"
        if clock:
            env["HARNESS_BENCH_CLOCK"] = str(Path(tmp) / "item-start")
        started = time.perf_counter()
        subprocess.run([PY, "-c", LAUNCH, str(report), *cmd], cwd=cwd, env=env, stdout=out,
                       stderr=subprocess.STDOUT, check=False)
        wall = time.perf_counter() - started
        usage = json.loads(report.read_text())
        if usage["code"] not in (0, 1):
            out.seek(0)
            sys.stderr.write(out.read().decode("utf-8", "replace")[-3000:])
            raise SystemExit(f"{' '.join(cmd)} exited {usage['code']}")
        work = usage["cpu"] - float((Path(tmp) / "item-start").read_text()) if clock else None
    return Child(usage["cpu"], wall, usage["rss_kb"] / 1024, usage["code"], work)


# Plugins of packages in a development environment (`--python current`) that installing integration-harness
# does not bring (hypothesis's costs about 0.25 s of start-up); unknown to a user's environment, where
# `-p no:` of them is a no-op. A user's `pytest` loads harness's, syrupy's, time-machine's and anyio's
# (httpx depends on anyio), which stay.
NOT_INSTALLED_BY_HARNESS = ("xdist", "xdist.looponfail", "hypothesispytest")


def pytest_cmd() -> list[str]:
    off = [arg for name in NOT_INSTALLED_BY_HARNESS for arg in ("-p", f"no:{name}")]
    return [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", *off, "--harness-scenario", "big"]


def median(runs: list[Child]) -> dict[str, float]:
    return {"cpu_s": round(statistics.median(r.cpu for r in runs), 2),
            "wall_s": round(statistics.median(r.wall for r in runs), 2),
            "rss_mb": round(statistics.median(r.rss_mb for r in runs), 0)}


def headline(pages: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        cassette = build(root, pages)
        build_s = time.perf_counter() - started
        update = child([*pytest_cmd(), "--snapshot-update"], root)
        assert update.code == 0, "writing the snapshot failed"
        snap = cassette.with_name("big.snapshot.json")
        good = snap.read_text(encoding="utf-8")
        doc = json.loads(good)
        # One record changed: the failing test a user waits for.
        mismatching = good.replace('"Item 1-1"', '"Item 1-1 changed"', 1)
        assert mismatching != good, "the bench's record is not in the snapshot"
        reformatted = json.dumps(doc, indent=4, ensure_ascii=False) + "\n"
        floor_snapshot = root / "floor.json"
        names = ("pytest", "mismatch", "reformatted", "dryrun", "floor", "floor+parse", "floor, cached",
                 "floor, cached+parse")
        variants: dict[str, list[Child]] = {k: [] for k in names}
        floor_cache = root / "floor-cache.marshal"
        floor_base = [PY, str(HERE / "headline_floor.py"), str(cassette), str(floor_snapshot)]
        floor_snapshot.write_text(good, encoding="utf-8")
        assert child([*floor_base, "--write-cache", str(floor_cache)], root).code == 0
        for _ in range(runs):
            snap.write_text(good, encoding="utf-8")
            variants["pytest"].append(child(pytest_cmd(), root))
            assert variants["pytest"][-1].code == 0, "the matching scenario test failed"
            snap.write_text(mismatching, encoding="utf-8")
            variants["mismatch"].append(child(pytest_cmd(), root))
            assert variants["mismatch"][-1].code == 1, "the mismatching snapshot passed"
            snap.write_text(reformatted, encoding="utf-8")
            variants["reformatted"].append(child(pytest_cmd(), root))
            assert variants["reformatted"][-1].code == 0, "the reformatted snapshot failed"
            snap.write_text(good, encoding="utf-8")
            variants["dryrun"].append(child([HARNESS, "dryrun", "items", "c1", "--replay", "--scenario", "big"],
                                            root))
            assert variants["dryrun"][-1].code == 0, "the dryrun failed"
            variants["floor"].append(child(floor_base, root))
            variants["floor+parse"].append(child([*floor_base, "--parse-stored"], root))
            cached = [*floor_base, "--cache", str(floor_cache)]
            variants["floor, cached"].append(child(cached, root))
            variants["floor, cached+parse"].append(child([*cached, "--parse-stored"], root))
        size_mb = cassette.stat().st_size / 1e6
        snap_mb = len(good.encode()) / 1e6
    med = {k: median(v) for k, v in variants.items()}
    ratios: dict[str, float] = {}
    for floor, suffix in (("floor", ""), ("floor, cached", ", cached")):
        plain, parse = med[floor]["cpu_s"], med[f"{floor}+parse" if not suffix else "floor, cached+parse"]["cpu_s"]
        ratios.update({f"pytest{suffix}": med["pytest"]["cpu_s"] / plain,
                       f"dryrun{suffix}": med["dryrun"]["cpu_s"] / plain,
                       f"mismatch{suffix}": med["mismatch"]["cpu_s"] / parse,
                       f"reformatted{suffix}": med["reformatted"]["cpu_s"] / parse})
    return {"pages": pages, "records": pages * PER_PAGE, "cassette_mb": round(size_mb, 1),
            "snapshot_mb": round(snap_mb, 1), "build_s": round(build_s, 1), "runs": runs, "median": med,
            "all_cpu_s": {k: [round(r.cpu, 2) for r in v] for k, v in variants.items()},
            "ratio_to_floor": {k: round(v, 2) for k, v in ratios.items()},
            "targets": {"within_1.3x_of_floor": ratios["pytest"] <= 1.3, "under_6s_cpu": med["pytest"]["cpu_s"] < 6,
                        "rss_under_300mb": med["pytest"]["rss_mb"] < 300}}


def user_environment(folder: Path) -> Path | None:
    """A new venv with this repository (not editable) and pytest installed; its python, or None when pip
    cannot install them here (no index and nothing in its cache)."""
    venv = folder / "user-venv"
    subprocess.run([PY, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    copy = folder / "source"  # pip builds in the tree it is given: a copy keeps build/ out of the repository
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(".git", ".venv*", "build", "dist", "*.egg-info",
                                                              "__pycache__", ".harness", "node", "docs"))
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(copy),
                           "pytest"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-2000:])
        return None
    return python


def scale_curve(sizes: list[int], runs: int) -> dict[str, Any]:
    """The pytest item at each size, paired with the one-page project: each round runs the one-page project
    and then the size's, and a round's marginal cost is the difference of the two (the machine's state drifts
    between rounds; a pair shares it). The marginal figure is the median of the rounds' differences, of the
    CPU each process spent from its first item's start to its exit (`item_clock.py`); the same of the whole
    processes is printed beside it."""
    rows: list[dict[str, Any]] = []
    ones: list[Child] = []
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one-page"
        one.mkdir()
        build(one, 1)
        assert child([*pytest_cmd(), "--snapshot-update"], one).code == 0
        for pages in sizes:
            with tempfile.TemporaryDirectory() as big_tmp:
                root = Path(big_tmp)
                build(root, pages)
                assert child([*pytest_cmd(), "--snapshot-update"], root).code == 0
                # Short sizes get three times the rounds: their marginal is a difference of two short runs.
                rounds = runs * 3 if pages <= 1_000 else runs
                pairs = [(child(pytest_cmd(), one, clock=True), child(pytest_cmd(), root, clock=True))
                         for _ in range(rounds)]
            ones += [a for a, _ in pairs]
            med = median([b for _, b in pairs])
            marginal = statistics.median((b.work or 0) - (a.work or 0) for a, b in pairs)
            whole = statistics.median(b.cpu - a.cpu for a, b in pairs)
            # The least-disturbed view: each side's least work over the rounds (noise only ever adds).
            least = min(b.work or 0 for _, b in pairs) - min(a.work or 0 for a, _ in pairs)
            extra_mb = statistics.median(b.rss_mb - a.rss_mb for a, b in pairs)
            rows.append({"pages": pages, "records": pages * PER_PAGE, **med,
                         "one_page_cpu_s": round(statistics.median(a.cpu for a, _ in pairs), 2),
                         "us_per_page": round(med["cpu_s"] / pages * 1e6),
                         "us_per_record": round(med["cpu_s"] / pages / PER_PAGE * 1e6, 2),
                         "marginal_us_per_page": round(marginal / pages * 1e6),
                         "marginal_us_per_record": round(marginal / pages / PER_PAGE * 1e6, 2),
                         "process_marginal_us_per_page": round(whole / pages * 1e6),
                         "least_marginal_us_per_page": round(least / pages * 1e6),
                         "rounds_work_s": [[round(a.work or 0, 3), round(b.work or 0, 3)] for a, b in pairs],
                         "marginal_spread_of_rounds": round((max((b.work or 0) - (a.work or 0) for a, b in pairs)
                                                             - min((b.work or 0) - (a.work or 0) for a, b in pairs))
                                                            / marginal, 3) if marginal > 0 else None,
                         # Peak RSS over the one-page project's, per record: what each record costs at the peak.
                         "marginal_bytes_per_record": round(extra_mb * 2**20 / pages / PER_PAGE)})
    costs = [r["marginal_us_per_page"] for r in rows]
    # A size whose runs cost no more than the one-page project's measured nothing: no spread to speak of.
    spread = max(costs) / min(costs) - 1 if costs and min(costs) > 0 else float("inf")
    # Memory: what each record past the second-largest size adds to the peak (flat per record is not
    # bounded; bounded is this near zero).
    growth = None
    if len(rows) >= 2:
        a, b = rows[-2], rows[-1]
        growth = round((b["rss_mb"] - a["rss_mb"]) * 2**20 / (b["records"] - a["records"]))
    leasts = [r["least_marginal_us_per_page"] for r in rows]
    least_spread = max(leasts) / min(leasts) - 1 if leasts and min(leasts) > 0 else float("inf")
    return {"one_page": median(ones), "sizes": rows, "marginal_spread": round(spread, 3),
            "flat_within_15pct": spread <= 0.15, "least_marginal_spread": round(least_spread, 3),
            "least_flat_within_15pct": least_spread <= 0.15, "peak_bytes_per_added_record": growth}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale", default="1000,10000",
                        help="page counts of the scale curve (comma-separated), `full` (adds 100,000) or `none`")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-headline", action="store_true", help="only the scale curve")
    parser.add_argument("--python", help="the children's interpreter (default: a new user's venv; `current`: "
                                         "this one)")
    args = parser.parse_args()
    global PY, HARNESS
    env_dir = tempfile.TemporaryDirectory(prefix="harness-bench-")
    if args.python == "current":
        environment = "this interpreter's environment"
    elif args.python:
        PY, environment = args.python, args.python
    else:
        python = user_environment(Path(env_dir.name))
        if python is None:
            environment = "this interpreter's environment (a user's venv could not be installed here)"
        else:
            PY, environment = str(python), "a new venv with harness (not editable) and pytest"
    HARNESS = str(Path(PY).with_name("harness"))
    named = {"none": [], "full": [1_000, 10_000, 100_000]}
    sizes = named[args.scale] if args.scale in named else [int(s) for s in args.scale.split(",")]
    if max(sizes, default=0) * PER_PAGE * 180 > 250e6:
        # A 100,000-page cassette is 870 MB, over the default cap on a cassette's size (256 MB).
        os.environ.setdefault("HARNESS_CASSETTE_MAX_MB", "2000")
    out: dict[str, Any] = {} if args.no_headline else {"headline": headline(args.pages, args.runs)}
    if sizes:
        out["scale"] = scale_curve(sizes, args.runs)
    out["environment"] = environment
    console = Console(file=sys.stderr if args.json else sys.stdout, width=150)
    console.print(f"children ran in {environment}")
    report(console, out)
    if args.json:
        print(json.dumps(out, indent=2))
    env_dir.cleanup()


def report(console: Console, out: dict[str, Any]) -> None:
    if "headline" in out:
        report_headline(console, out["headline"])
    if "scale" in out:
        report_scale(console, out["scale"])


def report_headline(console: Console, h: dict[str, Any]) -> None:
    table = Table(title=f"cold processes: {h['pages']:,} pages, {h['records']:,} records, cassette "
                        f"{h['cassette_mb']} MB, snapshot {h['snapshot_mb']} MB (medians of {h['runs']})")
    for col in ("run", "CPU s", "wall s", "peak RSS MB", "CPU / floor", "CPU / cached floor"):
        table.add_column(col, justify="left" if col == "run" else "right")
    r = h["ratio_to_floor"]
    for name, m in h["median"].items():
        ratio = f"{r[name]:.2f}x" if name in r else ""
        cached = f"{r[name + ', cached']:.2f}x" if name in r else ""
        table.add_row(name, f"{m['cpu_s']:.2f}", f"{m['wall_s']:.2f}", f"{m['rss_mb']:.0f}", ratio, cached)
    console.print(table)
    t = h["targets"]
    console.print(f"targets: pytest within 1.3x of the floor -> {'met' if t['within_1.3x_of_floor'] else 'MISSED'}; "
                  f"under 6 s CPU -> {'met' if t['under_6s_cpu'] else 'MISSED'}; peak RSS under 300 MB -> "
                  f"{'met' if t['rss_under_300mb'] else 'MISSED'}")
    console.print(f"all CPU s: {h['all_cpu_s']}")


def report_scale(console: Console, s: dict[str, Any]) -> None:
    table = Table(title=f"scale curve: the pytest item (one page: {s['one_page']['cpu_s']:.2f} s CPU, "
                        f"{s['one_page']['rss_mb']:.0f} MB)")
    for col in ("pages", "records", "CPU s", "one page, paired, s", "peak RSS MB", "µs/page", "µs/record",
                "marginal µs/page", "its rounds' spread", "marginal µs/record", "whole-process marginal µs/page",
                "peak bytes/record"):
        table.add_column(col, justify="right")
    for r in s["sizes"]:
        rounds = r["marginal_spread_of_rounds"]
        table.add_row(f"{r['pages']:,}", f"{r['records']:,}", f"{r['cpu_s']:.2f}", f"{r['one_page_cpu_s']:.2f}",
                      f"{r['rss_mb']:.0f}",
                      str(r["us_per_page"]), str(r["us_per_record"]), str(r["marginal_us_per_page"]),
                      f"{rounds:.0%}" if rounds is not None else "", str(r["marginal_us_per_record"]),
                      str(r["process_marginal_us_per_page"]), str(r["marginal_bytes_per_record"]))
    console.print(table)
    console.print(f"marginal cost per page (first item's start to exit) varies by {s['marginal_spread']:.0%} across "
                  f"sizes -> {'flat (within 15%)' if s['flat_within_15pct'] else 'NOT flat'}")
    leasts = ", ".join(f"{r['pages']:,}: {r['least_marginal_us_per_page']}" for r in s["sizes"])
    console.print(f"least over the rounds (µs/page: {leasts}) varies by {s['least_marginal_spread']:.0%} -> "
                  f"{'flat (within 15%)' if s['least_flat_within_15pct'] else 'NOT flat'}")
    if s.get("peak_bytes_per_added_record") is not None:
        console.print(f"peak RSS per record added at the largest size: {s['peak_bytes_per_added_record']} bytes")


if __name__ == "__main__":
    main()
