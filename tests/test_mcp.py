"""`harness mcp` and `harness mcp --dev`, driven by the official `mcp` SDK's own clients (stdio, streamable
HTTP) against a real `harness` subprocess, on throw-away copies of the bundled example project."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest
from click.testing import CliRunner

from harness.cli import main
from tests.fakes.github_server import FakeGitHub

from .conftest import LIVE_DEMO_CONNECTIONS

# The SDK is imported by the tests that use it (half a second): a plain `pytest` skips them all (slow).
if importlib.util.find_spec("mcp") is None:
    pytest.skip("could not import 'mcp': pip install -e '.[test]'", allow_module_level=True)
if TYPE_CHECKING:
    from mcp import ClientSession

RECORDED_INPUT = {"title": "Found a bug", "body": "It breaks on Tuesdays.", "labels": ["bug"]}
RECORDED_OUTPUT = {"id": "1013", "number": 13, "url": "https://github.com/octocat/hello-world/issues/13"}


@asynccontextmanager
async def stdio_session(project: Path, *args: str, env: dict[str, str] | None = None
                        ) -> AsyncIterator[ClientSession]:
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "harness", "--project", str(project), "mcp", *args],
                                   env={"PYTHONPATH": os.pathsep.join(sys.path), **(env or {})})
    with open(os.devnull, "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session


def run(coro: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(asyncio.wait_for(coro(), timeout=120))


def text_of(result: Any) -> str:
    assert len(result.content) == 1 and result.content[0].type == "text"
    return str(result.content[0].text)


# -- harness mcp: the project's actions ------------------------------------------------------------------


@pytest.mark.slow
def test_actions_over_stdio_list_schema_call_and_errors(example: Path) -> None:
    """Slow: starts `harness mcp` as a subprocess and talks to it with the MCP SDK's client."""
    (exported,) = json.loads(CliRunner().invoke(main, ["--project", str(example), "tools", "--format", "mcp",
                                                       "--json"]).stdout)["tools"]

    async def scenario() -> None:
        async with stdio_session(example) as session:
            listed = await session.list_tools()
            assert [t.name for t in listed.tools] == ["create-issue"]  # the sync is not a tool
            tool = listed.tools[0]
            # What went over the wire is a valid MCP tool object, the same `harness tools --format mcp` exports.
            wire = tool.model_dump(by_alias=True, exclude_none=True)
            schema_file = Path(__file__).parent / "schemas/mcp_tool.schema.json"
            jsonschema.Draft202012Validator(json.loads(schema_file.read_text())).validate(wire)
            assert {k: wire[k] for k in ("name", "description", "inputSchema", "outputSchema")} == exported
            schema = tool.input_schema
            assert schema["type"] == "object" and schema["required"] == ["title"]
            assert schema["properties"]["title"] == {"minLength": 1, "title": "Title", "type": "string"}
            assert set(schema["properties"]) == {"title", "body", "labels"}
            assert tool.output_schema is not None and tool.output_schema["required"] == ["id", "number", "url"]

            ok = await session.call_tool("create-issue", RECORDED_INPUT)  # the SDK checks it against outputSchema
            assert not ok.is_error
            results = json.loads((Path(__file__).parent / "schemas/mcp_call_tool_result.schema.json").read_text())
            # (`resultType` is the SDK's own field of the newest protocol revision, not in that schema.)
            jsonschema.Draft202012Validator(results).validate(
                ok.model_dump(by_alias=True, exclude_none=True, exclude={"result_type"}))
            assert ok.structured_content == RECORDED_OUTPUT
            assert json.loads(text_of(ok)) == RECORDED_OUTPUT

            bad = await session.call_tool("create-issue", {"title": "", "labels": "bug", "priority": 1})
            assert bad.is_error
            jsonschema.Draft202012Validator(results).validate(
                bad.model_dump(by_alias=True, exclude_none=True, exclude={"result_type"}))
            text = text_of(bad)
            assert text.startswith("3 problem(s) in the input of create-issue")
            for line in ("- title: String should have at least 1 character", "- labels: Input should be a valid array",
                         "- priority: Extra inputs are not permitted"):
                assert line in text
            assert [i["path"] for i in bad.structured_content["error"]["issues"]] == ["title", "labels", "priority"]

            missing = await session.call_tool("create-issue", {})
            assert missing.is_error and "- title: Field required" in text_of(missing)

            other = await session.call_tool("create-issue", {"title": "Not recorded"})
            assert other.is_error
            error = json.loads(text_of(other))["error"]
            assert error["type"] == "replay_miss" and error["payload"] == {"differences": ["body differs"]}

            unknown = await session.call_tool("delete-everything", {})
            assert unknown.is_error and "unknown tool 'delete-everything'" in text_of(unknown)

    run(scenario)


