"""`harness serve --live` against the fake GitHub server on 127.0.0.1: the connections file's credentials, the
stored checkpoint, the write guard, a store kept across restarts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.github_server import FakeGitHub
from tests.serve_support import Served, project_with

from .conftest import LIVE_DEMO_CONNECTIONS

CONNECTIONS = LIVE_DEMO_CONNECTIONS
INPUT = {"title": "Live bug", "body": "seen live", "labels": []}


@pytest.fixture
def root(tmp_path: Path, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = project_with(tmp_path / "p")
    (project / "fixtures" / "connections.yaml").write_text(CONNECTIONS)
    monkeypatch.setenv("GH_URL", fake_github.base_url)
    monkeypatch.setenv("GH_TOKEN", fake_github.token)
    return project


def issue_queries(fake: FakeGitHub) -> list[dict[str, list[str]]]:
    return [r.query for r in fake.requests if r.path == "/repos/octocat/hello-world/issues" and r.method == "GET"]


def test_live_syncs_use_the_stored_checkpoint(root: Path, tmp_path: Path, fake_github: FakeGitHub) -> None:
    store = tmp_path / "live.sqlite"
    with Served(root, live=True, store=store) as served:
        first = served.run_sync()
        assert first["latestResult"]["Issue"]["added"] == 12 and first["recordCount"] == {"Issue": 12}
        assert all("since" not in q for q in issue_queries(fake_github))
        assert fake_github.requests[0].headers["authorization"] == f"Bearer {fake_github.token}"
        newest = first["checkpoint"]["since"]
        calls = len(fake_github.requests)
        again = served.run_sync()
        assert [q.get("since") for q in issue_queries(fake_github)[-1:]] == [[newest]]  # incremental
        assert again["latestResult"]["Issue"] == {"added": 0, "updated": 0, "deleted": 0}
        assert len(fake_github.requests) > calls
        served.run_sync(opts={"reset": True})
        assert "since" not in issue_queries(fake_github)[-1]  # a reset starts over
        # The live API hands out the connection's real credentials, as Nango does.
        creds = served.client.get("/connections/demo", params={"provider_config_key": "github"}).json()["credentials"]
        assert creds == {"type": "OAUTH2", "access_token": fake_github.token}
    with Served(root, live=True, store=store) as restarted:
        assert len(restarted.records().json()["records"]) == 12
        status = restarted.status()
        assert status["latestExecutionStatus"] == "SUCCESS" and status["type"] == "FULL"
        restarted.run_sync()
        assert issue_queries(fake_github)[-1].get("since") == [newest]  # the checkpoint survived the restart


def test_live_writes_need_allow_writes(root: Path, tmp_path: Path, fake_github: FakeGitHub) -> None:
    with Served(root, live=True, store=tmp_path / "a.sqlite") as served:
        blocked = served.action("create-issue", INPUT)
        assert blocked.status_code == 500 and blocked.json()["error"]["code"] == "write_blocked"
        assert not [r for r in fake_github.requests if r.method == "POST"]
    with Served(root, live=True, allow_writes=True, store=tmp_path / "b.sqlite") as served:
        created = served.action("create-issue", INPUT)
        assert created.status_code == 200, created.text
        assert created.json()["url"].endswith("/13") and created.json()["number"] == 13
        assert [r.method for r in fake_github.requests] == ["POST"]


def test_live_without_the_credentials_says_which_variable(root: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GH_TOKEN")
    with Served(root, live=True, store=tmp_path / "c.sqlite") as served:
        failed = served.action("create-issue", INPUT)
        assert failed.status_code == 500
        error = failed.json()["error"]
        assert error["code"] == "configuration_error" and "GH_TOKEN" in error["message"]
        status = served.run_sync()
        assert status["latestExecutionStatus"] == "STOPPED" and "GH_TOKEN" in status["error"]["message"]
