"""Actions as tool definitions for LLM agents, and their results as an agent receives them.

One tool per action: the name is the action's name (`<integration>-<name>` when two integrations share
it), the description the action's, the parameters the input model's JSON Schema (an action without input
takes an empty object), and the output model's schema where the format has a place for it (MCP's
`outputSchema`). As in Nango's tool export, description lines of the form `- field: text` describe input
fields that have no description of their own.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import TypeAdapter

from ..definitions import ActionDefinition
from ..loader import Catalog
from ..result import RunResult

Format = Literal["openai", "anthropic", "mcp"]
FORMATS: tuple[Format, ...] = ("openai", "anthropic", "mcp")
_FIELD_LINE = re.compile(r"^\s*-\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.+?)\s*$")


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    definition: ActionDefinition


def object_schema(tp: Any) -> dict[str, Any]:
    """The JSON Schema of a tool's arguments: an object (an empty one for None), without a top-level title."""
    if tp is None:
        return {"type": "object", "properties": {}, "additionalProperties": False}
    schema = TypeAdapter(tp).json_schema()
    schema.pop("title", None)
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    return schema


def _with_field_descriptions(schema: dict[str, Any], description: str) -> dict[str, Any]:
    out = copy.deepcopy(schema)
    for line in description.splitlines():
        m = _FIELD_LINE.match(line)
        if m and m.group(1) in out.get("properties", {}):
            out["properties"][m.group(1)].setdefault("description", m.group(2))
    return out


def collect_tools(catalog: Catalog, integration: str | None = None) -> list[Tool]:
    actions = [d for d in catalog.definitions if isinstance(d, ActionDefinition)
               and (integration is None or d.integration == integration)]
    counts: dict[str, int] = {}
    for d in actions:
        counts[d.name] = counts.get(d.name, 0) + 1
    tools = []
    for d in sorted(actions, key=lambda d: (d.name, d.integration)):
        name = d.name if counts[d.name] == 1 else f"{d.integration}-{d.name}"
        description = d.description or f"Run the {d.name} action of {d.integration}"
        output: dict[str, Any] | None = None
        if d.output is not None:
            output = TypeAdapter(d.output).json_schema()
        tools.append(Tool(name[:64], description, _with_field_descriptions(object_schema(d.input), description),
                          output, d))
    return tools


def tool_definition(tool: Tool, fmt: Format) -> dict[str, Any]:
    if fmt == "openai":
        return {"type": "function",
                "function": {"name": tool.name, "description": tool.description, "parameters": tool.input_schema}}
    if fmt == "anthropic":
        return {"name": tool.name, "description": tool.description, "input_schema": tool.input_schema}
    out: dict[str, Any] = {"name": tool.name, "description": tool.description, "inputSchema": tool.input_schema}
    if tool.output_schema is not None and tool.output_schema.get("type") == "object":
        out["outputSchema"] = tool.output_schema  # MCP requires an object schema here
    return out


def export(tools: list[Tool], fmt: Format) -> Any:
    """OpenAI and Anthropic: the `tools` list of a request; MCP: the result of `tools/list`."""
    defs = [tool_definition(t, fmt) for t in tools]
    return {"tools": defs} if fmt == "mcp" else defs


def result_text(result: RunResult) -> tuple[str, bool]:
    """The text an agent reads (JSON, indented as MCP servers send it) and whether it is an error."""
    if result.ok:
        return json.dumps(result.output, indent=2, ensure_ascii=False), False
    error: dict[str, Any] = {"type": result.error.type if result.error else result.status,
                             "message": result.error.message if result.error else "invalid data"}
    if result.error is not None and result.error.payload is not None:
        error["payload"] = result.error.payload
    if result.errors:
        error["issues"] = [str(i) for i in result.errors]
    return json.dumps({"error": error}, indent=2, ensure_ascii=False), True


def tool_result(result: RunResult, fmt: Format, call_id: str) -> dict[str, Any]:
    """The tool-result message of each format, carrying `result_text`."""
    text, is_error = result_text(result)
    if fmt == "openai":
        return {"role": "tool", "tool_call_id": call_id, "content": text}
    if fmt == "anthropic":
        return {"type": "tool_result", "tool_use_id": call_id, "content": text, "is_error": is_error}
    out: dict[str, Any] = {"content": [{"type": "text", "text": text}], "isError": is_error}
    if not is_error and isinstance(result.output, dict):
        out["structuredContent"] = result.output
    return out
