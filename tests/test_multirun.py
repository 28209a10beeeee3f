"""Multi-run scenarios: run 2 is recorded and replayed on the store run 1 left, as production runs it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from harness.pipeline import RunRequest, execute, run_paths
from harness.project import load_project
from tests.fakes.github_server import FakeGitHub

from .test_sync_semantics import CONNECTIONS, FULL


@pytest.fixture
def proj(make_project: Callable[..., Path]) -> Path:
    return make_project({"gh/syncs/full.py": FULL}, connections=CONNECTIONS)


def test_two_run_scenario_records_and_replays_deletes(proj: Path, cli: Callable[..., Result],
                                                      fake_github: FakeGitHub, request: pytest.FixtureRequest) -> None:
    env = {"GH_URL": fake_github.base_url, "GH_TOKEN": fake_github.token}
    res = cli(proj, "dryrun", "full", "c1", "--record", "--scenario", "refresh", env=env)
    assert res.exit_code == 0, res.output
    fake_github.issues_store[0]["title"] = "Renamed"
    del fake_github.issues_store[4]
    res = cli(proj, "dryrun", "full", "c1", "--record", "--scenario", "refresh", "--run", "2", "--json", env=env)
    assert res.exit_code == 0, res.output
    recorded = json.loads(res.stdout)
    assert recorded["counts"]["Issue"] == {"added": 0, "updated": 1, "deleted": 1, "unchanged": 10}
    assert "replayed the earlier runs first (run 1: success)" in res.stderr
    project = load_project(proj)
    assert [p.name for p in run_paths(project, "gh", "full", "refresh")] == ["refresh.yaml", "refresh.run2.yaml"]

    request.getfixturevalue("no_network")
    results = execute(RunRequest("full", "c1", scenario="refresh", project=project, run=2)).results
    assert [r.mode for r in results] == ["replay", "replay"]
    assert [r.totals() for r in results] == [
        {"added": 12, "updated": 0, "deleted": 0, "unchanged": 0},
        {"added": 0, "updated": 1, "deleted": 1, "unchanged": 10}]
    assert results[1].models["Issue"].deleted == [{"id": "1005"}]


def test_a_later_run_needs_the_earlier_ones(proj: Path, cli: Callable[..., Result]) -> None:
    res = cli(proj, "dryrun", "full", "c1", "--scenario", "nothing", "--run", "3")
    assert res.exit_code == 3
    assert "run 1 of this scenario is not recorded" in res.stderr and "--record --run 1" in res.stderr


def test_scenario_names_are_checked(proj: Path, cli: Callable[..., Result]) -> None:
    res = cli(proj, "dryrun", "full", "c1", "--scenario", "a.run2")
    assert res.exit_code == 2 and "bad scenario name 'a.run2'" in res.stderr


def test_a_multi_run_scenario_is_one_test_whose_snapshot_shows_every_run(
        proj: Path, cli: Callable[..., Result], fake_github: FakeGitHub) -> None:
    from harness.scenarios import find_scenarios

    env = {"GH_URL": fake_github.base_url, "GH_TOKEN": fake_github.token}
    assert cli(proj, "dryrun", "full", "c1", "--record", "--scenario", "refresh", env=env).exit_code == 0
    del fake_github.issues_store[0]
    assert cli(proj, "dryrun", "full", "c1", "--record", "--scenario", "refresh", "--run", "2",
               env=env).exit_code == 0
    project = load_project(proj)
    assert [s.id for s in find_scenarios(project)] == ["gh/full[refresh]"]
    ran = execute(RunRequest("full", scenario="refresh", mode="replay", run=None, project=project,
                             block_network=True))
    assert [r.totals()["added"] for r in [*ran.previous, ran.result]] == [12, 0]
    assert ran.result.models["Issue"].deleted == [{"id": "1001"}]
