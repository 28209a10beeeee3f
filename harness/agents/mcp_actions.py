"""The project's actions as MCP tools (`harness mcp`): definitions from `agents.tools`, calls through the pipeline.

Each action is one tool, named, described and typed exactly as `harness tools --format mcp` exports it. A
call validates its arguments against the input model first (strictly, as a dry run does: every problem is
listed), then runs the action through `pipeline.execute`: by default as a replay of the action's scenario
cassette (no network, no credentials), with `live=True` against the real connection, where non-GET
requests are refused unless `allow_writes`. The connection is `connection` when given, else the one the
scenario's cassette was recorded with. A successful run answers the output (text and structured content);
an `ActionError`, a provider error or a replay miss is a tool error whose text is
`{"error": {type, message, payload?, issues?}}`, as `harness tools call` prints it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..cassettes.format import load_cassette
from ..definitions import ActionDefinition
from ..errors import CassetteError, UsageError
from ..loader import Catalog
from ..project import Project
from .tools import Tool, collect_tools, result_text
from .toolspec import Answer, ToolSpec, error_answer


@dataclass(frozen=True)
class ActionServing:
    """How `harness mcp` answers action calls."""

    live: bool = False
    allow_writes: bool = False
    connection: str | None = None
    scenario: str = "default"


def recorded_connection(project: Project, definition: ActionDefinition, scenario: str) -> str | None:
    """The connection id the scenario's cassette was recorded with (None when there is no cassette)."""
    path = project.cassette_path(definition.integration, definition.name, scenario)
    if not path.is_file():
        return None
    stored = load_cassette(path).context.get("connection") or {}
    value = stored.get("connection_id")
    return str(value) if value else None


def _input_problems(definition: ActionDefinition, arguments: dict[str, Any]) -> list[dict[str, Any]]:
    from ..validation import check_value

    if definition.input is None:
        return [{"path": name, "message": "this action takes no arguments"} for name in arguments]
    _, issues = check_value(arguments, definition.input, "input", strict=True)
    return [{"path": i.path or "", "message": i.message, "model": i.model} for i in issues if i.severity == "error"]


def run_action(project: Project, tool: Tool, arguments: dict[str, Any], serving: ActionServing) -> Answer:
    """One tool call: validate, run (replay or live), and answer as an agent reads it."""
    from ..pipeline import RunRequest, execute

    definition = tool.definition
    problems = _input_problems(definition, arguments)
    if problems:
        return error_answer("invalid_input", f"{len(problems)} problem(s) in the input of {tool.name}",
                            issues=problems)
    connection = serving.connection or recorded_connection(project, definition, serving.scenario)
    if connection is None:
        where = project.relative(project.cassette_path(definition.integration, definition.name, serving.scenario))
        if serving.live:
            raise UsageError(f"{tool.name}: no connection to call it with",
                             hint=f"start the server with --connection NAME (there is no recording at {where})")
        raise CassetteError(f"{tool.name}: no recording at {where} to answer from",
                            hint="record one with `harness dryrun ... --record`, or serve with --live")
    req = RunRequest(function=definition.name, integration=definition.integration, connection_id=connection,
                     mode="live" if serving.live else "replay", scenario=serving.scenario,
                     input=arguments if definition.input is not None else None,
                     allow_writes=serving.allow_writes, project=project)
    result = execute(req).result
    text, is_error = result_text(result)
    if is_error:
        return Answer(json.loads(text), is_error=True, text=text)
    return Answer(result.output, text=text)


def action_tools(project: Project, catalog: Catalog, serving: ActionServing,
                 integration: str | None = None) -> list[ToolSpec]:
    specs = []
    for tool in collect_tools(catalog, integration):
        output = tool.output_schema if tool.output_schema and tool.output_schema.get("type") == "object" else None

        def handler(arguments: dict[str, Any], tool: Tool = tool) -> Answer:
            return run_action(project, tool, arguments, serving)

        specs.append(ToolSpec(tool.name, tool.description, tool.input_schema, output, handler))
    return specs


def instructions(project: Project, serving: ActionServing) -> str:
    how = ("live, against the real connection" + ("" if serving.allow_writes else " (read-only: writes are refused)")
           if serving.live else f"from the recorded `{serving.scenario}` scenario of each action (no network)")
    return (f"The actions of the harness project at {project.root} as tools. Calls are answered {how}. "
            "A tool error's text is {\"error\": {type, message, payload?, issues?}}.")
