"""`harness webhook` (a sync's webhook handler) and `harness event` (connection-event functions).

Both are dry runs: same modes (`--live`, `--replay`, `--record`), scenarios and output as `harness dryrun`.
`harness event` runs every function of the event, each to the end, and `--json` prints them as one document.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..reports.cli import html_option
from .dryrun import dryrun
from .options import connection_id, mode_flags, project_of


@click.command()
@click.argument("function")
@click.argument("connection", callback=connection_id)
@click.option("--payload", required=True, metavar="JSON|@FILE", help="The provider's webhook body.")
@mode_flags("live", "replay", "record", help={"replay": "Answer from the recording.",
                                             "record": "Call the provider and save a cassette."})
@click.option("--scenario", default="webhook", show_default=True, help="Which recording of the handler.")
@click.option("--integration", default=None, help="The integration, when several have a sync of this name.")
@click.option("--allow-writes", is_flag=True, help="Let a live run send non-GET requests.")
@click.option("--lenient", is_flag=True, help="Report invalid data as warnings instead of failing.")
@click.option("--persist", is_flag=True, help="Keep the records in .harness/records.sqlite.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@html_option
@click.pass_context
def webhook(ctx: click.Context, function: str, connection: str, payload: str, mode: str | None, scenario: str,
            integration: str | None, allow_writes: bool, lenient: bool, persist: bool, as_json: bool,
            html: Path | None) -> None:
    """Run the webhook handler of sync FUNCTION for CONNECTION with a payload."""
    ctx.invoke(dryrun, function=function, connection=connection, payload=payload, mode=mode, scenario=scenario,
               integration=integration, allow_writes=allow_writes, lenient=lenient, persist=persist,
               as_json=as_json, html=html)


@click.command()
@click.argument("event", type=click.Choice(["post-connection-creation", "pre-connection-deletion",
                                            "validate-connection"]))
@click.argument("connection", callback=connection_id)
@mode_flags("live", "replay", "record", help={"replay": "Answer from the recording.",
                                             "record": "Call the provider and save a cassette."})
@click.option("--scenario", default="default", show_default=True)
@click.option("--integration", default=None, help="Only this integration's event functions.")
@click.option("--allow-writes", is_flag=True, help="Let a live run send non-GET requests.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON document on stdout: {event, connection, results: [one RunResult per function]}.")
@html_option
@click.pass_context
def event(ctx: click.Context, event: str, connection: str, mode: str | None, scenario: str,
          integration: str | None, allow_writes: bool, as_json: bool, html: Path | None) -> None:
    """Run every EVENT function of CONNECTION's integration (as Nango does when the event happens)."""
    from ..connections.file import read_connections
    from ..definitions import EventDefinition
    from ..errors import NotFoundError
    from ..loader import load_catalog

    project = project_of(ctx)
    if integration is None:
        known = read_connections(project.connections_file, project.root)
        if connection in known:
            integration = known[connection].integration
    catalog = load_catalog(project.functions_dir)
    targets = [d for d in catalog.definitions if isinstance(d, EventDefinition) and d.event == event
               and (integration is None or d.integration == integration)]
    if not targets:
        where = f" in integration {integration!r}" if integration else ""
        raise NotFoundError(f"no {event} function{where}",
                            hint="declare one with @on_event(...) in functions/<integration>/on_events/")
    from ..pipeline import RunRequest, execute, prepare
    from ..reports.cli import check_target, write_runs
    from .failures import one_line
    from .render import error_line, render_result

    check_target(html)
    results = []
    for definition in targets:
        req = RunRequest(function=definition.name, integration=definition.integration, connection_id=connection,
                         mode=mode, scenario=scenario, allow_writes=allow_writes, project=project)
        prepared = prepare(req)
        if mode is None and prepared.mode == "live":
            click.echo(f"no recording at {project.relative(prepared.cassette_path)}; running live", err=True)
        result = execute(req, prepared).result
        results.append(result)
        if not as_json:
            render_result(result, with_error=False)
        if not result.ok and result.error is not None:
            what, hint = error_line(result)
            click.echo(one_line(f"{definition.qualified_name}: {what}", hint, root=project.root), err=True)
    if as_json:
        doc = {"event": event, "connection": connection, "results": [r.to_json() for r in results]}
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    write_runs(ctx, html, results)  # --html: every function of the event on one page
    failed = [r for r in results if not r.ok]
    if failed:
        ctx.exit(failed[0].error.exit_code if failed[0].error is not None else 1)
