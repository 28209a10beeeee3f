"""`harness dryrun FUNCTION CONNECTION`: run one function once and show everything it did."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from .options import json_arg, project_of


@click.command()
@click.argument("function")
@click.argument("connection")
@click.option("--live", "mode", flag_value="live", help="Call the provider (needs credentials).")
@click.option("--replay", "mode", flag_value="replay", help="Answer from the recording; never open a socket.")
@click.option("--record", "mode", flag_value="record",
              help="Call the provider and save the exchanges as the scenario's cassette (secrets scrubbed).")
@click.option("--record-mode", type=click.Choice(["none", "once", "new_episodes", "all"]), default=None,
              help="vcrpy's record modes (--record alone is `all`; under CI the default is `none`).")
@click.option("--record-on-failure", is_flag=True, help="Save the cassette even when the run fails.")
@click.option("--strict", "fail_unplayed", is_flag=True,
              help="Fail (exit 3) when a replay leaves recorded interactions unused.")
@click.option("--scenario", default="default", show_default=True, help="Which recording of the function.")
@click.option("--integration", default=None, help="The integration, when several have a function of this name.")
@click.option("-i", "--input", "input_", default=None, metavar="JSON|@FILE", help="Action input.")
@click.option("-m", "--metadata", default=None, metavar="JSON|@FILE", help="Connection metadata for this run.")
@click.option("-c", "--checkpoint", default=None, metavar="JSON|@FILE", help="Starting checkpoint.")
@click.option("--payload", default=None, metavar="JSON|@FILE", help="Webhook payload: runs the sync's webhook handler.")
@click.option("--lenient", is_flag=True, help="Report invalid data as warnings instead of failing.")
@click.option("--allow-writes", is_flag=True, help="Let a live run send non-GET requests.")
@click.option("--max-pages", type=click.IntRange(min=1), default=None, help="Stop paginating after N pages.")
@click.option("--max-records", type=click.IntRange(min=1), default=None, help="Stop after N saved records.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--show", type=click.IntRange(min=0), default=20, show_default=True,
              help="Records shown per model in the readable output.")
@click.pass_context
def dryrun(ctx: click.Context, function: str, connection: str, mode: str | None, record_mode: str | None,
           record_on_failure: bool, fail_unplayed: bool, scenario: str,
           integration: str | None, input_: str | None, metadata: str | None, checkpoint: str | None,
           payload: str | None, lenient: bool, allow_writes: bool, max_pages: int | None,
           max_records: int | None, as_json: bool, show: int) -> None:
    """Run FUNCTION (a sync, action or event function) for CONNECTION.

    Replays the scenario's recording when there is one, else runs live; --live, --replay and --record
    choose explicitly.
    """
    from ..runner import UNSET
    from ..session import DryRun, execute, prepare

    req = DryRun(
        function=function, connection_id=connection, integration=integration, mode=mode, scenario=scenario,
        input=json_arg("--input", input_) if input_ is not None else UNSET,
        metadata=json_arg("--metadata", metadata) if metadata is not None else UNSET,
        checkpoint=json_arg("--checkpoint", checkpoint) if checkpoint is not None else UNSET,
        payload=json_arg("--payload", payload) if payload is not None else UNSET,
        strict=not lenient, allow_writes=allow_writes, max_pages=max_pages, max_records=max_records,
        project=project_of(ctx), record_mode=record_mode, record_on_failure=record_on_failure,
        fail_unplayed=fail_unplayed,
    )
    prepared = prepare(req)
    for problem in prepared.catalog.problems:
        click.echo(f"warning: skipped {problem}", err=True)
    if req.mode is None and prepared.mode == "live":
        click.echo(f"no recording at {prepared.project.relative(prepared.cassette_path)}; running live",
                   err=True)
    result = execute(req, prepared)
    if as_json:
        doc: dict[str, Any] = result.to_json()
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    else:
        from .render import render_result

        render_result(result, show=show)
    if not result.ok and result.error is not None:
        ctx.exit(result.error.exit_code)
