"""`harness cassettes list|show|lint|prune|adopt`: look after the project's recordings.

- `list` prints every cassette with its function, scenario, interaction count and size;
- `show` prints one cassette's context and its interactions;
- `lint` checks cassettes for invalid files, secrets (credential shapes and unscrubbed auth headers, since
  no connection's values may be known), duplicate interactions, and, with `--replay`, interactions a replay
  never uses; any finding exits 3;
- `prune` replays a cassette and rewrites it (atomically) without the interactions the replay did not use;
- `adopt` turns a cassette recorded by vcrpy or pytest-recording into a scenario (see `cassettes.adopt`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import CassetteError, HarnessError, UsageError
from .options import connection_id, project_of

if TYPE_CHECKING:
    from ..cassettes.format import Cassette
    from ..project import Project
    from ..result import RunResult


def _all_cassettes(project: Project) -> list[Path]:
    from ..cassettes.locations import cassette_files

    return cassette_files(project.cassettes_dir)


def _resolve(project: Project, target: str, scenario: str) -> Path:
    """A cassette from a path, or from `function` / `integration/function` and the scenario."""
    from ..cassettes.locations import CASSETTE_SUFFIXES

    path = Path(target)
    if path.suffix.lower() in CASSETTE_SUFFIXES:
        if not path.is_absolute() and not path.exists():
            path = project.root / path
        if not path.is_file():
            raise UsageError(f"no cassette at {target}", hint="see `harness cassettes list`")
        return path
    from ..names import check_name

    check_name("scenario", scenario)
    if "/" in target:
        integration, function = target.split("/", 1)
        candidates = [project.cassette_path(integration, function, scenario)]
    else:
        check_name("function", target)  # a glob pattern below: no `..`, `*` or `/` may reach it
        root = project.cassettes_dir
        candidates = sorted(root.glob(f"*/{target}/{scenario}.yaml")) if root.is_dir() else []
    found = [c for c in candidates if c.is_file()]
    if not found:
        raise UsageError(f"no cassette for {target!r} scenario {scenario!r}", hint="see `harness cassettes list`")
    if len(found) > 1:
        raise UsageError(f"{target!r} has cassettes in several integrations",
                         hint="name it integration/function")
    return found[0]


def _replay(project: Project, path: Path, cassette: Cassette) -> RunResult:
    """Replay the scenario run `path` holds (run N of a multi-run scenario after runs 1..N-1)."""
    from ..cassettes.scenario import ScenarioContext
    from ..pipeline import RunRequest, execute
    from ..scenarios import split_run

    ctx = ScenarioContext.parse(cassette.context, project.relative(path))
    if not ctx.function or ctx.connection is None:
        raise CassetteError(f"{project.relative(path)}: its `harness:` section names no function or connection",
                            hint="only cassettes recorded or imported by harness can be replayed")
    scenario, number = split_run(path.stem)
    outcome = execute(RunRequest(function=ctx.function, integration=ctx.integration, mode="replay",
                                 scenario=scenario, run=number, project=project))
    if outcome.prepared.run != number:
        message = outcome.result.error.message if outcome.result.error else outcome.result.status
        raise CassetteError(f"run {outcome.prepared.run} of scenario {scenario!r}, replayed before run {number}, "
                            f"failed: {message}")
    if outcome.cassette_path.resolve() != path.resolve():
        raise CassetteError(f"{project.relative(path)} is not where {ctx.function!r} keeps scenario "
                            f"{scenario!r} ({project.relative(outcome.cassette_path)})")
    return outcome.result


@click.group("cassettes")
def cassettes() -> None:
    """List, show, lint and prune the project's cassettes."""


def _emit(doc: Any) -> None:
    import json
    import sys

    sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")


@cassettes.command("list")
@click.option("--json", "as_json", is_flag=True,
              help="Print {cassettes: [{path, integration, function, scenario, interactions, bytes, recorded_at, "
                   "error}]} as one JSON document.")
@click.pass_context
def list_cassettes(ctx: click.Context, as_json: bool) -> None:
    """Every cassette: function, scenario, interactions, size."""
    from ..cassettes.format import load_cassette

    project = project_of(ctx)
    paths = _all_cassettes(project)
    rows: list[dict[str, Any]] = []
    for path in paths:
        row: dict[str, Any] = {"path": project.relative(path), "bytes": path.stat().st_size}
        try:
            c = load_cassette(path)
        except HarnessError as exc:
            row["error"] = str(exc)
        else:
            row.update(integration=c.context.get("integration"), function=c.context.get("function"),
                       scenario=c.context.get("scenario", path.stem), interactions=len(c.interactions),
                       recorded_at=c.context.get("recorded_at"), source=c.context.get("source"))
        rows.append(row)
    if as_json:
        _emit({"cassettes": rows})
        return
    if not rows:
        click.echo(f"no cassettes under {project.relative(project.cassettes_dir)}")
    for row in rows:
        if "error" in row:
            click.echo(f"{row['path']}  INVALID: {row['error']}")
            continue
        when = row.get("recorded_at") or row.get("source") or ""
        click.echo(f"{row['path']}  {row['integration'] or '?'}/{row['function'] or '?'}  scenario {row['scenario']}"
                   f"  {row['interactions']} interaction(s)  {row['bytes'] / 1000:.1f} kB  {when}")


