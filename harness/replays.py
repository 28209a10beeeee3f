"""A project's recorded scenarios (one per cassette) and replaying them: what `harness dev`, a new
project's tests and the template checks run.

A cassette `cassettes/<integration>/<function>/<scenario>.yaml` is run 1 of its scenario,
`<scenario>.run<N>.yaml` run N (replaying runs 1..N-1 first). The connection id is the one the cassette
recorded, so a replay needs no connections file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .project import Project
from .result import RunResult

_RUN = re.compile(r"^(?P<scenario>[A-Za-z0-9_-]+?)(?:\.run(?P<run>\d+))?\.yaml$")


@dataclass(frozen=True)
class Scenario:
    integration: str
    function: str
    scenario: str
    run: int
    connection_id: str
    path: Path

    def __str__(self) -> str:
        suffix = f".run{self.run}" if self.run > 1 else ""
        return f"{self.integration}/{self.function}/{self.scenario}{suffix}"


def find_scenarios(project: Project, functions: set[tuple[str, str]] | None = None) -> list[Scenario]:
    """Every recorded scenario, sorted; only those of `functions` ((integration, name) pairs) when given."""
    from .cassettes.format import load_cassette

    found: list[Scenario] = []
    root = project.cassettes_dir
    if not root.is_dir():
        return found
    for path in sorted(root.glob("*/*/*.yaml")):
        integration, function = path.parent.parent.name, path.parent.name
        if functions is not None and (integration, function) not in functions:
            continue
        m = _RUN.match(path.name)
        if not m:
            continue
        try:
            conn = load_cassette(path).context.get("connection") or {}
        except Exception:
            conn = {}
        found.append(Scenario(integration, function, m.group("scenario"), int(m.group("run") or 1),
                              str(conn.get("connection_id") or "replay"), path))
    return found


def replay(project: Project, scenario: Scenario) -> RunResult:
    """Replay one scenario (and the runs before it); HarnessError for a broken cassette or definition."""
    from .scenarios import execute_runs
    from .session import DryRun, execute

    req = DryRun(function=f"{scenario.integration}/{scenario.function}", connection_id=scenario.connection_id,
                 mode="replay", scenario=scenario.scenario, run=scenario.run, project=project)
    if scenario.run > 1:
        return execute_runs(req)[-1]
    return execute(req)
