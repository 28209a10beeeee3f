"""The CLI as a user runs it: a real subprocess in the repository, and click's runner for output shapes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from tests import early

from .conftest import REPO


def harness(ctx: early.Context, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in ctx.env.items() if k not in ("GITHUB_TOKEN", "HARNESS_PROJECT")}
    script = Path(sys.executable).parent / "harness"
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "harness"]
    return ctx.run([*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


# Each test's process starts ahead, on the other core (tests/early.py); the test asserts on what it printed.
@early.ahead("test_quick_start_replays_the_bundled_example")
def _quick_start(ctx: early.Context) -> subprocess.CompletedProcess[str]:
    return harness(ctx, "dryrun", "issues", "demo")


def test_quick_start_replays_the_bundled_example() -> None:
    proc = _quick_start.result()
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "github/issues" in out and "replay" in out
    assert '"title": "Issue 12"' in out
    assert "final: {\"since\": \"2026-01-12T10:00:00Z\"}" in out


@early.ahead("test_json_output_is_one_document_from_a_subfolder")
def _json_from_a_subfolder(ctx: early.Context) -> subprocess.CompletedProcess[str]:
    return harness(ctx, "dryrun", "github/create-issue", "demo", "--json", cwd=REPO / "functions" / "github")


def test_json_output_is_one_document_from_a_subfolder() -> None:
    proc = _json_from_a_subfolder.result()
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["status"] == "success" and doc["type"] == "action"
    assert doc["output"]["number"] == 13
    assert doc["requests"][0]["method"] == "POST"


def test_list(cli: Callable[..., Result], example: Path) -> None:
    res = cli(example, "list", "--json")
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert [(f["integration"], f["name"], f["type"]) for f in doc["functions"]] == [
        ("github", "create-issue", "action"), ("github", "check-access", "on-event"), ("github", "issues", "sync")]
    assert doc["functions"][2]["models"] == ["Issue"] and doc["functions"][2]["frequency"] == "every hour"
    res = cli(example, "list")
    assert "create-issue" in res.stdout and "every hour" in res.stdout


def test_replay_with_overrides_and_show(cli: Callable[..., Result], example: Path) -> None:
    res = cli(example, "dryrun", "issues", "demo", "--show", "2")
    assert res.exit_code == 0
    assert "... 10 more" in res.stdout
    # A different starting checkpoint changes the first request: the replay reports the miss.
    res = cli(example, "dryrun", "issues", "demo", "--checkpoint", '{"since": "2026-01-05T10:00:00Z"}')
    assert res.exit_code == 3
    assert "query since=2026-01-05T10:00:00Z != recorded (absent)" in res.stdout


@early.ahead("test_no_project")
def _no_project(ctx: early.Context) -> subprocess.CompletedProcess[str]:
    return harness(ctx, "list", cwd=ctx.folder)  # an empty folder of its own


def test_no_project() -> None:
    proc = _no_project.result()
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: no harness project found") and "Traceback" not in proc.stderr


@early.ahead("test_version_and_help")
def _version_and_help(ctx: early.Context) -> tuple[str, str]:
    return harness(ctx, "--version").stdout, harness(ctx, "--help").stdout


def test_version_and_help() -> None:
    version, out = _version_and_help.result()
    assert version.startswith("harness, version ")
    assert "Exit codes" in out and "dryrun" in out
