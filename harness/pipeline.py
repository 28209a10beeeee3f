"""The one way into the engine: a `RunRequest` in, an `Outcome` out.

Every face (CLI commands, the pytest plugin and its fixtures, `harness dev`, deploy's gate, `serve`, `mcp`)
builds a `RunRequest` and calls `execute`. It resolves the function, the scenario (multi-run included), the
connection, the provider, the transport stack, the store and the frozen time, runs, and writes the cassette
of a recording. Nothing else builds a transport stack or picks a connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .result import RunResult
from .session import DryRun as RunRequest
from .session import Prepared, prepare

__all__ = ["Outcome", "RunRequest", "execute", "prepare"]


@dataclass
class Outcome:
    """What `execute` returns: the requested run's result, and the runs replayed before it."""

    result: RunResult
    prepared: Prepared
    # Runs 1..N-1 of a multi-run scenario, replayed on the same store before run N.
    previous: list[RunResult] = field(default_factory=list)

    @property
    def cassette_path(self) -> Path:
        return self.prepared.cassette_path

    @property
    def mode(self) -> str:
        return self.prepared.mode


def execute(req: RunRequest) -> Outcome:
    """Run what `req` asks for, with every earlier run of a multi-run scenario replayed first."""
    from .scenarios import execute_runs
    from .session import execute as execute_one

    prepared = prepare(req)
    if req.run > 1:
        *previous, result = execute_runs(req)
        return Outcome(result, prepared, previous)
    return Outcome(execute_one(req, prepared), prepared)
