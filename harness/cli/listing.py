"""`harness list`: the project's functions (name, integration, type, models, frequency)."""

from __future__ import annotations

import json
import sys

import click

from .options import project_of


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_context
def list_functions(ctx: click.Context, as_json: bool) -> None:
    """List the project's functions, and the files that could not be loaded."""
    from ..errors import EXIT_USAGE
    from ..listing import listing_document
    from ..loader import load_catalog

    project = project_of(ctx)
    catalog = load_catalog(project.functions_dir)
    doc = listing_document(project, catalog)
    rows = doc["functions"]
    if as_json:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        from rich.markup import escape
        from rich.table import Table

        from .render import make_console

        console = make_console(highlight=False)
        table = Table(show_edge=False)
        for col in ("integration", "name", "type", "models / input", "frequency / event"):
            table.add_column(col)
        for row in rows:
            what = ", ".join(row.get("models", [])) or (row.get("input") or "")
            when = row.get("frequency") or row.get("event") or ""
            table.add_row(row["integration"], row["name"], row["type"], what, when)
        if rows:
            console.print(table)
        else:
            console.print(f"no functions found under {escape(project.relative(project.functions_dir))}")
        from .failures import one_line

        for p in catalog.problems:
            click.echo(one_line(str(p), root=project.root), err=True)
    if catalog.problems:
        ctx.exit(EXIT_USAGE)
