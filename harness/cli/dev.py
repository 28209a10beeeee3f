"""`harness dev`: watch the functions and cassettes, reload what changed, re-check the definitions and
re-judge the affected scenarios (the same verdict as pytest), one short status line per change.

Function files are imported fresh by the loader every time; the helper modules they import are cached by
Python, so every cycle first drops the synthetic `harness_functions.*` modules. A change maps to the
functions it can affect: a function file to its function, a helper module to every function that imports
it (the manifest's `helpers`), a cassette to its function; anything else re-runs everything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

import click

from ..errors import HarnessError
from ..loader import forget_function_modules
from ..project import Project
from .options import project_of


class DevLoop:
    def __init__(self, project: Project, echo: Callable[[str], None]) -> None:
        self.project = project
        self.echo = echo

    def _affected(self, changed: Iterable[Path], manifest_functions: list[tuple[str, str, set[str]]]
                  ) -> set[tuple[str, str]] | None:
        wanted: set[tuple[str, str]] = set()
        for path in changed:
            rel = self.project.relative(path)
            parts = Path(rel).parts
            try:
                in_cassettes = path.resolve().relative_to(self.project.cassettes_dir.resolve())
            except ValueError:
                in_cassettes = None
            if in_cassettes is not None and len(in_cassettes.parts) >= 3:
                wanted.add((in_cassettes.parts[0], in_cassettes.parts[1]))
                continue
            hits = {(i, n) for i, n, files in manifest_functions if Path(rel).as_posix() in files}
            if not hits and parts:
                return None  # a file nothing is known to use (new, or outside): re-run everything
            wanted |= hits
        return wanted

    def cycle(self, changed: list[Path] | None = None) -> bool:
        """One check: compile, judge the affected scenarios, print the status line; True when all pass."""
        from ..packaging.manifest import CompileError, compile_project
        from ..packaging.static_checks import StaticCheckError
        from ..scenarios import find_scenarios
        from ..verdict import Policy, judge, snapshot_settings, unused_snapshots

        started = time.perf_counter()
        what = ", ".join(sorted(self.project.relative(p) for p in changed)) if changed else "all functions"
        stamp = time.strftime("%H:%M:%S")
        forget_function_modules()
        try:
            manifest = compile_project(self.project)
        except (CompileError, StaticCheckError) as exc:
            problems = exc.problems if isinstance(exc, CompileError) else exc.findings
            self.echo(f"[{stamp}] {what}: FAIL definitions: {len(problems)} problem(s)")
            for problem in problems:
                self.echo(f"    {problem}")
            return False
        known = [(f.integration, f.name, {f.file, *f.helpers}) for f in manifest.functions()]
        functions = None if changed is None else self._affected(changed, known)
        scenarios = [s for s in find_scenarios(self.project)
                     if functions is None or (s.integration, s.function) in functions]
        policy = Policy.from_env()
        settings = snapshot_settings(self.project)
        failures: list[str] = []
        notes: list[str] = []
        passed = 0
        for scenario in scenarios:
            try:
                verdict = judge(self.project, scenario, policy, settings)
            except HarnessError as exc:
                failures.append(f"{scenario.integration}/{scenario.function}/{scenario.name}: {exc}")
                continue
            label = f"{scenario.integration}/{scenario.function}/{scenario.name}"
            failures.extend(label + line[len(scenario.id):] if line.startswith(scenario.id) else line
                            for line in verdict.failures)
            notes.extend(verdict.warnings)
            passed += verdict.passed
        unused = unused_snapshots(self.project, policy, cleanup=False)
        (failures if unused.failing(policy) else notes).extend(unused.lines(self.project, policy))
        ms = (time.perf_counter() - started) * 1000
        status = "ok" if not failures else "FAIL"
        warn = f", {len(manifest.warnings)} warning(s)" if manifest.warnings else ""
        self.echo(f"[{stamp}] {what}: {status} definitions ok{warn}, {passed}/{len(scenarios)} scenario(s) "
                  f"passed ({ms:.0f} ms)")
        for line in [*failures, *notes]:
            self.echo("    " + line.replace("\n", "\n    "))
        return not failures

    def watch(self, debounce_ms: int = 200) -> None:
        from ..extras import require

        require("watchfiles", "dev", "harness dev (watching)")
        from watchfiles import Change, watch

        folders = [p for p in (self.project.functions_dir, self.project.cassettes_dir) if p.is_dir()]

        def relevant(change: Change, path: str) -> bool:
            return path.endswith((".py", ".yaml")) and "__pycache__" not in path

        # "watching" is said once the watcher is armed (its first yield, at most 100 ms in): an edit made right
        # after the line appears is seen.
        armed = False
        for changes in watch(*folders, watch_filter=relevant, debounce=debounce_ms, step=50, rust_timeout=100,
                             yield_on_timeout=True):
            if not armed:
                self.echo(f"watching {', '.join(self.project.relative(f) + '/' for f in folders)} (Ctrl-C to stop)")
                armed = True
            if changes:
                self.cycle(sorted({Path(p) for _, p in changes}))


@click.command("dev")
@click.option("--once", is_flag=True, help="Run one check cycle (every function) and exit: 0 all pass, 1 not.")
@click.option("--debounce", type=click.IntRange(min=10), default=200, show_default=True, metavar="MS",
              help="Wait this long for more changes before checking.")
@click.pass_context
def dev(ctx: click.Context, once: bool, debounce: int) -> None:
    """Watch functions/ and cassettes/; on every change re-check and replay the affected scenarios."""
    loop = DevLoop(project_of(ctx), lambda line: click.echo(line))
    ok = loop.cycle()
    if once:
        ctx.exit(0 if ok else 1)
    loop.watch(debounce)
