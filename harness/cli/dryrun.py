"""`harness dryrun FUNCTION CONNECTION`: run one function once and show everything it did."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..ci import under_ci
from ..reports.cli import check_target, html_option, write_runs
from .options import connection_id, json_arg, json_object_arg, mode_flags, project_of

if TYPE_CHECKING:
    from datetime import datetime


def _date(flag: str, value: str | None) -> datetime | None:
    """A date as Nango's `new Date(...)` takes the common forms: ISO 8601 dates and times (Z allowed)."""
    if value is None:
        return None
    from datetime import UTC, datetime

    from ..errors import UsageError

    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{flag}: cannot read {value!r} as a date",
                         hint="write e.g. 2026-01-31 or 2026-01-31T12:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@click.command()
@click.argument("function")
@click.argument("connection", callback=connection_id)
@mode_flags("live", "replay", "record", aliases={"record": ("--save", "--save-responses")},
            help={"record": "Call the provider and save the exchanges as the scenario's cassette (secrets "
                            "scrubbed); --save is Nango's name for it."})
@click.option("--record-mode", type=click.Choice(["none", "once", "new_episodes", "all"]), default=None,
              help="vcrpy's record modes (--record alone is `all`; under CI the default is `none`).")
@click.option("--record-on-failure", is_flag=True, help="Save the cassette even when the run fails.")
@click.option("--strict", "fail_unplayed", is_flag=True,
              help="Fail (exit 3) when a replay leaves recorded interactions unused.")
@click.option("--scenario", default="default", show_default=True, help="Which recording of the function.")
@click.option("--run", "run_number", type=click.IntRange(min=1), default=1, show_default=True,
              help="Run N of a multi-run scenario: runs 1..N-1 are replayed first, on the same store.")
@click.option("--integration", "--integration-id", default=None,
              help="The integration, when several have a function of this name (--integration-id: Nango's name).")
@click.option("-i", "--input", "input_", default=None, metavar="JSON|@FILE", help="Action input.")
@click.option("-m", "--metadata", default=None, metavar="JSON|@FILE", help="Connection metadata for this run.")
@click.option("-c", "--checkpoint", default=None, metavar="JSON|@FILE", help="Starting checkpoint.")
@click.option("--payload", default=None, metavar="JSON|@FILE", help="Webhook payload: runs the sync's webhook handler.")
@click.option("--lenient", is_flag=True, help="Report invalid data as warnings instead of failing.")
@click.option("--validate", "--validation", "validate", is_flag=True,
              help="Fail on invalid data (the default; accepted for Nango's CLI).")
@click.option("-e", "--environment", default=None, metavar="ENV",
              help="Nango environment: the secret key is read from NANGO_SECRET_KEY_<ENV>.")
@click.option("--variant", default="base", show_default=True, help="The sync variant (sets nango.variant).")
@click.option("-l", "--last-sync-date", "--lastSyncDate", "last_sync_date", default=None, metavar="DATE",
              help="Sets nango.last_sync_date (an ISO 8601 date or time; legacy: checkpoints replace it).")
@click.option("--auto-confirm", is_flag=True, help="Accepted for Nango's CLI: harness never prompts.")
@click.option("--allow-writes", is_flag=True, help="Let a live run send non-GET requests.")
@click.option("--max-pages", type=click.IntRange(min=1), default=None, help="Stop paginating after N pages.")
@click.option("--max-records", type=click.IntRange(min=1), default=None, help="Stop after N saved records.")
@click.option("--source", type=click.Choice(["file", "nango"]), default=None,
              help="Where the connection comes from (default: the connections file, else Nango when "
                   "NANGO_SECRET_KEY is set).")
@click.option("--via-nango-proxy", is_flag=True, help="Send the provider calls through Nango's /proxy.")
@click.option("--persist-metadata", is_flag=True,
              help="Write the run's metadata changes back to the connection source (live runs).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SECONDS",
              help="Timeout of each provider request (default 30).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--show", type=click.IntRange(min=0), default=20, show_default=True,
              help="Records shown per model in the readable output.")
@click.option("--persist", is_flag=True,
              help="Keep the records, checkpoint and metadata of a live run in .harness/records.sqlite.")
@click.option("--fault", "faults", multiple=True, metavar="SPEC",
              help="Inject a fault: 429@3, 503x2@1, timeout@/repos/*, reset@2 (repeatable).")
@click.option("--webhook-url", default=None, metavar="URL",
              help="After the run, POST Nango-shaped sync webhooks here, signed with $NANGO_WEBHOOK_SIGNING_KEY.")
