"""The MCP tools' handlers without a protocol in between: the answers `harness mcp --dev` and `harness mcp`
give for recording, compiling, testing and every kind of bad call (no `mcp` SDK needed)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.agents.mcp_actions import ActionServing, action_tools
from harness.agents.mcp_dev import dev_tools
from harness.agents.toolspec import Answer, ToolSpec, call_safely
from harness.loader import load_catalog
from harness.project import load_project
from tests.fakes.github_server import FakeGitHub

from .conftest import LIVE_DEMO_CONNECTIONS

LIVE_CONNECTIONS = LIVE_DEMO_CONNECTIONS


def dev(project: Path) -> Callable[..., Answer]:
    tools = {t.name: t for t in dev_tools(load_project(project))}

    def call(name: str, **arguments: Any) -> Answer:
        return call_safely(tools[name], arguments)

    return call


def test_record_keeps_the_write_guard_and_writes_the_cassette(example: Path, monkeypatch: Any) -> None:
    (example / "fixtures/connections.yaml").write_text(LIVE_CONNECTIONS)
    cassette = example / "cassettes/github/create-issue/live.yaml"
    call = dev(example)
    with FakeGitHub() as gh:
        monkeypatch.setenv("GH_URL", gh.base_url)
        monkeypatch.setenv("GH_TOKEN", gh.token)
        refused = call("record", function="create-issue", connection="demo", scenario="live",
                       input={"title": "Recorded by an agent"})
        assert refused.is_error and refused.data["error"]["type"] == "write_blocked"
        assert not cassette.exists() and not [r for r in gh.requests if r.method == "POST"]

        done = call("record", function="create-issue", connection="demo", scenario="live",
                    input={"title": "Recorded by an agent"}, allow_writes=True)
        assert not done.is_error, done.data
        assert done.data["mode"] == "record" and done.data["output"]["number"] >= 1
    text = cassette.read_text()
    assert "Recorded by an agent" in text and gh.token not in text  # recorded, secret scrubbed
    replayed = call("dryrun", function="create-issue", scenario="live")  # connection: the recorded one
    assert not replayed.is_error and replayed.data["mode"] == "replay"
    assert replayed.data["output"] == done.data["output"]


def test_a_live_sync_through_dryrun(example: Path, monkeypatch: Any) -> None:
    (example / "fixtures/connections.yaml").write_text(LIVE_CONNECTIONS)
    with FakeGitHub(issues=7) as gh:
        monkeypatch.setenv("GH_URL", gh.base_url)
        monkeypatch.setenv("GH_TOKEN", gh.token)
        res = dev(example)("dryrun", function="issues", connection="demo", mode="live", max_pages=1)
    assert not res.is_error, res.data
    assert res.data["mode"] == "live" and res.data["counts"]["Issue"]["added"] == 5  # one page of 5


def test_run_tests_update_and_missing_snapshots(example: Path) -> None:
    call = dev(example)
    snapshot = example / "cassettes/github/create-issue/default.snapshot.json"
    original = snapshot.read_text()
    snapshot.unlink()
    missing = call("run_tests", function=["github/create-issue"])
    assert missing.is_error
    (verdict,) = missing.data["scenarios"]
    assert verdict["failures"] == ["no snapshot: cassettes/github/create-issue/default.snapshot.json does not exist"]
    assert not snapshot.exists()  # testing never writes behind the agent's back
    updated = call("run_tests", function=["create-issue"], update=True)
    assert not updated.is_error and updated.data["scenarios"][0]["written"] is True
    assert json.loads(snapshot.read_text()) == json.loads(original)
    assert call("run_tests", integration=["slack"]).data == {"passed": True, "scenarios": [],
                                                             "counts": {"passed": 0, "failed": 0, "error": 0}}


def test_run_tests_reports_a_replay_miss_with_the_fix(example: Path) -> None:
    fn = example / "functions/github/syncs/issues.py"
    fn.write_text(fn.read_text().replace('"per_page": 5', '"per_page": 7'))
    res = dev(example)("run_tests", function=["issues"], scenario=["default"])
    (verdict,) = res.data["scenarios"]
    assert verdict["status"] == "failed" and "query per_page=7 != recorded 5" in verdict["failures"][0]
    assert verdict["fix"] == "harness dryrun github/issues demo --scenario default --record"


def test_each_call_sees_the_files_as_they_are_now(example: Path) -> None:
    call = dev(example)
    assert call("dryrun", function="issues").data["records"]["Issue"]["saved"][0]["title"] == "Issue 1"
    models = example / "functions/github/syncs/issues.py"
    models.write_text(models.read_text().replace('title=row["title"]', 'title=row["title"].upper()'))
    assert call("dryrun", function="issues").data["records"]["Issue"]["saved"][0]["title"] == "ISSUE 1"
    helper = example / "functions/github/models.py"  # a helper module, cached by Python between calls
    helper.write_text(helper.read_text().replace("    title: str\n", "    title: str\n    extra: int\n", 1))
    broken = call("dryrun", function="issues")
    # the sync builds `Issue(...)` without the new required field: the edited helper was imported afresh
    assert broken.is_error and broken.data["status"] == "failed" and "extra" in broken.data["error"]["message"]


def test_compile_and_list_report_every_problem(example: Path) -> None:
    call = dev(example)
    ok = call("compile")
    assert not ok.is_error and ok.data["integrations"]["github"]["syncs"] == ["issues"]
    assert (example / ".harness/manifest.json").is_file()
    (example / "functions/github/syncs/bad.py").write_text(
        "from harness import sync\n\n@sync(models=[], frequency='every 10 seconds')\nasync def bad(nango):\n    pass\n")
    (example / "functions/github/syncs/worse.py").write_text("def (:\n")
    failed = call("compile")
    assert failed.is_error and failed.data["error"]["type"] == "compile_error"
    problems = failed.data["error"]["problems"]
    assert any("bad.py" in p for p in problems) and any("worse.py" in p for p in problems)
    listed = call("list_functions")
    assert listed.is_error and {Path(p["file"]).name for p in listed.data["problems"]} == {"bad.py", "worse.py"}
    assert {f["name"] for f in listed.data["functions"]} == {"issues", "create-issue", "check-access"}


def test_bad_calls_are_tool_errors_never_exceptions(example: Path) -> None:
    call = dev(example)
    no_connection = call("dryrun", function="issues", scenario="nothing-recorded")
    assert no_connection.is_error and no_connection.data["error"]["type"] == "usage"
    assert "no connection given and no recording at cassettes/github/issues/nothing-recorded.yaml" in \
        no_connection.data["error"]["message"]
    assert call("dryrun", function="issues", scenario="../etc").data["error"]["exit_code"] == 2
    assert call("dryrun").data["error"]["issues"] == [{"path": "function", "message": "Field required"}]
    assert call("docs", topic="nonsense").data["error"]["message"].startswith("unknown docs topic 'nonsense'")
    assert "## Authoring API" in (call("docs", topic="api").text or "")

    def explode(arguments: dict[str, Any]) -> Answer:
        raise RuntimeError("boom")

    crashed = call_safely(ToolSpec("x", "", {"type": "object"}, None, explode), {})
    assert crashed.is_error and crashed.data["error"]["type"] == "internal_error"
    assert crashed.data["error"]["message"] == "RuntimeError: boom"


def test_action_tools_without_a_recording_or_connection(example: Path) -> None:
    project = load_project(example)
    catalog = load_catalog(project.functions_dir)
    (tool,) = action_tools(project, catalog, ActionServing(scenario="other"))
    replay = call_safely(tool, {"title": "x"})
    assert replay.is_error and replay.data["error"]["type"] == "cassette"
    assert "no recording at cassettes/github/create-issue/other.yaml" in replay.data["error"]["message"]
    (live,) = action_tools(project, catalog, ActionServing(live=True, scenario="other"))
    refused = call_safely(live, {"title": "x"})
    assert refused.is_error and "start the server with --connection NAME" in refused.data["error"]["message"]
