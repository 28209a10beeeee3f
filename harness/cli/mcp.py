"""`harness mcp`: the project's actions as MCP tools; `harness mcp --dev`: developer tools for coding agents.

The `mcp` SDK (the `[mcp]` extra) is imported only when the command runs, so `harness --help` stays fast.
"""

from __future__ import annotations

import click

from .options import connection_id, project_of


@click.command("mcp")
@click.option("--dev", is_flag=True,
              help="Serve developer tools (list_functions, dryrun, record, run_tests, explain_replay_miss, "
                   "compile, docs) instead of the project's actions.")
@click.option("--http", "http_port", type=click.IntRange(0, 65535), default=None, metavar="PORT",
              help="Serve streamable HTTP on PORT (0: any free port; the URL is printed on stderr) instead of stdio.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on with --http.")
@click.option("--live", is_flag=True, help="Actions: call the real connection instead of replaying the recordings.")
@click.option("--allow-writes", is_flag=True, help="Actions with --live: let calls send non-GET requests.")
@click.option("--connection", default=None, metavar="NAME", callback=connection_id,
              help="Actions: the connection to run with (default: the one each scenario was recorded with).")
@click.option("--scenario", default="default", show_default=True, help="Actions: which recording answers calls.")
@click.option("--integration", default=None, help="Actions: only this integration's actions.")
@click.pass_context
def mcp_cmd(ctx: click.Context, dev: bool, http_port: int | None, host: str, live: bool, allow_writes: bool,
            connection: str | None, scenario: str, integration: str | None) -> None:
    """Serve MCP tools over stdio (or streamable HTTP with --http PORT).

    Without --dev: one tool per action (schemas from its input and output models), answered from the
    recorded scenario, or live with --live (writes refused without --allow-writes). With --dev: tools for a
    coding agent, answering the JSON the CLI prints with --json.
    """
    from ..errors import UsageError

    if dev:
        given = [flag for flag, on in (("--live", live), ("--allow-writes", allow_writes),
                                       ("--connection", connection is not None), ("--scenario", scenario != "default"),
                                       ("--integration", integration is not None)) if on]
        if given:
            verb = "applies" if len(given) == 1 else "apply"
            raise UsageError(f"{', '.join(given)} {verb} only to the action server",
                             hint="with --dev, each tool call says its mode, connection and allow_writes")
    elif allow_writes and not live:
        raise UsageError("--allow-writes needs --live", hint="replays never send anything")
    else:
        from ..names import check_name

        check_name("scenario", scenario, where="--scenario")
    try:
        import mcp  # noqa: F401
    except ImportError:
        raise UsageError("the MCP server needs the mcp package",
                         hint="pip install 'integration-harness[mcp]'") from None
    from ..agents import mcp_server

    project = project_of(ctx)
    if dev:
        from ..agents.mcp_dev import dev_tools, instructions

        server = mcp_server.build_server("harness-dev", dev_tools(project), instructions(project))
    else:
        from ..agents.mcp_actions import ActionServing, action_tools
        from ..agents.mcp_actions import instructions as action_instructions
        from ..loader import load_catalog

        serving = ActionServing(live=live, allow_writes=allow_writes, connection=connection, scenario=scenario)
        catalog = load_catalog(project.functions_dir)
        for problem in catalog.problems:
            click.echo(f"warning: skipped {problem}", err=True)
        tools = action_tools(project, catalog, serving, integration)
        if not tools:
            click.echo("warning: the project has no actions: the server offers no tools", err=True)
        server = mcp_server.build_server("harness", tools, action_instructions(project, serving))
    if http_port is not None:
        mcp_server.serve_http(server, host, http_port)
    else:
        mcp_server.serve_stdio(server)
