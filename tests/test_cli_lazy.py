"""The command line imports a command's code only when that command is looked up, and lists them all."""

from __future__ import annotations

import json
import sys

import click

from harness.cli import COMMANDS, main
from tests import early

PROBE = """
import json, sys
from harness.cli import main
{before}
print(json.dumps(sorted(m for m in sys.modules if m.startswith("harness.cli."))))
"""


def cli_modules_after(ctx: early.Context, before: str) -> set[str]:
    out = ctx.run([sys.executable, "-c", PROBE.format(before=before)], capture_output=True, text=True,
                  check=True, timeout=120, env=ctx.env, cwd=ctx.cwd)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


# The fresh interpreters of the two tests below start ahead, on the other core (tests/early.py).
@early.ahead("test_a_command_imports_only_its_own_module")
def _modules_loaded(ctx: early.Context) -> tuple[set[str], set[str]]:
    return cli_modules_after(ctx, ""), cli_modules_after(ctx, "main.get_command(None, 'dryrun')")


@early.ahead("test_help_lists_every_visible_command")
def _help(ctx: early.Context) -> str:
    return ctx.run([sys.executable, "-m", "harness", "--help"], capture_output=True, text=True, check=True,
                   timeout=120, env=ctx.env, cwd=ctx.cwd).stdout


def test_every_command_is_listed_and_loads_as_itself() -> None:
    assert list(main.commands) == list(COMMANDS)
    assert len(main.commands) == len(COMMANDS)
    for name, cmd in main.commands.items():
        assert isinstance(cmd, click.Command)
        assert cmd.name == name or (name == "generate:tests" and cmd.hidden and cmd.name == "generate-tests")
    assert not main.commands["generate-tests"].hidden  # the alias is a copy: the original stays listed
    ctx = click.Context(main)
    assert main.list_commands(ctx) == sorted(COMMANDS)


def test_a_command_imports_only_its_own_module() -> None:
    nothing, loaded = _modules_loaded.result()
    assert nothing == set()
    assert "harness.cli.dryrun" in loaded
    others = {f"harness.cli.{module}" for module, _ in COMMANDS.values()} - {"harness.cli.dryrun"}
    assert loaded & others == set()


def test_help_lists_every_visible_command() -> None:
    out = _help.result()
    commands = out.split("Commands:", 1)[1]
    for name, cmd in main.commands.items():
        assert (f"  {name} " in commands or commands.rstrip().endswith(f"  {name}")) != cmd.hidden, name
