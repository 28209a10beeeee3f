"""Record the example functions live from the fake GitHub server, then replay them offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import vcr
import yaml

from harness.cassettes.format import load_cassette
from harness.pipeline import RunRequest, run_request
from harness.project import load_project
from harness.result import RunResult
from tests import early
from tests.fakes.github_server import FakeGitHub
from tests.fakes.record_examples import CASSETTES, NEW_ISSUE, record_examples
from tests.fakes.routing import RoutingTransport

from .conftest import REPO

VOLATILE_HEADERS = {"date", "server"}


def comparable(result: RunResult) -> dict[str, Any]:
    doc = result.to_json(timings=False)
    for key in ("mode", "cassette"):
        doc.pop(key)
    for req in doc["requests"]:
        req.pop("source")
    for log in doc["logs"]:
        log.pop("at_ms")
    return doc


def test_record_then_replay_offline_gives_the_same_result(
        example: Path, fake_github: FakeGitHub, github_routes: RoutingTransport,
        monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    project = load_project(example)
    cassette = example / "cassettes/github/issues/default.yaml"
    cassette.unlink()
    monkeypatch.setenv("GITHUB_TOKEN", fake_github.token)

    recorded = run_request(RunRequest("issues", "demo", mode="record", project=project, network=github_routes))
    assert recorded.ok, recorded.error
    assert recorded.cassette_written and cassette.is_file()
    assert len(recorded.records("Issue")) == 12
    assert [r["number"] for r in recorded.records("Issue")] == list(range(1, 13))
    # Three pages of five, reached through the Link header, each page checkpointed.
    assert [p.path for p in fake_github.requests] == ["/repos/octocat/hello-world/issues"] * 3
    assert len(recorded.checkpoints) == 3

    monkeypatch.delenv("GITHUB_TOKEN")
    request.getfixturevalue("no_network")
    replayed = run_request(RunRequest("issues", "demo", project=project))
    assert replayed.mode == "replay"
    assert replayed.ok, replayed.error
    assert replayed.unplayed == []
    assert comparable(replayed) == comparable(recorded)
    assert {r.source for r in replayed.requests} == {"replay"}


def test_action_records_and_replays(example: Path, fake_github: FakeGitHub, github_routes: RoutingTransport,
                                    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    project = load_project(example)
    monkeypatch.setenv("GITHUB_TOKEN", fake_github.token)
    recorded = run_request(RunRequest("create-issue", "demo", mode="record", project=project, input=NEW_ISSUE,
                              allow_writes=True, network=github_routes, scenario="bug"))
    assert recorded.ok, recorded.error
    assert recorded.output == {"id": "1013", "number": 13, "url": "https://github.com/octocat/hello-world/issues/13"}
    sent = fake_github.requests[-1]
    assert sent.method == "POST" and sent.json() == {"title": "Found a bug", "body": "It breaks on Tuesdays.",
                                                      "labels": ["bug"]}
    request.getfixturevalue("no_network")
    # The scenario's input comes from the cassette: no --input needed.
    replayed = run_request(RunRequest("create-issue", "demo", project=project, scenario="bug"))
    assert replayed.ok and replayed.output == recorded.output


def test_bundled_cassettes_are_what_the_fake_server_records(example: Path) -> None:
    for path in (example / "cassettes").rglob("*.yaml"):
        path.unlink()
    record_examples(example)
    for rel in CASSETTES:
        fresh, bundled = load_cassette(example / rel), load_cassette(REPO / rel)
        fresh.context.pop("recorded_at")
        bundled.context.pop("recorded_at")
        assert fresh.context == bundled.context
        assert [i.to_vcr() for i in fresh.interactions] == [i.to_vcr() for i in bundled.interactions], rel


def test_bundled_replay_needs_no_credentials_and_no_network(example: Path, no_network: None) -> None:
    result = run_request(RunRequest("issues", "demo", project=load_project(example)))
    assert result.ok and result.mode == "replay"
    assert len(result.records("Issue")) == 12
    assert result.final_checkpoint == {"since": "2026-01-12T10:00:00Z"}


def test_cassettes_are_readable_by_vcrpy(example: Path) -> None:
    path = example / "cassettes/github/issues/default.yaml"
    data = yaml.safe_load(path.read_text())
    assert data["version"] == 1
    # vcrpy patches every thread's HTTP clients while inside: no work of tests/early.py meanwhile.
    with early.paused(), vcr.use_cassette(str(path), record_mode="none") as cass:
        assert len(cass) == 3
        assert cass.requests[0].method == "GET"
        assert cass.requests[0].uri.startswith("https://api.github.com/repos/octocat/hello-world/issues")
