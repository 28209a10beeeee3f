"""harness tools: every export validates against its format's schema; tool calls return what an agent reads."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

from harness.cli import main
from tests.fakes.template_servers import SLACK_TOKEN, FakeSlack

SCHEMAS = Path(__file__).parent / "schemas"


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def _schema(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "agents"
    assert invoke("init", str(root), "--template", "github-create-issue").exit_code == 0
    assert invoke("--project", str(root), "clone", "slack-post-message").exit_code == 0
    assert invoke("--project", str(root), "clone", "slack-channels").exit_code == 0  # a sync: not a tool
    return root


@pytest.mark.parametrize(("fmt", "schema"), [("openai", "openai_tool.schema.json"),
                                             ("anthropic", "anthropic_tool.schema.json"),
                                             ("mcp", "mcp_tool.schema.json")])
def test_export_validates_against_the_format_schema(project: Path, fmt: str, schema: str) -> None:
    res = invoke("--project", str(project), "tools", "--format", fmt, "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    tools = doc["tools"] if fmt == "mcp" else doc
    validator = _schema(schema)
    assert len(tools) == 2
    for tool in tools:
        validator.validate(tool)
    by_name = {(t["function"]["name"] if fmt == "openai" else t["name"]): t for t in tools}
    assert set(by_name) == {"create-issue", "post-message"}
    post = by_name["post-message"]
    params = {"openai": lambda t: t["function"]["parameters"], "anthropic": lambda t: t["input_schema"],
              "mcp": lambda t: t["inputSchema"]}[fmt](post)
    assert params["required"] == ["channel", "text"]
    assert params["properties"]["text"]["maxLength"] == 4000
    assert params["properties"]["channel"]["description"] == "Channel id, e.g. C0123456."
    # the input schema validates what the action accepts and rejects what it refuses
    jsonschema.Draft202012Validator(params).validate({"channel": "C1", "text": "hi"})
    assert not jsonschema.Draft202012Validator(params).is_valid({"channel": "C1"})
    if fmt == "mcp":
        assert post["outputSchema"]["required"] == ["channel", "ts"]
    # a tool that breaks the shape is caught: the schema is not vacuous
    bad = json.loads(json.dumps(tools[0]))
    bad.pop("function" if fmt == "openai" else "inputSchema" if fmt == "mcp" else "input_schema")
    assert not validator.is_valid(bad)


def test_tools_call_replays_and_prints_the_tool_result(project: Path) -> None:
    args = '{"channel": "C00000001", "text": "Deploy finished :rocket:"}'
    res = invoke("--project", str(project), "tools", "call", "post-message", "slack-demo", "--input", args)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    _schema("mcp_call_tool_result.schema.json").validate(doc)
    assert doc["isError"] is False and json.loads(doc["content"][0]["text"]) == doc["structuredContent"]
    assert doc["structuredContent"] == {"channel": "C00000001", "ts": "1767225600.000100"}
    res = invoke("--project", str(project), "tools", "call", "post-message", "slack-demo", "--input", args,
                 "--format", "openai", "--call-id", "call_1")
    assert json.loads(res.stdout) == {"role": "tool", "tool_call_id": "call_1",
                                      "content": json.dumps(doc["structuredContent"], indent=2)}
    res = invoke("--project", str(project), "tools", "call", "post-mesage", "slack-demo")
    assert res.exit_code == 2 and "unknown tool 'post-mesage'" in res.stderr


def test_tools_call_live_returns_an_action_error_as_a_tool_error(project: Path) -> None:
    with FakeSlack() as slack:
        conns = project / "fixtures" / "connections.yaml"
        conns.write_text(conns.read_text() + f"  slack-local:\n    integration: slack\n    provider: slack\n"
                         f"    base_url: {slack.base_url}\n    credentials:\n      type: OAUTH2\n"
                         "      access_token: ${SLACK_TOKEN}\n")
        res = invoke("--project", str(project), "tools", "call", "post-message", "slack-local", "--live",
                     "--allow-writes", "--input", '{"channel": "C999", "text": "hello"}', "--format", "anthropic",
                     env={"SLACK_TOKEN": SLACK_TOKEN})
        assert res.exit_code == 1, res.output
        doc = json.loads(res.stdout)
        assert doc["type"] == "tool_result" and doc["is_error"] is True
        error = json.loads(doc["content"])["error"]
        assert error["type"] == "action_script_runtime_error" and error["payload"]["error"] == "channel_not_found"
        assert [r.path for r in slack.requests] == ["/chat.postMessage"]
        # invalid arguments are a tool error too, before any request
        res = invoke("--project", str(project), "tools", "call", "post-message", "slack-local", "--live",
                     "--allow-writes", "--input", '{"channel": "C00000001", "text": ""}',
                     env={"SLACK_TOKEN": SLACK_TOKEN})
        assert res.exit_code == 1 and json.loads(res.stdout)["isError"] is True
        assert len(slack.requests) == 1
