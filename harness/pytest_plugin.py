"""The pytest plugin (entry point `pytest11: harness`): fixtures to run functions in hand-written tests.

Thin by design: it builds the same `DryRun` request the CLI builds and returns the runner's `RunResult`.
Nothing heavy is imported until a fixture is used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .result import RunResult


@pytest.fixture
def harness_run() -> Callable[..., RunResult]:
    """`harness_run("issues", "demo", mode="replay", input=..., project=Path(...))` -> RunResult."""
    from .project import load_project
    from .session import DryRun, execute

    def run(function: str, connection: str, *, project: Any = None, **options: Any) -> RunResult:
        proj = load_project(project) if project is not None else None
        return execute(DryRun(function=function, connection_id=connection, project=proj, **options))

    return run
