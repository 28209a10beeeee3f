"""The `nango` context in real runs against the fake GitHub server: records, checkpoints, metadata, errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.pipeline import RunRequest, run_request
from harness.project import load_project
from harness.result import RunResult
from tests.fakes.github_server import FakeGitHub

MODELS = """
from pydantic import BaseModel, Field

class Issue(BaseModel):
    id: str
    title: str
    state: str | None = None
    label: str | None = Field(default=None, alias="labelName")

class Cursor(BaseModel):
    page: int = 0

class Meta(BaseModel):
    repo: str
"""
RECORDS = """
from harness import sync
from ..models import Issue, Cursor, Meta

@sync(models=[Issue], checkpoint=Cursor, metadata=Meta)
async def records(nango):
    mode = (await nango.get_connection()).metadata.get("mode", "basic")
    cp = await nango.get_checkpoint()
    nango.log("start", {"cp": cp}, level="debug")
    if mode == "basic":
        await nango.batch_save([
            {"id": 1, "title": "one"},                          # number id -> "1"; `state` left out stays out
            Issue(id="2", title="two", labelName="bug"),        # model: dumped by alias, unset fields dropped
            {"id": "1", "title": "dup"},                        # duplicate in one batch: first wins
        ], "Issue")
        await nango.batch_save([{"id": "1", "title": "one"}, {"id": "2", "title": "TWO", "labelName": "bug"}],
                               Issue)
        await nango.batch_update([{"id": "2", "state": "closed"}, {"id": "404", "state": "x"}], "Issue")
        await nango.batch_delete([{"id": "1"}], "Issue")
        seen = [r["id"] async for r in nango.list_records("Issue")]
        by_id = await nango.get_records_by_ids([2, 3], "Issue")
        nango.log(f"seen={seen} by_id={sorted(by_id)} action={by_id['2']['_nango_metadata']['last_action']}")
        await nango.save_checkpoint(Cursor(page=(cp.page if cp else 0) + 1))
        await nango.update_metadata({"last": "ok"})
    elif mode == "track":
        await nango.batch_save([{"id": "a", "title": "a"}, {"id": "b", "title": "b"}], "Issue")
        await nango.track_deletes_start("Issue")
        await nango.batch_save([{"id": "a", "title": "a"}], "Issue")
        gone = await nango.track_deletes_end("Issue")
        nango.log(f"gone={gone}")
    elif mode == "end-without-start":
        await nango.track_deletes_end("Issue")
    elif mode == "undeclared":
        await nango.batch_save([{"id": "x"}], "Nope")
    elif mode == "bad-checkpoint":
        await nango.save_checkpoint({"page": {"nested": 1}})
    elif mode == "clear":
        await nango.clear_checkpoint()
"""
PAGES = """
from harness import sync
from ..models import Issue

@sync(models=[Issue])
async def pages(nango):
    async for page in nango.paginate("/repos/o/r/issues", params={"per_page": 2}):
        await nango.batch_save([{"id": str(r["id"]), "title": r["title"]} for r in page], "Issue")

@pages.on_webhook
async def on_hook(nango, payload):
    await nango.batch_save([{"id": payload["issue"]["id"], "title": payload["issue"]["title"]}], "Issue")
"""
ACT = """
from pydantic import BaseModel
from harness import action, ActionError

class In(BaseModel):
    kind: str
    count: int = 1

class Out(BaseModel):
    login: str
    token_type: str

@action(input=In, output=Out)
async def act(nango, input):
    if input.kind == "fail":
        raise ActionError({"reason": "nope"})
    if input.kind == "crash":
        return {}["missing"]
    if input.kind == "http":
        await nango.get("/not/there")
    if input.kind == "bad-output":
        return {"login": 1}
    user = (await nango.get("/user")).json()
    token = await nango.get_token()
    return Out(login=user["login"], token_type="str" if isinstance(token, str) else "other")
"""
EVENT = """
from harness import on_event

@on_event("post-connection-creation")
async def hello(nango):
    await nango.set_metadata({"repo": "from-event"})
    nango.log("created", level="warning")
"""
CONNECTIONS = """
connections:
  c1:
    provider: github
    integration: gh
    base_url: ${GH_URL}
    credentials: {type: OAUTH2, access_token: "${GH_TOKEN}"}
    metadata: {repo: r}
