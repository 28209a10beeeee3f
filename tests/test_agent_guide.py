"""The agent guide `harness init` writes: AGENTS.md and the skill exist, and every command they show runs as
is in the fresh project (taken from their ```sh blocks, so a command added to the guide is tested too). The
live ones go to the fake GitHub server through the connection's `${GITHUB_API_URL}`."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from harness.cli import main
from harness.scaffold.guide import SKILL_PATH
from tests.fakes.github_server import FakeGitHub

_SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.M | re.S)


def guide_commands(*files: Path) -> list[str]:
    commands: list[str] = []
    for path in files:
        for block in _SH_BLOCK.findall(path.read_text(encoding="utf-8")):
            for line in block.splitlines():
                if line.strip() and line not in commands:
                    commands.append(line)
    return commands


def test_init_writes_the_guide_and_the_skill(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    assert CliRunner().invoke(main, ["init", str(root)]).exit_code == 0
    agents = (root / "AGENTS.md").read_text()
    skill = (root / SKILL_PATH).read_text()
    front = yaml.safe_load(skill.split("---\n")[1])
    assert front["name"] == "building-harness-functions" and "harness" in front["description"]
    for text in (agents, skill):
        for step in ("Write the function and its models", "Dry-run it live", "Record it", "Test",
                     "Iterate on the diff", "Deploy"):
            assert step in text
        for field in ("Integration id:", "Connection id:", "Inputs:", "Outputs:", "API reference:"):
            assert field in text
    assert '"args": ["--project", "/path/to/this/project", "mcp", "--dev"]' in agents


@pytest.mark.slow
def test_every_command_of_the_guide_runs_in_a_fresh_project(tmp_path: Path) -> None:
    """Slow: runs every command of the guide, several pytest sessions among them, each a process of its own."""
    root = tmp_path / "fresh"
    assert CliRunner().invoke(main, ["init", str(root)]).exit_code == 0
    commands = guide_commands(root / "AGENTS.md", root / SKILL_PATH)
    assert len(commands) >= 8 and any("--live" in c for c in commands) and any("--record" in c for c in commands)
    with FakeGitHub(issues=12) as gh:
        env = {**os.environ, "GITHUB_API_URL": gh.base_url, "GITHUB_TOKEN": gh.token}
        env.pop("CI", None)
        for line in commands:
            argv = shlex.split(line, comments=True)
            assert argv[0] in ("harness", "pytest"), line
            full = [sys.executable, "-m", argv[0], *argv[1:]]
            done = subprocess.run(full, cwd=root, env=env, capture_output=True, text=True, timeout=300,
                                  stdin=subprocess.DEVNULL, check=False)
            assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        assert any(r.path.startswith("/repos/octocat/hello-world/issues") for r in gh.requests)  # live ones went out
    assert (root / "cassettes/github/issues/mine.yaml").is_file()
    assert gh.token not in (root / "cassettes/github/issues/mine.yaml").read_text()
