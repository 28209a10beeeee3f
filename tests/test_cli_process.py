"""The forked `harness` processes of tests/cli_process.py behave as `python -m harness` does: the same exit
status, stdout and stderr apart, the environment and working folder given, a signal's death as its status."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from harness.crashpoints import ENV
from tests import cli_process


def _interpreter(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "harness", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_a_forked_process_prints_and_exits_as_a_new_interpreter_does(example: Path) -> None:
    runs = (["list", "--json"], ["dryrun", "issues", "demo", "--bogus"])
    # The new interpreters start first and all at once (they only read the project), the forks run meanwhile.
    new = [_interpreter(args, example) for args in runs]
    try:
        for args, interpreter in zip(runs, new, strict=True):
            forked = cli_process.run(args, cwd=example)
            out, err = interpreter.communicate(timeout=120)
            assert (forked.returncode, forked.stdout, forked.stderr) == (interpreter.returncode, out, err)
    finally:  # a failed comparison leaves none of them running
        for interpreter in new:
            if interpreter.poll() is None:
                interpreter.kill()
                interpreter.communicate()
    assert forked.returncode == 2 and forked.stdout == "" and forked.stderr.startswith("error: unknown option")


def test_its_environment_folder_and_death_are_its_own(example: Path, tmp_path: Path) -> None:
    env = {**os.environ, "HARNESS_PROJECT": str(example)}
    listed = cli_process.run(["list"], cwd=tmp_path, env=env)  # the project comes from the environment only
    assert listed.returncode == 0 and "create-issue" in listed.stdout
    assert "HARNESS_PROJECT" not in os.environ  # ...of that process, not of this one
    missing = cli_process.run(["list"], cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.startswith("error: no harness project found")
    # A crash point kills it with SIGKILL, as it kills a new interpreter (tests/test_crash_leftovers.py).
    killed = cli_process.run(["--project", str(example), "deploy", "--to", str(tmp_path / "dist"), "--skip-tests"],
                             env={**os.environ, ENV: "deploy-release-ready"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
