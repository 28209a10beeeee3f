"""The plugin is a good citizen: inert outside harness projects (another project's tests, options and exit
codes are exactly as without it), reports like syrupy (gating failures are counted, items are re-run by
path or node id, writes come back from xdist workers, new-only updates, filtered updates delete nothing
outside the selection), and coexists with a user's freezegun clock."""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests import early

from .test_pytest_plugin import (
    SNAP,
    _not_an_xdist_worker,
    accept,
    cassette_yaml,
    change_mapping,
    project,
    write_project,
)
from .test_reports import runpytest

__all__ = ["_not_an_xdist_worker", "project"]  # fixtures shared with the plugin's tests

PLAIN = """\
[tool.pytest.ini_options]
addopts = "-p no:hypothesispytest -p no:anyio -p no:cacheprovider"
"""


@pytest.fixture
def plain(pytester: pytest.Pytester) -> Path:
    """Not a harness project, but shaped like one: a `functions/` package and a `cassettes/` folder."""
    root = pytester.path
    (root / "pyproject.toml").write_text(PLAIN)
    (root / "functions/api/syncs").mkdir(parents=True)
    (root / "functions/__init__.py").write_text("")
    (root / "functions/api/syncs/users.py").write_text("def users():\n    return []\n")
    (root / "cassettes/api/users").mkdir(parents=True)
    (root / "cassettes/api/users/default.yaml").write_text("interactions: []\nversion: 1\n")
    (root / "tests").mkdir()
    (root / "tests/test_plain.py").write_text("def test_one(snapshot):\n    assert snapshot == 1\n")
    return root


def test_a_plain_project_sees_no_scenario_and_keeps_syrupys_options(pytester: pytest.Pytester, plain: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    assert pytester.runpytest("--snapshot-update").ret == 0
    (plain / "tests/__snapshots__/test_plain/test_gone.json").parent.mkdir(parents=True, exist_ok=True)
    unused = plain / "tests/__snapshots__/test_plain.ambr"
    unused.write_text(unused.read_text() + "# name: test_gone\n  2\n# ---\n")
    monkeypatch.setenv("CI", "1")
    monkeypatch.setenv("HARNESS_PROJECT", str(Path(__file__).resolve().parents[1]))
    res = pytester.runpytest("--snapshot-warn-unused")
    res.assert_outcomes(passed=1)
    assert res.ret == 0  # syrupy's own choice (a warning) stands
    out = res.stdout.str()
    assert "harness snapshots" not in out and "harness:" not in out and "[default]" not in out
    res = pytester.runpytest("--collect-only", "-q")
    assert [line for line in res.outlines if "::" in line] == ["tests/test_plain.py::test_one"]


def test_a_scenario_is_run_by_its_cassette_path_or_node_id(pytester: pytest.Pytester, project: Path) -> None:
    accept(pytester)
    res = pytester.runpytest("cassettes/github/issues/default.yaml")
    res.assert_outcomes(passed=1)
    res = pytester.runpytest("cassettes/github/issues/default.yaml::github/issues[default]", "--junitxml=out.xml")
    res.assert_outcomes(passed=1)
    (case,) = ET.parse(project / "out.xml").getroot().iter("testcase")
    assert case.get("classname") and case.get("name") == "github/issues[default]"


def test_a_gating_failure_is_never_a_green_closing_line(pytester: pytest.Pytester, project: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    accept(pytester)
    orphan = project / "cassettes/github/gone/default.snapshot.json"
    orphan.parent.mkdir()
    orphan.write_text("{}")
    res = pytester.runpytest()
    assert res.ret == 0 and "warning: unused snapshot cassettes/github/gone/default.snapshot.json" in res.stdout.str()
    monkeypatch.setenv("CI", "1")
    res = pytester.runpytest()
    res.assert_outcomes(passed=2, failed=1)
    assert res.ret == 1 and "1 failed" in res.outlines[-1]


@pytest.mark.slow
def test_writes_made_by_xdist_workers_are_listed(pytester: pytest.Pytester, project: Path) -> None:
    """Slow: a pytest session on two xdist worker processes."""
    res = pytester.runpytest_subprocess("-p", "xdist", "-n", "2")
    res.assert_outcomes(passed=2)
    out = res.stdout.str()
    assert f"wrote {SNAP}" in out and "wrote cassettes/github/create-issue/default.snapshot.json" in out


def test_update_new_only_writes_missing_snapshots_and_leaves_stale_ones(pytester: pytest.Pytester,
                                                                        project: Path) -> None:
    accept(pytester)
    (project / "cassettes/github/create-issue/default.snapshot.json").unlink()
    change_mapping(project)
    res = pytester.runpytest("--snapshot-update-new-only")
    res.assert_outcomes(passed=1, failed=1)
    assert (project / "cassettes/github/create-issue/default.snapshot.json").is_file()
    assert '"ISSUE 1"' not in (project / SNAP).read_text()


def test_a_filtered_update_deletes_nothing_outside_its_selection(pytester: pytest.Pytester, project: Path) -> None:
    accept(pytester)
    orphan = project / "cassettes/github/gone/default.snapshot.json"
    orphan.parent.mkdir()
    orphan.write_text("{}")
    change_mapping(project)
    pytester.runpytest("-k", "issues", "--snapshot-update").assert_outcomes(passed=1)
    assert orphan.is_file() and '"ISSUE 1"' in (project / SNAP).read_text()
    pytester.runpytest("--snapshot-update").assert_outcomes(passed=3)
    assert not orphan.exists()


CLOCK = """\
from datetime import UTC, datetime
from harness import ActionContext, action

@action()
async def clock(nango: ActionContext, input: object) -> dict:
    return {"now": datetime.now(UTC).isoformat()}
"""


# In a process of its own, started ahead on the other core (tests/early.py): freezegun's clock is the whole
# process's, `time.monotonic()` included, and every thread's (a wait of work done ahead meanwhile, a
# `subprocess` timeout, would end at once).
@early.ahead("test_fixtures_run_inside_a_users_freezegun_clock")
def _inside_freezegun(ctx: early.Context) -> pytest.RunResult:
    root = write_project(ctx.folder / "p")
    (root / "functions/github/actions/clock.py").write_text(CLOCK)
    (root / "cassettes/github/clock").mkdir()
    (root / "cassettes/github/clock/default.yaml").write_text(cassette_yaml("clock"))
    (root / "tests").mkdir()
    (root / "tests/test_frozen.py").write_text(textwrap.dedent("""\
        from datetime import UTC, datetime
        from freezegun import freeze_time

        @freeze_time("2030-01-02T03:04:05Z")
        def test_replay_inside_freezegun(harness_scenario):
            result = harness_scenario("github/clock")
            assert result.ok, result.error
            assert result.output == {"now": "2026-03-04T05:06:07+00:00"}
            assert datetime.now(UTC).year == 2030  # the user's clock is back afterwards

        @freeze_time("2030-01-02T03:04:05Z")
        def test_freeze_false_keeps_the_users_clock(harness_scenario):
            result = harness_scenario("github/clock", freeze=False)
            assert result.output == {"now": "2030-01-02T03:04:05+00:00"}

        def test_freeze_false_without_freezegun_is_the_real_clock(harness_scenario):
            result = harness_scenario("github/clock", freeze=False)
            assert not result.output["now"].startswith("2026-03-04")
        """))
    return runpytest(ctx, root, "tests", "--harness-no-scenarios")


def test_fixtures_run_inside_a_users_freezegun_clock() -> None:
    res = _inside_freezegun.result()
    res.assert_outcomes(passed=3)
