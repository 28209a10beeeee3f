"""One verdict: `pytest`, `harness test`, `harness dev --once` and deploy's gate agree on the same stale,
missing, unused and unplayed scenarios (strict, as CI runs them); and the cassette commands replay the
project's own multi-run scenarios the way `harness dryrun --run N` does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import Result

from harness.packaging.deploy import TestsFailedError as GateRefused
from harness.packaging.deploy import run_tests
from harness.project import load_project
from tests.fakes.github_server import FakeGitHub

from .conftest import REPO
from .test_sync_semantics import CONNECTIONS, FULL

ISSUES = Path("cassettes/github/issues")


def _stale(root: Path) -> None:
    snap = root / ISSUES / "default.snapshot.json"
    snap.write_text(snap.read_text().replace('"added": 12', '"added": 11', 1))


def _missing(root: Path) -> None:
    (root / ISSUES / "default.snapshot.json").unlink()


def _unused(root: Path) -> None:
    (root / ISSUES / "gone.snapshot.json").write_text((root / ISSUES / "default.snapshot.json").read_text())


def _unplayed(root: Path) -> None:
    path = root / ISSUES / "default.yaml"
    data = yaml.safe_load(path.read_text())
    extra = json.loads(json.dumps(data["interactions"][0]))
    extra["request"]["uri"] = "https://api.github.com/never/asked"
    data["interactions"].append(extra)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _clean(root: Path) -> None:
    pass


CASES = {"clean": (_clean, True), "stale": (_stale, False), "missing": (_missing, False),
         "unused": (_unused, False), "unplayed": (_unplayed, False)}


def _env() -> dict[str, str]:
    env = {**os.environ, "CI": "1"}
    for name in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER", "PYTEST_CURRENT_TEST"):
        env.pop(name, None)
    return env


def _faces(root: Path) -> dict[str, bool]:
    """Whether each face passes the project in `root` (every face under CI, as a CI job would run it)."""
    env = _env()
    # Scenario items only: the example's copy has no tests/ of its own.
    pytest_run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=root, env=env,
                                capture_output=True, text=True, check=False)
    harness_test = subprocess.run([sys.executable, "-m", "harness", "--project", str(root), "test", "-q",
                                   "-p", "no:cacheprovider"], cwd=root, env=env, capture_output=True, text=True,
                                  check=False)
    dev = subprocess.run([sys.executable, "-m", "harness", "--project", str(root), "dev", "--once"], cwd=root,
                         env=env, capture_output=True, text=True, check=False)
    old = dict(os.environ)
    try:
        os.environ.pop("PYTEST_ADDOPTS", None)
        run_tests(load_project(root))
        gate = True
    except GateRefused:
        gate = False
    finally:
        os.environ.clear()
        os.environ.update(old)
    return {"pytest": pytest_run.returncode == 0, "harness test": harness_test.returncode == 0,
            "dev --once": dev.returncode == 0, "deploy gate": gate}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_face_gives_the_same_verdict(case: str, example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Slow: each case runs pytest, `harness test`, `harness dev --once` and deploy's gate, each a process."""
    change, passes = CASES[case]
    change(example)
    verdicts = _faces(example)
    capsys.readouterr()  # the gate echoes pytest's tail on failure
    assert verdicts == dict.fromkeys(verdicts, passes), verdicts


@pytest.fixture
def multirun(make_project: Callable[..., Path], cli: Callable[..., Result], fake_github: FakeGitHub) -> Path:
    proj = make_project({"gh/syncs/full.py": FULL}, connections=CONNECTIONS)
    env = {"GH_URL": fake_github.base_url, "GH_TOKEN": fake_github.token}
    assert cli(proj, "dryrun", "full", "c1", "--record", "--scenario", "refresh", env=env).exit_code == 0
    del fake_github.issues_store[0]
    assert cli(proj, "dryrun", "full", "c1", "--record", "--scenario", "refresh", "--run", "2",
               env=env).exit_code == 0
    return proj


def test_lint_replays_every_run_of_a_multi_run_scenario(multirun: Path, cli: Callable[..., Result],
                                                        no_network: None) -> None:
    res = cli(multirun, "cassettes", "lint", "--replay")
    assert res.exit_code == 0, res.output
    assert "2 cassette(s), 0 finding(s)" in res.stderr
    res = cli(multirun, "cassettes", "lint", "--replay", "cassettes/gh/full/refresh.run2.yaml")
    assert res.exit_code == 0, res.output


def test_prune_keeps_what_run_2_uses_and_drops_what_it_does_not(multirun: Path, cli: Callable[..., Result],
                                                                 no_network: None) -> None:
    path = multirun / "cassettes/gh/full/refresh.run2.yaml"
    data = yaml.safe_load(path.read_text())
    extra = json.loads(json.dumps(data["interactions"][0]))
    extra["request"]["uri"] = "https://api.github.com/never/asked"
    data["interactions"].append(extra)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    before = len(data["interactions"])
    res = cli(multirun, "cassettes", "lint", "--replay", str(path))
    assert res.exit_code == 3 and "unplayed: interaction" in res.stdout and "never/asked" in res.stdout
    res = cli(multirun, "cassettes", "prune", str(path))
    assert res.exit_code == 0, res.output
    assert f"{before - 1} kept, 1 dropped" in res.stdout
    assert len(yaml.safe_load(path.read_text())["interactions"]) == before - 1
    assert cli(multirun, "dryrun", "full", "c1", "--scenario", "refresh", "--run", "2").exit_code == 0


def test_the_repository_example_is_what_the_verdict_cases_start_from() -> None:
    # The cases above edit these files in a copy; if they move, the cases would test nothing.
    assert (REPO / ISSUES / "default.yaml").is_file() and (REPO / ISSUES / "default.snapshot.json").is_file()
