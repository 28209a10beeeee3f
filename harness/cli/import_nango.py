"""`harness import-nango PATH`: convert Nango's recorded mocks into cassettes (see cassettes/nango_import.py)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from .options import connection_id, project_of


@click.command("import-nango")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the cassettes go (default: the project's cassettes folder).")
@click.option("--integration", default=None,
              help="The integration, when PATH does not say it (a flat folder of <function>.test.json files).")
@click.option("--scenario", default="nango", show_default=True, help="Scenario name of the converted cassettes.")
@click.option("--connection", "connection_id", default="nango", show_default=True, callback=connection_id,
              help="Connection id stored in the cassettes (what `harness dryrun FUNCTION CONNECTION` names).")
@click.option("--json", "as_json", is_flag=True,
              help="Print {converted: [{integration, function, path, interactions, source}], problems: "
                   "[{source, reason}]} as one JSON document.")
@click.pass_context
def import_nango_cmd(ctx: click.Context, path: Path, out: Path | None, integration: str | None, scenario: str,
                     connection_id: str, as_json: bool) -> None:
    """Convert Nango's tests/<function>.test.json files and legacy mocks/ folders under PATH.

    PATH is one .test.json file, one integration folder, or any folder holding them (a whole catalog).
    Every file that cannot be converted is reported with the reason; the rest is converted anyway, and
    the command then exits 3. Aliases (symlinked integrations), paginate/ folders and directories named
    *.json are reported as skipped, not as failures. A bad name (--scenario, --integration, or a file
    name such as `..`) is exit 2 before anything is written.
    """
    from ..cassettes.nango_import import import_nango
    from ..errors import CassetteError

    if out is None:
        project = project_of(ctx)
        out_dir = project.cassettes_dir

        def shown(p: Path) -> str:
            return project.relative(p)
    else:
        from .options import folder_we_may_create

        folder_we_may_create(project_of(ctx), out, "--out")
        out_dir = out

        def shown(p: Path) -> str:
            return str(p)
    with _progress() as progress:
        report = import_nango(path, out_dir, integration=integration, scenario=scenario,
                              connection_id=connection_id, progress=progress)
    if as_json:
        import json

        doc = {"converted": [{"integration": c.integration, "function": c.function, "path": shown(c.path),
                              "interactions": c.interactions, "source": c.source} for c in report.converted],
               "problems": [{"source": p.source, "reason": p.reason} for p in report.problems],
               "skipped": [str(s) for s in report.skipped]}
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    else:
        from .failures import relativize

        # The walk resolves PATH, so its sources are absolute: shown relative, as every path on stderr is.
        root = (ctx.find_root().obj or {}).get("root")
        for item in report.converted:
            click.echo(f"{item.integration}/{item.function}: {shown(item.path)} ({item.interactions} interaction(s))")
        for skipped in report.skipped:
            click.echo(f"skipped: {relativize(str(skipped), root)}", err=True)
        for problem in report.problems:
            click.echo(f"not converted: {relativize(str(problem), root)}", err=True)
    click.echo(f"{len(report.converted)} converted, {len(report.problems)} not converted, "
               f"{len(report.skipped)} skipped", err=True)
    if report.problems:
        click.echo(f"error: {len(report.problems)} file(s) not converted ({len(report.converted)} converted)",
                   err=True)
        ctx.exit(CassetteError.exit_code)


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr while a catalog converts, only on a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("import-nango"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("import", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
