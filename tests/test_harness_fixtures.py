"""The plugin's fixtures in hand-written tests: scenarios with overrides, live runs against a fake."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.errors import CassetteError
from harness.http.blocking import NetworkBlockedError, blocked_network
from harness.project import load_project
from harness.result import RunResult
from harness.scenarios import find_scenarios, orphan_snapshots
from tests.fakes.github_server import FakeGitHub

SINCE = "2026-01-12T10:00:00Z"


def test_harness_scenario_replays_with_the_cassettes_context(harness_scenario: Callable[..., RunResult],
                                                             example: Path) -> None:
    result = harness_scenario("github/issues", project=example)
    assert result.ok and result.mode == "replay"
    assert len(result.records("Issue")) == 12 and result.final_checkpoint == {"since": SINCE}


def test_overrides_with_extra_interactions(harness_scenario: Callable[..., RunResult], example: Path) -> None:
    # Resuming from the final checkpoint sends a request the recording lacks: supply its answer.
    extra = {"method": "GET", "path": f"/repos/octocat/hello-world/issues?state=all&per_page=5&since={SINCE}",
             "status": 200, "json": []}
    result = harness_scenario("issues", checkpoint={"since": SINCE}, interactions=[extra], project=example)
    assert result.ok, result.error
    assert result.records("Issue") == [] and result.final_checkpoint == {"since": SINCE}
    assert [r.url for r in result.requests] == [
        "https://api.github.com/repos/octocat/hello-world/issues?state=all&per_page=5&since=2026-01-12T10:00:00Z"]
    # The recorded interactions were not played this time, and the cassette on disk is unchanged.
    assert len(result.unplayed) == 3
    assert "since" not in (example / "cassettes/github/issues/default.yaml").read_text()


def test_overrides_without_an_answer_are_a_replay_miss(harness_scenario: Callable[..., RunResult],
                                                       example: Path) -> None:
    result = harness_scenario("issues", metadata={"owner": "other", "repo": "x"}, project=example)
    assert result.error is not None and result.error.type == "replay_miss"
    assert "/repos/other/x/issues" in result.error.message


def test_a_bad_extra_interaction_is_a_one_line_error(harness_scenario: Callable[..., RunResult],
                                                     example: Path) -> None:
    with pytest.raises(CassetteError, match="extra interaction 42 is not valid"):
        harness_scenario("issues", interactions=[42], project=example)


def test_harness_live_against_the_fake_server(harness_live: Callable[..., RunResult], example: Path,
                                              fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", fake_github.token)
    result = harness_live("issues", "demo", base_url=fake_github.base_url, project=example)
    assert result.ok, result.error
    assert result.mode == "live" and len(result.records("Issue")) == 12
    # The function addressed the provider; the fake answered (its own links then point at the fake).
    assert result.requests[0].url.startswith("https://api.github.com/repos/octocat/hello-world/issues")
    assert len(fake_github.requests) == 3


def test_harness_live_with_a_transport(harness_live: Callable[..., RunResult], example: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "tok-123456")
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(201, json={"id": 7, "number": 7, "html_url": "https://github.com/o/r/issues/7"})

    result = harness_live("create-issue", "demo", transport=httpx.MockTransport(answer), project=example,
                          input={"title": "x"}, allow_writes=True)
    assert result.ok and result.output == {"id": "7", "number": 7, "url": "https://github.com/o/r/issues/7"}
    assert seen == ["Bearer tok-123456"]


def test_blocked_network_refuses_and_restores() -> None:
    import socket

    original = socket.create_connection
    with blocked_network(), pytest.raises(NetworkBlockedError, match="network access attempted"):
        socket.create_connection(("127.0.0.1", 9))
    assert socket.create_connection is original


def _listening() -> Any:
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server


def test_a_replays_block_is_its_own_the_processs_other_threads_connect() -> None:
    # A user's fixture server, a metrics exporter, a second replay: other threads of the process are not
    # the replay, and were refused while it ran.
    import socket
    import threading

    with _listening() as server:
        address = server.getsockname()
        inside, outside = threading.Event(), threading.Event()
        seen: list[object] = []

        def other_thread() -> None:
            inside.wait(10)
            try:
                socket.create_connection(address, timeout=5).close()
                seen.append("connected")
            except Exception as exc:  # what the assertion below shows
                seen.append(exc)
            outside.set()

        thread = threading.Thread(target=other_thread)
        thread.start()
        with blocked_network():
            inside.set()
            assert outside.wait(10)
            with pytest.raises(NetworkBlockedError):
                socket.create_connection(address, timeout=5)
        thread.join(10)
    assert seen == ["connected"]


def test_the_block_holds_in_the_functions_tasks_and_to_thread_calls() -> None:
    import asyncio
    import socket

    async def function() -> list[str]:
        async def task() -> None:
            socket.getaddrinfo("example.com", 443)

        outcomes = []
        for attempt in (task(), asyncio.to_thread(socket.create_connection, ("127.0.0.1", 9))):
            try:
                await attempt
                outcomes.append("reached")
            except NetworkBlockedError:
                outcomes.append("blocked")
        return outcomes

    with blocked_network():
        assert asyncio.run(function()) == ["blocked", "blocked"]


def test_a_unix_socket_is_local_ipc_and_never_refused(tmp_path: Path) -> None:
    import socket

    path = str(tmp_path / "s")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)
        server.listen()
        with blocked_network(), socket.socket(socket.AF_UNIX) as client:
            client.connect(path)  # multiprocessing's fork server, a database's socket
            with socket.socket() as inet, pytest.raises(NetworkBlockedError):
                inet.connect(("127.0.0.1", 9))


def test_overlapping_blocks_of_two_threads_restore_the_socket_module() -> None:
    import socket
    import threading

    originals = (socket.socket.connect, socket.socket.connect_ex, socket.create_connection, socket.getaddrinfo)
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with blocked_network():
            first_in.set()
            second_in.wait(10)
        first_out.set()

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(10)
    with blocked_network():
        second_in.set()
        first_out.wait(10)  # the first block ended while this one holds: still blocked here
        with pytest.raises(NetworkBlockedError):
            socket.create_connection(("127.0.0.1", 9))
    thread.join(10)
    assert (socket.socket.connect, socket.socket.connect_ex, socket.create_connection,
            socket.getaddrinfo) == originals


def test_a_patch_put_over_the_block_is_left_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def theirs(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("another tool's")

    with blocked_network():
        monkeypatch.setattr(socket, "create_connection", theirs)  # pytest-socket, a test's own guard
    assert socket.create_connection is theirs


def test_scenario_discovery_and_orphans(example: Path) -> None:
    project = load_project(example)
    assert [s.id for s in find_scenarios(project)] == ["github/check-access[default]", "github/create-issue[default]",
                                                       "github/issues[default]", "github/issues[webhook]"]
    assert [s.id for s in find_scenarios(project, [example / "cassettes/github/issues"])] == [
        "github/issues[default]", "github/issues[webhook]"]
    (example / "cassettes/github/old").mkdir()
    (example / "cassettes/github/old/x.snapshot.json").write_text("{}")
    assert [p.name for p in orphan_snapshots(project)] == ["x.snapshot.json"]


def test_harness_snapshot_uses_the_harness_extension(harness_snapshot: Any) -> None:
    from harness.snapshots.extension import HarnessSnapshotExtension

    assert issubclass(harness_snapshot.extension_class, HarnessSnapshotExtension)


LOOKUPS = """\
import asyncio
import socket