@pytest.mark.slow
def test_an_action_error_is_a_tool_error_with_its_payload_and_prints_stay_off_the_wire(example: Path) -> None:
    """Slow: starts `harness mcp` as a subprocess and talks to it with the MCP SDK's client."""
    cassette = example / "cassettes/github/create-issue/default.yaml"
    text = cassette.read_text()
    assert '"number": 13,\n' in text
    cassette.write_text(text.replace('"number": 13,\n', ""))
    # A function that prints must not corrupt the protocol stream on stdout.
    fn = example / "functions/github/actions/create_issue.py"
    fn.write_text(fn.read_text().replace("    meta = await nango.get_metadata()\n",
                                         "    meta = await nango.get_metadata()\n    print('debugging', meta)\n"))
    assert "print(" in fn.read_text()

    async def scenario() -> None:
        async with stdio_session(example) as session:
            res = await session.call_tool("create-issue", RECORDED_INPUT)
            assert res.is_error
            error = json.loads(text_of(res))["error"]
            assert error["type"] == "action_script_runtime_error"
            assert error["payload"]["message"] == "GitHub did not return an issue"
            assert error["payload"]["response"]["id"] == 1013
            assert res.structured_content == {"error": error}

    run(scenario)


LIVE_CONNECTIONS = LIVE_DEMO_CONNECTIONS


@pytest.mark.slow
@pytest.mark.parametrize("allow_writes", [False, True])
def test_live_actions_keep_the_write_guard(example: Path, allow_writes: bool) -> None:
    """Slow: starts `harness mcp --live` as a subprocess (once per parameter) with a fake server."""
    (example / "fixtures/connections.yaml").write_text(LIVE_CONNECTIONS)
    flags = ["--live", "--connection", "demo", *(["--allow-writes"] if allow_writes else [])]
    with FakeGitHub() as gh:
        env = {"GH_URL": gh.base_url, "GH_TOKEN": gh.token}

        async def scenario() -> Any:
            async with stdio_session(example, *flags, env=env) as session:
                return await session.call_tool("create-issue", {"title": "Live one"})

        res = run(scenario)
        sent = [r for r in gh.requests if r.method == "POST"]
    if allow_writes:
        assert not res.is_error, text_of(res)
        assert res.structured_content["url"].endswith(f"/issues/{res.structured_content['number']}")
        assert [r.json()["title"] for r in sent] == ["Live one"]
    else:
        assert res.is_error
        assert json.loads(text_of(res))["error"]["type"] == "write_blocked"
        assert sent == []  # refused before anything was sent


