"""Record modes, strict replay, pretty bodies, cassettes lint/prune, and crash safety of cassette writes."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result

from harness.atomic import CRASH_STAGES, write_atomic
from harness.cassettes.format import Cassette, Interaction, dump_cassette, load_cassette
from harness.crashpoints import ENV as CRASH_ENV
from harness.errors import CassetteError
from harness.pipeline import RunRequest, run_request
from harness.project import load_project
from harness.result import RunResult
from tests.fakes.github_server import FakeGitHub
from tests.fakes.routing import RoutingTransport


def test_strict_replay_fails_on_unplayed_and_prune_drops_them(example: Path, cli: Callable[..., Result]) -> None:
    path = example / "cassettes/github/issues/default.yaml"
    data = yaml.safe_load(path.read_text())
    extra = dict(data["interactions"][0])
    extra["request"] = {**extra["request"], "uri": "https://api.github.com/never/asked"}
    data["interactions"].append(extra)
    path.write_text(yaml.safe_dump(data))
    assert cli(example, "dryrun", "issues", "demo").exit_code == 0
    strict = cli(example, "dryrun", "issues", "demo", "--strict")
    assert strict.exit_code == 3
    assert "1 recorded interaction(s) were never requested" in strict.output
    lint = cli(example, "cassettes", "lint", "issues", "--replay")
    assert lint.exit_code == 3 and "unplayed: interaction #3 GET https://api.github.com/never/asked" in lint.output
    pruned = cli(example, "cassettes", "prune", "issues")
    assert pruned.exit_code == 0, pruned.output
    assert "dropped #3 GET https://api.github.com/never/asked" in pruned.output
    assert len(load_cassette(path).interactions) == 3
    assert cli(example, "dryrun", "issues", "demo", "--strict").exit_code == 0
    assert cli(example, "cassettes", "lint").exit_code == 0


def test_lint_finds_invalid_files_secret_shapes_and_duplicates(example: Path, cli: Callable[..., Result]) -> None:
    root = example / "cassettes/github"
    (root / "issues/broken.yaml").write_text("interactions: [\n")
    c = load_cassette(root / "issues/default.yaml")
    c.interactions.append(c.interactions[0])
    c.interactions[1].request_headers["Authorization"] = ["token ghp_" + "a" * 36]
    (root / "issues/dupes.yaml").write_text(dump_cassette(c))
    res = cli(example, "cassettes", "lint")
    assert res.exit_code == 3
    assert "issues/broken.yaml: invalid:" in res.output
    assert "issues/dupes.yaml: secret: looks like a GitHub token" in res.output
    assert "issues/dupes.yaml: secret: interaction #1 sends an unscrubbed Authorization header" in res.output
    assert "issues/dupes.yaml: duplicate: interaction #3 repeats #0" in res.output
    listed = cli(example, "cassettes", "list")
    assert "cassettes/github/issues/default.yaml  github/issues  scenario default  3 interaction(s)" in listed.output
    shown = cli(example, "cassettes", "show", "issues")
    assert "#2 GET https://api.github.com/repos/octocat/hello-world/issues" in shown.output


def test_record_modes(example: Path, fake_github: FakeGitHub, github_routes: RoutingTransport,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", fake_github.token)
    project = load_project(example)
    path = example / "cassettes/github/issues/new.yaml"

    def run(mode: str, **kw: Any) -> RunResult:
        return run_request(RunRequest("issues", "demo", scenario="new", record_mode=mode, project=project,
                              network=github_routes, **kw))

    with pytest.raises(CassetteError, match="never calls the provider"):
        run("none")
    assert run("once").ok and path.is_file() and len(fake_github.requests) == 3
    assert run("once").mode == "replay" and len(fake_github.requests) == 3
    # new_episodes: what is recorded replays; a new request (another starting checkpoint) is recorded, appended.
    more = run("new_episodes", checkpoint={"since": "2026-01-10T10:00:00Z"})
    assert more.ok, more.error
    assert len(fake_github.requests) == 4
    assert len(load_cassette(path).interactions) == 4
    assert run("all").ok and len(fake_github.requests) == 7 and len(load_cassette(path).interactions) == 3
    monkeypatch.setenv("CI", "1")
    with pytest.raises(CassetteError, match="never calls the provider"):
        run_request(RunRequest("issues", "demo", scenario="missing", project=project, network=github_routes))


def test_pretty_json_bodies_replay_byte_identical(tmp_path: Path) -> None:
    compact = '{"items":[' + ",".join(f'{{"id":{i},"name":"ü{i}","n":1.5}}' for i in range(20)) + "]}"
    odd = '{"n": 1E5, "items": [' + ", ".join(str(i) for i in range(80)) + "]}"
    items = [Interaction("GET", f"https://x/{n}", {}, None, 200, "OK", {}, body) for n, body in
             enumerate([compact, odd])]
    text = dump_cassette(Cassette(items, {"function": "f"}))
    assert '"name": "ü0"' in text  # pretty and readable
    path = tmp_path / "c.yaml"
    path.write_text(text)
    loaded = load_cassette(path)
    assert [i.response_body for i in loaded.interactions] == [compact, odd]


def _generation(n: int) -> Cassette:
    items = [Interaction("GET", f"https://x/{i}", {}, None, 200, "OK", {}, f"v{n}-" + "x" * 2000) for i in range(400)]
    return Cassette(items, {"generation": n})


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")
@pytest.mark.parametrize("stage", CRASH_STAGES)
def test_a_recording_killed_at_any_point_of_the_write_never_leaves_a_truncated_cassette(
        tmp_path: Path, stage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cassettes/c.yaml"
    write_atomic(path, dump_cassette(_generation(0)))
    monkeypatch.setenv(CRASH_ENV, f"atomic-{stage}")
    pid = os.fork()
    if pid == 0:  # the writer: killed by the hook at `stage`, exactly there, every time
        try:
            write_atomic(path, dump_cassette(_generation(1)))  # what write_cassette does after its scan
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    c = load_cassette(path)  # never a parse error: the old file or the complete new one
    assert len(c.interactions) == 400
    expected = 1 if stage == "renamed" else 0
    assert c.context["generation"] == expected
    assert all(i.response_body == f"v{expected}-" + "x" * 2000 for i in c.interactions)
    leftovers = [p.name for p in path.parent.iterdir() if p.name != "c.yaml"]
    # A killed write can leave its temporary file behind (nothing ran to remove it), never a cassette.
    assert all(name.startswith(".c.yaml.") and name.endswith(".tmp") for name in leftovers)
    assert len(leftovers) == (0 if stage == "renamed" else 1)


def test_replay_freezes_the_wall_clock_at_the_recording_time(example: Path, cli: Callable[..., Result]) -> None:
    fn = example / "functions/github/actions/clock.py"
    fn.write_text("from datetime import datetime, UTC\nfrom harness import action\n\n@action()\n"
                  "async def clock(nango, input):\n    return {'now': datetime.now(UTC).isoformat()}\n")
    path = example / "cassettes/github/clock/default.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(dump_cassette(Cassette([], {"function": "clock", "recorded_at": "2026-03-04T05:06:07Z",
                                                "connection": {"connection_id": "demo", "provider": "github"}})))
    res = cli(example, "dryrun", "clock", "demo", "--json")
    assert res.exit_code == 0, res.output
    assert '"now": "2026-03-04T05:06:07+00:00"' in res.output
