"""Skeletons and checks teach the right pattern: `harness new sync` saves a checkpoint after each page, a run
that reads its checkpoint and never saves one is warned about, and `harness check` fails a sync that ignores
its checkpoint on resume (naming the requests it fetched again), live against the fake GitHub server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.fakes.github_server import FakeGitHub

from .conftest import GH_CONNECTIONS as CONNECTIONS

# Reads its checkpoint, then starts from page 1 anyway: same records, so only the requests give it away.
IGNORES = """
from pydantic import BaseModel
from harness import sync

class Issue(BaseModel):
    id: str
    title: str

class Cursor(BaseModel):
    page: int

@sync(models=[Issue], checkpoint=Cursor)
async def ignores(nango):
    await nango.get_checkpoint()
    page = 1
    while True:
        rows = (await nango.get("/repos/o/r/issues", params={"per_page": 4, "page": page})).json()
        if not rows:
            break
        await nango.batch_save([{"id": str(r["id"]), "title": r["title"]} for r in rows], "Issue")
        await nango.save_checkpoint(Cursor(page=page))
        page += 1
"""
# Uses its checkpoint, after a setup request every run makes (before the first checkpoint): not a refetch.
SETUP = IGNORES.replace("async def ignores", "async def setup").replace(
    "    await nango.get_checkpoint()\n    page = 1\n",
    "    cp = await nango.get_checkpoint()\n    await nango.get('/user')\n    page = cp.page + 1 if cp else 1\n")
# Reads its checkpoint and never saves one.
NEVER_SAVES = """
from pydantic import BaseModel
from harness import sync

class Issue(BaseModel):
    id: str
    title: str

class Cursor(BaseModel):
    since: str | None = None

@sync(models=[Issue], checkpoint=Cursor)
async def never_saves(nango):
    cp = await nango.get_checkpoint()
    async for page in nango.paginate("/repos/o/r/issues", params={"since": cp.since if cp else None}):
        await nango.batch_save([{"id": str(r["id"]), "title": r["title"]} for r in page], "Issue")
"""


@pytest.fixture
def proj(make_project: Callable[..., Path], fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GH_URL", fake_github.base_url)
    monkeypatch.setenv("GH_TOKEN", fake_github.token)
    return make_project({"gh/syncs/ignores.py": IGNORES, "gh/syncs/setup.py": SETUP,
                         "gh/syncs/never_saves.py": NEVER_SAVES}, connections=CONNECTIONS)


def test_check_fails_a_resumed_run_that_fetches_the_pages_before_its_checkpoint_again(
        proj: Path, cli: Callable[..., Result]) -> None:
    res = cli(proj, "check", "ignores", "c1", "--json")
    assert res.exit_code == 1, res.output
    doc = json.loads(res.stdout)
    failed = [f for f in doc["findings"] if not f["ok"]]
    assert failed and {f["check"] for f in failed} == {"resume"}
    first = failed[0]
    # Interrupted after checkpoint 1 (page 1), the resumed run asked for page 1 again.
    [refetched] = first["details"]["refetched"]
    assert refetched.startswith("GET http://127.0.0.1:") and refetched.endswith("/repos/o/r/issues?per_page=4&page=1")
    assert "fetched again the 1 request(s) made before it" in first["message"]
    # The readable report names them too, and the one error line says what failed.
    res = cli(proj, "check", "ignores", "c1")
    assert res.exit_code == 1
    assert "FAIL resume" in res.stdout and "/repos/o/r/issues?per_page=4&page=1" in res.stdout
    assert res.stderr.strip().splitlines()[-1] == "error: gh/ignores: 2 check(s) failed (resume)"


def test_a_setup_request_before_the_first_checkpoint_is_not_a_refetch(proj: Path, cli: Callable[..., Result]) -> None:
    res = cli(proj, "check", "setup", "c1", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["ok"] is True


def test_a_checkpoint_read_but_never_saved_is_a_warning_in_every_run(proj: Path, cli: Callable[..., Result]) -> None:
    res = cli(proj, "dryrun", "never-saves", "c1", "--live", "--json")
    assert res.exit_code == 0, res.output
    warnings = [i["message"] for i in json.loads(res.stdout)["issues"] if i["severity"] == "warning"]
    assert warnings == ["get_checkpoint() was called but no checkpoint was saved: the next run starts from the "
                        "beginning again (save one after each page)"]
    res = cli(proj, "check", "never-saves", "c1", "--json")
    assert res.exit_code == 1
    lint = [f for f in json.loads(res.stdout)["findings"] if f["check"] == "lint"]
    assert lint and "no checkpoint was saved" in lint[0]["message"]


def test_the_sync_skeleton_saves_a_checkpoint_after_each_page_and_passes_check(
        proj: Path, cli: Callable[..., Result]) -> None:
    res = cli(proj, "new", "sync", "gh", "tickets")
    assert res.exit_code == 0, res.output
    path = proj / "functions/gh/syncs/tickets.py"
    text = path.read_text()
    assert "save_checkpoint" in text and "get_checkpoint" in text
    # Point the skeleton at the fake server's issues: its page loop, checkpoint and resume are then real.
    path.write_text(text.replace('"/TODO/tickets"', '"/repos/o/r/issues"').replace(
        'params = {"since": newest}', 'params = {"since": newest, "per_page": 5, "state": "all"}'))
    res = cli(proj, "dryrun", "tickets", "c1", "--live", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert len(doc["checkpoints"]["saved"]) == 3 and doc["issues"] == []
    res = cli(proj, "check", "tickets", "c1", "--json")
    assert res.exit_code == 0, res.output
    findings = json.loads(res.stdout)["findings"]
    assert [f["check"] for f in findings] == ["resume", "resume", "idempotent"]
