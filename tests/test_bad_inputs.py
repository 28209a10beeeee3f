"""Bad inputs across every command, as a table: each row is a command line, its exit code, the one error line
it must print, and the promise that no file changed. Each command is also held to its row of the README's
exit-code table, and that table must name every command of the CLI.

The rows cover the categories of bad input a user meets: click's own usage errors (bad values, unknown
options and commands, missing arguments), contradicting or meaningless options, bad JSON and values of the
wrong shape, unknown names (function, connection, scenario, model, template, tool, topic), things checked
before any request (credentials, a writable cassettes folder), folders outside the project, broken files
(cassettes, provider settings) and refused writes.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.cli.failures import MAX_LINE
from tests.fakes.github_server import FakeGitHub

from .conftest import REPO

ISSUE = '{"title": "Found a bug"}'


@functools.cache
def readme_exit_codes() -> dict[str, set[int]]:
    """command -> the exit codes the README's table allows it (70 and 130 are allowed everywhere)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- exit-codes-by-command -->(.*?)<!-- /exit-codes-by-command -->", text, re.S)
    assert block, "the README has the exit-code table between its markers"
    table: dict[str, set[int]] = {}
    for line in block.group(1).strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        codes = {int(c) for c in cells[1].split(",")} | {70, 130}
        for name in re.findall(r"`([^`]+)`", cells[0]):
            table[name] = codes
    return table


