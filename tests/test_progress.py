"""Long live runs show progress on stderr (only on a terminal); the runner reports as it goes."""

from __future__ import annotations

import os
import pty
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.pipeline import RunRequest, run_request
from harness.project import load_project
from harness.result import RunResult
from tests import cli_process
from tests.fakes.github_server import FakeGitHub
from tests.fakes.routing import RoutingTransport


def test_the_runner_reports_each_exchange_and_batch(example: Path, fake_github: FakeGitHub,
                                                    github_routes: RoutingTransport,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", fake_github.token)
    seen: list[tuple[int, int]] = []

    def progress(result: RunResult) -> None:
        seen.append((len(result.requests), len(result.records("Issue"))))

    result = run_request(RunRequest("issues", "demo", mode="live", project=load_project(example), network=github_routes,
                            progress=progress))
    assert result.ok
    # After each of the 3 pages: the exchange, then the batch of 5 (or 2) records.
    assert seen == [(1, 0), (1, 5), (2, 5), (2, 10), (3, 10), (3, 12)]


def test_progress_line_on_a_terminal(make_project: Callable[..., Path], fake_github: FakeGitHub) -> None:
    from .conftest import GH_CONNECTIONS
    from .test_sync_semantics import FULL

    root = make_project({"gh/syncs/full.py": FULL}, connections=GH_CONNECTIONS)
    env = {**os.environ, "GH_URL": fake_github.base_url, "GH_TOKEN": fake_github.token, "COLUMNS": "200"}
    primary, secondary = pty.openpty()
    try:
        # harness in a process of its own (forked warm: tests/cli_process.py), its stderr on the terminal.
        with cli_process.HarnessProcess(["--project", str(root), "dryrun", "full", "c1", "--live", "--json"],
                                        env=env, stderr_to=os.ttyname(secondary)) as started:
            proc = started.result(timeout=60)
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(primary)
    assert proc.returncode == 0
    assert b"live gh/full" in b"".join(chunks)
    assert proc.stdout.startswith("{")  # stdout stays one clean JSON document
