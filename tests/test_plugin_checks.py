"""The plugin's opt-in checks in hand-written tests: faults on a scenario, sync invariants against a fake."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from harness.result import RunResult
from tests.fakes.github_server import FakeGitHub


def test_faults_on_a_recorded_scenario(harness_scenario: Callable[..., RunResult]) -> None:
    clean = harness_scenario("github/issues", "default")
    faulted = harness_scenario("github/issues", "default", faults=["503@2", "timeout@4"])
    assert faulted.ok, faulted.error
    assert faulted.records("Issue") == clean.records("Issue")
    assert [r.status for r in faulted.requests] == [200, 503, 200, None, 200]


def test_invariants_of_the_example_sync(harness_check: Callable[..., Any], fake_github: FakeGitHub,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", fake_github.token)
    report = harness_check("issues", "demo", base_url=fake_github.base_url)
    assert report.ok, report.to_json()
    assert {f.check for f in report.findings} == {"resume", "idempotent"}


def test_fuzzing_the_example_action(harness_fuzz: Callable[..., Any]) -> None:
    report = harness_fuzz("github/create-issue", examples=30)
    assert report.ok, report.failure
    assert report.examples >= 10 and set(report.outcomes) <= {"ok", "action_script_runtime_error"}
