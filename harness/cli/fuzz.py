"""`harness fuzz FUNCTION CONNECTION`: an action's inputs generated from its model by hypothesis."""

from __future__ import annotations

import json
import sys

import click

from .options import connection_id, mode_flags, project_of


@click.command()
@click.argument("function")
@click.argument("connection", callback=connection_id)
@mode_flags("live", help={"live": "Call the provider for every input (needs --allow-writes for writes)."})
@click.option("--allow-writes", is_flag=True)
@click.option("--scenario", default="default", show_default=True,
              help="The recording whose answers the fuzzed requests get (closest request wins).")
@click.option("--integration", default=None)
@click.option("--examples", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Hypothesis seed (runs are reproducible).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def fuzz(ctx: click.Context, function: str, connection: str, mode: str | None, allow_writes: bool, scenario: str,
         integration: str | None, examples: int, seed: int, as_json: bool) -> None:
    """Fuzz an action's input: it must return a valid output or raise ActionError, never crash."""
    from ..errors import EXIT_FAILED
    from ..fuzz import fuzz_request
    from ..pipeline import RunRequest

    report = fuzz_request(RunRequest(function=function, connection_id=connection, integration=integration,
                                     mode=mode, scenario=scenario, allow_writes=allow_writes,
                                     project=project_of(ctx)), examples=examples, seed=seed)
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(connection), indent=2, ensure_ascii=False) + "\n")
    else:
        outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(report.outcomes.items()))
        click.echo(f"{report.function}: {report.examples} input(s) ({outcomes})")
        if not report.ok:
            click.echo(click.style(f"crash: {report.failure}", fg="red"))
            click.echo(f"reproduce: {report.dryrun_command(connection)}")
    if not report.ok:
        click.echo(f"error: {report.function} crashed on a generated input (the report shows it and the command "
                   "that reproduces it)", err=True)
        ctx.exit(EXIT_FAILED)
