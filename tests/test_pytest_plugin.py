"""The pytest plugin end to end: pytest sessions inside a temporary functions project (pytester)."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

# In-process pytester runs drop the modules a run imported; importing these here keeps one pydantic and
# one harness for every run (a function's models must subclass the same BaseModel the harness checks).
import harness.pipeline
import harness.snapshots.extension
import harness.verdict  # noqa: F401

from .conftest import REPO

# The harness package is already imported by the outer session: its rewrite warning is noise here.
PYPROJECT = """\
[tool.harness]
functions = "functions"
cassettes = "cassettes"

[tool.pytest.ini_options]
filterwarnings = ["ignore::pytest.PytestAssertRewriteWarning"]
# Plugins this project does not use, kept out so that each inner session starts fast.
addopts = "-p no:hypothesispytest -p no:anyio -p no:cacheprovider"
"""

ISSUES = "functions/github/syncs/issues.py"
SNAP = "cassettes/github/issues/default.snapshot.json"


def cassette_yaml(function: str, *, kind: str = "action", recorded_at: str = "2026-03-04T05:06:07Z",
                  extra: str = "") -> str:
    return textwrap.dedent(f"""\
        harness:
          format: 1
          function: {function}
          integration: github
          type: {kind}
          scenario: default
          recorded_at: '{recorded_at}'
          connection:
            connection_id: demo
            provider: github
            credentials: {{type: OAUTH2, access_token: '<scrubbed:access_token>'}}
            integration: github
            base_url: https://api.github.com
            connection_config: {{}}
            metadata: {{owner: octocat, repo: hello-world}}
        """) + textwrap.indent(textwrap.dedent(extra), "  ") + "interactions: []\nversion: 1\n"


@pytest.fixture(autouse=True)
def _not_an_xdist_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    # When this suite itself runs under xdist, the inner sessions must not believe they are workers.
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project(pytester: pytest.Pytester) -> Path:
    """The bundled example project (functions, cassettes without snapshots, fixtures) as pytest's rootdir.

    Only the sync's and the action's default scenarios are kept: these tests count and change those two.
    """
    return write_project(pytester.path)


def write_project(root: Path) -> Path:
    """What the `project` fixture makes, at `root`."""
    for folder in ("functions", "fixtures"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "cassettes", root / "cassettes",
                    ignore=shutil.ignore_patterns("__pycache__", "*.snapshot.json", "webhook.*", "check-access"))
    (root / "pyproject.toml").write_text(PYPROJECT)
    return root


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


# What `pytest --snapshot-update` did to a project as it was before: (the files and the environment before,
# the files it wrote).
_ACCEPTED: list[tuple[tuple[dict[str, bytes], dict[str, str]], dict[str, bytes]]] = []


def accept(pytester: pytest.Pytester) -> None:
    """`pytest --snapshot-update`: both scenarios pass and their snapshots are written.

    Most tests accept the very same fresh project first: the session runs for the first of them, and the
    next ones, finding the same files (every byte) and environment, get the files that session wrote instead
    of running it again (~0.1 s each). A project that differs in any file, or in `$CI`, `$PYTEST_ADDOPTS`,
    `$HARNESS_*` or xdist's variables, runs its own session."""
    root = pytester.path
    before = (_tree(root), {k: v for k, v in os.environ.items()
                            if k in ("CI", "PYTEST_ADDOPTS") or k.startswith(("HARNESS_", "PYTEST_XDIST"))})
    for was, wrote in _ACCEPTED:
        if was == before:
            for rel, data in wrote.items():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_bytes(data)
            return
    res = pytester.runpytest("--snapshot-update")
    res.assert_outcomes(passed=2)
    after, was = _tree(root), before[0]
    if set(was) <= set(after) and not any(str(root).encode() in data for data in after.values()):
        _ACCEPTED.append((before, {rel: data for rel, data in after.items() if was.get(rel) != data}))


def change_mapping(root: Path) -> None:
    path = root / ISSUES
    text = path.read_text()
    assert 'title=row["title"]' in text
    path.write_text(text.replace('title=row["title"]', 'title=row["title"].upper()'))


