"""`harness check` (sync invariants) and `harness fuzz` (action inputs from hypothesis)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..reports.cli import RunCollector, check_target, html_option, write_runs
from .options import project_of


@click.command()
@click.argument("function")
@click.argument("connection")
@click.option("--live", "mode", flag_value="live", help="Run against the provider (read-only GETs).")
@click.option("--replay", "mode", flag_value="replay",
              help="Run from the recording (resumed runs need their requests recorded).")
@click.option("--integration", default=None)
@click.option("--points", type=click.IntRange(min=1), default=20, show_default=True,
              help="At most this many interruption points (spread over the run's checkpoints).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@html_option
@click.pass_context
def check(ctx: click.Context, function: str, connection: str, mode: str | None, integration: str | None,
          points: int, as_json: bool, html: Path | None) -> None:
    """Check a sync's invariants: resuming from any checkpoint reaches the same records; a second run from
    the final checkpoint adds nothing; Nango's checkpoint pitfalls."""
    from ..definitions import SyncDefinition
    from ..errors import EXIT_FAILED, UsageError
    from ..invariants import check_sync
    from ..result import RunResult
    from ..session import DryRun, execute, prepare

    base = DryRun(function=function, connection_id=connection, integration=integration, mode=mode or "live",
                  project=project_of(ctx))
    prepared = prepare(base)
    if not isinstance(prepared.definition, SyncDefinition):
        raise UsageError(f"{prepared.definition.qualified_name} is a {prepared.definition.type}; "
                         "`harness check` checks syncs", hint="fuzz actions with `harness fuzz`")

    def run(**overrides: Any) -> RunResult:
        req = DryRun(**{**vars(base), **overrides})
        return execute(req, prepared)

    check_target(html)
    runs = RunCollector()  # --html: every run the checks make, on one page
    report = check_sync(prepared.definition, runs.wrap(run), max_points=points)
    write_runs(ctx, html, runs.runs, report.to_json(), runs.labels)
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        for finding in report.findings:
            mark = click.style("ok  ", fg="green") if finding.ok else click.style("FAIL", fg="red")
            click.echo(f"{mark} {finding.check:<10} {finding.message}")
            if not finding.ok and finding.details.get("differences"):
                click.echo(f"     {json.dumps(finding.details['differences'])}")
    if not report.ok:
        ctx.exit(EXIT_FAILED)


@click.command()
@click.argument("function")
@click.argument("connection")
@click.option("--live", "mode", flag_value="live", help="Call the provider for every input (needs --allow-writes "
              "for writes).")
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
    from ..definitions import ActionDefinition
    from ..errors import EXIT_FAILED, UsageError
    from ..fuzz import fuzz_action
    from ..session import LOOSE, DryRun, execute, prepare

    base = DryRun(function=function, connection_id=connection, integration=integration, mode=mode or LOOSE,
                  scenario=scenario, allow_writes=allow_writes, project=project_of(ctx))
    prepared = prepare(base)
    definition = prepared.definition
    if not isinstance(definition, ActionDefinition):
        raise UsageError(f"{definition.qualified_name} is a {definition.type}; `harness fuzz` fuzzes actions")
    if prepared.mode == LOOSE and not prepared.cassette_path.is_file():
        raise UsageError(f"no recording at {prepared.project.relative(prepared.cassette_path)} to answer the "
                         "fuzzed requests", hint="record one with `harness dryrun --record`, or pass --live")
    report = fuzz_action(definition.qualified_name, definition.input,
                         lambda value: execute(DryRun(**{**vars(base), "input": value}), prepared),
                         examples=examples, seed=seed)
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(connection), indent=2, ensure_ascii=False) + "\n")
    else:
        outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(report.outcomes.items()))
        click.echo(f"{definition.qualified_name}: {report.examples} input(s) ({outcomes})")
        if not report.ok:
            click.echo(click.style(f"crash: {report.failure}", fg="red"))
            click.echo(f"reproduce: {report.dryrun_command(connection)}")
    if not report.ok:
        ctx.exit(EXIT_FAILED)
