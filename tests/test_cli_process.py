"""The forked `harness` processes of tests/cli_process.py behave as `python -m harness` does: the same exit
status, stdout and stderr apart, the environment and working folder given, a signal's death as its status."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness.crashpoints import ENV
from tests import cli_process, early

from .conftest import copy_example


def _interpreter(ctx: early.Context, args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return ctx.popen([sys.executable, "-m", "harness", *args], cwd=cwd, env=ctx.env, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)


Outcome = tuple[int, str, str]


# Both tests' processes start ahead, on the other core (tests/early.py), in a project folder of their own; the
# tests compare what they printed.
@early.ahead("test_a_forked_process_prints_and_exits_as_a_new_interpreter_does")
def _both_ways(ctx: early.Context) -> list[tuple[subprocess.CompletedProcess[str], Outcome]]:
    example = copy_example(ctx.folder / "example")
    runs = (["list", "--json"], ["dryrun", "issues", "demo", "--bogus"])
    # The new interpreters start first and all at once (they only read the project), the forks run meanwhile.
    new = [_interpreter(ctx, args, example) for args in runs]
    pairs = []
    try:
        for args, interpreter in zip(runs, new, strict=True):
            forked = ctx.forked(cli_process.HarnessProcess(args, cwd=example, env=ctx.env))
            out, err = interpreter.communicate(timeout=120)
            pairs.append((forked, (interpreter.returncode, out, err)))
    finally:  # a failure leaves none of them running
        for interpreter in new:
            if interpreter.poll() is None:
                interpreter.kill()
                interpreter.communicate()
    return pairs


def test_a_forked_process_prints_and_exits_as_a_new_interpreter_does() -> None:
    for forked, (returncode, out, err) in _both_ways.result():
        assert (forked.returncode, forked.stdout, forked.stderr) == (returncode, out, err)
    assert forked.returncode == 2 and forked.stdout == "" and forked.stderr.startswith("error: unknown option")


@early.ahead("test_its_environment_folder_and_death_are_its_own")
def _own_world(ctx: early.Context) -> list[subprocess.CompletedProcess[str]]:
    tmp_path = ctx.folder
    example = copy_example(tmp_path / "example")
    env = {**ctx.env, "HARNESS_PROJECT": str(example)}
    # The project comes from the environment only.
    listed = ctx.forked(cli_process.HarnessProcess(["list"], cwd=tmp_path, env=env))
    missing = ctx.forked(cli_process.HarnessProcess(["list"], cwd=tmp_path, env=ctx.env))
    # A crash point kills it with SIGKILL, as it kills a new interpreter (tests/test_crash_leftovers.py).
    killed = ctx.forked(cli_process.HarnessProcess(
        ["--project", str(example), "deploy", "--to", str(tmp_path / "dist"), "--skip-tests"], cwd=ctx.cwd,
        env={**ctx.env, ENV: "deploy-release-ready"}))
    return [listed, missing, killed]


def test_its_environment_folder_and_death_are_its_own() -> None:
    listed, missing, killed = _own_world.result()
    assert listed.returncode == 0 and "create-issue" in listed.stdout
    assert "HARNESS_PROJECT" not in os.environ  # ...of that process, not of this one
    assert missing.returncode == 2 and missing.stderr.startswith("error: no harness project found")
    assert killed.returncode == -signal.SIGKILL, killed.stderr


def _imported(modules: list[str], out: Any) -> None:
    out.put([m for m in modules if m in sys.modules])


def test_a_forked_process_starts_with_what_the_fork_server_imported() -> None:
    # The fork server's preload fails silently (multiprocessing ignores its ImportError): it did so whenever
    # pytest ran from another folder than the repository's root, each forked process then importing harness
    # itself. Run from any folder, the forked process finds harness and the zygote already imported.
    modules = ["tests.cli_zygote", "harness.cli", "harness.pipeline"]
    out = cli_process.CONTEXT.Queue()
    process = cli_process.CONTEXT.Process(target=_imported, args=(modules, out))
    process.start()
    try:
        assert out.get(timeout=60) == modules
    finally:
        process.join(60)