def test_a_scenario_test_is_collected_with_no_code(pytester: pytest.Pytester, project: Path) -> None:
    res = pytester.runpytest("--collect-only", "-q")
    assert res.ret == 0
    # Scenario items are collected from their cassette files, so a node id re-runs one.
    assert "cassettes/github/create-issue/default.yaml::github/create-issue[default]" in res.outlines
    assert "cassettes/github/issues/default.yaml::github/issues[default]" in res.outlines
    res = pytester.runpytest()
    res.assert_outcomes(passed=2)
    doc = json.loads((project / SNAP).read_text())
    assert sorted(doc["records"]["Issue"]) == [str(n) for n in range(1001, 1013)]
    assert doc["checkpoints"]["final"] == {"since": "2026-01-12T10:00:00Z"}
    assert doc["requests"][0] == {"method": "GET", "path": "/repos/octocat/hello-world/issues?state=all&per_page=5",
                                  "status": 200}
    # The second run compares against what the first wrote.
    pytester.runpytest().assert_outcomes(passed=2)


def test_filters_select_scenarios(pytester: pytest.Pytester, project: Path) -> None:
    def ids(*args: str) -> list[str]:
        res = pytester.runpytest("--collect-only", "-q", *args)
        return [line.split("::", 1)[1] for line in res.outlines if line.startswith("cassettes/github/")]

    assert ids("-k", "create") == ["github/create-issue[default]"]
    assert ids("--harness-function", "issues") == ["github/issues[default]"]
    assert ids("--harness-function", "github/create-issue") == ["github/create-issue[default]"]
    assert ids("--harness-integration", "slack") == []
    assert ids("--harness-scenario", "other") == []
    assert ids("-m", "harness_scenario") == ["github/create-issue[default]", "github/issues[default]"]
    assert ids("--harness-no-scenarios") == []
    assert ids("cassettes/github/issues") == ["github/issues[default]"]


def test_scenarios_are_not_collected_twice(pytester: pytest.Pytester, project: Path) -> None:
    (project / "tests").mkdir()
    (project / "tests" / "test_x.py").write_text("def test_x():\n    pass\n")
    res = pytester.runpytest("--collect-only", "-q", "tests", "cassettes", ".")
    assert res.outlines.count("cassettes/github/issues/default.yaml::github/issues[default]") == 1
    # Naming test files only runs those files.
    res = pytester.runpytest("--collect-only", "-q", "tests/test_x.py")
    assert not any("github/issues[default]" in line for line in res.outlines)
    assert "tests/test_x.py::test_x" in res.outlines


def test_a_mapping_change_fails_with_a_record_level_diff_and_update_fixes_it(pytester: pytest.Pytester,
                                                                             project: Path) -> None:
    accept(pytester)
    change_mapping(project)
    res = pytester.runpytest()
    res.assert_outcomes(passed=1, failed=1)
    out = res.stdout.str()
    assert f"github/issues[default]: the run differs from {SNAP}:" in out
    assert "records.Issue: 0 added, 0 removed, 12 changed (snapshot 12, run 12)" in out
    assert '~ 1001: title: "Issue 1" -> "ISSUE 1"' in out
    assert "... and 2 more" in out  # capped, not a wall of text
    assert "--snapshot-update" in out
    assert len(out.splitlines()) < 80
    res = pytester.runpytest("--snapshot-update")
    res.assert_outcomes(passed=2)
    assert '"title": "ISSUE 1"' in (project / SNAP).read_text()
    pytester.runpytest().assert_outcomes(passed=2)


def test_added_removed_records_and_checkpoints_are_named(pytester: pytest.Pytester, project: Path) -> None:
    accept(pytester)
    path = project / ISSUES
    path.write_text(path.read_text().replace("for row in page\n", "for row in page if row['number'] != 3\n"))
    snap = json.loads((project / SNAP).read_text())
    snap["records"]["Issue"]["999"] = {"id": "999"}
    (project / SNAP).write_text(json.dumps(snap))  # any layout is fine: comparison is canonical
    res = pytester.runpytest("--harness-function", "issues")
    res.assert_outcomes(failed=1)
    out = res.stdout.str()
    assert "records.Issue: 0 added, 2 removed, 0 changed (snapshot 13, run 11)" in out
    assert "- 999 " in out and "- 1003 " in out
    assert "counts:" in out and "Issue.added: 12 -> 11" in out


