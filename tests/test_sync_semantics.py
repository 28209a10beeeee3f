"""Production-true semantics across runs: the SQLite store, full refreshes, faults, webhooks, events."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from harness.pipeline import RunRequest, run_request
from harness.project import load_project
from tests.fakes.github_server import FakeGitHub

from .conftest import GH_CONNECTIONS as CONNECTIONS

FULL = """
from pydantic import BaseModel
from harness import sync

class Issue(BaseModel):
    id: str
    title: str

@sync(models=[Issue], frequency="every hour")
async def full(nango):
    await nango.track_deletes_start("Issue")
    async for page in nango.paginate("/repos/o/r/issues", params={"per_page": 5}):
        await nango.batch_save([{"id": str(r["id"]), "title": r["title"]} for r in page], "Issue")
    await nango.track_deletes_end("Issue")

@full.on_webhook
async def hook(nango, payload):
    issue = payload["issue"]
    await nango.batch_save([{"id": str(issue["id"]), "title": issue["title"]}], "Issue")
"""
EVENT = """
from harness import on_event

@on_event("post-connection-creation")
async def whoami(nango):
    user = (await nango.get("/user")).json()
    await nango.set_metadata({"login": user["login"]})
"""


@pytest.fixture
def proj(make_project: Callable[..., Path]) -> Path:
    return make_project({"gh/syncs/full.py": FULL, "gh/on_events/whoami.py": EVENT}, connections=CONNECTIONS)


@pytest.fixture
def env(fake_github: FakeGitHub) -> dict[str, str]:
    return {"GH_URL": fake_github.base_url, "GH_TOKEN": fake_github.token}


def run_json(cli: Callable[..., Result], proj: Path, *args: str, env: dict[str, str] | None = None,
             code: int = 0) -> dict[str, object]:
    res = cli(proj, *args, "--json", env=env)
    assert res.exit_code == code, res.output
    doc: dict[str, object] = json.loads(res.stdout)
    return doc


def test_counts_across_persisted_runs_and_full_refresh_deletes(proj: Path, cli: Callable[..., Result],
                                                                env: dict[str, str], fake_github: FakeGitHub) -> None:
    first = run_json(cli, proj, "dryrun", "full", "c1", "--live", "--persist", env=env)
    assert first["counts"] == {"Issue": {"added": 12, "updated": 0, "deleted": 0, "unchanged": 0}}
    db = proj / ".harness/records.sqlite"
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM records").fetchone()[0] == 12

    fake_github.issues_store[0]["title"] = "Renamed"
    del fake_github.issues_store[4]  # issue 5 disappears from the provider
    second = run_json(cli, proj, "dryrun", "full", "c1", "--live", "--persist", env=env)
    assert second["counts"] == {"Issue": {"added": 0, "updated": 1, "deleted": 1, "unchanged": 10}}
    assert second["records"]["Issue"]["deleted"] == [{"id": "1005"}]  # type: ignore[index]

    # Without --persist a dry run counts against the stored records but changes nothing.
    third = run_json(cli, proj, "dryrun", "full", "c1", "--live", env=env)
    assert third["counts"] == {"Issue": {"added": 0, "updated": 0, "deleted": 0, "unchanged": 11}}
    listed = cli(proj, "records", "list", "c1", "--model", "Issue", "--json")
    assert listed.exit_code == 0, listed.output
    doc = json.loads(listed.stdout)
    actions = {r["id"]: r["_nango_metadata"]["last_action"] for r in doc["records"]}
    assert actions["1001"] == "UPDATED" and actions["1005"] == "DELETED" and actions["1002"] == "ADDED"
    page = json.loads(cli(proj, "records", "list", "c1", "--model", "Issue", "--limit", "5", "--json").stdout)
    assert len(page["records"]) == 5 and page["next_cursor"]
    rest = json.loads(cli(proj, "records", "list", "c1", "--model", "Issue", "--cursor", page["next_cursor"],
                          "--json").stdout)
    assert len(rest["records"]) == 7 and rest["next_cursor"] is None


def test_records_list_errors(proj: Path, cli: Callable[..., Result]) -> None:
    res = cli(proj, "records", "list", "c1", "--model", "Issue")
    assert res.exit_code == 2 and "no records store" in res.stderr


@pytest.mark.parametrize("fault", ["429@2", "503x2@2", "500@3", "timeout@2", "reset@1", "503@/repos/*/issues"])
def test_faults_on_replay_are_recovered_without_duplicates_or_losses(example: Path, fault: str) -> None:
    project = load_project(example)
    clean = run_request(RunRequest("issues", "demo", project=project))
    faulted = run_request(RunRequest("issues", "demo", project=project, faults=[fault]))
    assert faulted.ok, faulted.error
    assert faulted.records("Issue") == clean.records("Issue")
    assert len({r["id"] for r in faulted.records("Issue")}) == 12
    assert faulted.unplayed == []
    assert any("Retrying HTTP call" in log["message"] for log in faulted.logs)
    assert len(faulted.requests) > len(clean.requests)


def test_fault_exhausting_retries_fails_cleanly(example: Path) -> None:
    res = run_request(RunRequest("issues", "demo", project=load_project(example), faults=["503x4@1"]))
    assert res.error is not None and res.error.type == "script_http_error" and res.error.status == 503


def test_bad_fault_spec(example: Path, cli: Callable[..., Result]) -> None:
    res = cli(example, "dryrun", "issues", "demo", "--fault", "418x@@")
    assert res.exit_code == 2 and "cannot read fault" in res.stderr


def test_webhook_handler_and_event_function_record_and_replay(proj: Path, cli: Callable[..., Result],
                                                              env: dict[str, str], tmp_path: Path) -> None:
    payload = tmp_path / "hook.json"
    payload.write_text(json.dumps({"action": "opened", "issue": {"id": 99, "title": "From a webhook"}}))
    recorded = run_json(cli, proj, "webhook", "full", "c1", "--payload", f"@{payload}", "--record", env=env)
    assert recorded["type"] == "webhook" and recorded["records"]["Issue"]["saved"] == [  # type: ignore[index]
        {"id": "99", "title": "From a webhook"}]
    assert (proj / "cassettes/gh/full/webhook.yaml").is_file()
    replayed = run_json(cli, proj, "webhook", "full", "c1", "--payload", f"@{payload}")
    assert replayed["mode"] == "replay" and replayed["records"] == recorded["records"]

    # `harness event --json` is one document, whatever the number of event functions it runs.
    doc = run_json(cli, proj, "event", "post-connection-creation", "c1", "--record", env=env)
    assert doc["event"] == "post-connection-creation" and doc["connection"] == "c1"
    [recorded] = doc["results"]  # type: ignore[misc]
    assert recorded["metadata"] == {"writes": [{"op": "set", "value": {"login": "octocat"}}],
                                    "final": {"login": "octocat"}}
    [replayed] = run_json(cli, proj, "event", "post-connection-creation", "c1")["results"]  # type: ignore[misc]
    assert replayed["mode"] == "replay" and replayed["metadata"] == recorded["metadata"]
    res = cli(proj, "event", "pre-connection-deletion", "c1")
    assert res.exit_code == 2 and "no pre-connection-deletion function in integration 'gh'" in res.stderr
