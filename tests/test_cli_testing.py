"""`harness test` and `harness generate-tests` through the CLI (in-process and as a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

GENERATED = "tests/harness/test_github_issues.py"


def test_generate_tests_writes_passing_editable_files_and_keeps_edits(cli: Callable[..., Result],
                                                                      example: Path) -> None:
    res = cli(example, "generate-tests", "issues")
    assert res.exit_code == 0, res.output
    assert res.output == f"wrote {GENERATED}\n"
    text = (example / GENERATED).read_text()
    assert "assert result.final_checkpoint == {'since': '2026-01-12T10:00:00Z'}" in text
    assert cli(example, "generate-tests", "issues").output == f"unchanged {GENERATED}\n"
    # An edited file is left alone...
    (example / GENERATED).write_text(text.replace("== 3", "== 3  # checked by hand"))
    res = cli(example, "generate-tests", "issues")
    assert res.exit_code == 2
    assert f"error: not overwriting edited file(s): {GENERATED} (pass --force" in res.output
    assert "checked by hand" in (example / GENERATED).read_text()
    # ...unless forced.
    res = cli(example, "generate-tests", "issues", "--force")
    assert res.exit_code == 0 and (example / GENERATED).read_text() == text


def test_generate_tests_rejects_unknown_functions(cli: Callable[..., Result], example: Path) -> None:
    res = cli(example, "generate-tests", "isues")
    assert res.exit_code == 2
    assert "error: no recorded scenario for isues" in res.output


@pytest.mark.slow
def test_harness_test_runs_pytest_with_the_options_and_passes_args_through(example: Path) -> None:
    """Slow: `harness test` starts pytest as a subprocess, several times."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "HARNESS_PROJECT", "PYTEST_ADDOPTS")}
    for snapshot in example.glob("cassettes/*/*/*.snapshot.json"):
        snapshot.unlink()
    harness = [sys.executable, "-m", "harness", "--project", str(example)]
    pytest_opts = ["-p", "no:hypothesispytest", "-p", "no:cacheprovider"]
    assert subprocess.run([*harness, "generate-tests"], env=env, capture_output=True, check=False).returncode == 0
    run = subprocess.run([*harness, "test", "--strict", *pytest_opts, "-q", "--co"], env=env, capture_output=True,
                         text=True, check=False)
    # Strict: the scenarios have no snapshots in this copy, so collecting is fine but running would fail.
    assert run.returncode == 0, run.stderr
    assert "github/issues[default]" in run.stdout
    assert "tests/harness/test_github_issues.py::test_issues_default" in run.stdout
    run = subprocess.run([*harness, "test", "--strict", *pytest_opts, "-q"], env=env, capture_output=True,
                         text=True, check=False)
    assert run.returncode == 1 and "no snapshot: cassettes/github/issues/default.snapshot.json" in run.stdout
    run = subprocess.run([*harness, "test", "--update", "--function", "issues", *pytest_opts, "-q"], env=env,
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout
    assert (example / "cassettes/github/issues/default.snapshot.json").is_file()
    assert not (example / "cassettes/github/create-issue/default.snapshot.json").exists()


def test_generate_tests_refuses_a_file_in_another_encoding_as_an_edited_one(cli: Callable[..., Result],
                                                                           example: Path) -> None:
    # It was read as UTF-8: an "internal error" (exit 70) for a file saved as Latin-1.
    (example / GENERATED).parent.mkdir(parents=True)
    (example / GENERATED).write_bytes(b"# caf\xe9\n")
    res = cli(example, "generate-tests", "issues")
    assert res.exit_code == 2, res.output
    assert res.stderr.splitlines() == [f"error: not overwriting edited file(s): {GENERATED} (pass --force to "
                                       "regenerate them, or edit them by hand)"]
    assert (example / GENERATED).read_bytes() == b"# caf\xe9\n"
    assert cli(example, "generate-tests", "issues", "--force").exit_code == 0