class TestStrict:
    """CI gating: each failure names the file and the command that fixes it."""

    def test_a_scenario_without_a_snapshot_fails_under_ci(self, pytester: pytest.Pytester, project: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CI", "true")
        res = pytester.runpytest()
        res.assert_outcomes(failed=2)
        res.stdout.fnmatch_lines([f"*github/issues?default?: no snapshot: {SNAP} does not exist; write it with "
                                  "`pytest --snapshot-update --harness-function github/issues*"])
        assert not (project / SNAP).exists()
        monkeypatch.delenv("CI")
        pytester.runpytest("--harness-strict").assert_outcomes(failed=2)

    def test_an_unused_snapshot_fails_under_ci_and_update_deletes_it(self, pytester: pytest.Pytester,
                                                                       project: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
        accept(pytester)
        orphan = project / "cassettes/github/gone/default.snapshot.json"
        orphan.parent.mkdir()
        orphan.write_text("{}")
        res = pytester.runpytest()
        assert res.ret == 0
        assert "warning: unused snapshot cassettes/github/gone/default.snapshot.json" in res.stdout.str()
        monkeypatch.setenv("CI", "1")
        res = pytester.runpytest()
        assert res.ret == 1
        res.stdout.fnmatch_lines(["error: unused snapshot cassettes/github/gone/default.snapshot.json: its cassette "
                                  "no longer exists; delete it with `pytest --snapshot-update`*"])
        res = pytester.runpytest("--snapshot-update")
        assert res.ret == 0 and not orphan.exists()
        assert pytester.runpytest().ret == 0

    def test_an_unplayed_interaction_fails_under_ci(self, pytester: pytest.Pytester, project: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
        accept(pytester)
        path = project / "cassettes/github/issues/default.yaml"
        data = yaml.safe_load(path.read_text())
        extra = json.loads(json.dumps(data["interactions"][0]))
        extra["request"]["uri"] = "https://api.github.com/repos/octocat/hello-world/labels"
        data["interactions"].append(extra)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        res = pytester.runpytest("-W", "default")
        res.assert_outcomes(passed=2)
        assert "1 recorded interaction(s) never played" in res.stdout.str()
        monkeypatch.setenv("CI", "1")
        res = pytester.runpytest()
        res.assert_outcomes(passed=1, failed=1)
        out = res.stdout.str()
        assert ("github/issues[default]: 1 recorded interaction(s) never played in "
                "cassettes/github/issues/default.yaml: GET https://api.github.com/repos/octocat/hello-world/labels"
                in out)
        assert "--record" in out

    def test_a_missing_hand_written_snapshot_fails_and_an_unused_one_fails_under_ci(
            self, pytester: pytest.Pytester, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        test = project / "tests" / "test_mine.py"
        test.parent.mkdir()
        test.write_text(textwrap.dedent("""\
            def test_issues(harness_scenario, harness_snapshot):
                assert harness_scenario("github/issues") == harness_snapshot
            """))
        res = pytester.runpytest("tests")
        res.assert_outcomes(passed=2, failed=1)
        assert "Snapshot 'test_issues' does not exist" in res.stdout.str()
        pytester.runpytest("tests", "--snapshot-update").assert_outcomes(passed=3)
        stored = project / "tests/__snapshots__/test_mine/test_issues.json"
        assert json.loads(stored.read_text())["checkpoints"]["final"] == {"since": "2026-01-12T10:00:00Z"}
        pytester.runpytest("tests").assert_outcomes(passed=3)
        change_mapping(project)
        res = pytester.runpytest("tests", "-k", "test_issues")
        res.assert_outcomes(failed=1)
        assert '~ 1001: title: "Issue 1" -> "ISSUE 1"' in res.stdout.str()
        test.write_text(test.read_text().replace("def test_issues", "def test_renamed"))
        (project / ISSUES).write_text((REPO / ISSUES).read_text())
        shutil.copy(stored, stored.with_name("test_renamed.json"))  # the renamed test has its snapshot
        res = pytester.runpytest("tests", "--snapshot-warn-unused")
        assert res.ret == 0 and "1 snapshot unused" in res.stdout.str()  # locally: a warning
        monkeypatch.setenv("CI", "1")
        # Under CI an unused snapshot fails, even with --snapshot-warn-unused.
        res = pytester.runpytest("tests", "--snapshot-warn-unused")
        assert res.ret == 1 and "1 snapshot unused" in res.stdout.str()
        res.assert_outcomes(passed=3)

    def test_sockets_are_blocked_during_strict_scenarios(self, pytester: pytest.Pytester, project: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
        (project / "functions/github/actions/ping.py").write_text(textwrap.dedent("""\
            import socket
            from harness import ActionContext, action

            @action()
            async def ping(nango: ActionContext, input: object) -> dict:
                try:
                    socket.create_connection(("127.0.0.1", 9), timeout=0.2)
                except Exception as exc:
                    return {"error": type(exc).__name__}
                return {"error": None}
            """))
        (project / "cassettes/github/ping").mkdir()
        (project / "cassettes/github/ping/default.yaml").write_text(cassette_yaml("ping"))
        res = pytester.runpytest("--harness-function", "ping", "--snapshot-update")
        res.assert_outcomes(passed=1)
        loose = json.loads((project / "cassettes/github/ping/default.snapshot.json").read_text())
        assert loose["output"] == {"error": "ConnectionRefusedError"}
        monkeypatch.setenv("CI", "1")
        res = pytester.runpytest("--harness-function", "ping")
        res.assert_outcomes(failed=1)
        assert '"ConnectionRefusedError" -> "NetworkBlockedError"' in res.stdout.str()


def test_time_is_frozen_at_the_recording_and_waits_are_instant(pytester: pytest.Pytester, project: Path) -> None:
    (project / "functions/github/actions/clock.py").write_text(textwrap.dedent("""\
        import asyncio, time
        from datetime import UTC, datetime
        from harness import ActionContext, action

        @action()
        async def clock(nango: ActionContext, input: object) -> dict:
            await asyncio.sleep(0.01)
            await asyncio.wait_for(asyncio.sleep(0.01), timeout=5)
            return {"now": datetime.now(UTC).isoformat(), "time": time.time(), "utc": datetime.utcnow().isoformat()}
        """))
    (project / "cassettes/github/clock").mkdir()
    (project / "cassettes/github/clock/default.yaml").write_text(cassette_yaml("clock"))
    pytester.runpytest("--harness-function", "clock").assert_outcomes(passed=1)
    doc = json.loads((project / "cassettes/github/clock/default.snapshot.json").read_text())
    assert doc["output"] == {"now": "2026-03-04T05:06:07+00:00", "time": 1772600767.0,
                             "utc": "2026-03-04T05:06:07"}
    pytester.runpytest("--harness-function", "clock").assert_outcomes(passed=1)


def test_expected_section_of_an_imported_cassette_is_checked(pytester: pytest.Pytester, project: Path) -> None:
    path = project / "cassettes/github/issues/default.yaml"
    data = yaml.safe_load(path.read_text())
    row = {"id": "1001", "number": 1, "title": "Issue 1", "state": "open", "author": "octocat",
           "updated_at": "2026-01-01T10:00:00Z", "_nango_metadata": {"last_action": "ADDED"}}
    data["harness"]["expected"] = {"records": {"Issue": [row, {**row, "id": "1002", "title": "Wrong"}]}}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    res = pytester.runpytest("--harness-function", "issues", "--snapshot-update")
    res.assert_outcomes(failed=1)
    out = res.stdout.str()
    assert "does not match `expected:` in cassettes/github/issues/default.yaml" in out
    assert "records.Issue: 10 added, 0 removed, 1 changed (expected 2, run 12)" in out
    assert ('~ 1002: number: 1 -> 2; title: "Wrong" -> "Issue 2"; updated_at: "2026-01-01T10:00:00Z" -> '
            '"2026-01-02T10:00:00Z"') in out


def test_volatile_fields_are_excluded_or_matched_by_type(pytester: pytest.Pytester, project: Path) -> None:
    (project / "pyproject.toml").write_text(PYPROJECT + textwrap.dedent("""\
        [tool.harness.snapshot]
        exclude = ["records.Issue.*.title"]
        types = {"records.*.*.updated_at" = "datetime", "checkpoints.final.since" = "uuid"}
        """))
    accept(pytester)
    doc = json.loads((project / SNAP).read_text())
    assert doc["records"]["Issue"]["1001"] == {"id": "1001", "number": 1, "state": "open", "author": "octocat",
                                               "updated_at": "<datetime>"}
    assert doc["checkpoints"]["final"] == {"since": "2026-01-12T10:00:00Z"}  # not a uuid: kept as is
    change_mapping(project)  # titles change, but titles are excluded
    pytester.runpytest().assert_outcomes(passed=2)
    (project / "pyproject.toml").write_text(PYPROJECT + '[tool.harness.snapshot]\ntypes = {"x" = "colour"}\n')
    res = pytester.runpytest()
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    assert "harness: [tool.harness.snapshot] types: 'x' has unknown type 'colour'" in res.stderr.str()
    (project / "pyproject.toml").write_text(PYPROJECT.replace("[tool.harness]", "[tool.harness]\nfunctons = 'x'"))
    res = pytester.runpytest()
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    assert "unknown key(s) in [tool.harness]: functons" in res.stderr.str()


@pytest.mark.slow
def test_same_results_under_xdist(pytester: pytest.Pytester, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Slow: the same session serially and on two xdist worker processes."""
    accept(pytester)
    change_mapping(project)
    orphan = project / "cassettes/github/gone/default.snapshot.json"
    orphan.parent.mkdir()
    orphan.write_text("{}")
    monkeypatch.setenv("CI", "1")
    serial = pytester.runpytest()
    parallel = pytester.runpytest_subprocess("-p", "xdist", "-n", "2")
    for res in (serial, parallel):
        # The unused snapshot is a failing item of its own, so the closing line is not green.
        res.assert_outcomes(passed=1, failed=2)
        assert res.ret == 1
        out = res.stdout.str()
        assert '~ 1001: title: "Issue 1" -> "ISSUE 1"' in out
        assert "error: unused snapshot cassettes/github/gone/default.snapshot.json" in out
    orphan.unlink()
    parallel = pytester.runpytest_subprocess("-p", "xdist", "-n", "2", "--snapshot-update")
    parallel.assert_outcomes(passed=2)
    assert '"title": "ISSUE 1"' in (project / SNAP).read_text()


def test_a_multi_run_scenario_is_one_item_with_every_run_in_its_snapshot(
        pytester: pytest.Pytester, project: Path) -> None:
    # Run 2 of "twice" replays the same provider answers on the store run 1 left: nothing new.
    source = project / "cassettes/github/issues/default.yaml"
    shutil.copy(source, project / "cassettes/github/issues/twice.yaml")
    shutil.copy(source, project / "cassettes/github/issues/twice.run2.yaml")
    res = pytester.runpytest("--snapshot-update", "--harness-scenario", "twice", "-v")
    res.assert_outcomes(passed=1)
    res.stdout.fnmatch_lines(["*github/issues?twice?*PASSED*"])
    doc = json.loads((project / "cassettes/github/issues/twice.snapshot.json").read_text())
    assert doc["previous_runs"][0]["counts"] == {"Issue": {"added": 12, "updated": 0, "deleted": 0,
                                                           "unchanged": 0}}
    assert doc["counts"] == {"Issue": {"added": 0, "updated": 0, "deleted": 0, "unchanged": 12}}
    assert not (project / "cassettes/github/issues/twice.run2.snapshot.json").exists()