@html_option
@click.option("--otel", is_flag=True,
              help="Export the run's OpenTelemetry spans (OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, else stderr; "
                   "needs the [serve] extra).")
@click.pass_context
def dryrun(ctx: click.Context, function: str, connection: str, mode: str | None, record_mode: str | None,
           record_on_failure: bool, fail_unplayed: bool, scenario: str,
           integration: str | None, input_: str | None, metadata: str | None, checkpoint: str | None,
           payload: str | None, lenient: bool, allow_writes: bool, max_pages: int | None,
           max_records: int | None, source: str | None, via_nango_proxy: bool, persist_metadata: bool,
           timeout: float | None, as_json: bool, show: int, persist: bool, faults: tuple[str, ...],
           webhook_url: str | None, run_number: int, validate: bool, environment: str | None, variant: str,
           last_sync_date: str | None, auto_confirm: bool, html: Path | None, otel: bool) -> None:
    """Run FUNCTION (a sync, action or event function) for CONNECTION.

    Replays the scenario's recording when there is one, else runs live; --live, --replay and --record
    choose explicitly.
    """
    from ..errors import UsageError
    from ..pipeline import UNSET, RunRequest, execute, prepare

    if validate and lenient:
        raise UsageError("--validate and --lenient contradict each other", hint="pass one of them")
    req = RunRequest(
        function=function, connection_id=connection, integration=integration, mode=mode, scenario=scenario,
        input=json_arg("--input", input_) if input_ is not None else UNSET,
        metadata=json_object_arg("--metadata", metadata) if metadata is not None else UNSET,
        checkpoint=json_object_arg("--checkpoint", checkpoint, allow_null=True) if checkpoint is not None else UNSET,
        payload=json_arg("--payload", payload) if payload is not None else UNSET,
        strict=not lenient, allow_writes=allow_writes, max_pages=max_pages, max_records=max_records,
        project=project_of(ctx), source=source, via_nango_proxy=via_nango_proxy,
        persist_metadata=persist_metadata, timeout=timeout, persist=persist, faults=list(faults) or None,
        run=run_number, record_mode=record_mode, record_on_failure=record_on_failure, fail_unplayed=fail_unplayed,
        environment=environment, variant=variant, last_sync_date=_date("--last-sync-date", last_sync_date),
        fail_unfired=fail_unplayed or under_ci(),
    )
    if webhook_url:
        from .send_webhooks import signing_key

        signing_key()  # fail before running, not after
    check_target(html)
    prepared = prepare(req)
    from .combos import refuse_meaningless

    refuse_meaningless(prepared.mode, prepared.definition.type, persist=persist, persist_metadata=persist_metadata,
                       via_nango_proxy=via_nango_proxy, record_on_failure=record_on_failure,
                       fail_unplayed=fail_unplayed, input_given=input_ is not None, source=source,
                       environment=environment,
                       cassette=prepared.project.relative(prepared.cassette_path))
    for problem in prepared.catalog.problems:
        click.echo(f"warning: skipped {problem}", err=True)
    if req.mode is None and prepared.mode == "live":
        click.echo(f"no recording at {prepared.project.relative(prepared.cassette_path)}; running live",
                   err=True)
    from .progress import live_progress

    label = f"{prepared.mode} {prepared.definition.qualified_name}"
    with live_progress(label, prepared.mode in ("live", "record")) as progress:
        req.progress = progress
        import time

        started = time.time()  # taken outside the replay's frozen clock, for the spans
        outcome = execute(req, prepared)
    result = outcome.result
    if outcome.previous or run_number > 1:
        done = ", ".join(f"run {i + 1}: {r.status}" for i, r in enumerate(outcome.previous))
        click.echo(f"replayed the earlier runs first ({done})", err=True)
    if as_json:
        result.write_json(sys.stdout)  # spilled records streamed, not built in memory
    else:
        from .render import render_result

        render_result(result, show=show, with_error=False)
    write_runs(ctx, html, outcome.results)  # --html (harness.reports)
    if otel:
        from ..telemetry import export_run

        export_run(result, started_at=started)
    if webhook_url:
        from .send_webhooks import send_sync_webhooks

        send_sync_webhooks(result, webhook_url, quiet=as_json)
    if not result.ok and result.error is not None:
        from .failures import one_line
        from .render import error_line

        click.echo(one_line(*error_line(result), root=prepared.project.root), err=True)
        ctx.exit(result.error.exit_code)