@cassettes.command("show")
@click.argument("target")
@click.option("--scenario", default="default", show_default=True)
@click.option("--json", "as_json", is_flag=True,
              help="Print {path, context, interactions: [{index, method, uri, status, bytes}]} as one JSON document.")
@click.pass_context
def show(ctx: click.Context, target: str, scenario: str, as_json: bool) -> None:
    """One cassette (a path, or FUNCTION with --scenario): its context and interactions."""
    import json

    from ..cassettes.format import load_cassette

    project = project_of(ctx)
    path = _resolve(project, target, scenario)
    c = load_cassette(path)
    items = [{"index": n, "method": item.method, "uri": item.uri, "status": item.status,
              "bytes": len(item.response_body)} for n, item in enumerate(c.interactions)]
    if as_json:
        _emit({"path": project.relative(path), "context": c.context, "interactions": items})
        return
    click.echo(project.relative(path))
    for key, value in c.context.items():
        text = json.dumps(value, ensure_ascii=False, default=str)
        click.echo(f"  {key}: {text if len(text) <= 200 else text[:200] + '...'}")
    click.echo(f"interactions ({len(items)}):")
    for item in items:
        click.echo(f"  #{item['index']} {item['method']} {item['uri']} -> {item['status']} ({item['bytes']} bytes)")


def _lint_one(path: Path, text: str) -> tuple[Cassette | None, list[str]]:
    from ..cassettes.format import load_cassette
    from ..cassettes.matching import interaction_key
    from ..secrets.rules import COOKIE_HEADERS, RULE_HEADERS, header_is_scrubbed, secret_shapes

    findings: list[str] = []
    try:
        cassette = load_cassette(path)
    except HarnessError as exc:
        return None, [f"invalid: {exc}"]
    for shape in secret_shapes(text):
        findings.append(f"secret: looks like a {shape}")
    seen: dict[tuple[Any, ...], int] = {}
    for n, item in enumerate(cassette.interactions):
        for name, values in item.request_headers.items():
            if (name.lower() in RULE_HEADERS | COOKIE_HEADERS
                    and not all(header_is_scrubbed(name, v) for v in values)):
                findings.append(f"secret: interaction #{n} sends an unscrubbed {name} header")
        key = (interaction_key(item), item.status, item.response_body)
        if key in seen:
            findings.append(f"duplicate: interaction #{n} repeats #{seen[key]} (same request, same response)")
        else:
            seen[key] = n
    return cassette, findings


@cassettes.command("lint")
@click.argument("targets", nargs=-1)
@click.option("--scenario", default="default", show_default=True)
@click.option("--replay", "replay_them", is_flag=True,
              help="Also replay each cassette's function and report the interactions it never uses.")
@click.option("--json", "as_json", is_flag=True,
              help="Print {cassettes, findings: [{path, kind, message}]} as one JSON document.")
@click.pass_context
def lint(ctx: click.Context, targets: tuple[str, ...], scenario: str, replay_them: bool, as_json: bool) -> None:
    """Check cassettes (all of them by default): invalid files, secrets, duplicates, unplayed (--replay).

    Exits 3 when anything is found.
    """
    project = project_of(ctx)
    paths = [_resolve(project, t, scenario) for t in targets] if targets else _all_cassettes(project)
    found: list[dict[str, str]] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            findings: list[str] = [f"invalid: cannot read it ({exc})"]
            cassette = None
        else:
            cassette, findings = _lint_one(path, text)
        if cassette is not None and replay_them:
            try:
                result = _replay(project, path, cassette)
            except HarnessError as exc:
                findings.append(f"replay: {exc}")
            else:
                if not result.ok and result.error is not None:
                    findings.append(f"replay: failed ({result.error.type}): {result.error.message}")
                for item in result.unplayed:
                    findings.append(f"unplayed: interaction #{item['index']} {item['method']} {item['uri']}")
        for finding in findings:
            kind, _, message = finding.partition(": ")
            found.append({"path": project.relative(path), "kind": kind, "message": message})
    if as_json:
        _emit({"cassettes": len(paths), "findings": found})
    else:
        for item in found:
            click.echo(f"{item['path']}: {item['kind']}: {item['message']}")
    if found:
        click.echo(f"error: {len(found)} finding(s) in {len(paths)} cassette(s)", err=True)
        ctx.exit(CassetteError.exit_code)
    click.echo(f"{len(paths)} cassette(s), 0 finding(s)", err=True)