def _commands(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    for name, cmd in sorted(group.commands.items()):
        if cmd.hidden:
            continue
        full = f"{prefix}{name}"
        if isinstance(cmd, click.Group):
            if cmd.invoke_without_command:
                names.append(full)
            names += _commands(cmd, full + " ")
        else:
            names.append(full)
    return names


def test_the_readme_exit_code_table_names_every_command() -> None:
    table = readme_exit_codes()
    assert sorted(set(_commands(main)) - set(table)) == []
    assert sorted(set(table) - set(_commands(main))) == []


@dataclass
class Case:
    args: list[str]
    code: int
    message: str  # a regular expression the one error line matches (after `error: `)
    setup: Callable[[Path], None] | None = None
    live: bool = False  # GITHUB_TOKEN and GITHUB_API_URL point at the fake GitHub server
    no_requests: bool = False  # the fake server must have received nothing
    env: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return " ".join(self.args)[:70]


def _cassettes_is_a_file(root: Path) -> None:
    (root / "pyproject.toml").write_text('[tool.harness]\ncassettes = "recordings"\n')
    (root / "recordings").write_text("not a folder")


def _state_is_a_file(root: Path) -> None:
    (root / ".harness").write_text("not a folder")


def _broken_cassette(root: Path) -> None:
    (root / "cassettes/github/issues/broken.yaml").write_text("interactions: [\n  - {request: \n")


def _provider_typo(root: Path) -> None:
    with (root / "pyproject.toml").open("a") as fh:
        fh.write('\n[tool.harness.providers.github.paginate]\ntype = "lnk"\n')


def _syntax_error(root: Path) -> None:
    (root / "functions/github/actions/broken.py").write_text("async def broken(:\n    pass\n")


def _write(rel: str, data: bytes | str, *, folder: bool = False) -> Callable[[Path], None]:
    """A setup that puts `data` at `rel` (after removing what is there), or a folder of that name."""

    def setup(root: Path) -> None:
        import shutil

        path = root / rel
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        if folder:
            path.mkdir()
        else:
            path.write_bytes(data.encode() if isinstance(data, str) else data)

    return setup


NOT_UTF8 = b"connections:\n  demo: \xff\n"


CASES = [
    # click's own usage errors, in the harness shape
    Case(["dryrun", "issues", "demo", "--max-pages", "-1"], 2,
         r"--max-pages: -1 is not >= 1 \(see harness dryrun --help\)$"),
    Case(["dryrun", "issues", "demo", "--timeout", "0"], 2, r"--timeout: 0(\.0)? is not > 0"),
    Case(["dryrun", "issues"], 2, r"missing argument CONNECTION \(see harness dryrun --help\)$"),
    # An empty id was read as "none named": the replay ran as the cassette's connection, exit 0.
    Case(["dryrun", "issues", ""], 2, r"^CONNECTION: empty; give a connection id from the connections file"),
    Case(["dryrun", "issues", "de\nmo"], 2, r"^CONNECTION: 'de\\nmo' holds a control character"),
    Case(["records", "list", " ", "--model", "Issue"], 2, r"^CONNECTION: empty"),
    Case(["check", "issues", ""], 2, r"^CONNECTION: empty"),
    Case(["import-nango", "cassettes", "--connection", ""], 2, r"^--connection: empty"),
    Case(["deploy", "--to", ""], 2, r"^deploy target '' is not a folder name \(pass a folder"),
    Case(["dryrun", "issues", "demo", "--input"], 2, r"--input needs a value \(see harness dryrun --help\)$"),
    Case(["dryrun", "issues", "demo", "--jsn"], 2, r"unknown option --jsn \(did you mean --json"),
    Case(["dryrun", "issues", "demo", "extra"], 2, r"unexpected extra argument\(s\): extra"),
    Case(["dryrun", "issues", "demo", "--source", "ftp"], 2, r"--source: 'ftp' is not one of 'file', 'nango'"),
    Case(["dryrn", "issues", "demo"], 2, r"unknown command 'dryrn' \(did you mean dryrun\?\) \(see harness --help\)$"),
    Case(["--bogus", "list"], 2, r"unknown option --bogus \(see harness --help\)$"),
    Case(["cassettes", "bogus"], 2, r"unknown command 'bogus' \(see harness cassettes --help\)$"),
    Case(["records", "list", "demo", "--limit", "0"], 2, r"--limit: 0 is not between 1 and 10000"),
    Case(["records", "list", "demo"], 2, r"missing option --model"),
    Case(["event", "bogus", "demo"], 2, r"EVENT: 'bogus' is not one of 'post-connection-creation'"),
    Case(["new", "bogus", "github", "x"], 2, r"KIND: 'bogus' is not one of 'sync', 'action', 'on-event'"),
    Case(["check", "issues", "demo", "--points", "0"], 2, r"--points: 0 is not >= 1 \(see harness check --help\)$"),
    Case(["fuzz", "create-issue", "demo", "--examples", "0"], 2, r"--examples: 0 is not >= 1"),
    Case(["tools", "--format", "xml"], 2, r"--format: 'xml' is not one of"),
    Case(["dev", "--debounce", "1"], 2, r"--debounce: 1 is not >= 10"),
    Case(["docs", "--jsn"], 2, r"unknown option --jsn \(did you mean --json\?\)"),
    Case(["webhook", "issues", "demo"], 2, r"missing option --payload"),
    Case(["import-nango", "/nonexistent/mocks"], 2, r"PATH: path '/nonexistent/mocks' does not exist"),
    Case(["package", "-o", "cassettes"], 2, r"--out: file 'cassettes' is a directory"),
    Case(["test", "-n"], 2, r"-n needs a value \(see harness test --help\)$"),
    Case(["cassettes", "list", "--jsn"], 2, r"unknown option --jsn \(did you mean --json\?\)"),
    Case(["cassettes", "lint"], 3, r"1 finding\(s\) in 5 cassette\(s\)", setup=_broken_cassette),
    # contradicting or meaningless options
    Case(["dryrun", "issues", "demo", "--live", "--replay"], 2, r"--live and --replay contradict each other"),
    Case(["dryrun", "issues", "demo", "--record", "--replay"], 2, r"--replay and --record contradict each other"),
    Case(["webhook", "issues", "demo", "--payload", "{}", "--live", "--record"], 2, r"contradict each other"),
    Case(["event", "post-connection-creation", "demo", "--replay", "--live"], 2, r"contradict each other"),
    Case(["check", "issues", "demo", "--live", "--replay"], 2, r"contradict each other"),
    Case(["tools", "call", "create-issue", "demo", "--live", "--replay"], 2, r"contradict each other"),
    Case(["dryrun", "issues", "demo", "--validate", "--lenient"], 2, r"--validate and --lenient contradict"),
    Case(["dryrun", "issues", "demo", "--record-mode", "none", "--live"], 2, r"--record-mode none cannot be combined"),
    Case(["dryrun", "create-issue", "demo", "--payload", "{}"], 2,
         r"a payload runs a sync's webhook handler, and github/create-issue is an action"),
    Case(["dryrun", "check-access", "demo", "--payload", "{}"], 2, r"github/check-access is an on-event"),
    Case(["dryrun", "issues", "demo", "--input", ISSUE], 2,
         r"--input is an action's input, and this function is a sync"),
    Case(["dryrun", "issues", "demo", "--persist"], 2,
         r"--persist applies to live runs, and this run replays cassettes/github/issues/default.yaml"),
    Case(["dryrun", "issues", "demo", "--persist-metadata"], 2, r"--persist-metadata applies to live runs"),
    Case(["dryrun", "issues", "demo", "--source", "nango"], 2, r"--source applies to live runs"),
    Case(["dryrun", "issues", "demo", "-e", "prod"], 2, r"--environment applies to live runs"),
    Case(["dryrun", "issues", "demo", "--record-on-failure"], 2, r"--record-on-failure applies to recording runs"),
    Case(["dryrun", "issues", "demo", "--live", "--strict"], 2, r"--strict checks a replay's unused interactions",
         live=True, no_requests=True),
    Case(["dryrun", "issues", "demo", "--fault", "429@0"], 2, r"fault '429@0': requests are numbered from 1"),
    Case(["dryrun", "issues", "demo", "--fault", "503x0@1"], 2, r"x0 would never fire"),
    Case(["dryrun", "issues", "demo", "--fault", "418x@@"], 2, r"cannot read fault '418x@@'"),
    Case(["dryrun", "issues", "demo", "--fault", "200@1"], 2, r"status 200 is not an error status"),
    Case(["clone", "--list", "github-issues"], 2, r"--list and a TEMPLATE contradict each other"),
    Case(["clone", "github-issues", "--json"], 2, r"--json applies to --list"),
    Case(["mcp", "--dev", "--live"], 2, r"--live applies only to the action server"),
    Case(["mcp", "--allow-writes"], 2, r"--allow-writes needs --live"),
    # bad JSON, and JSON of the wrong shape
    Case(["dryrun", "create-issue", "demo", "--input", "{not json"], 2, r"--input: not valid JSON"),
    Case(["dryrun", "create-issue", "demo", "--input", "@missing.json"], 2,
         r"--input: file missing.json does not exist"),
    Case(["dryrun", "issues", "demo", "--metadata", "[1, 2]"], 2, r"--metadata: must be a JSON object, got an array"),
    Case(["dryrun", "issues", "demo", "--metadata", '"octocat"'], 2,
         r"--metadata: must be a JSON object, got a string"),
    Case(["dryrun", "issues", "demo", "--checkpoint", "3"], 2, r"--checkpoint: must be a JSON object, got a number"),
    Case(["webhook", "issues", "demo", "--payload", "{bad"], 2, r"--payload: not valid JSON"),
    Case(["tools", "call", "create-issue", "demo", "--input", "[1"], 2, r"--input: not valid JSON"),
    Case(["dryrun", "issues", "demo", "-l", "yesterday"], 2, r"--last-sync-date: cannot read 'yesterday' as a date"),
    Case(["dryrun", "create-issue", "demo", "--input", '{"title": ""}'], 1,
         r"invalid_data: 1 validation error\(s\) in input"),
    Case(["dryrun", "create-issue", "demo", "--input", '{"title": "x", "labels": [{"name": "bug"}]}'], 1,
         r"invalid_data: 1 validation error\(s\) in input"),
    # unknown names
    Case(["dryrun", "isues", "demo"], 2, r"unknown function 'isues' \(did you mean issues\?\)$"),
    Case(["dryrun", "issues", "demo", "--integration", "gitlab"], 2, r"unknown function 'issues' in integration"),
    Case(["dryrun", "issues", "dmo", "--live"], 2, r"unknown connection 'dmo' in fixtures/connections.yaml"),
    Case(["dryrun", "issues", "demo", "--scenario", "../x"], 2, r"bad scenario name '../x'"),
    Case(["dryrun", "issues", "demo", "--scenario", "nope", "--replay"], 3,
         r"no recording at cassettes/github/issues/nope.yaml"),
    Case(["dryrun", "issues", "demo", "--run", "2", "--replay"], 3, r"no recording at"),
    Case(["records", "list", "demo", "--model", "Tiket"], 2, r"unknown model 'Tiket' in integration 'github'"),
    Case(["records", "list", "nobody", "--model", "Issue"], 2, r"connection 'nobody' is not in the connections file"),
    # A folder in its place read as "no records store ... run --live --persist first", which then failed too.
    Case(["records", "list", "demo", "--model", "Issue"], 2,
         r"^\.harness/records\.sqlite is not a file, so it is not a records store \(move it out of the way",
         setup=_write(".harness/records.sqlite", "", folder=True)),
    Case(["records", "list", "demo", "--model", "Issue"], 2, r"no records store at .harness/records.sqlite"),
    Case(["event", "pre-connection-deletion", "demo"], 2,
         r"no pre-connection-deletion function in integration 'github'"),
    Case(["check", "create-issue", "demo"], 2, r"github/create-issue is an action; `harness check` checks syncs"),
    Case(["fuzz", "issues", "demo"], 2, r"github/issues is a sync; `harness fuzz` fuzzes actions"),
    Case(["cassettes", "show", "nope"], 2, r"no cassette for 'nope' scenario 'default'"),
    Case(["cassettes", "prune", "issues", "--scenario", "nope"], 2, r"no cassette for 'issues' scenario 'nope'"),
    Case(["clone", "slack-chanels"], 2, r"unknown template 'slack-chanels'.*did you mean slack-channels\?"),
    Case(["new", "sync", "github", "issues"], 2, r"functions/github/syncs/issues.py already exists"),
    Case(["new", "action", "github", "Bad Name"], 2, r"bad function name 'Bad Name'"),
    Case(["cassettes", "adopt", "missing.yaml", "--function", "issues"], 3, r"no recording at missing.yaml"),
    Case(["serve", "--port", "-5"], 2, r"--port: -5 is not between 0 and 65535 \(see harness serve --help\)"),
    Case(["new", "on-event", "github", "hooks", "--event", "nope"], 2, r"unknown event 'nope'"),
    Case(["tools", "call", "post-message", "demo"], 2, r"unknown tool 'post-message' \(known tools: create-issue\)"),
    Case(["docs", "nope"], 2, r"unknown docs topic 'nope'"),
    Case(["generate-tests", "nope"], 2, r"no recorded scenario for nope"),
    Case(["init", "."], 2, r"is not empty"),
    Case(["--project", "/nonexistent/project", "list"], 2, r"project folder /nonexistent/project does not exist"),
    # checked before any request is sent
    Case(["dryrun", "issues", "demo", "--live"], 2, r"needs environment variable\(s\) GITHUB_TOKEN"),
    Case(["dryrun", "issues", "demo", "--record", "--scenario", "new"], 3,
         r"cannot record the cassette: recordings is not a folder, so recordings/github/issues cannot be created",
         setup=_cassettes_is_a_file,
         live=True, no_requests=True),
    Case(["dryrun", "issues", "demo", "--live", "--persist"], 2,
         r"cannot keep the records \(--persist\): .harness is not a folder",
         setup=_state_is_a_file, live=True, no_requests=True),
    Case(["dryrun", "issues", "demo", "--webhook-url", "http://127.0.0.1:9/hooks"], 2,
         r"--webhook-url needs the signing key in \$NANGO_WEBHOOK_SIGNING_KEY"),
    Case(["dryrun", "create-issue", "demo", "--live", "--input", ISSUE], 2,
         r"write_blocked: .*--allow-writes", live=True,
         no_requests=True),
    Case(["deploy", "--to", "https://deploy.example.invalid/hook", "--skip-tests"], 2,
         r"needs a key in \$HARNESS_DEPLOY_KEY"),
    # folders outside the project are never created
    Case(["package", "-o", "/nonexistent/dir/bundle.zip"], 2, r"-o: folder /nonexistent/dir does not exist"),
    Case(["generate-tests", "issues", "--out", "/nonexistent/tests"], 2,
         r"--out: folder /nonexistent/tests does not exist"),
    Case(["import-nango", "fixtures", "--out", "/nonexistent/cassettes"], 2,
         r"--out: folder /nonexistent/cassettes does"),
    # broken files
    Case(["dryrun", "issues", "demo", "--scenario", "broken"], 3,
         r"cassettes/github/issues/broken.yaml.*not valid YAML",
         setup=_broken_cassette),
    Case(["cassettes", "show", "issues", "--scenario", "broken"], 3, r"not valid YAML", setup=_broken_cassette),
    Case(["compile"], 2, r"pyproject.toml: \[tool.harness.providers.github\] paginate.type: 'lnk' is not one of",
         setup=_provider_typo),
    Case(["dryrun", "issues", "demo"], 2, r"paginate.type: 'lnk'.*did you mean link\?", setup=_provider_typo),
    Case(["dryrun", "broken", "demo"], 2, r"functions/github/actions/broken.py:1: .*SyntaxError", setup=_syntax_error),
    Case(["list"], 2, r"functions/github/actions/broken.py:1: ", setup=_syntax_error),
    Case(["compile"], 2, r"broken.py", setup=_syntax_error),
    # files that are not what they should be: another encoding, a folder where a file belongs and the
    # reverse, a file of the wrong shape; each refused before anything is written
    Case(["list"], 2, r"pyproject.toml: not UTF-8 text \(byte 0\) \(save it as UTF-8\)$",
         setup=_write("pyproject.toml", b"\xff\xfe[tool.harness]\n")),
    Case(["list"], 2, r"pyproject.toml: \[tool.harness\] functions must be a path string, got 3 "
         r"\(e.g. functions = \"functions\"\)$", setup=_write("pyproject.toml", "[tool.harness]\nfunctions = 3\n")),
    # Ignored, it hid every setting meant (and `tool = 3` was an internal error, exit 70).
    Case(["list"], 2, r"^pyproject.toml: \[tool.harness\] must be a table, got 3 \(write it as a \[tool.harness\] "
         r"section",
         setup=_write("pyproject.toml", "[tool]\nharness = 3\n")),
    Case(["compile"], 2, r"^pyproject.toml: \[tool.harness.snapshot\] must be a table, got 3 \(write it as a "
         r"\[tool.harness.snapshot\] section\)$", setup=_write("pyproject.toml", "[tool.harness]\nsnapshot = 3\n")),
    Case(["compile"], 2, r"^pyproject.toml: \[tool.harness.snapshot\] exclude must be a list of paths",
         setup=_write("pyproject.toml", "[tool.harness.snapshot]\nexclude = 3\n")),
    Case(["records", "list", "demo", "--model", "Issue"], 2, r"fixtures/connections.yaml: not UTF-8 text \(byte 21\)",
         setup=_write("fixtures/connections.yaml", NOT_UTF8)),
    Case(["dryrun", "issues", "demo", "--live"], 2, r"^.env: not UTF-8 text \(byte 2\) \(save it as UTF-8\)$",
         setup=_write(".env", b"A=\xff\n"), live=True, no_requests=True),
    Case(["dryrun", "create-issue", "demo", "--input", "@in.json"], 2,
         r"--input: file in.json is not UTF-8 text \(byte 0\)", setup=_write("in.json", b"\xff{}")),
    Case(["clone", "slack-channels"], 2, r"fixtures/connections.yaml: not UTF-8 text \(byte 21\)",
         setup=_write("fixtures/connections.yaml", NOT_UTF8)),
    Case(["clone", "slack-channels"], 2, r"fixtures/connections.yaml: expected a top-level `connections:` mapping",
         setup=_write("fixtures/connections.yaml", "- demo\n")),
    Case(["clone", "slack-channels"], 2, r"^fixtures/connections.yaml is not a file \(move that folder",
         setup=_write("fixtures/connections.yaml", "", folder=True)),
    Case(["clone", "slack-channels"], 2,
         r"cannot clone slack-channels: fixtures is not a folder \(move that file out of the way; nothing was",
         setup=_write("fixtures", "not a folder")),
    Case(["clone", "slack-channels"], 2, r"cannot clone slack-channels: cassettes/slack is not a folder",
         setup=_write("cassettes/slack", "not a folder")),
    Case(["clone", "slack-channels"], 2, r"would overwrite functions/slack/syncs/channels.py \(a folder\)",
         setup=_write("functions/slack/syncs/channels.py", "", folder=True)),
    Case(["new", "sync", "gitlab", "pulls"], 2,
         r"cannot write functions/gitlab/syncs/pulls.py: functions/gitlab is not a folder",
         setup=_write("functions/gitlab", "not a folder")),
    Case(["new", "action", "github", "class"], 2, r"bad function name 'class': 'class' is a Python keyword"),
    Case(["generate-tests"], 2, r"tests/harness/test_github_issues.py is a folder, so the tests of github/issues",
         setup=_write("tests/harness/test_github_issues.py", "", folder=True)),
    Case(["cassettes", "adopt", "cassettes/github/issues/default.yaml", "--function", "issues", "--scenario", "x",
          "--base-url", "not a url"], 2, r"--base-url: 'not a url' is not an http\(s\) URL \(e.g. --base-url"),
    Case(["compile"], 2, r"pyproject.toml: \[tool.harness.package\]: unknown key\(s\) allow_import \(known keys: allow",
         setup=_write("pyproject.toml", '[tool.harness.package]\nallow_import = ["requests"]\n')),
    Case(["package", "-o", "bundle.zip"], 2, r"pyproject.toml: \[tool.harness.package\] must be a table, got 3",
         setup=_write("pyproject.toml", "[tool.harness]\npackage = 3\n")),
    Case(["compile"], 2, r"cannot write or read .harness: .* \(check its permissions, and that it is a file or",
         setup=_state_is_a_file),
    # replays that cannot answer
    Case(["dryrun", "create-issue", "demo", "--input", ISSUE], 3, r"replay_miss: no recorded response for POST"),
    Case(["tools", "call", "create-issue", "demo", "--input", ISSUE], 3, r"replay_miss: no recorded response for POST"),
    Case(["check", "issues", "demo", "--replay"], 1, r"github/issues: \d check\(s\) failed \(resume"),
    Case(["dryrun", "issues", "demo", "--strict", "--scenario", "extra"], 3, r"unplayed_interactions: 1 recorded",
         setup=lambda root: _extra_interaction(root)),
]


def _extra_interaction(root: Path) -> None:
    import yaml

    path = root / "cassettes/github/issues/default.yaml"
    data = yaml.safe_load(path.read_text())
    extra = dict(data["interactions"][0])
    extra["request"] = {**extra["request"], "uri": "https://api.github.com/never/asked"}
    data["interactions"].append(extra)
    data["harness"]["scenario"] = "extra"
    (root / "cassettes/github/issues/extra.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def test_every_command_has_a_bad_input_row() -> None:
    assert sorted(set(readme_exit_codes()) - {_command_of(c.args) for c in CASES}) == []


def _command_of(args: list[str]) -> str:
    words = [a for a in args if not a.startswith("-")]
    if args[:1] == ["--project"]:
        words = words[1:]
    if not words:
        return ""
    table = readme_exit_codes()
    two = " ".join(words[:2])
    return two if two in table else words[0]


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts and ".hypothesis" not in p.parts}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_input_is_one_line_its_exit_code_and_no_change(case: Case, example: Path, request: pytest.FixtureRequest,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # The fake GitHub server, for the rows that point at it or check it got nothing.
    fake_github: FakeGitHub | None = request.getfixturevalue("fake_github") if case.live or case.no_requests else None
    (example / "pyproject.toml").write_text((example / "pyproject.toml").read_text())
    if case.setup is not None:
        case.setup(example)
    before = _tree(example)
    monkeypatch.chdir(example)
    env = {"NANGO_WEBHOOK_SIGNING_KEY": "", "HARNESS_DEPLOY_KEY": "", "NANGO_SECRET_KEY": "", **case.env}
    if case.live:
        assert fake_github is not None
        env.update(GITHUB_TOKEN=fake_github.token, GITHUB_API_URL=fake_github.base_url)
    res = CliRunner().invoke(main, case.args, env=env, catch_exceptions=False)
    assert res.exit_code == case.code, res.output
    command = _command_of(case.args)
    allowed = readme_exit_codes().get(command, {2, 70, 130})
    assert res.exit_code in allowed, f"{command!r} exits {res.exit_code}, the README allows {sorted(allowed)}"
    assert "Traceback" not in res.output
    errors = [line for line in res.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, res.stderr
    assert re.search(case.message, errors[0][len("error: "):]), errors[0]
    assert len(errors[0]) <= MAX_LINE and str(example) not in res.stderr
    assert "Usage:" not in res.output and "Try 'harness" not in res.output
    assert len(set(res.stderr.splitlines())) == len(res.stderr.splitlines()), "a line printed twice"
    if case.no_requests:
        assert fake_github is not None and fake_github.requests == []
    after = _tree(example)
    assert after == before, "the command changed files"
    assert not Path("/nonexistent").exists()


def test_long_errors_are_cut_keeping_the_hint(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(example)
    res = CliRunner().invoke(main, ["dryrun", "x" * 2000, "demo"])
    assert res.exit_code == 2
    [line] = res.stderr.splitlines()
    assert len(line) <= MAX_LINE and line.startswith("error: unknown function 'xxx") and "..." in line


def test_debug_shows_the_traceback(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(example)
    with pytest.raises(Exception, match="unknown function"):
        CliRunner().invoke(main, ["--debug", "dryrun", "isues", "demo"], catch_exceptions=False)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes into read-only folders")
def test_recording_into_a_read_only_cassettes_folder_is_refused_before_any_request(
        example: Path, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = example / "cassettes/github/issues"
    folder.chmod(0o555)
    try:
        monkeypatch.chdir(example)
        res = CliRunner().invoke(main, ["dryrun", "issues", "demo", "--record"],
                                 env={"GITHUB_TOKEN": fake_github.token, "GITHUB_API_URL": fake_github.base_url})
    finally:
        folder.chmod(0o755)
    assert res.exit_code == 3, res.output
    assert res.stderr.startswith("error: cannot record the cassette: cassettes/github/issues is not writable")
    assert fake_github.requests == []


@pytest.mark.parametrize("args", [[], ["cassettes"], ["records"]])
def test_a_group_without_a_command_shows_its_help_not_an_error(args: list[str], example: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(example)
    res = CliRunner().invoke(main, args, prog_name="harness")
    assert "Usage: harness" in res.output and "Commands:" in res.output
    assert "error:" not in res.output


def test_a_pyproject_whose_tool_is_not_a_table_is_not_harness_s_to_judge(example: Path,
                                                                          cli: Callable[..., Any]) -> None:
    # `tool = 3` is another tool's mistake: the project (found by its functions/ folder) runs on defaults,
    # as a pyproject.toml without [tool.harness] does. It was an internal error (exit 70).
    (example / "pyproject.toml").write_text("tool = 3\n")
    res = cli(example, "list")
    assert res.exit_code == 0, res.output
    assert "issues" in res.stdout
