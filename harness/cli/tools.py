"""`harness tools`: actions as tool definitions for LLM agents; `harness tools call` runs one as an agent would."""

from __future__ import annotations

import json
import sys

import click

from .options import connection_id, json_arg, mode_flags, project_of

_FORMAT = click.Choice(["openai", "anthropic", "mcp"])


@click.group("tools", invoke_without_command=True)
@click.option("--format", "fmt", type=_FORMAT, default="openai", show_default=True, help="Tool definition shape.")
@click.option("--integration", default=None, help="Only the actions of this integration.")
@click.option("--json", "as_json", is_flag=True, help="Print the definitions as JSON (what an agent is given).")
@click.pass_context
def tools(ctx: click.Context, fmt: str, integration: str | None, as_json: bool) -> None:
    """Export the project's actions as tools (OpenAI function calling, Anthropic tool use, MCP)."""
    if ctx.invoked_subcommand is not None:
        return
    from ..agents.tools import collect_tools, export
    from ..loader import load_catalog

    project = project_of(ctx)
    catalog = load_catalog(project.functions_dir)
    for problem in catalog.problems:
        click.echo(f"warning: skipped {problem}", err=True)
    found = collect_tools(catalog, integration)
    if as_json:
        sys.stdout.write(json.dumps(export(found, fmt), indent=2, ensure_ascii=False) + "\n")  # type: ignore[arg-type]
        return
    if not found:
        click.echo("no actions found")
    for t in found:
        params = ", ".join(t.input_schema.get("properties", {})) or "no parameters"
        click.echo(f"{t.name:<28} ({params})  {t.description.splitlines()[0] if t.description else ''}")


@tools.command("call")
@click.argument("name")
@click.argument("connection", callback=connection_id)
@click.option("-i", "--input", "input_", default="{}", metavar="JSON|@FILE", help="The tool's arguments.")
@mode_flags("live", "replay", help={"live": "Call the provider.", "replay": "Answer from the scenario's cassette."})
@click.option("--scenario", default="default", show_default=True)
@click.option("--allow-writes", is_flag=True, help="Let a live call send non-GET requests.")
@click.option("--format", "fmt", type=_FORMAT, default="mcp", show_default=True, help="Tool result shape.")
@click.option("--call-id", default="call_harness", show_default=True, help="The tool call id to answer.")
@click.pass_context
def call(ctx: click.Context, name: str, connection: str, input_: str, mode: str | None, scenario: str,
         allow_writes: bool, fmt: str, call_id: str) -> None:
    """Run the tool NAME for CONNECTION with --input and print the tool result an agent would receive."""
    from ..agents.tools import collect_tools, tool_result
    from ..errors import NotFoundError
    from ..loader import load_catalog
    from ..pipeline import RunRequest, run_request

    project = project_of(ctx)
    catalog = load_catalog(project.functions_dir)
    by_name = {t.name: t for t in collect_tools(catalog)}
    tool = by_name.get(name)
    if tool is None:
        raise NotFoundError(f"unknown tool {name!r}", hint="known tools: " + (", ".join(sorted(by_name)) or "none"))
    arguments = json_arg("--input", input_)
    d = tool.definition
    result = run_request(RunRequest(function=d.name, integration=d.integration, connection_id=connection,
                                    mode=mode, scenario=scenario, input=arguments if d.input is not None else None,
                                    allow_writes=allow_writes, project=project))
    sys.stdout.write(json.dumps(tool_result(result, fmt, call_id), indent=2, ensure_ascii=False) + "\n")  # type: ignore[arg-type]
    if not result.ok:
        from .failures import one_line
        from .render import error_line

        if result.error is not None:
            click.echo(one_line(*error_line(result), root=project.root), err=True)
        ctx.exit(result.error.exit_code if result.error is not None else 1)
