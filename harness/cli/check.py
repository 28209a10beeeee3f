"""`harness check FUNCTION CONNECTION`: a sync's invariants (resume, idempotence, checkpoint pitfalls)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..reports.cli import RunCollector, check_target, html_option, write_runs
from .options import connection_id, mode_flags, project_of


@click.command()
@click.argument("function")
@click.argument("connection", callback=connection_id)
@mode_flags("live", "replay", help={"live": "Run against the provider (read-only GETs; the default).",
                                    "replay": "Run from the recording (resumed runs need their requests recorded)."})
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
    from ..errors import EXIT_FAILED
    from ..invariants import check_request
    from ..pipeline import RunRequest
    from .failures import relativize

    check_target(html)
    project = project_of(ctx)
    runs = RunCollector()  # --html: every run the checks make, on one page
    report = check_request(RunRequest(function=function, connection_id=connection, integration=integration,
                                      mode=mode or "live", project=project), max_points=points,
                           wrap=runs.wrap)
    write_runs(ctx, html, runs.runs, report.to_json(), runs.labels)
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        for finding in report.findings:
            mark = click.style("ok  ", fg="green") if finding.ok else click.style("FAIL", fg="red")
            click.echo(f"{mark} {finding.check:<10} {relativize(finding.message, project.root)}")
            if not finding.ok and finding.details.get("differences"):
                click.echo(f"     {json.dumps(finding.details['differences'])}")
    if not report.ok:
        failed = [f.check for f in report.findings if not f.ok]
        click.echo(f"error: {report.function}: {len(failed)} check(s) failed ({', '.join(dict.fromkeys(failed))})",
                   err=True)
        ctx.exit(EXIT_FAILED)
