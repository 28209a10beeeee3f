"""Start-up benchmark: how long `harness --help` takes as a fresh process.

What it measures
    The CPU time (user + system, from the child's own rusage: the machine is shared, wall time is noise) of
    running `harness --help` as a subprocess (the console script installed next to the interpreter, or
    `python -c "from harness.cli import main; main()" --help` when there is none), and side by side two
    baselines run the same way:
      - `python -c pass`          : the interpreter's own start-up (the floor; nothing can be faster);
      - `python -c "import click"`: start-up plus the one library the CLI needs at start-up.
    Each command is run 2 times to warm the OS caches and .pyc files, then 15 times, interleaved (one run of
    each command per round) so that a slow spell of the machine hits all of them alike; bytecode is written
    as a user's interpreter writes it (`PYTHONDONTWRITEBYTECODE` is dropped for the children).
    It then runs `python -X importtime -m harness --help` 3 times and lists the 5 modules with the largest
    cumulative import time (median of the 3 runs), to help find an import that made start-up slow. (`--help`
    lists every command, so it imports every command's module; `harness dryrun` imports only its own: see
    `bench/pytest_startup.py`.)

How to read the output
    The first table gives min / median / max in milliseconds per command, and the ratio of each median to
    the `python -c pass` median. The target is a `harness --help` median under 0.3 s; the line under the
    table says whether it is met. "over python" is the harness median minus the baseline median: the time
    that is harness's (and click's) own. In the import table "cumulative" includes the module's own imports,
    "self" does not; nesting is shown by indentation, as `-X importtime` prints it (`site` is interpreter
    start-up, including the editable-install finder).

    `--json` writes one JSON document with the same figures to stdout (the tables then go to stderr).
    `--runs N` changes the number of measured runs. The exit status is always 0: this is a measurement, not a
    test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 0.3
WARMUPS = 2
DEFAULT_RUNS = 15
IMPORTTIME_RUNS = 3
TOP_IMPORTS = 5


@dataclass
class Command:
    label: str
    argv: list[str]


@dataclass
class Timing:
    label: str
    argv: list[str]
    samples: list[float]

    @property
    def minimum(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def maximum(self) -> float:
        return max(self.samples)


@dataclass
class ImportTime:
    module: str
    depth: int
    self_us: float
    cumulative_us: float


def harness_command() -> Command:
    script = Path(sys.executable).parent / "harness"
    if script.is_file() and os.access(script, os.X_OK):
        return Command("harness --help", [str(script), "--help"])
    return Command("harness --help (via python -c)",
                   [sys.executable, "-c", "from harness.cli import main; main()", "--help"])


def commands() -> list[Command]:
    return [
        harness_command(),
        Command("python -c pass", [sys.executable, "-c", "pass"]),
        Command("python -c 'import click'", [sys.executable, "-c", "import click"]),
    ]


def _env() -> dict[str, str]:
    # Bytecode is written as a user's interpreter writes it (the warm-ups then leave it in place).
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_once(argv: list[str]) -> float:
    """CPU seconds (user + system) of one run of `argv`, from its own rusage (`wait4`)."""
    proc = subprocess.Popen(argv, cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if proc.returncode != 0:
        detail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["(no output)"]
        print(f"warning: {' '.join(argv)} exited with {proc.returncode}: {detail[0]}", file=sys.stderr)
    return usage.ru_utime + usage.ru_stime


def measure(cmds: list[Command], runs: int) -> list[Timing]:
    for _ in range(WARMUPS):
        for cmd in cmds:
            run_once(cmd.argv)
    samples: list[list[float]] = [[] for _ in cmds]
    for _ in range(runs):
        for n, cmd in enumerate(cmds):
            samples[n].append(run_once(cmd.argv))
    return [Timing(cmd.label, cmd.argv, s) for cmd, s in zip(cmds, samples, strict=True)]


def parse_importtime(stderr: str) -> list[ImportTime]:
    """Parse `-X importtime` lines: `import time: <self us> | <cumulative us> | <indent><module>`."""
    out: list[ImportTime] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:"):].split("|")
        if len(parts) != 3:
            continue
        try:
            self_us, cumulative_us = float(parts[0]), float(parts[1])
        except ValueError:  # the header line: "self [us] | cumulative | imported package"
            continue
        name = parts[2].rstrip()
        stripped = name.lstrip(" ")
        out.append(ImportTime(stripped.strip(), (len(name) - len(stripped) - 1) // 2, self_us, cumulative_us))
    return out


def slowest_imports(top: int) -> list[ImportTime]:
    runs: list[dict[str, ImportTime]] = []
    for _ in range(IMPORTTIME_RUNS):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "harness", "--help"], cwd=ROOT,
                              env=_env(), capture_output=True, text=True, check=False)
        runs.append({item.module: item for item in parse_importtime(proc.stderr)})
    modules = set.intersection(*(set(r) for r in runs)) if runs else set()
    merged = [ImportTime(m, runs[0][m].depth, statistics.median(r[m].self_us for r in runs),
                         statistics.median(r[m].cumulative_us for r in runs)) for m in modules]
    merged.sort(key=lambda item: item.cumulative_us, reverse=True)
    return merged[:top]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def render(console: Console, timings: list[Timing], imports: list[ImportTime], runs: int) -> None:
    base = timings[1].median
    table = Table(title=f"Start-up CPU time ({runs} runs after {WARMUPS} warm-ups, interleaved)")
    table.add_column("command")
    for name in ("min ms", "median ms", "max ms", "median / python"):
        table.add_column(name, justify="right")
    for t in timings:
        table.add_row(t.label, ms(t.minimum), ms(t.median), ms(t.maximum), f"{t.median / base:.2f}x")
    console.print(table)
    ours = timings[0]
    verdict = "[green]met[/green]" if ours.median < TARGET_SECONDS else "[red]NOT met[/red]"
    console.print(f"target: harness --help median < {TARGET_SECONDS * 1000:.0f} ms -> {verdict} "
                  f"({ms(ours.median)} ms; {ms(ours.median - base)} ms over `python -c pass`, "
                  f"{ms(ours.median - timings[2].median)} ms over `import click`)")
    itable = Table(title="Slowest imports of `harness --help` (cumulative)")
    itable.add_column("module")
    itable.add_column("cumulative ms", justify="right")
    itable.add_column("self ms", justify="right")
    for item in imports:
        itable.add_row("  " * item.depth + item.module, f"{item.cumulative_us / 1000:.1f}",
                       f"{item.self_us / 1000:.1f}")
    console.print(itable)
    console.print(f"from `python -X importtime -m harness --help`, median of {IMPORTTIME_RUNS} runs; "
                  "indentation is import nesting.")
    console.print(f"python: {sys.executable} ({sys.version.split()[0]}), cpus: {os.cpu_count()}")


def to_json(timings: list[Timing], imports: list[ImportTime], runs: int) -> dict[str, Any]:
    base = timings[1].median
    return {
        "benchmark": "startup",
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "cpus": os.cpu_count(),
        "runs": runs,
        "warmups": WARMUPS,
        "target_median_seconds": TARGET_SECONDS,
        "target_met": timings[0].median < TARGET_SECONDS,
        "commands": [
            {"label": t.label, "argv": t.argv, "min_seconds": t.minimum, "median_seconds": t.median,
             "max_seconds": t.maximum, "ratio_to_python": t.median / base, "samples_seconds": t.samples}
            for t in timings
        ],
        "slowest_imports": [
            {"module": i.module, "depth": i.depth, "cumulative_us": i.cumulative_us, "self_us": i.self_us}
            for i in imports
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="write one JSON document to stdout (tables to stderr)")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help=f"measured runs (default {DEFAULT_RUNS})")
    args = parser.parse_args()
    runs = max(1, int(args.runs))
    console = Console(stderr=bool(args.json))
    if not console.is_terminal:
        console.width = 120  # piped or captured: keep the tables on one line each
    try:
        timings = measure(commands(), runs)
        imports = slowest_imports(TOP_IMPORTS)
        render(console, timings, imports, runs)
        if args.json:
            print(json.dumps(to_json(timings, imports, runs), indent=2))
    except Exception as exc:  # a measurement never fails the caller; say what went wrong instead
        print(f"startup benchmark could not finish: {type(exc).__name__}: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
