"""The CLI as a user runs it: a real subprocess in the repository, and click's runner for output shapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from .conftest import REPO


def harness(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "HARNESS_PROJECT")}
    script = Path(sys.executable).parent / "harness"
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "harness"]
    return subprocess.run([*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_quick_start_replays_the_bundled_example() -> None:
    proc = harness("dryrun", "issues", "demo")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "github/issues" in out and "replay" in out
    assert '"title": "Issue 12"' in out
    assert "final: {\"since\": \"2026-01-12T10:00:00Z\"}" in out


def test_json_output_is_one_document_from_a_subfolder() -> None:
    proc = harness("dryrun", "github/create-issue", "demo", "--json", cwd=REPO / "functions" / "github")
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


def test_no_project(tmp_path: Path) -> None:
    proc = harness("list", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: no harness project found") and "Traceback" not in proc.stderr


def test_version_and_help() -> None:
    assert harness("--version").stdout.startswith("harness, version ")
    out = harness("--help").stdout
    assert "Exit codes" in out and "dryrun" in out
