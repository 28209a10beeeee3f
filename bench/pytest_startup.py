"""What harness costs the processes around it: an unrelated project's pytest run, and a CLI replay.

What it measures (CPU time of each child process, user + system, median of N interleaved rounds, since the
machine is shared and wall time is noise):

  pytest --co -q in a throw-away plain project (one test file, no [tool.harness]), three ways:
    (a) pytest + syrupy only                        PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 -p syrupy
    (b) (a) + anyio's plugin                        what any environment with httpx has (httpx needs anyio)
    (c) (b) + harness's plugin + time-machine's     what installing integration-harness adds
  and the ratios (c)/(a) and (c)/(b). The target is (c) within 1.2x of the same run without harness; since
  httpx brings anyio's plugin with it, (b) is that run for any environment where httpx is installed, and
  (a) is shown for the record.

  harness dryrun issues demo --replay (the bundled example, a cold process) against
  python -c "import httpx, pydantic" (the floor of any run), and whether the replay imported pytest,
  hypothesis or vcrpy (it must import none of them).

    python bench/pytest_startup.py [--runs N] [--json]
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def cpu_of(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    """CPU seconds (user + system) one child process took, from its own rusage (`wait4`: to the microsecond,
    where `os.times()` counts clock ticks of 10 ms)."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if code not in (0, 5):
        raise SystemExit(f"{' '.join(cmd)} failed ({code}): {err.decode()[-500:]}")
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="harness-bench-startup-"))
    plain = work / "plain"
    (plain / "tests").mkdir(parents=True)
    (plain / "tests/test_a.py").write_text("def test_a():\n    assert True\n")
    (plain / "pyproject.toml").write_text("[tool.pytest.ini_options]\naddopts = '-p no:cacheprovider'\n")
    example = work / "example"
    for folder in ("functions", "cassettes", "fixtures"):
        shutil.copytree(ROOT / folder, example / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (example / "pyproject.toml").write_text('[tool.harness]\nfunctions = "functions"\ncassettes = "cassettes"\n')

    # Bytecode is written as a user's interpreter writes it (the warm-up round leaves it for the measured ones).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HARNESS_", "CI"))
           and k != "PYTHONDONTWRITEBYTECODE"}
    off = {**env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    pytest = [PY, "-m", "pytest", "--co", "-q", "-p", "syrupy"]
    harness = str(Path(PY).with_name("harness"))
    cases: dict[str, tuple[list[str], Path, dict[str, str]]] = {
        "pytest + syrupy": (pytest, plain, off),
        "+ anyio (httpx's)": ([*pytest, "-p", "anyio"], plain, off),
        "+ harness + time-machine": ([*pytest, "-p", "anyio", "-p", "time_machine", "-p", "harness.pytest_plugin"],
                                     plain, off),
        "import httpx, pydantic": ([PY, "-c", "import httpx, pydantic"], example, env),
        "harness dryrun --replay": ([harness, "dryrun", "issues", "demo", "--replay", "--json"], example, env),
    }
    for cmd, cwd, e in cases.values():  # warm the OS caches and the bytecode
        cpu_of(cmd, cwd, e)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, (cmd, cwd, e) in cases.items():
            samples[name].append(cpu_of(cmd, cwd, e))
    median = {name: statistics.median(values) for name, values in samples.items()}

    probe = ("import sys, runpy; sys.argv = ['harness', 'dryrun', 'issues', 'demo', '--replay', '--json'];\n"
             "from harness.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in ('pytest', 'hypothesis', 'vcr') if m in sys.modules), file=sys.stderr)")
    loaded = subprocess.run([PY, "-c", probe], cwd=example, env=env, capture_output=True, text=True, check=False)
    heavy = json.loads(loaded.stderr.strip().splitlines()[-1].replace("'", '"'))
    doc: dict[str, Any] = {
        "cpu_ms_median": {k: round(v * 1000, 1) for k, v in median.items()},
        "plugin_ratio_vs_pytest_syrupy": round(median["+ harness + time-machine"] / median["pytest + syrupy"], 2),
        "plugin_ratio_vs_same_env_without_harness": round(median["+ harness + time-machine"]
                                                          / median["+ anyio (httpx's)"], 2),
        "replay_ratio_vs_import_httpx_pydantic": round(median["harness dryrun --replay"]
                                                       / median["import httpx, pydantic"], 2),
        "replay_imports": heavy,
        "runs": args.runs,
    }
    shutil.rmtree(work, ignore_errors=True)
    out = sys.stderr if args.json else sys.stdout
    print(f"{'what':<28} {'CPU ms (median)':>16}", file=out)
    for name, value in doc["cpu_ms_median"].items():
        print(f"{name:<28} {value:>16.1f}", file=out)
    print(f"\npytest in a plain project, with harness installed / without: "
          f"{doc['plugin_ratio_vs_same_env_without_harness']}x (target 1.2x); against pytest + syrupy alone: "
          f"{doc['plugin_ratio_vs_pytest_syrupy']}x", file=out)
    print(f"harness dryrun --replay / import httpx, pydantic: {doc['replay_ratio_vs_import_httpx_pydantic']}x "
          f"(target 2x); heavy modules the replay imported: {heavy or 'none'}", file=out)
    if args.json:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
