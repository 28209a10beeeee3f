"""Every shell command of the README runs as shipped.

Each ```sh block of README.md is run as one shell session (a `cd` holds for the rest of the block), in a
fresh temporary copy of the repository's example project, with a fresh fake GitHub server standing in for
the provider (`GITHUB_TOKEN` and `GITHUB_API_URL` point at it), so nothing in the repository changes and
nothing leaves the machine. A new command in the README is covered without touching this file.

What a line must do is written in its trailing comment:
- `exits N`: the exit code it must end with (otherwise 0);
- `prints "TEXT"` (or `prints 'TEXT'`): text its output must contain.

`harness ...` runs in-process (click's runner, in the session's folder), `pytest ...` as a subprocess. The
few commands that cannot run here are in `SKIPPED`, each with the reason.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from tests.fakes.github_server import FakeGitHub
from tests.fakes.record_examples import ISSUES, RATE_LIMIT_RESET

from .conftest import PYPROJECT, REPO

# Commands that cannot run in a test, matched against the start of a command (after `&&` splitting).
SKIPPED = {
    "pip install": "installs packages (the suite already runs inside the installed checkout)",
    "python3 -m venv": "creates a virtualenv (.ci/run builds and smoke-tests a clean one)",
    ". .venv/bin/activate": "activates the virtualenv the line before would have made",
    "harness deploy --to https://": "delivers to a URL on the internet (tests/test_packaging.py posts to a local one)",
    "harness mcp --http": "serves HTTP until it is stopped (tests/test_mcp.py serves it on a free port)",
    "harness cassettes adopt tests/cassettes/": "adopts a pytest-recording cassette of the reader's own "
                                                "(tests/test_vcrpy_cassettes.py adopts real vcrpy recordings)",
    "harness cassettes adopt recorded.json": "adopts a vcrpy cassette of the reader's own (as above)",
    "harness serve": "serves HTTP until it is stopped (tests/test_serve_*.py start it on a free port and drive it)",
}


@dataclass
class Line:
    block: int  # the README line where the block starts
    number: int  # the README line of the command
    command: str
    exits: int
    prints: list[str]


def _split_comment(text: str) -> tuple[str, str]:
    """The command and its trailing comment (a `#` outside quotes, after a space)."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1].isspace()):
            return text[:i].strip(), text[i + 1:].strip()
    return text.strip(), ""


def _segments(command: str) -> list[str]:
    """`a && b && c` as [a, b, c] (`&&` outside quotes)."""
    parts, quote, start = [], None, 0
    i = 0
    while i < len(command):
        ch = command[i]
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif command.startswith("&&", i):
            parts.append(command[start:i].strip())
            start = i + 2
            i += 1
        i += 1
    parts.append(command[start:].strip())
    return [p for p in parts if p]


def readme_blocks() -> dict[int, list[Line]]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks: dict[int, list[Line]] = {}
    for match in re.finditer(r"^```sh\n(.*?)^```", text, re.S | re.M):
        start = text[: match.start()].count("\n") + 1
        lines = []
        for offset, raw in enumerate(match.group(1).splitlines(), 1):
            command, comment = _split_comment(raw)
            if not command:
                continue
            exits = re.search(r"\bexits (\d+)", comment)
            prints = [a or b for a, b in re.findall(r"""prints "([^"]+)"|prints '([^']+)'""", comment)]
            lines.append(Line(start, start + offset, command, int(exits.group(1)) if exits else 0, prints))
        blocks[start] = lines
    return blocks


BLOCKS = readme_blocks()


def test_the_readme_has_commands_to_run() -> None:
    # Guards the guard: a parser that found nothing would make the test below pass.
    commands = [line.command for lines in BLOCKS.values() for line in lines]
    assert len(BLOCKS) >= 10 and len(commands) >= 50
    assert "harness dryrun issues demo --live" in commands
    assert any(line.exits for lines in BLOCKS.values() for line in lines)


def _skipped(segment: str) -> str | None:
    return next((why for start, why in SKIPPED.items() if segment.startswith(start)), None)


def _env(fake: FakeGitHub) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "HARNESS_", "NANGO_")) and k not in ("CI", "GITHUB_TOKEN")}
    env.update(GITHUB_TOKEN=fake.token, GITHUB_API_URL=fake.base_url, PYTEST_ADDOPTS="-p no:cacheprovider")
    return env


def _run(segment: str, cwd: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    words = shlex.split(segment)
    if words[0] == "harness":
        monkeypatch.chdir(cwd)
        res = CliRunner().invoke(main, words[1:], env=env, input="", catch_exceptions=False)
        return res.exit_code, res.output
    if words[0] == "pytest":
        done = subprocess.run([sys.executable, "-m", "pytest", *words[1:]], cwd=cwd, env=env, capture_output=True,
                              text=True, check=False)
        return done.returncode, done.stdout + done.stderr
    raise AssertionError(f"the README runs {words[0]!r}: teach tests/test_readme.py to run it, or add it to SKIPPED")


@pytest.mark.slow
@pytest.mark.parametrize("block", sorted(BLOCKS), ids=[f"README.md:{b}" for b in sorted(BLOCKS)])
def test_every_readme_command_runs_as_shipped(block: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Slow: the README's commands include about ten pytest sessions (the loop, `harness test`, the deploy
    gate, new projects), each a process of its own."""
    root = tmp_path / "example"
    for folder in ("functions", "cassettes", "fixtures"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text(PYPROJECT)
    cwd = root
    with FakeGitHub(issues=ISSUES) as fake:
        fake.rate_limit_reset = RATE_LIMIT_RESET
        env = _env(fake)
        for line in BLOCKS[block]:
            code, output = 0, ""
            for segment in _segments(line.command):
                if _skipped(segment):
                    continue
                if segment.startswith("cd "):
                    cwd = (cwd / shlex.split(segment)[1]).resolve()
                    continue
                code, output = _run(segment, cwd, env, monkeypatch)
                if code != 0:
                    break
            where = f"README.md:{line.number}: {line.command}"
            assert code == line.exits, f"{where}\nexited {code}, the README says {line.exits}:\n{output[-3000:]}"
            for text in line.prints:
                assert text in output, f"{where}\ndoes not print {text!r}:\n{output[-3000:]}"
    assert not (REPO / "dist").exists() and not (REPO / "my-functions").exists()
