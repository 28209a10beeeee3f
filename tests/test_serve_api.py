"""`harness serve`'s API over real HTTP: syncs and their status, records, actions (sync and async),
connections and metadata, the functions config, and the webhooks it sends to the app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness import webhooks
from harness.clock import VirtualClock
from tests.fakes.receiver import Receiver
from tests.serve_support import KEY, Served, cassette, full_project, project_with, wait_for

INPUT = {"title": "Found a bug", "body": "It breaks on Tuesdays.", "labels": ["bug"]}
OUTPUT = {"id": "1013", "number": 13, "url": "https://github.com/octocat/hello-world/issues/13"}


@pytest.fixture
def served(tmp_path: Path) -> Any:
    with Served(full_project(tmp_path / "p")) as s:
        yield s


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["records"]]


def test_sync_run_status_and_records(served: Served) -> None:
    before = served.status()
    assert before["status"] == "SUCCESS" and "latestExecutionStatus" not in before and "finishedAt" not in before
    first = served.run_sync()
    assert first["latestExecutionStatus"] == "SUCCESS" and first["type"] == "INITIAL"
    assert first["latestResult"] == {"Issue": {"added": 12, "updated": 0, "deleted": 0}}
    assert first["recordCount"] == {"Issue": 12} and first["checkpoint"] == {"since": "2026-01-12T10:00:00Z"}
    assert first["frequency"] == "every hour" and first["nextScheduledSyncAt"] is None  # --no-schedule

    page = served.records().json()
    assert [r["id"] for r in page["records"]] == [str(1000 + n) for n in range(1, 13)] and page["next_cursor"] is None
    meta = page["records"][0]["_nango_metadata"]
    assert meta["last_action"] == "ADDED" and meta["deleted_at"] is None and meta["cursor"] == "1"
    assert meta["first_seen_at"] == meta["last_modified_at"] and meta["first_seen_at"].endswith("Z")
    assert page["records"][0]["title"] == "Issue 1" and page["records"][0]["author"] == "octocat"

    pages, cursor = [], None
    while True:
        got = served.records(limit=5, **({"cursor": cursor} if cursor else {})).json()
        pages.append([r["id"] for r in got["records"]])
        cursor = got["next_cursor"]
        if cursor is None:
            break
        assert cursor == got["records"][-1]["_nango_metadata"]["cursor"]
    assert [len(p) for p in pages] == [5, 5, 2] and [i for p in pages for i in p] == [r["id"] for r in page["records"]]

    # A second replay sends the same requests and gets the same answers: nothing changes.
    second = served.run_sync()
    assert second["type"] == "INCREMENTAL"
    assert second["latestResult"] == {"Issue": {"added": 0, "updated": 0, "deleted": 0}}
    assert served.records().json() == page
    assert served.records(model="Issue", variant="base").json() == page


def test_record_changes_filters_and_modified_after(served: Served) -> None:
    served.run_sync("items")
    first = served.records("Item").json()["records"]
    assert [r["name"] for r in first] == ["a-v1", "b-v1", "c-v1"]
    served.client.post("/connections/metadata", json={"connection_id": "demo", "provider_config_key": "github",
                                                      "metadata": {"ids": ["a", "d"], "version": 2}})
    status = served.run_sync("items")
    assert status["latestResult"] == {"Item": {"added": 1, "updated": 1, "deleted": 2}}
    assert status["recordCount"] == {"Item": 2}
    records = {r["id"]: r for r in served.records("Item").json()["records"]}
    assert {k: v["_nango_metadata"]["last_action"] for k, v in records.items()} == {
        "a": "UPDATED", "d": "ADDED", "b": "DELETED", "c": "DELETED"}
    assert records["b"]["_nango_metadata"]["deleted_at"] is not None and records["a"]["name"] == "a-v2"
    # Oldest change first: a, d (saved), then b, c (deleted by track_deletes_end).
    assert ids(served.records("Item")) == ["a", "d", "b", "c"]
    assert ids(served.records("Item", filter="added")) == ["d"]
    assert ids(served.records("Item", filter="updated")) == ["a"]
    assert ids(served.records("Item", filter="DELETED")) == ["b", "c"]
    assert ids(served.records("Item", filter="added,updated")) == ["a", "d"]
    assert ids(served.records("Item", ids=["c", "a", "zzz"])) == ["a", "c"]
    # modified_after is inclusive and compares to the last change.
    changed = records["a"]["_nango_metadata"]["last_modified_at"]
    assert ids(served.records("Item", modified_after=changed)) == ["a", "d", "b", "c"]
    assert ids(served.records("Item", delta=changed)) == ["a", "d", "b", "c"]
    assert ids(served.records("Item", modified_after="2100-01-01T00:00:00Z")) == []
    assert ids(served.records("Item", modified_after="2000-01-01T00:00:00+00:00", limit=1)) == ["a"]


def test_full_refresh_with_empty_cache(served: Served) -> None:
    served.run_sync()
    status = served.run_sync(opts={"reset": True, "emptyCache": True})
    assert status["type"] == "FULL" and status["latestResult"]["Issue"]["added"] == 12
    assert [r["_nango_metadata"]["cursor"] for r in served.records().json()["records"]][:1] == ["13"]
    legacy = served.run_sync(sync_mode="full_refresh")
    assert legacy["type"] == "FULL" and legacy["latestResult"]["Issue"]["added"] == 0


def test_action_output_scenarios_and_failures(served: Served, tmp_path: Path) -> None:
    response = served.action("create-issue", INPUT)
    assert response.status_code == 200 and response.json() == OUTPUT
    assert response.headers["content-type"] == "application/json"

    # Not the recorded input: the replay has no answer for that request, and says what differs.
    miss = served.action("create-issue", {"title": "Something else"})
    assert miss.status_code == 500
    error = miss.json()["error"]
    assert error["code"] == "replay_miss" and "no recorded response" in error["message"].lower()

    refused = served.action("refuse", {"what": "this"})
    assert refused.status_code == 500 and refused.json() == {"error": {
        "code": "action_script_runtime_error", "message": "The action script failed with a runtime error",
        "payload": {"message": "refused this"}}}
    upstream = served.action("refuse", {"what": "http"})
    assert upstream.status_code == 424
    body = upstream.json()["error"]
    assert body["code"] == "script_http_error" and body["upstream"]["status"] == 404
    assert body["payload"] == {"message": "Not Found"}


def test_action_picks_the_scenario_recorded_with_the_input(tmp_path: Path) -> None:
    root = project_with(tmp_path / "p")
    other = {"title": "Another one", "body": None, "labels": []}
    cassette(root, "github", "create-issue", "action", scenario="other", input=other, interactions=[
        {"method": "POST", "path": "/repos/octocat/hello-world/issues",
         "request_body": json.dumps(other, separators=(",", ":")), "status": 201,
         "body": json.dumps({"id": 2001, "number": 99, "html_url": "https://github.com/x/99"})}])
    with Served(root) as served:
        assert served.action("create-issue", INPUT).json() == OUTPUT
        assert served.action("create-issue", other).json() == {"id": "2001", "number": 99,
                                                                "url": "https://github.com/x/99"}
        named = served.action("create-issue", other, **{"X-Harness-Scenario": "default"})
        assert named.json()["error"]["code"] == "replay_miss"
        unknown = served.action("create-issue", other, **{"X-Harness-Scenario": "nope"})
        assert unknown.status_code == 404 and "nope" in unknown.json()["error"]["message"]


def test_async_action_polling_and_webhook(tmp_path: Path) -> None:
    with Receiver() as app, Served(full_project(tmp_path / "p"), webhook_url=app.url) as served:
        response = served.action("create-issue", INPUT, **{"X-Async": "true"})
        assert response.status_code == 202
        job = response.json()
        assert set(job) == {"id", "statusUrl"} and response.headers["location"] == job["statusUrl"]
        assert job["statusUrl"] == f"/action/{job['id']}"

        def result() -> Any:
            got = served.client.get(job["statusUrl"])
            assert got.status_code in (200, 404), got.text
            return got if got.status_code == 200 else None

        assert wait_for("the async action", result).json() == OUTPUT
        failing = served.action("refuse", {"what": "later"}, **{"X-Async": "true", "X-Max-Retries": "2"})
        failed = wait_for("the failed action", lambda: (r := served.client.get(failing.json()["statusUrl"]))
                          .status_code != 404 and r)
        assert failed.status_code == 500 and failed.json()["error"]["payload"] == {"message": "refused later"}
        assert sum("github/refuse" in line for line in served.logs) == 3  # tried 1 + 2 retries
        unknown = served.client.get("/action/00000000-0000-0000-0000-000000000000")
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
        hooks = wait_for("two webhooks", lambda: len(app.received) >= 2 and app.received)
    bodies = [json.loads(h.body) for h in hooks]
    assert bodies[0] == {"from": "nango", "type": "async_action", "connectionId": "demo",
                         "providerConfigKey": "github", "payload": {"id": job["id"], "statusUrl": job["statusUrl"]}}
    assert all(webhooks.verify(h.body, h.headers["x-nango-hmac-sha256"], KEY) for h in hooks)


def test_connections_and_metadata(served: Served) -> None:
    listed = served.client.get("/connections").json()["connections"]
    assert [(c["connection_id"], c["provider_config_key"], c["provider"]) for c in listed] == [
        ("demo", "github", "github")]
    assert set(listed[0]) == {"id", "connection_id", "provider_config_key", "provider", "created", "metadata",
                              "errors", "end_user", "tags"}
    one = served.client.get("/connections/demo", params={"provider_config_key": "github"}).json()
    assert one["credentials"] == {"type": "OAUTH2", "access_token": "<scrubbed:access_token>"}  # never a secret
    assert one["metadata"] == {"owner": "octocat", "repo": "hello-world"} and one["connection_config"] == {}
    assert served.client.get("/connection/demo", params={"provider_config_key": "github"}).json()["id"] == one["id"]
    assert served.client.get("/connections", params={"integrationId": "other"}).json() == {"connections": []}
    assert len(served.client.get("/connections", params={"search": "DEM"}).json()["connections"]) == 1

    body = {"connection_id": "demo", "provider_config_key": "github", "metadata": {"owner": "octocat",
                                                                                    "repo": "hello-world", "x": 1}}
    set_ = served.client.post("/connections/metadata", json=body)
    assert set_.status_code == 200 and set_.json() == body
    patch = served.client.patch("/connections/metadata", json={**body, "metadata": {"x": 2, "y": [1]},
                                                              "connection_id": ["demo"]})
    assert patch.status_code == 200
    meta = served.client.get("/connections/demo", params={"provider_config_key": "github"}).json()["metadata"]
    assert meta == {"owner": "octocat", "repo": "hello-world", "x": 2, "y": [1]}
    # Runs get the connection's metadata: another repository is another request, not in the recording.
    served.client.post("/connection/metadata", json={**body, "metadata": {"owner": "someone", "repo": "else"}})
    miss = served.action("create-issue", INPUT)
    assert miss.json()["error"]["code"] == "replay_miss" and "/repos/someone/else/issues" in miss.text


def test_functions_config(served: Served) -> None:
    config = served.client.get("/scripts/config").json()
    assert [c["providerConfigKey"] for c in config] == ["github"]
    github = config[0]
    assert {s["name"] for s in github["syncs"]} == {"issues", "items", "slow", "issue-events"}
    issues = next(s for s in github["syncs"] if s["name"] == "issues")
    assert issues["returns"] == ["Issue"] and issues["runs"] == "every hour" and issues["auto_start"] is True
    assert issues["json_schema"]["definitions"]["Issue"]["properties"]["id"]["type"] == "string"
    create = next(a for a in github["actions"] if a["name"] == "create-issue")
    assert create["input"] == "CreateIssue" and create["returns"] == ["CreatedIssue"]
    assert "CreateIssue" in create["json_schema"]["definitions"]
    assert {e["event"] for e in github["on-events"]} == {"validate-connection", "post-connection-creation",
                                                        "pre-connection-deletion"}
    events = next(s for s in github["syncs"] if s["name"] == "issue-events")
    assert events["webhookSubscriptions"] == ["issues"]
    openai = served.client.get("/scripts/config", params={"format": "openai"}).json()["data"]
    tool = next(t for t in openai if t["name"] == "create-issue")
    assert tool["parameters"]["required"] == ["title"] and "labels" in tool["parameters"]["properties"]
    assert next(t for t in openai if t["name"] == "issues")["parameters"] == {"type": "object", "properties": {},
                                                                             "required": []}


def test_sync_webhooks_to_the_app_signed_and_retried(tmp_path: Path) -> None:
    with Receiver(statuses=[503]) as app, Served(full_project(tmp_path / "p"), webhook_url=app.url,
                                                 webhook_clock=VirtualClock()) as served:
        served.run_sync()
        served.run_sync()  # nothing changed: no webhook (Nango's default)
        hooks = wait_for("the webhook", lambda: len(app.received) >= 2 and app.received)
        served.client.post("/connections/metadata", json={"connection_id": "demo", "provider_config_key": "github",
                                                          "metadata": {"owner": "nobody", "repo": "x"}})
        served.run_sync()  # fails: the recording has no answer for another repository
        failure = wait_for("the failure webhook", lambda: len(app.received) >= 3 and app.received[2])
        assert served.runtime.outbound.deliveries[0].attempts == 2
    first, retry = hooks[0], hooks[1]
    assert first.body == retry.body  # the same bytes again, signed the same
    payload = json.loads(first.body)
    assert payload["type"] == "sync" and payload["syncType"] == "INITIAL" and payload["model"] == "Issue"
    assert payload["responseResults"] == {"added": 12, "updated": 0, "deleted": 0}
    assert payload["connectionId"] == "demo" and payload["providerConfigKey"] == "github"
    assert webhooks.verify(first.body, first.headers["x-nango-hmac-sha256"], KEY)
    assert first.body == webhooks.serialize(payload)
    failed = json.loads(failure.body)
    assert failed["success"] is False and failed["syncType"] == "INCREMENTAL" and "error" in failed


def test_signing_key_from_the_environment(tmp_path: Path) -> None:
    with Receiver() as app, Served(full_project(tmp_path / "p"), webhook_url=app.url,
                                   signing_key="whsec_own") as served:
        served.run_sync()
        hook = wait_for("the webhook", lambda: app.received and app.received[0])
    assert webhooks.verify(hook.body, hook.headers["x-nango-hmac-sha256"], "whsec_own")
    assert not webhooks.verify(hook.body, hook.headers["x-nango-hmac-sha256"], KEY)


def test_unknown_paths_and_methods(served: Served) -> None:
    missing = served.client.get("/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = served.client.delete("/sync/status")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    assert served.client.get("/health").json() == {"result": "ok"}


def test_a_sync_trigger_can_name_the_recording(tmp_path: Path) -> None:
    root = full_project(tmp_path / "p")
    cassette(root, "github", "items", "sync", scenario="two", metadata={"ids": ["x", "y"]})
    with Served(root) as served:
        response = served.client.post("/sync/trigger", headers={"X-Harness-Scenario": "two"}, json={
            "syncs": ["items"], "provider_config_key": "github", "connection_id": "demo"})
        assert response.status_code == 200
        wait_for("the run", lambda: served.status("items").get("latestExecutionStatus") == "SUCCESS")
        assert ids(served.records("Item")) == ["x", "y"]
        unknown = served.client.post("/sync/trigger", headers={"X-Harness-Scenario": "three"}, json={
            "syncs": ["items"], "provider_config_key": "github"})
        assert unknown.status_code == 404 and "'three'" in unknown.json()["error"]["message"]
