"""Readable rendering of a `RunResult` with rich (counts, records, checkpoints, metadata, logs, requests), and
the one error line a failed run prints on stderr."""

from __future__ import annotations

import json
from typing import IO, Any, cast

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..result import RunResult

_LEVEL_STYLE = {"debug": "dim", "info": "", "warn": "yellow", "error": "red"}


def _j(value: Any) -> str:
    return escape(json.dumps(value, ensure_ascii=False, default=str))


_HINTS = {
    "replay_miss": "re-record the scenario with --record if the request is meant to change",
    "unplayed_interactions": "prune them with `harness cassettes prune`, or drop --strict",
    "invalid_data": "the report lists each finding; --lenient reports them as warnings",
}


def error_line(result: RunResult) -> tuple[str, str | None]:
    """(what, hint) of a failed run's one error line on stderr; the report itself shows the details."""
    error = result.error
    assert error is not None
    if error.type == "invalid_data":
        found = result.errors
        kinds = ", ".join(sorted({i.kind for i in found})) or "the data"
        return f"invalid_data: {len(found) or 'the'} validation error(s) in {kinds}", _HINTS["invalid_data"]
    hint = _HINTS.get(error.type)
    if error.type == "write_blocked" or "--allow-writes" in error.message:
        hint = None  # the message already says how
    return f"{error.type}: {error.message}", hint


def make_console(**kwargs: Any) -> Console:
    """A rich console for the CLI: with `NO_COLOR` set, no escape codes at all (rich alone keeps bold)."""
    import os

    if os.environ.get("NO_COLOR"):
        kwargs.setdefault("color_system", None)
    return Console(**kwargs)


def render_result(result: RunResult, *, show: int = 20, console: Console | None = None,
                  with_error: bool = True) -> None:
    """The readable report; every line goes through the redaction of the command's known secrets."""
    import sys

    from ..secrets.redact import RedactingStream

    stream = sys.stdout if isinstance(sys.stdout, RedactingStream) else RedactingStream(sys.stdout)
    out = console or make_console(file=cast(IO[str], stream), highlight=False, soft_wrap=True)
    status_style = {"success": "green", "failed": "red", "invalid": "red"}[result.status]
    where = f" ({result.cassette})" if result.cassette else ""
    out.print(f"[bold]{result.integration}/{result.function}[/]  {result.function_type}  "
              f"connection [bold]{escape(result.connection_id)}[/]  {result.mode}{escape(where)}")
    out.print(f"status: [{status_style}]{result.status}[/]  in {result.timings.get('total', 0):.1f} ms"
              + (f"  [yellow]{escape(result.capped)}[/]" if result.capped else ""))

    if result.models:
        table = Table(title="records", title_justify="left", show_edge=False)
        for col in ("model", "added", "updated", "deleted", "unchanged"):
            table.add_column(col, justify="left" if col == "model" else "right")
        for name, counts in result.counts().items():
            table.add_row(name, *(str(counts[k]) for k in ("added", "updated", "deleted", "unchanged")))
        out.print(table)
        for name, changes in result.models.items():
            for label, rows in (("saved", changes.saved), ("updated", changes.updated),
                                ("deleted", changes.deleted)):
                if not rows:
                    continue
                out.print(f"[bold]{name}[/] {label} ({len(rows)}):")
                for row in rows[:show]:
                    out.print(f"  {_j(row)}")
                if len(rows) > show:
                    out.print(f"  [dim]... {len(rows) - show} more (--show N, or --json for all)[/]")
    elif result.function_type in ("sync", "webhook"):
        out.print("records: none saved")

    if result.checkpoints or result.initial_checkpoint is not None:
        out.print(f"[bold]checkpoints[/] (start {_j(result.initial_checkpoint)}, {len(result.checkpoints)} saved):")
        for n, cp in enumerate(result.checkpoints[:show], 1):
            out.print(f"  {n}. {_j(cp)}")
        out.print(f"  final: {_j(result.final_checkpoint)}")
    if result.metadata_writes:
        out.print("[bold]metadata writes[/]:")
        for write in result.metadata_writes:
            out.print(f"  {write['op']}: {_j(write['value'])}")
    if result.function_type == "action" and result.has_output:
        out.print(f"[bold]output[/]: {_j(result.output)}")
    if result.logs:
        out.print(f"[bold]logs[/] ({len(result.logs)}):")
        for log in result.logs:
            style = _LEVEL_STYLE.get(log["level"], "")
            text = f"{log['level']:<5} {escape(log['message'])}"
            out.print(f"  [{style}]{text}[/]" if style else f"  {text}")
    if result.requests:
        out.print(f"[bold]requests[/] ({len(result.requests)}):")
        for ex in result.requests:
            status = ex.status if ex.status is not None else ex.error
            out.print(f"  {ex.method:<6} {escape(ex.url)}  {status}  {ex.duration_ms:.1f} ms")
    if result.unplayed:
        out.print(f"[yellow]unplayed recorded requests ({len(result.unplayed)}):[/]")
        for item in result.unplayed[:show]:
            out.print(f"  #{item['index']} {item['method']} {escape(item['uri'])}")
    for issue in result.issues:
        style = "red" if issue.severity == "error" else "yellow"
        out.print(f"[{style}]{issue.severity}: {escape(str(issue))}[/]")
    if result.error is not None:
        if with_error:
            out.print(f"[red]error ({result.error.type}): {escape(result.error.message)}[/]")
        if result.error.payload not in (None, {}):
            out.print(f"  payload: {_j(result.error.payload)}")
    if result.cassette_written:
        out.print(f"[green]recorded {escape(result.cassette or '')}[/]")
    elif result.mode == "record":
        out.print("[yellow]nothing recorded: the run did not succeed[/]")
    if console is None:
        stream.flush()
