"""Sync invariants (resume, idempotence) and action fuzzing, on real runs against the fake GitHub server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.definitions import SyncDefinition
from harness.invariants import check_sync
from harness.pipeline import RunRequest, execute, prepare
from harness.project import load_project
from harness.result import RunResult
from tests.fakes.github_server import FakeGitHub

from .conftest import GH_CONNECTIONS as CONNECTIONS

GOOD = """
from pydantic import BaseModel
from harness import sync

class Issue(BaseModel):
    id: str
    title: str

class Cursor(BaseModel):
    page: int

@sync(models=[Issue], checkpoint=Cursor)
async def good(nango):
    cp = await nango.get_checkpoint()
    page = cp.page + 1 if cp else 1
    while True:
        rows = (await nango.get("/repos/o/r/issues", params={"per_page": 3, "page": page})).json()
        if not rows:
            break
        await nango.batch_save([{"id": str(r["id"]), "title": r["title"]} for r in rows], "Issue")
        await nango.save_checkpoint(Cursor(page=page))
        page += 1
"""
# The classic bug: the checkpoint moves past a page before the page is saved.
BROKEN = GOOD.replace("async def good", "async def broken").replace(
    """        await nango.batch_save([{"id": str(r["id"]), "title": r["title"]} for r in rows], "Issue")
        await nango.save_checkpoint(Cursor(page=page))""",
    """        await nango.save_checkpoint(Cursor(page=page))
        await nango.batch_save([{"id": str(r["id"]), "title": r["title"]} for r in rows], "Issue")""")
ACTION = """
from pydantic import BaseModel, Field
from harness import action, ActionError

class In(BaseModel):
    title: str = Field(max_length=40)
    priority: int = Field(ge=0, le=10)
    labels: list[str] = []

class Out(BaseModel):
    number: int

@action(input=In, output=Out)
async def open_issue(nango, input):
    if not input.title.strip():
        raise ActionError({"message": "title is blank"})
    issue = (await nango.post("/repos/o/r/issues", json={"title": input.title})).json()
    return Out(number=issue["number"])
"""
CRASHY = ACTION.replace("async def open_issue", "async def crashy").replace(
    "    return Out(number=issue[\"number\"])",
    "    return Out(number=issue[\"number\"] // (input.priority - 7))")


@pytest.fixture
def proj(make_project: Callable[..., Path], fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GH_URL", fake_github.base_url)
    monkeypatch.setenv("GH_TOKEN", fake_github.token)
    return make_project({"gh/syncs/good.py": GOOD, "gh/syncs/broken.py": BROKEN, "gh/actions/open_issue.py": ACTION,
                         "gh/actions/crashy.py": CRASHY}, connections=CONNECTIONS)


def runner_for(proj: Path, name: str) -> tuple[SyncDefinition, Callable[..., RunResult]]:
    base = RunRequest(name, "c1", mode="live", project=load_project(proj))
    prepared = prepare(base)
    assert isinstance(prepared.definition, SyncDefinition)
    return prepared.definition, lambda **kw: execute(RunRequest(**{**vars(base), **kw}), prepared).result


def test_resume_invariant_holds_for_a_correct_sync(proj: Path) -> None:
    definition, run = runner_for(proj, "good")
    report = check_sync(definition, run)
    assert report.ok, report.to_json()
    assert [f.check for f in report.findings] == ["resume"] * 3 + ["idempotent"]


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(point=st.integers(min_value=1, max_value=3))
def test_resume_invariant_fails_for_a_sync_that_checkpoints_too_early(proj: Path, point: int) -> None:
    definition, run = runner_for(proj, "broken")
    report = check_sync(definition, run, points=[point])
    [resume] = [f for f in report.findings if f.check == "resume"]
    assert not resume.ok
    missing = resume.details["differences"]["Issue"]["missing"]
    # The page whose checkpoint was saved before its records is lost on resume.
    assert missing == [str(1000 + n) for n in range(3 * point - 2, 3 * point + 1)]


def test_check_cli(proj: Path, cli: Callable[..., Result]) -> None:
    res = cli(proj, "check", "good", "c1", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["ok"] is True
    res = cli(proj, "check", "broken", "c1")
    assert res.exit_code == 1
    assert "FAIL resume" in res.stdout and "missing" in res.stdout
    res = cli(proj, "check", "open-issue", "c1")
    assert res.exit_code == 2 and "`harness check` checks syncs" in res.stderr


def record_action(proj: Path, cli: Callable[..., Result], name: str) -> None:
    res = cli(proj, "dryrun", name, "c1", "--record", "--allow-writes", "--input",
              '{"title": "t", "priority": 1}')
    assert res.exit_code == 0, res.output


def test_fuzz_passes_a_sound_action(proj: Path, cli: Callable[..., Result], request: pytest.FixtureRequest) -> None:
    record_action(proj, cli, "open-issue")
    request.getfixturevalue("no_network")
    res = cli(proj, "fuzz", "open-issue", "c1", "--examples", "40", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["ok"] and doc["examples"] >= 20
    assert set(doc["outcomes"]) <= {"ok", "action_script_runtime_error"}


def test_fuzz_finds_and_shrinks_a_crash(proj: Path, cli: Callable[..., Result],
                                        request: pytest.FixtureRequest) -> None:
    record_action(proj, cli, "crashy")
    request.getfixturevalue("no_network")
    res = cli(proj, "fuzz", "crashy", "c1", "--examples", "200", "--json")
    assert res.exit_code == 1, res.output
    doc = json.loads(res.stdout)
    assert "ZeroDivisionError" in doc["failure"]
    assert doc["failing_input"]["priority"] == 7
    assert doc["reproduce"].startswith("harness dryrun gh/crashy c1 --input '")
    assert json.loads(doc["reproduce"].split("--input ", 1)[1].strip("'"))["priority"] == 7
