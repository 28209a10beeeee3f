"""`harness cassettes list|show|lint|prune`: look after the project's recordings.

- `list` prints every cassette with its function, scenario, interaction count and size;
- `show` prints one cassette's context and its interactions;
- `lint` checks cassettes for invalid files, secrets (credential shapes and unscrubbed auth headers, since
  no connection's values may be known), duplicate interactions, and, with `--replay`, interactions a replay
  never uses; any finding exits 3;
- `prune` replays a cassette and rewrites it (atomically) without the interactions the replay did not use.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import CassetteError, HarnessError, UsageError
from .options import project_of

if TYPE_CHECKING:
    from ..cassettes.format import Cassette
    from ..project import Project
    from ..result import RunResult


def _all_cassettes(project: Project) -> list[Path]:
    root = project.cassettes_dir
    return sorted(root.rglob("*.yaml")) if root.is_dir() else []


def _resolve(project: Project, target: str, scenario: str) -> Path:
    """A cassette from a path, or from `function` / `integration/function` and the scenario."""
    path = Path(target)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_absolute() and not path.exists():
            path = project.root / path
        if not path.is_file():
            raise UsageError(f"no cassette at {target}", hint="see `harness cassettes list`")
        return path
    if "/" in target:
        integration, function = target.split("/", 1)
        candidates = [project.cassette_path(integration, function, scenario)]
    else:
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
    from ..http.scrub import PLACEHOLDER, RULE_HEADERS, secret_shapes

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
            if name.lower() in RULE_HEADERS and any(not v.startswith(PLACEHOLDER[:-1]) for v in values):
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
    from ..http.scrub import Scrubber

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
