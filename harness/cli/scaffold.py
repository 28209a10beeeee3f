"""`harness init`, `harness new`, `harness clone`: thin faces over `harness.scaffold`."""

from __future__ import annotations

from pathlib import Path

import click

from .options import project_of


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=True, path_type=Path), default=Path("."))
@click.option("--template", default="github-issues", show_default=True, help="The example function to start with.")
def init_cmd(directory: Path, template: str) -> None:
    """Create a working functions project in DIRECTORY (new or empty; default: here)."""
    from ..scaffold.init import init_project

    written, cloned = init_project(directory, template)
    root = directory.resolve()
    for path in [*written, *cloned.written]:
        click.echo(f"  created {path.relative_to(root)}")
    click.echo(f"project ready in {root}: cd there and run `pytest` (replays the example), "
               "`harness dryrun issues github-demo`, `harness clone --list`")


@click.command("new")
@click.argument("kind", type=click.Choice(["sync", "action", "on-event"]))
@click.argument("integration")
@click.argument("name")
@click.option("--event", default=None, help="For on-event: post-connection-creation (default), "
              "pre-connection-deletion or validate-connection.")
@click.pass_context
def new_cmd(ctx: click.Context, kind: str, integration: str, name: str, event: str | None) -> None:
    """Write a typed skeleton of a sync, action or event function (never overwrites)."""
    from ..scaffold.new import new_function

    project = project_of(ctx)
    path = new_function(project, kind, integration, name, event)
    click.echo(f"created {project.relative(path)}; record a scenario with "
               f"`harness dryrun {integration}/{name} CONNECTION --record`")


@click.command("clone")
@click.argument("template", required=False)
@click.option("--list", "list_", is_flag=True, help="List the bundled templates.")
@click.option("--json", "as_json", is_flag=True,
              help="With --list: print {templates: [{name, function, connection, description}]} as JSON.")
@click.pass_context
def clone_cmd(ctx: click.Context, template: str | None, list_: bool, as_json: bool) -> None:
    """Copy a working template function (with its cassettes) into the project."""
    from ..errors import UsageError
    from ..scaffold.template_catalog import clone, load_catalog

    catalog = load_catalog()
    if list_ and template is not None:
        raise UsageError("--list and a TEMPLATE contradict each other", hint="pass one of them")
    if as_json and not list_:
        raise UsageError("--json applies to --list", hint="harness clone --list --json")
    if list_ or template is None:
        if template is None and not list_:
            raise UsageError("which template?", hint="pass a name from `harness clone --list`")
        if as_json:
            import json
            import sys

            rows = [{"name": t.name, "function": t.function, "connection": t.connection,
                     "description": t.description} for t in catalog.templates.values()]
            sys.stdout.write(json.dumps({"templates": rows}, indent=2) + "\n")
            return
        for t in catalog.templates.values():
            click.echo(f"{t.name:<22} {t.function:<22} {t.description}")
        return
    project = project_of(ctx)
    result = clone(project, template, catalog)
    for path in result.written:
        click.echo(f"  created {project.relative(path)}")
    for path in result.unchanged:
        click.echo(f"  unchanged {project.relative(path)}")
    for cid in result.connections:
        click.echo(f"  added connection {cid} to {project.relative(project.connections_file)}")
    t = catalog.get(template)
    click.echo(f"cloned {template}: `harness dryrun {t.function} {t.connection}` replays it")
