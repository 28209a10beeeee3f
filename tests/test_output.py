"""Output hygiene: `NO_COLOR` turns colour off everywhere (click's styles and rich's), and `--json` always
prints exactly one JSON document on stdout, on every command that has it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.cli import main
from tests.fakes.github_server import FakeGitHub

from .conftest import GH_CONNECTIONS as CONNECTIONS

ANSI = "\x1b["

CRASHY = """
from pydantic import BaseModel, Field
from harness import action

class In(BaseModel):
    n: int = Field(ge=0, le=3)

@action(input=In)
async def crashy(nango, input):
    return {"x": 1 // (input.n - 2)}
"""
# Saves checkpoints and never reads them: `harness check` reports the pitfall (a FAIL line, in red).
FORGETFUL = """
from pydantic import BaseModel
from harness import sync

class Issue(BaseModel):
    id: str

class Cursor(BaseModel):
    page: int

@sync(models=[Issue], checkpoint=Cursor)
async def forgetful(nango):
    for page in (1, 2):
        rows = (await nango.get("/repos/o/r/issues", params={"per_page": 6, "page": page})).json()
        await nango.batch_save([{"id": str(r["id"])} for r in rows], "Issue")
        await nango.save_checkpoint(Cursor(page=page))
"""


def _invoke(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    # color=True: click behaves as on a terminal (it would keep the styles); only NO_COLOR may remove them.
    return CliRunner().invoke(main, ["--project", str(root), *args], env=env, color=True, catch_exceptions=False)


@pytest.fixture
def proj(make_project: Callable[..., Path], fake_github: FakeGitHub) -> Path:
    return make_project({"gh/actions/crashy.py": CRASHY, "gh/syncs/forgetful.py": FORGETFUL}, connections=CONNECTIONS)


def test_no_color_turns_off_the_styles_of_check_and_fuzz(proj: Path, fake_github: FakeGitHub) -> None:
    env = {"GH_URL": fake_github.base_url, "GH_TOKEN": fake_github.token}
    recorded = _invoke(proj, "dryrun", "crashy", "c1", "--record", "--input", '{"n": 0}', env=env)
    assert recorded.exit_code == 0, recorded.output
    for args in (("check", "forgetful", "c1"), ("fuzz", "crashy", "c1", "--examples", "30")):
        coloured = _invoke(proj, *args, env=env)
        assert coloured.exit_code == 1, coloured.output
        assert ANSI in coloured.output  # the FAIL mark / the crash line are styled on a terminal...
        plain = _invoke(proj, *args, env={**env, "NO_COLOR": "1"})
        assert plain.exit_code == 1
        assert ANSI not in plain.output  # ...and never with NO_COLOR
        assert ("FAIL" if args[0] == "check" else "crash: ") in plain.output


def test_no_color_wins_over_force_color_in_the_run_report(example: Path) -> None:
    forced = _invoke(example, "dryrun", "issues", "demo", env={"FORCE_COLOR": "1"})
    assert forced.exit_code == 0 and ANSI in forced.output
    plain = _invoke(example, "dryrun", "issues", "demo", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert plain.exit_code == 0 and ANSI not in plain.output and "status: success" in plain.output


def _one_document(res: Result) -> object:
    text = res.stdout
    doc = json.loads(text)  # raises on two documents back to back ("Extra data")
    assert text.strip().startswith(("{", "[")) and text.endswith("\n")
    return doc


def test_json_is_one_document_on_every_command_that_has_it(example: Path, tmp_path: Path) -> None:
    (example / "functions/github/on_events/also.py").write_text(
        "from harness import on_event\n\n@on_event('post-connection-creation')\nasync def also(nango):\n"
        "    nango.log('second')\n")
    events = _one_document(_invoke(example, "event", "post-connection-creation", "demo", "--json",
                                   env={"GITHUB_TOKEN": "not-used-by-also"}))
    assert isinstance(events, dict) and [r["function"] for r in events["results"]] == ["also", "check-access"]
    assert [(r["mode"], r["status"]) for r in events["results"]] == [("live", "success"), ("replay", "success")]
    listed = _one_document(_invoke(example, "cassettes", "list", "--json"))
    assert isinstance(listed, dict)
    assert {c["path"] for c in listed["cassettes"]} >= {"cassettes/github/issues/default.yaml",
                                                        "cassettes/github/issues/webhook.yaml"}
    shown = _one_document(_invoke(example, "cassettes", "show", "issues", "--json"))
    assert isinstance(shown, dict) and len(shown["interactions"]) == 3 and shown["context"]["function"] == "issues"
    linted = _invoke(example, "cassettes", "lint", "--json")
    assert linted.exit_code == 0 and _one_document(linted) == {"cassettes": 4, "findings": []}
    (example / "cassettes/github/issues/broken.yaml").write_text("interactions: [\n")
    linted = _invoke(example, "cassettes", "lint", "--json")
    assert linted.exit_code == 3
    found = _one_document(linted)
    assert isinstance(found, dict) and [f["kind"] for f in found["findings"]] == ["invalid"]
    (example / "cassettes/github/issues/broken.yaml").unlink()
    templates = _one_document(_invoke(example, "clone", "--list", "--json"))
    assert isinstance(templates, dict) and "slack-post-message" in {t["name"] for t in templates["templates"]}
    generated = _one_document(_invoke(example, "generate-tests", "issues", "--json"))
    assert generated == {"files": [{"path": "tests/harness/test_github_issues.py", "function": "github/issues",
                                    "scenarios": ["default", "webhook"], "status": "wrote"}]}
    mocks = tmp_path / "mocks"
    mocks.mkdir()
    (mocks / "github-issues.test.json").write_text("{not json")
    imported = _invoke(example, "import-nango", str(mocks), "--json", "--out", str(example / "imported"))
    assert imported.exit_code == 3
    doc = _one_document(imported)
    assert isinstance(doc, dict) and doc["converted"] == [] and len(doc["problems"]) == 1
