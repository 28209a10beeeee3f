"""`harness dev`: watch, reload, re-check and re-run the affected scenarios."""

from __future__ import annotations

import click

from .options import project_of


@click.command("dev")
@click.option("--once", is_flag=True, help="Run one check cycle (every function) and exit: 0 all pass, 1 not.")
@click.option("--debounce", type=click.IntRange(min=10), default=200, show_default=True, metavar="MS",
              help="Wait this long for more changes before checking.")
@click.pass_context
def dev(ctx: click.Context, once: bool, debounce: int) -> None:
    """Watch functions/ and cassettes/; on every change re-check and replay the affected scenarios."""
    from ..dev import DevLoop

    loop = DevLoop(project_of(ctx), lambda line: click.echo(line))
    ok = loop.cycle()
    if once:
        ctx.exit(0 if ok else 1)
    loop.watch(debounce)