@cassettes.command("prune")
@click.argument("target")
@click.option("--scenario", default="default", show_default=True)
@click.option("--dry-run", is_flag=True, help="Say what would be dropped; write nothing.")
@click.pass_context
def prune(ctx: click.Context, target: str, scenario: str, dry_run: bool) -> None:
    """Replay a cassette and drop the interactions the replay did not use (the file is rewritten atomically)."""
    from ..cassettes.format import Cassette, load_cassette, write_cassette
    from ..secrets.scrubber import Scrubber

    project = project_of(ctx)
    path = _resolve(project, target, scenario)
    cassette = load_cassette(path)
    result = _replay(project, path, cassette)
    if not result.ok:
        message = result.error.message if result.error is not None else result.status
        raise CassetteError(f"not pruning {project.relative(path)}: its replay failed ({message})",
                            hint="fix the run first; prune only drops what a passing replay does not use")
    unused = {item["index"] for item in result.unplayed}
    for n in sorted(unused):
        item = cassette.interactions[n]
        click.echo(f"{'would drop' if dry_run else 'dropped'} #{n} {item.method} {item.uri}")
    if unused and not dry_run:
        kept = [item for n, item in enumerate(cassette.interactions) if n not in unused]
        write_cassette(path, Cassette(kept, cassette.context), Scrubber({}))
    click.echo(f"{project.relative(path)}: {len(cassette.interactions) - len(unused)} kept, {len(unused)} "
               f"{'to drop' if dry_run else 'dropped'}")


@cassettes.command("adopt")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--function", "function", required=True, help="The function this scenario runs (or INTEGRATION/NAME).")
@click.option("--integration", default=None, help="When two integrations have a function of that name.")
@click.option("--scenario", default="default", show_default=True, help="The scenario's name.")
@click.option("--run", "run_number", type=int, default=1, show_default=True, help="Run N of a multi-run scenario.")
@click.option("--connection", default=None, callback=connection_id,
              help="The connection it replays as (default: the cassette's, else the integration's only one in the "
                   "connections file).")
@click.option("--provider", default=None, help="The provider, for a connection not in the connections file.")
@click.option("--base-url", default=None,
              help="The provider's base URL (default: the provider's, else the recording's host).")
@click.option("--recorded-at", default=None, help="ISO 8601 time a replay freezes the clock at (default: the first "
              "response's Date header, else the file's time).")
@click.option("-i", "--input", "input_", default=None, help="The action's input: JSON or @file.json.")
@click.option("-m", "--metadata", default=None, help="Connection metadata for the run: JSON or @file.json.")
@click.option("-c", "--checkpoint", default=None, help="The checkpoint the run starts from: JSON or @file.json.")
@click.option("--payload", default=None, help="A webhook payload (runs the sync's webhook handler): JSON or @file.")
@click.option("--force", is_flag=True, help="Replace an existing scenario file.")
@click.pass_context
def adopt_cmd(ctx: click.Context, path: Path, function: str, integration: str | None, scenario: str, run_number: int,
              connection: str | None, provider: str | None, base_url: str | None, recorded_at: str | None,
              input_: str | None, metadata: str | None, checkpoint: str | None, payload: str | None,
              force: bool) -> None:
    """Turn a vcrpy or pytest-recording cassette (YAML or JSON, any vcrpy version) into a scenario.

    Writes cassettes/<integration>/<function>/<scenario>.yaml with its harness: section, the exchanges
    scrubbed as a recording would be. Asks nothing; exits 2 on a bad option, 3 on an unreadable cassette,
    and writes nothing on any error.
    """
    from ..cassettes.adopt import UNSET, AdoptRequest, adopt
    from .options import json_arg

    if function.count("/") == 1 and integration is None:
        integration, function = function.split("/")
    project = project_of(ctx)
    values = {name: json_arg(f"--{name}", raw) if raw is not None else UNSET
              for name, raw in (("input", input_), ("metadata", metadata), ("checkpoint", checkpoint),
                                ("payload", payload))}
    done = adopt(project, AdoptRequest(
        source=path, function=function, integration=integration, scenario=scenario, run=run_number,
        connection=connection, provider=provider, base_url=base_url, recorded_at=recorded_at,
        input=values["input"], metadata=values["metadata"], checkpoint=values["checkpoint"],
        payload=values["payload"], force=force))
    for warning in done.warnings:
        click.echo(f"warning: {project.relative(done.path)}: {warning}", err=True)
    c = done.cassette.context
    run = f" --run {run_number}" if run_number > 1 else ""
    click.echo(f"{'replaced' if done.replaced else 'wrote'} {project.relative(done.path)}: "
               f"{len(done.cassette.interactions)} interaction(s) from {path}")
    click.echo(f"replay it: harness dryrun {c['integration']}/{c['function']} {done.connection_id} "
               f"--scenario {scenario}{run} --replay")
