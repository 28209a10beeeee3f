"""`harness docs`: the reference covers every command, option, context method, config key and exit code,
because it is generated from them (compared here with click's tree and the classes themselves)."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator

import click
from click.testing import CliRunner

from harness.cli import main
from harness.context import ActionContext, SyncContext
from harness.project import _KNOWN_KEYS


def docs(*args: str) -> click.testing.Result:
    return CliRunner().invoke(main, ["docs", *args], catch_exceptions=False)


def walk(cmd: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            if not sub.hidden:  # an alias kept out of the help list (`generate:tests`)
                yield from walk(sub, f"{path} {name}")


def test_every_command_and_option_is_listed() -> None:
    res = docs("cli")
    assert res.exit_code == 0
    text = res.stdout
    sections = set(re.findall(r"^### `(harness[^`]*)`$", text, flags=re.M))
    tree = dict(walk(main, "harness"))
    assert sections == set(tree)  # nothing missing, nothing invented
    assert {"harness mcp", "harness docs", "harness cassettes lint", "harness tools call"} <= sections
    for path, cmd in tree.items():
        section = text.split(f"### `{path}`\n", 1)[1].split("\n### ", 1)[0]
        for param in cmd.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert any(opt in section for opt in param.opts), (path, param.opts)


def test_every_public_context_member_is_listed_with_its_docstring() -> None:
    text = docs("api").stdout
    for cls in (ActionContext, SyncContext):
        for name, member in inspect.getmembers(cls):
            if name.startswith("_"):
                continue
            row = next((line for line in text.splitlines() if f"nango.{name}`" in line), None)
            assert row is not None, f"{cls.__name__}.{name} is not in the reference"
            doc = inspect.getdoc(member.fget if isinstance(member, property) else member)
            assert doc, f"{cls.__name__}.{name} has no docstring"
            assert " ".join(doc.split("\n\n")[0].split()).replace("|", "\\|") in row
    assert "`await nango.batch_save` | `(records: list[Any], model: str \\| type[BaseModel]) -> bool`" in text
    for decorator in ("sync", "action", "on_event", "ActionError"):
        assert f"| `{decorator}` |" in text


def test_config_keys_and_exit_codes() -> None:
    text = docs("config").stdout
    for key in _KNOWN_KEYS:
        assert re.search(rf"^\| `{key}` \| .* \| (?!\(undocumented\)).+ \|$", text, flags=re.M), key
    codes = docs("exit-codes").stdout
    # Every code `harness --help` lists has a row with a meaning in the generated table.
    for code in re.findall(r"^\s+(\d+)\s+\S", main.help or "", flags=re.M):
        assert re.search(rf"^\| {code} \| `EXIT_\w+` \| \S.+ \|$", codes, flags=re.M), code


def test_topics_commands_json_and_bad_topics() -> None:
    whole = docs().stdout
    for heading in ("## Workflow", "## Authoring API", "## Commands", "## `[tool.harness]`", "## Exit codes"):
        assert heading in whole
    one = docs("cassettes", "lint")
    assert one.exit_code == 0 and one.stdout.startswith("# `harness cassettes lint`")
    doc = json.loads(docs("--json").stdout)
    assert set(doc) == {"api", "cli", "config", "exit_codes", "workflow"}
    assert {c["path"] for c in doc["cli"]} == {path for path, _ in walk(main, "harness")}
    bad = CliRunner().invoke(main, ["docs", "dryrn"])
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error: unknown docs topic 'dryrn' (did you mean dryrun?)")
