"""Nango parity for people moving over: `nango dryrun`'s flags and environment variables work as Nango's CLI
reads them, `generate:tests` is a command, `nango.log()` works with and without `await`, and paths accept
lodash's bracket syntax."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from harness.connections.nango import settings
from harness.http.pagination import get_path, path_parts
from tests.fakes.github_server import FakeGitHub
from tests.fakes.nango_server import SECRET, FakeNango
from tests.fakes.provider_server import FakeProvider
from tests.provider_project import run, write_project

from .test_sync_semantics import CONNECTIONS, FULL

FACTS = """
from harness import action

@action()
async def facts(nango, input: object) -> dict:
    nango.log("plain call")
    await nango.log("awaited call", level="warn")
    last = nango.last_sync_date
    return {"variant": nango.variant, "last_sync_date": last.isoformat() if last else None}
"""
LITERAL = """
connections:
  c1:
    provider: github
    integration: gh
    base_url: http://127.0.0.1:9
    credentials: {type: API_KEY, api_key: literal-key-000}
"""


@pytest.fixture
def facts(make_project: Callable[..., Path]) -> Path:
    return make_project({"gh/actions/facts.py": FACTS}, connections=LITERAL)


def test_variant_last_sync_date_and_log_with_or_without_await(facts: Path, cli: Callable[..., Result]) -> None:
    res = cli(facts, "dryrun", "facts", "c1", "--live", "--variant", "v2", "-l", "2026-01-31", "--auto-confirm",
              "--validate", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["output"] == {"variant": "v2", "last_sync_date": "2026-01-31T00:00:00+00:00"}
    assert [(log["level"], log["message"]) for log in doc["logs"]] == [("info", "plain call"),
                                                                       ("warn", "awaited call")]
    default = json.loads(cli(facts, "dryrun", "facts", "c1", "--live", "--json").stdout)
    assert default["output"] == {"variant": "base", "last_sync_date": None}


def test_bad_parity_flags_are_one_line_errors(facts: Path, cli: Callable[..., Result]) -> None:
    res = cli(facts, "dryrun", "facts", "c1", "--live", "--validate", "--lenient")
    assert res.exit_code == 2 and "--validate and --lenient contradict each other" in res.stderr
    res = cli(facts, "dryrun", "facts", "c1", "--live", "--lastSyncDate", "yesterday")
    assert res.exit_code == 2 and "--last-sync-date: cannot read 'yesterday' as a date" in res.stderr


def test_save_records_like_record(make_project: Callable[..., Path], cli: Callable[..., Result],
                                  fake_github: FakeGitHub) -> None:
    proj = make_project({"gh/syncs/full.py": FULL}, connections=CONNECTIONS)
    env = {"GH_URL": fake_github.base_url, "GH_TOKEN": fake_github.token}
    res = cli(proj, "dryrun", "full", "c1", "--save", "--integration-id", "gh", env=env)
    assert res.exit_code == 0, res.output
    assert (proj / "cassettes/gh/full/default.yaml").is_file()
    assert cli(proj, "generate:tests").exit_code == 0
    assert (proj / "tests/harness/test_gh_full.py").is_file()


def test_environment_keys_and_hostport_as_nangos_cli_reads_them() -> None:
    env = {"NANGO_SECRET_KEY": "default-key", "NANGO_SECRET_KEY_PROD": "prod-key",
           "NANGO_HOSTPORT": "http://127.0.0.1:3003/"}
    assert settings(env) == ("http://127.0.0.1:3003", "default-key")
    assert settings(env, "prod") == ("http://127.0.0.1:3003", "prod-key")
    assert settings(env, "staging") is None
    assert settings({**env, "NANGO_HOST": "https://nango.example"}, "prod") == ("https://nango.example", "prod-key")


ME = {"kind": "proxy", "endpoint": "/me"}


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


@pytest.fixture
def nango(fake: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNango]:
    with FakeNango() as server:
        server.add("fake", "n1", provider="fakeprov", provider_url=fake.base_url,
                   credentials={"type": "OAUTH2", "access_token": "tok-initial-123"})
        monkeypatch.delenv("NANGO_SECRET_KEY", raising=False)
        monkeypatch.setenv("NANGO_SECRET_KEY_PROD", SECRET)
        monkeypatch.setenv("NANGO_HOSTPORT", server.base_url)
        yield server


def test_an_environment_picks_its_secret_key(tmp_path: Path, fake: FakeProvider, nango: FakeNango) -> None:
    root = write_project(tmp_path, fake.base_url, "connections: {}\n")
    result = run(root, ME, cid="n1", source="nango", environment="prod")
    assert result.ok, result.error
    assert nango.requests[0].header("authorization") == f"Bearer {SECRET}"
    from harness.errors import ConfigError

    with pytest.raises(ConfigError, match="needs NANGO_SECRET_KEY_STAGING"):
        run(root, ME, cid="n1", source="nango", environment="staging")


def test_paths_take_lodash_brackets() -> None:
    assert path_parts("wrap[0].list") == ["wrap", "0", "list"]
    assert path_parts('data["a.b"][\'c\']') == ["data", "a.b", "c"]
    body = {"wrap": [{"list": [1, 2]}], "a.b": 3, "@odata.nextLink": "u"}
    assert get_path(body, "wrap[0].list") == [1, 2]
    assert get_path(body, "@odata.nextLink") == "u"  # the whole path as one key first, as lodash does
    assert get_path(body, "wrap[1].list") is None


def _replay(context: dict[str, object], body: bytes) -> int:
    import asyncio

    import httpx

    from harness.cassettes.format import Cassette, Interaction
    from harness.errors import ReplayMissError
    from harness.http.replay import ReplayTransport
    from harness.secrets.scrubber import Scrubber

    recorded = Interaction("POST", "https://api.example.com/tasks", {"content-type": ["application/json"]},
                           '{"name":"x","due":"2026-01-01"}', 201, "Created",
                           {"content-type": ["application/json"]}, '{"id":"1"}')
    transport = ReplayTransport(Cassette([recorded], context), Scrubber({}))

    async def send() -> int:
        async with httpx.AsyncClient(transport=transport) as client:
            return (await client.post("https://api.example.com/tasks", content=body,
                                      headers={"content-type": "application/json"})).status_code

    try:
        return asyncio.run(send())
    except ReplayMissError:
        return 0


def test_json_key_order_matters_only_for_recordings_that_came_from_nango() -> None:
    same, reordered = b'{"name":"x","due":"2026-01-01"}', b'{"due":"2026-01-01","name":"x"}'
    nango = {"source": "nango-unified", "connection": {"connection_id": "n", "base_url": "https://api.example.com"}}
    assert _replay(nango, same) == 201
    assert _replay(nango, reordered) == 0  # Nango's replayer refuses it too
    ours = {"connection": {"connection_id": "c", "base_url": "https://api.example.com"}}
    assert _replay(ours, reordered) == 201  # harness's own recordings compare JSON bodies semantically
