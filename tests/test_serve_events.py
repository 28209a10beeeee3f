"""Provider webhooks routed to sync webhook handlers, and connection creation/deletion running event functions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness import webhooks
from tests.fakes import http_client
from tests.fakes.receiver import Receiver
from tests.serve_support import KEY, Served, full_project, wait_for

ISSUE_OPENED = {"action": "opened", "issue": {"id": 555, "title": "Hello"}}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return full_project(tmp_path / "p")


def event_ids(served: Served, connection: str = "demo") -> list[tuple[str, str]]:
    response = served.records("IssueEvent", connection=connection)
    assert response.status_code == 200, response.text
    return [(r["id"], r["action"]) for r in response.json()["records"]]


def _post(url: str, **options: Any) -> httpx.Response:
    """A POST as a provider sends it: no secret key, a connection of its own."""
    with http_client() as web:
        return web.post(url, **options)


def test_a_provider_webhook_runs_the_subscribed_handler(root: Path) -> None:
    with Receiver() as app, Served(root, webhook_url=app.url) as served:
        hook = _post(f"{served.url}/webhook/dev-env/github", json=ISSUE_OPENED,
                     headers={"X-GitHub-Event": "issues"})  # no secret key: providers have none
        assert hook.status_code == 200
        # Both syncs subscribed to GitHub's `issues` event run their handler (the bundled `issues` one too).
        assert hook.json() == {"success": True, "runs": [{"sync": "issue-events", "connection_id": "demo"},
                                                         {"sync": "issues", "connection_id": "demo"}]}
        wait_for("the webhook run", lambda: event_ids(served) == [("555", "opened")])
        status = wait_for("its status", lambda: (s := served.status("issue-events"))["latestExecutionStatus"]
                          == "SUCCESS" and s)
        assert status["type"] == "WEBHOOK" and status["latestResult"] == {"IssueEvent": {"added": 1, "updated": 0,
                                                                                         "deleted": 0}}
        # Another event type matches no subscription: nothing runs.
        other = _post(f"{served.url}/webhook/github", json={"action": "created"},
                      headers={"X-GitHub-Event": "star"})
        assert other.json()["runs"] == []
        # The type may come from the body too; the connection from a header.
        body_typed = _post(f"{served.url}/webhook/github", json={**ISSUE_OPENED, "type": "issues",
                                                                 "action": "closed"},
                           headers={"Connection-Id": "demo"})
        assert body_typed.json()["runs"] == [{"sync": "issue-events", "connection_id": "demo"},
                                             {"sync": "issues", "connection_id": "demo"}]
        wait_for("the second run", lambda: event_ids(served) == [("555", "closed")])
        sent = wait_for("the app's webhook", lambda: [json.loads(h.body) for h in app.received
                                                      if json.loads(h.body).get("syncType") == "WEBHOOK"])
        assert all(webhooks.verify(h.body, h.headers["x-nango-hmac-sha256"], KEY) for h in app.received)
    assert any(h["syncName"] == "issue-events" and h["model"] == "IssueEvent" for h in sent)


def test_webhooks_for_a_sync_without_subscriptions_and_a_failing_handler(tmp_path: Path) -> None:
    root = full_project(tmp_path / "p")
    handler = root / "functions/github/syncs/issue_events.py"
    handler.write_text(handler.read_text().replace(', webhook_subscriptions=["issues"]', ""))
    with Served(root) as served:
        any_event = _post(f"{served.url}/webhook/github", json={"anything": 1})
        assert any_event.json()["runs"] == [{"sync": "issue-events", "connection_id": "demo"}]
        status = wait_for("the failed run", lambda: (s := served.status("issue-events")).get("latestExecutionStatus")
                          == "STOPPED" and s)
        # Nango's order: a paused schedule (not auto-started) reads PAUSED even after a failed run.
        assert status["status"] == "PAUSED" and "issue" in status["error"]["message"]
        served.client.post("/sync/start", json={"syncs": ["issue-events"], "provider_config_key": "github"})
        assert served.status("issue-events")["status"] == "ERROR"  # started (no schedule here): the failure shows


def _create(served: Served, connection_id: str = "new-1", **extra: Any) -> httpx.Response:
    return served.client.post("/connections", json={
        "provider_config_key": "github", "connection_id": connection_id,
        "credentials": {"type": "OAUTH2", "access_token": "gho_secret_value_1234"},
        "metadata": {"owner": "octocat", "repo": "hello-world"}, **extra})


def test_connection_lifecycle_runs_event_functions(root: Path) -> None:
    with Receiver() as app, Served(root, webhook_url=app.url) as served:
        created = _create(served)
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["connection_id"] == "new-1" and body["provider"] == "github" and body["end_user"] is None
        assert body["credentials"] == {"type": "OAUTH2", "access_token": "<scrubbed:access_token>"}
        assert "gho_secret_value_1234" not in created.text  # a replay never hands out a real secret
        # post-connection-creation ran (in the background) and its metadata write stayed on the connection.
        meta = wait_for("the welcome function", lambda: (m := served.client.get(
            "/connections/new-1", params={"provider_config_key": "github"}).json()["metadata"]).get("welcomed") and m)
        assert meta == {"owner": "octocat", "repo": "hello-world", "welcomed": True}
        validated = "validate-connection github/check-connection new-1: success"
        assert any(line.startswith(validated) for line in served.logs)
        # The new connection is a connection like the others: its syncs run, replayed from the cassettes.
        status = served.run_sync("issues", connection="new-1")
        assert status["latestResult"]["Issue"]["added"] == 12
        assert len(served.records(connection="new-1").json()["records"]) == 12
        listed = [c["connection_id"] for c in served.client.get("/connections").json()["connections"]]
        assert listed == ["demo", "new-1"]
        # Deleting it runs pre-connection-deletion (which replays its recorded POST), then drops its data.
        deleted = served.client.delete("/connections/new-1", params={"provider_config_key": "github"})
        assert deleted.status_code == 200 and deleted.json() == {"success": True}
        assert any(line.startswith("pre-connection-deletion github/goodbye new-1: success") for line in served.logs)
        assert served.client.get("/connections/new-1", params={"provider_config_key": "github"}).status_code == 404
        assert served.records(connection="new-1").status_code == 404
        assert "github/issues/new-1" not in served.runtime.scheduler.schedules
        auth = wait_for("the auth webhook", lambda: [json.loads(h.body) for h in app.received
                                                     if json.loads(h.body)["type"] == "auth"])
        adhoc = served.runtime.runner.adhoc.path.read_text()
    assert auth[0]["operation"] == "creation" and auth[0]["connectionId"] == "new-1" and auth[0]["authMode"] == "OAUTH2"
    assert "gho_secret_value_1234" not in adhoc  # credentials never reach disk


def test_creating_a_connection_twice_overrides_it(root: Path) -> None:
    with Served(root) as served:
        assert _create(served).status_code == 201
        again = _create(served, metadata={"owner": "octocat", "repo": "hello-world", "v": 2})
        assert again.status_code == 200
        assert again.json()["metadata"]["v"] == 2
        assert [c["connection_id"] for c in served.client.get("/connections").json()["connections"]] == [
            "demo", "new-1"]
        # A re-connection that fails validation leaves the connection as it was, and runnable.
        refused = _create(served, metadata={"v": 3}, connection_config={"reject": True})
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "connection_validation_failed"
        kept = served.client.get("/connections/new-1", params={"provider_config_key": "github"}).json()
        assert kept["metadata"]["v"] == 2 and kept["connection_config"] == {}
        assert served.run_sync("issues", connection="new-1")["latestExecutionStatus"] == "SUCCESS"
        assert "reject" not in served.runtime.runner.adhoc.path.read_text()
        unknown_type = _create(served, "new-2", credentials={"type": "MAGIC"})
        assert unknown_type.status_code == 400 and unknown_type.json()["error"]["code"] == "invalid_body"
