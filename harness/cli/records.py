"""`harness records list`: read back what persisted runs stored (`.harness/records.sqlite`)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING

import click

from .options import connection_id, project_of

if TYPE_CHECKING:
    from ..project import Project


@click.group()
def records() -> None:
    """The records store kept by `--persist` runs."""


@records.command("list")
@click.argument("connection", callback=connection_id)
@click.option("--model", required=True, help="Model name (Issue, or Issue::variant).")
@click.option("--integration", default=None, help="Default: the connection's integration.")
@click.option("--modified-after", default=None, metavar="ISO-8601", help="Only records changed at or after this.")
@click.option("--cursor", default=None, help="Continue after the page that returned this cursor.")
@click.option("--limit", type=click.IntRange(1, 10000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print {records, next_cursor} as JSON.")
@click.pass_context
def list_records(ctx: click.Context, connection: str, model: str, integration: str | None,
                 modified_after: str | None, cursor: str | None, limit: int, as_json: bool) -> None:
    """List CONNECTION's stored records of a model, oldest change first, deleted ones included."""
    from ..clock import RealClock
    from ..connections.file import read_connections
    from ..errors import ConfigError, UsageError
    from ..records.sqlite import SqliteStore

    project = project_of(ctx)
    path = project.state_dir / "records.sqlite"
    if integration is None:
        known = read_connections(project.connections_file, project.root)
        integration = known[connection].integration if connection in known else None
    if integration is None:
        raise UsageError(f"connection {connection!r} is not in the connections file", hint="pass --integration")
    if path.exists() and not path.is_file():
        raise ConfigError(f"{project.relative(path)} is not a file, so it is not a records store",
                          hint="move it out of the way; the next --live --persist run makes a new store")
    if not path.is_file():
        _check_model(project, integration, model, [])
        raise ConfigError(f"no records store at {project.relative(path)}",
                          hint="run a dry run with --live --persist first")
    after = None
    if modified_after is not None:
        try:
            after = datetime.fromisoformat(modified_after.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise UsageError(f"--modified-after: {modified_after!r} is not an ISO-8601 date-time") from None
    if cursor is not None and not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 19):
        raise UsageError(f"--cursor: {cursor!r} is not a cursor this store returned")
    store = SqliteStore(path, connection, integration, RealClock().now)
    try:
        _check_model(project, integration, model, store.models())
        rows, next_cursor = store.list(model, modified_after=after, cursor=cursor, limit=limit)
    finally:
        store.close()
    if as_json:
        sys.stdout.write(json.dumps({"records": rows, "next_cursor": next_cursor}, indent=2, ensure_ascii=False)
                         + "\n")
        return
    for row in rows:
        meta = row.pop("_nango_metadata")
        click.echo(f"{meta['last_action']:<8} {json.dumps(row, ensure_ascii=False)}")
    if next_cursor:
        click.echo(f"more: --cursor {next_cursor}", err=True)


def _check_model(project: Project, integration: str, model: str, stored: list[str]) -> None:
    """A model some sync of the integration declares (`Model` or `Model::variant`) or the store holds, else a
    one-line error."""
    import difflib

    from ..definitions import SyncDefinition
    from ..errors import NotFoundError
    from ..loader import load_catalog

    catalog = load_catalog(project.functions_dir)
    known = sorted({name for d in catalog.definitions if isinstance(d, SyncDefinition) and d.integration == integration
                    for name in d.models})
    base = model.split("::", 1)[0]
    if base in known or model in stored or base in stored:
        return
    known = sorted({*known, *stored})
    close = difflib.get_close_matches(base, known, n=3)
    raise NotFoundError(f"unknown model {base!r} in integration {integration!r}",
                        hint=f"did you mean {', '.join(close)}?" if close else
                        "known models: " + (", ".join(known) or "none (no sync declares one)"))
