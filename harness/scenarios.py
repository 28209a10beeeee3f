"""Multi-run scenarios: a scenario recorded as a sequence of runs, replayed in order on one store.

Run 1 is `<scenario>.yaml`, run N is `<scenario>.run<N>.yaml`. Every run starts from the records the runs
before it left and, unless its cassette says otherwise, from the previous run's final checkpoint, so
deletion detection and incremental behaviour are exercised as production would see them. Recording run N
first replays runs 1..N-1 into the store it then records against.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from .project import Project
from .records.memory import MemoryStore
from .result import RunResult
from .runner import UNSET
from .session import DryRun, execute, prepare


def run_paths(project: Project, integration: str, function: str, scenario: str) -> list[Path]:
    """The cassettes of a scenario's runs, in order (stops at the first missing run)."""
    paths = []
    run = 1
    while (path := project.cassette_path(integration, function, scenario, run)).is_file():
        paths.append(path)
        run += 1
    return paths


def execute_runs(req: DryRun, upto: int | None = None) -> list[RunResult]:
    """Runs 1..`upto` (default `req.run`) of the scenario: earlier runs replayed, the last in `req.mode`."""
    last = upto or req.run
    store = req.store or MemoryStore(time.time)
    results: list[RunResult] = []
    for run in range(1, last + 1):
        if run < last:
            # Earlier runs replay exactly as recorded (their own input, metadata and checkpoint).
            step = replace(req, run=run, store=store, mode="replay", input=UNSET, metadata=UNSET,
                           payload=UNSET, checkpoint=UNSET, faults=None)
        else:
            step = replace(req, run=run, store=store)
        prepared = prepare(step)
        if run < last and not prepared.cassette_path.is_file():
            raise_missing(prepared.project, prepared.cassette_path, run)
        if prepared.mode != "replay" and step.checkpoint is UNSET and results:
            # A new run continues from where the previous one ended, as the next production run would.
            step = replace(step, checkpoint=results[-1].final_checkpoint)
        result = execute(step, prepared)
        results.append(result)
        if not result.ok:
            break
    return results


def raise_missing(project: Project, path: Path, run: int) -> None:
    from .errors import CassetteError

    raise CassetteError(f"run {run} of this scenario is not recorded ({project.relative(path)})",
                        hint=f"record the runs in order: --record --run {run}")