from harness import ActionContext, action


@action()
async def lookups(nango: ActionContext, input: object) -> dict:
    loop = asyncio.get_running_loop()
    seen = {}
    attempts = {"name lookup": loop.getaddrinfo("example.com", 443),
                "executor": loop.run_in_executor(None, socket.create_connection, ("127.0.0.1", 9), 0.2),
                "to_thread": asyncio.to_thread(socket.create_connection, ("127.0.0.1", 9), 0.2)}
    for name, attempt in attempts.items():
        try:
            await attempt
            seen[name] = "reached"
        except Exception as exc:
            seen[name] = type(exc).__name__
    return seen
"""


def test_a_strict_replays_block_covers_the_functions_executor_and_the_event_loops_name_lookups(
        example: Path) -> None:
    # The event loop resolves names in its default executor, whose threads do not carry the replay's context
    # unless the runner's executor passes it on (as asyncio.to_thread does).
    from harness.pipeline import RunRequest, execute
    from tests.test_pytest_plugin import cassette_yaml

    (example / "functions/github/actions/lookups.py").write_text(LOOKUPS)
    (example / "cassettes/github/lookups").mkdir()
    (example / "cassettes/github/lookups/default.yaml").write_text(cassette_yaml("lookups"))
    result = execute(RunRequest("lookups", project=load_project(example), mode="replay", block_network=True)).result
    assert result.ok, result.error
    assert result.output == {"name lookup": "NetworkBlockedError", "executor": "NetworkBlockedError",
                             "to_thread": "NetworkBlockedError"}
