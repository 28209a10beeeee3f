"""`harness compile`, `harness package`, `harness deploy`: thin faces over `harness.packaging`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..ci import under_ci
from .options import project_of

if TYPE_CHECKING:
    from ..packaging.manifest import Manifest
    from ..project import Project


def _compile(project: Project) -> Manifest:
    from ..packaging.manifest import compile_project

    manifest = compile_project(project)  # the root group prints each of a CompileError's problems
    for warning in manifest.warnings:
        click.echo(f"warning: {warning}", err=True)
    return manifest


def _check_out(project: Project, path: Path) -> None:
    """`-o` names a zip file; its folder may be created only inside the project."""
    from ..errors import UsageError
    from .options import folder_we_may_create

    if path.is_dir():
        raise UsageError(f"-o: {path} is a folder", hint="name the zip file, e.g. -o dist/bundle.zip")
    folder_we_may_create(project, path.parent, "-o")


@click.command("compile")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest on stdout as well.")
@click.pass_context
def compile_cmd(ctx: click.Context, as_json: bool) -> None:
    """Check every definition and write .harness/manifest.json."""
    from ..packaging.manifest import manifest_text, write_manifest

    project = project_of(ctx)
    manifest = _compile(project)
    path = write_manifest(project, manifest)
    if as_json:
        sys.stdout.write(manifest_text(manifest))
    else:
        n = len(manifest.functions())
        click.echo(f"compiled {n} function(s) in {len(manifest.integrations)} integration(s) -> "
                   f"{project.relative(path)}")


@click.command("package")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the zip (default .harness/bundle.zip).")
@click.pass_context
def package_cmd(ctx: click.Context, out: Path | None) -> None:
    """Compile, run the static checks and write a reproducible zip of the functions and the manifest."""
    from ..atomic import write_atomic
    from ..packaging.bundle import build_bundle
    from ..packaging.manifest import write_manifest

    project = project_of(ctx)
    path = out or project.state_dir / "bundle.zip"
    _check_out(project, path)
    manifest = _compile(project)
    write_manifest(project, manifest)
    bundle = build_bundle(project, manifest)
    write_atomic(path, bundle.data)
    click.echo(f"packaged {len(bundle.files)} file(s) -> {project.relative(path)} (sha256 {bundle.sha256[:16]})")


@click.command("deploy")
@click.option("--to", "target", required=True, metavar="DIR|URL", help="A folder, or an https endpoint.")
@click.option("--skip-tests", is_flag=True, help="Do not run the test gate (the plan says so).")
@click.option("--allow-destructive", is_flag=True, help="Allow removing functions or models.")
@click.option("--allow-insecure-http", is_flag=True,
              help="Send the key over plain http to a host that is not this machine (it can be read on the way).")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Show the plan and stop; deliver nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON on stdout.")
@click.pass_context
def deploy_cmd(ctx: click.Context, target: str, skip_tests: bool, allow_destructive: bool,
               allow_insecure_http: bool, yes: bool, dry_run: bool, as_json: bool) -> None:
    """Gate on the tests, show the plan against the last deployed state, and deliver the bundle."""
    from ..crashpoints import crash_point
    from ..errors import UsageError
    from ..packaging import deploy, targets
    from ..packaging.bundle import build_bundle

    project = project_of(ctx)
    # The target first: a URL with credentials, or a key that would travel in clear, stops everything.
    endpoint = None
    if deploy.is_url(target):
        endpoint = targets.parse_endpoint(target, allow_insecure_http=allow_insecure_http)
        if endpoint.insecure:
            click.echo(targets.insecure_warning(endpoint), err=True)
    where = endpoint.shown if endpoint is not None else target
    deploy.target_id(project, target)  # refuses ftp://, s3://...
    from ..atomic import sweep_project

    sweep_project(project.state_dir)  # what a killed run left in .harness/
    manifest = _compile(project)
    bundle = build_bundle(project, manifest)
    if endpoint is not None and not dry_run and not os.environ.get(deploy.KEY_ENV):
        from ..errors import ConfigError

        raise ConfigError(f"deploying to {where} needs a key in ${deploy.KEY_ENV}",
                          hint=f"export {deploy.KEY_ENV}=... (it is sent as 'Authorization: Bearer ...')")
    if skip_tests:
        tests = "skipped"
    else:
        click.echo(f"running the tests: {' '.join(deploy.test_command()[1:])} (CI=1)", err=True)
        tests = deploy.run_tests(project).status
    recovery = deploy.recover(project, target, clean=not dry_run)
    for note in recovery.notes:
        click.echo(f"note: {note}", err=True)
    plan = deploy.make_plan(project, manifest, target, tests, last=recovery.last)
    plan.deployment = max(plan.deployment, recovery.floor + 1)
    if as_json:
        sys.stdout.write(json.dumps(plan.to_json(), indent=2) + "\n")
    else:
        click.echo(plan.render())
    if plan.destructive and not allow_destructive:
        removed = [c.key for c in plan.of("removed")] + [c.key for c in plan.of("removed", models=True)]
        raise UsageError(f"deploy refused: the plan removes {', '.join(removed)}",
                         hint="pass --allow-destructive if that is intended")
    if dry_run:
        click.echo("dry run: nothing delivered", err=True)
        return
    if plan.empty:
        click.echo("nothing to deploy: the target already has this content", err=True)
        return
    interactive = sys.stdin.isatty() and not under_ci()
    if interactive and not yes and not click.confirm("Deploy?", default=False):
        click.echo("deploy cancelled", err=True)
        ctx.exit(1)
    if endpoint is not None:
        deploy.deliver_to_url(target, plan, bundle, allow_insecure_http=allow_insecure_http, project=project)
    else:
        deploy.deliver_to_folder(Path(target), plan, bundle)
    crash_point("deploy-delivered")
    deploy.save_state(project, plan, manifest, bundle)
    versions = ", ".join(f"{k}@v{v}" for k, v in sorted(plan.versions().items()))
    click.echo(f"deployed {plan.deployment} to {where}: {versions}", err=True)