"""


@pytest.fixture
def run(make_project: Callable[..., Path], fake_github: FakeGitHub,
        monkeypatch: pytest.MonkeyPatch) -> Callable[..., RunResult]:
    root = make_project({"gh/models.py": MODELS, "gh/syncs/records.py": RECORDS, "gh/syncs/pages.py": PAGES,
                         "gh/actions/act.py": ACT, "gh/on_events/hello.py": EVENT}, connections=CONNECTIONS)
    monkeypatch.setenv("GH_URL", fake_github.base_url)
    monkeypatch.setenv("GH_TOKEN", fake_github.token)
    project = load_project(root)

    def go(function: str, **kwargs: Any) -> RunResult:
        kwargs.setdefault("mode", "live")
        return run_request(RunRequest(function, "c1", project=project, **kwargs))

    return go


def messages(result: RunResult) -> list[str]:
    return [log["message"] for log in result.logs]


def test_records_semantics(run: Callable[..., RunResult]) -> None:
    res = run("records", metadata={"repo": "r", "mode": "basic"}, checkpoint={"page": 4})
    assert res.ok, res.error
    issue = res.models["Issue"]
    assert issue.saved[:2] == [{"id": "1", "title": "one"}, {"id": "2", "title": "two", "labelName": "bug"}]
    assert issue.counts() == {"added": 2, "updated": 2, "deleted": 1, "unchanged": 1}
    assert [w.record_id for w in res.warnings] == ["1"] and res.warnings[0].kind == "duplicate"
    # Oldest change first: 2 was updated before 1 was deleted.
    assert "seen=['2', '1'] by_id=['2'] action=UPDATED" in messages(res)
    assert res.initial_checkpoint == {"page": 4}
    assert res.checkpoints == [{"page": 5}] and res.final_checkpoint == {"page": 5}
    assert res.metadata_writes == [{"op": "update", "value": {"last": "ok"}}]
    assert res.final_metadata == {"repo": "r", "mode": "basic", "last": "ok"}
    assert res.logs[0] == {**res.logs[0], "level": "debug", "message": 'start {"cp": {"page": 4}}'}


def test_track_deletes_window(run: Callable[..., RunResult]) -> None:
    res = run("records", metadata={"repo": "r", "mode": "track"})
    assert res.ok, res.error
    assert "gone=['b']" in messages(res)
    assert res.models["Issue"].deleted == [{"id": "b"}]


@pytest.mark.parametrize(("mode", "error_type", "text"), [
    ("end-without-start", "sdk_error", "track_deletes_end('Issue') without track_deletes_start('Issue')"),
    ("undeclared", "invalid_data", "model 'Nope' is not declared by this sync"),
    ("bad-checkpoint", "invalid_data", "checkpoint"),
])
def test_misuse_fails_the_run(run: Callable[..., RunResult], mode: str, error_type: str, text: str) -> None:
    res = run("records", metadata={"repo": "r", "mode": mode})
    assert not res.ok and res.error is not None
    assert res.error.type == error_type and text in res.error.message
    assert res.error.exit_code == 1


def test_clear_checkpoint(run: Callable[..., RunResult]) -> None:
    res = run("records", metadata={"repo": "r", "mode": "clear"}, checkpoint={"page": 1})
    assert res.ok and res.checkpoints == [None] and res.final_checkpoint is None


def test_invalid_metadata_is_caught(run: Callable[..., RunResult]) -> None:
    res = run("records", metadata={"mode": "basic"})
    assert res.status == "failed" and res.error is not None and res.error.type == "invalid_data"
    assert "metadata, model Meta, field repo: Field required" in res.error.message


def test_paginate_and_caps(run: Callable[..., RunResult], fake_github: FakeGitHub) -> None:
    res = run("pages")
    assert res.ok and len(res.records("Issue")) == 12 and len(res.requests) == 6
    res = run("pages", max_pages=2)
    assert res.ok and len(res.records("Issue")) == 4 and res.capped == "stopped after 2 page(s) (--max-pages)"
    res = run("pages", max_records=5)
    assert res.ok and len(res.records("Issue")) == 6 and "--max-records" in (res.capped or "")


def test_webhook_and_event_functions(run: Callable[..., RunResult]) -> None:
    res = run("pages", payload={"issue": {"id": 77, "title": "from hook"}})
    assert res.ok and res.function_type == "webhook"
    assert res.records("Issue") == [{"id": "77", "title": "from hook"}]
    res = run("hello")
    assert res.ok and res.metadata_writes == [{"op": "set", "value": {"repo": "from-event"}}]
    assert res.logs[0]["level"] == "warn"


@pytest.mark.parametrize(("kind", "error_type", "status"), [
    ("fail", "action_script_runtime_error", None),
    ("crash", "script_internal_error", None),
    ("http", "script_http_error", 404),
])
def test_action_errors(run: Callable[..., RunResult], kind: str, error_type: str, status: int | None) -> None:
    res = run("act", input={"kind": kind})
    assert res.status == "failed" and res.error is not None
    assert res.error.type == error_type and res.error.status == status
    if kind == "fail":
        assert res.error.payload == {"reason": "nope"}
    if kind == "crash":
        assert "KeyError: 'missing'" in res.error.message and "act.py:" in res.error.message


def test_action_input_and_output_validation(run: Callable[..., RunResult], fake_github: FakeGitHub) -> None:
    res = run("act", input={"kind": "ok"})
    assert res.ok and res.output == {"login": "octocat", "token_type": "str"}
    before = len(fake_github.requests)
    res = run("act", input={"kind": "ok", "count": "3"})
    assert res.status == "failed" and res.error is not None and res.error.type == "invalid_data"
    assert len(fake_github.requests) == before  # the function never ran
    res = run("act", input={"kind": "ok", "extra": True})
    assert not res.ok and "extra" in str(res.errors[0].path)
    res = run("act", input={"kind": "bad-output"})
    assert res.status == "invalid"
    assert {(i.kind, i.path) for i in res.errors} == {("output", "login"), ("output", "token_type")}
    res = run("act", input={"kind": "bad-output"}, strict=False)
    assert res.ok and len(res.warnings) == 2
