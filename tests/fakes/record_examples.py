"""Re-record the bundled example cassettes from the fake GitHub server: `python -m tests.fakes.record_examples`.

The tests call `record_examples()` into a copy of the project and compare the result with the bundled
cassettes, so the files in `cassettes/` are known to come from this script.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from harness.pipeline import RunRequest, run_request
from harness.project import load_project
from harness.result import RunResult

from .github_server import FakeGitHub
from .routing import RoutingTransport

ROOT = Path(__file__).resolve().parents[2]
ISSUES = 12
RATE_LIMIT_RESET = 1767261600  # a fixed epoch so the recorded headers do not change between recordings
NEW_ISSUE: dict[str, Any] = {"title": "Found a bug", "body": "It breaks on Tuesdays.", "labels": ["bug"]}
WEBHOOK_PAYLOAD = "fixtures/issue-opened.json"  # the payload the README's `harness webhook` example sends
# Every cassette the script writes (the test compares each with the committed one).
CASSETTES = ("cassettes/github/issues/default.yaml", "cassettes/github/create-issue/default.yaml",
             "cassettes/github/issues/webhook.yaml", "cassettes/github/check-access/default.yaml")


def record_examples(project_root: Path = ROOT) -> dict[str, RunResult]:
    project = load_project(project_root)
    results: dict[str, RunResult] = {}
    with FakeGitHub(issues=ISSUES) as gh:
        gh.rate_limit_reset = RATE_LIMIT_RESET
        routes = RoutingTransport({"https://api.github.com": gh.base_url})
        previous = os.environ.get("GITHUB_TOKEN")
        os.environ["GITHUB_TOKEN"] = gh.token
        try:
            results["issues"] = run_request(RunRequest("issues", "demo", mode="record", project=project,
                                                       network=routes))
            results["create-issue"] = run_request(RunRequest("create-issue", "demo", mode="record", project=project,
                                                     input=NEW_ISSUE, allow_writes=True, network=routes))
            payload = json.loads((project_root / WEBHOOK_PAYLOAD).read_text(encoding="utf-8"))
            results["issues-webhook"] = run_request(RunRequest("issues", "demo", mode="record", project=project,
                                                       scenario="webhook", payload=payload, network=routes))
            results["check-access"] = run_request(RunRequest("check-access", "demo", mode="record", project=project,
                                                     network=routes))
        finally:
            if previous is None:
                os.environ.pop("GITHUB_TOKEN", None)
            else:
                os.environ["GITHUB_TOKEN"] = previous
    for name, result in results.items():
        if not result.cassette_written:
            raise SystemExit(f"recording {name} failed: {result.error}")
    return results


if __name__ == "__main__":
    for name, res in record_examples().items():
        print(f"{name}: {res.cassette} ({len(res.requests)} requests)")
