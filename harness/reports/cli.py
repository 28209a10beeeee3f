"""`--html PATH` on the run commands (`dryrun`, `webhook`, `event`, `check`) and `harness test --html`.

The commands call these few functions, so their own code keeps one line per use:

- `html_option`: the click option;
- `check_target(path)`: refuses a folder or a path under a file before anything runs;
- `write_runs(ctx, path, results)`: writes the report (or, inside `collect(ctx, path)`, adds the runs to the
  one report `harness event` writes for all its functions) and says so on stderr;
- `RunCollector`: wraps the run function `harness check` gives `check_sync`, keeping every run and a label
  saying what it was (uninterrupted, interrupted after checkpoint N, resumed from ...).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import UsageError

if TYPE_CHECKING:
    from ..result import RunResult

F = TypeVar("F", bound=Callable[..., Any])
_COLLECT = "harness.reports.collect"


def html_option(f: F) -> F:
    return click.option("--html", "html", type=click.Path(dir_okay=True, path_type=Path), default=None,
                        metavar="PATH", help="Also write a self-contained HTML report of the run to PATH.")(f)


def check_target(path: Path | None) -> None:
    """Fail before running when the report could not be written there."""
    if path is None:
        return
    if path.is_dir():
        raise UsageError(f"--html {path}: is a folder", hint="give a file name such as report.html")
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"--html {path}: {parent} is not a folder", hint="choose another path")
            break


def _write(path: Path, runs: list[tuple[str | None, RunResult]], checks: Mapping[str, Any] | None) -> None:
    from .run_report import render_run_page, run_document

    same = len({(r.integration, r.function) for _, r in runs}) == 1
    docs = [run_document(r, label or (f"run {n + 1}" if same and len(runs) > 1 else None))
            for n, (label, r) in enumerate(runs)]
    try:
        from ..atomic import write_atomic

        write_atomic(path, render_run_page(docs, checks))
    except OSError as exc:
        raise UsageError(f"--html {path}: cannot write the report ({exc.strerror or exc})",
                         hint="choose a writable path") from None
    click.echo(f"wrote {path}", err=True)


def write_runs(ctx: click.Context, path: Path | None, results: list[RunResult],
               checks: Mapping[str, Any] | None = None, labels: list[str] | None = None) -> None:
    """Write the run report of `results` (in run order) to `path`, unless `path` is None."""
    if path is None:
        return
    runs: list[tuple[str | None, RunResult]] = [(labels[n] if labels else None, r) for n, r in enumerate(results)]
    pending = ctx.meta.get(_COLLECT)
    if isinstance(pending, dict) and pending.get("path") == path:
        pending["runs"].extend(runs)
        return
    _write(path, runs, checks)


@contextlib.contextmanager
def collect(ctx: click.Context, path: Path | None) -> Iterator[None]:
    """Gather the runs the block's dry runs report into one page, written when the block ends (even when a
    run fails and the command exits with its code)."""
    if path is None:
        yield
        return
    pending: dict[str, Any] = {"path": path, "runs": []}
    ctx.meta[_COLLECT] = pending
    try:
        yield
    finally:
        ctx.meta.pop(_COLLECT, None)
        if pending["runs"]:
            labels = [f"{r.integration}/{r.function}" for _, r in pending["runs"]]
            _write(path, [(label, r) for label, (_, r) in zip(labels, pending["runs"], strict=True)], None)


class RunCollector:
    """Keeps the runs `harness check` makes, labelled by what each one was."""

    def __init__(self) -> None:
        self.runs: list[RunResult] = []
        self.labels: list[str] = []

    def wrap(self, run: Callable[..., RunResult]) -> Callable[..., RunResult]:
        def recorded(**overrides: Any) -> RunResult:
            result = run(**overrides)
            self.runs.append(result)
            self.labels.append(self.label(overrides, len(self.runs)))
            return result

        return recorded

    @staticmethod
    def label(overrides: Mapping[str, Any], n: int) -> str:
        if overrides.get("interrupt_after_checkpoints") is not None:
            return f"{n}: interrupted after checkpoint {overrides['interrupt_after_checkpoints']}"
        checkpoint = overrides.get("checkpoint")
        if isinstance(checkpoint, dict):
            return f"{n}: from checkpoint {json.dumps(checkpoint, ensure_ascii=False)}"
        return f"{n}: uninterrupted"
