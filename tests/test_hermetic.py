"""Hermetic replays: every bundled scenario (the example's and each template's) replays to its committed
snapshot with no connections file at all, and with a hostile one plus a hostile environment: the cassette
alone supplies the connection, its config and metadata, the input and the checkpoint."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.pipeline import RunRequest, execute
from harness.project import load_project
from harness.scenarios import find_scenarios
from harness.verdict import Policy, judge

from .conftest import PYPROJECT, REPO

TEMPLATES = sorted(p for p in (REPO / "harness/scaffold/templates").iterdir() if p.is_dir())
HOSTILE_ENV = {"GITHUB_TOKEN": "ghp_hostile000000000000000000000", "SLACK_TOKEN": "xoxb-hostile-1",
               "HUBSPOT_TOKEN": "hostile-hubspot", "LINEAR_API_KEY": "lin_hostile", "NANGO_SECRET_KEY": "hostile",
               "NANGO_HOST": "http://127.0.0.1:9", "HARNESS_PROJECT": "/nonexistent"}
HOSTILE_CONNECTIONS = """
connections:
  demo:
    integration: github
    provider: github
    base_url: http://127.0.0.1:9/hostile
    credentials: {type: OAUTH2, access_token: "${GITHUB_TOKEN}"}
    connection_config: {subdomain: hostile}
    metadata: {owner: hostile, repo: hostile, channel: hostile}
"""


def _copy(source: Path, dest: Path) -> Path:
    for folder in ("functions", "cassettes"):
        if (source / folder).is_dir():
            shutil.copytree(source / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "fixtures").mkdir(parents=True, exist_ok=True)
    (dest / "pyproject.toml").write_text(PYPROJECT)
    return dest


@pytest.mark.parametrize("source", [REPO, *TEMPLATES], ids=lambda p: p.name)
@pytest.mark.parametrize("connections", ["none", "hostile"])
def test_bundled_scenarios_replay_from_their_cassette_alone(source: Path, connections: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch, no_network: None) -> None:
    root = _copy(source, tmp_path / "proj")
    if connections == "hostile":
        (root / "fixtures/connections.yaml").write_text(HOSTILE_CONNECTIONS)
        (root / ".env").write_text("".join(f"{k}={v}\n" for k, v in HOSTILE_ENV.items()))
        for name, value in HOSTILE_ENV.items():
            monkeypatch.setenv(name, value)
    project = load_project(root)
    scenarios = find_scenarios(project)
    assert scenarios, f"{source.name} bundles no scenario"
    for scenario in scenarios:
        verdict = judge(project, scenario, Policy(strict=True))
        assert verdict.failures == [], verdict.failures
        result = verdict.outcome.result if verdict.outcome else None
        assert result is not None and result.ok
        assert "hostile" not in repr(result.to_json())


def test_another_connection_id_only_names_the_replay(example: Path, no_network: None) -> None:
    # The id asked for is what the function sees; the connection's data still comes from the cassette alone.
    (example / "fixtures/connections.yaml").write_text(HOSTILE_CONNECTIONS.replace("demo:", "other:"))
    result = execute(RunRequest("issues", "other", mode="replay", project=load_project(example))).result
    assert result.ok and result.connection_id == "other"
    assert result.final_metadata == {"owner": "octocat", "repo": "hello-world"}


def test_explicit_overrides_stay_explicit_and_are_shown(example: Path, no_network: None) -> None:
    project = load_project(example)
    plain = execute(RunRequest("issues", mode="replay", project=project)).result
    assert plain.ok and plain.to_json()["overrides"] == []
    given = execute(RunRequest("issues", mode="replay", project=project, metadata={"owner": "octocat",
                                                                                  "repo": "hello-world"})).result
    assert given.ok and given.to_json()["overrides"] == ["metadata"]
    assert given.final_metadata == {"owner": "octocat", "repo": "hello-world"}