@pytest.mark.slow
def test_actions_over_streamable_http(example: Path) -> None:
    """Slow: starts `harness mcp --http` as a subprocess and waits for its port."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    proc = subprocess.Popen([sys.executable, "-m", "harness", "--project", str(example), "mcp", "--http", "0"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith("serving MCP (streamable HTTP) on http://127.0.0.1:"), line
        url = line.split(" on ", 1)[1].strip()

        async def scenario() -> None:
            async with streamable_http_client(url) as streams, ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                assert [t.name for t in (await session.list_tools()).tools] == ["create-issue"]
                res = await session.call_tool("create-issue", RECORDED_INPUT)
                assert not res.is_error and res.structured_content == RECORDED_OUTPUT

        run(scenario)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_bad_invocations_are_usage_errors(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    for args, message in ((["mcp", "--dev", "--live"], "--live applies only to the action server"),
                          (["mcp", "--allow-writes"], "--allow-writes needs --live"),
                          (["mcp", "--scenario", "../up"], "bad scenario name '../up' in --scenario")):
        res = runner.invoke(main, ["--project", str(example), *args])
        assert res.exit_code == 2 and message in res.stderr, res.output
    monkeypatch.setitem(sys.modules, "mcp", None)  # as if the extra were not installed
    res = runner.invoke(main, ["--project", str(example), "mcp"])
    assert res.exit_code == 2
    assert "the MCP server needs the mcp package (pip install 'integration-harness[mcp]')" in res.stderr


# -- harness mcp --dev: tools for a coding agent ---------------------------------------------------------


@pytest.mark.slow
def test_dev_tools_over_stdio(example: Path) -> None:
    """Slow: starts `harness mcp --dev` as a subprocess and drives every developer tool through it."""
    snapshot = example / "cassettes/github/issues/default.snapshot.json"
    text = snapshot.read_text()
    assert '"title": "Issue 1",' in text
    snapshot.write_text(text.replace('"title": "Issue 1",', '"title": "Old title",'))  # deliberately stale
    # What the CLI prints with --json (run here: the CLI runs functions in an event loop of its own).
    cli_list = json.loads(CliRunner().invoke(main, ["--project", str(example), "list", "--json"]).stdout)
    cli_run = json.loads(CliRunner().invoke(main, ["--project", str(example), "dryrun", "issues", "demo",
                                                   "--json"]).stdout)

    async def scenario() -> None:
        async with stdio_session(example, "--dev") as session:
            names = [t.name for t in (await session.list_tools()).tools]
            assert names == ["list_functions", "dryrun", "record", "run_tests", "explain_replay_miss", "compile",
                             "docs"]

            listed = await session.call_tool("list_functions", {})
            assert not listed.is_error and listed.structured_content == cli_list

            ran = await session.call_tool("dryrun", {"function": "issues"})
            assert not ran.is_error
            doc = ran.structured_content
            assert doc["status"] == "success" and doc["mode"] == "replay"
            assert doc["counts"]["Issue"]["added"] == 12 and len(doc["records"]["Issue"]["saved"]) == 12
            same = dict(cli_run)
            for volatile in (doc, same):
                volatile.pop("timings_ms", None)
                for item in (*volatile["requests"], *volatile["logs"]):
                    item.pop("duration_ms", None)
                    item.pop("at_ms", None)
            assert doc == same  # the JSON `harness dryrun --json` prints

            tests = await session.call_tool("run_tests", {"function": ["issues"], "scenario": ["default"]})
            assert tests.is_error
            report = tests.structured_content
            assert report["passed"] is False and report["counts"] == {"passed": 0, "failed": 1, "error": 0}
            (verdict,) = report["scenarios"]
            assert verdict["id"] == "github/issues[default]" and verdict["status"] == "failed"
            assert "    ~ 1001: title: \"Old title\" -> \"Issue 1\"" in verdict["diff"]
            assert verdict["diff"][0].startswith("  records.Issue: 0 added, 0 removed, 1 changed")
            assert "update=true" in verdict["fix"]

            other = await session.call_tool("run_tests", {"function": ["create-issue"]})
            assert not other.is_error and other.structured_content["counts"]["passed"] == 1

            miss = await session.call_tool("explain_replay_miss",
                                           {"function": "issues", "checkpoint": {"since": "2026-01-05T10:00:00Z"}})
            explained = miss.structured_content
            assert explained["miss"] is True
            assert explained["differences"] == ["query since=2026-01-05T10:00:00Z != recorded (absent)"]
            assert explained["nearest"]["index"] == 0 and explained["nearest"]["status"] == 200
            assert explained["nearest"]["uri"].endswith("/repos/octocat/hello-world/issues?state=all&per_page=5")
            assert "since=2026-01-05T10:00:00Z" in explained["request"]["url"]
            assert any("--record" in step for step in explained["fix"])

            fine = await session.call_tool("explain_replay_miss", {"function": "issues"})
            assert fine.structured_content["miss"] is False

            bad = await session.call_tool("dryrun", {"function": "issues", "mode": "sideways", "typo": 1})
            assert bad.is_error
            paths = [i["path"] for i in bad.structured_content["error"]["issues"]]
            assert paths == ["mode", "typo"]

            unknown = await session.call_tool("dryrun", {"function": "isues"})
            assert unknown.is_error and "did you mean issues" in text_of(unknown)

    run(scenario)
