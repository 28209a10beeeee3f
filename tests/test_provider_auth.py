"""Credentials against the generic fake provider over real sockets: injection of every type, OAuth2
refresh (expired and 401) written back to `.harness/tokens.json`, client credentials, Nango as a source."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.clock import VirtualClock
from tests.fakes.nango_server import SECRET, FakeNango
from tests.fakes.provider_server import FakeProvider

from .provider_project import connection, run, write_project

ME = {"kind": "proxy", "endpoint": "/me"}


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


CASES = [
    ("bearer", "fakeprov", "{type: OAUTH2, access_token: tok-initial-123}"),
    ("bearer", "fakeprov", "{type: APP, access_token: tok-initial-123}"),
    ("bearer", "fakeprov", "{type: OAUTH2_CC, client_id: client-abc, client_secret: client-secret-xyz}"),
    ("basic", "fakeprov", "{type: BASIC, username: alice, password: pa55word-secret}"),
    ("header", "fake-header", "{type: API_KEY, apiKey: key-secret-987}"),
    ("query", "fake-query", "{type: API_KEY, apiKey: key-secret-987}"),
    ("body", "fake-body", "{type: API_KEY, apiKey: key-secret-987}"),
    ("custom", "fake-custom", "{type: CUSTOM, user: alice, key: key-secret-987}"),
]


@pytest.mark.parametrize(("auth", "provider", "creds"), CASES, ids=[f"{c[0]}-{c[2][7:16]}" for c in CASES])
def test_every_credential_type_is_injected(tmp_path: Path, fake: FakeProvider, auth: str, provider: str,
                                           creds: str) -> None:
    fake.state.auth = auth
    root = write_project(tmp_path, fake.base_url, connection(provider, creds))
    method = "POST" if auth == "body" else "GET"
    result = run(root, {**ME, "method": method, "json": {"x": 1}} if auth == "body" else ME,
                 allow_writes=auth == "body")
    assert result.ok, result.error
    assert result.output["status"] == 200
    sent = fake.requests[-1]
    if auth == "body":
        assert sent.json() == {"x": 1, "api_key": "key-secret-987"}  # shallow spread over the function's body
    # What the run shows never holds the secret, whatever the injection.
    shown = json.dumps(result.to_json())
    for secret in ("tok-initial-123", "pa55word-secret", "key-secret-987", "client-secret-xyz", "tok-minted"):
        assert secret not in shown


def test_without_credentials_the_provider_answers_401(tmp_path: Path, fake: FakeProvider) -> None:
    root = write_project(tmp_path, fake.base_url, connection("fakeprov", "{type: NONE}"))
    result = run(root, ME)
    assert result.error is not None and result.error.type == "script_http_error" and result.error.status == 401


def test_function_headers_win_but_provider_user_agent_wins(tmp_path: Path, fake: FakeProvider) -> None:
    fake.state.auth = "custom"
    root = write_project(tmp_path, fake.base_url,
                         connection("fake-custom", "{type: CUSTOM, user: alice, key: key-secret-987}"))
    result = run(root, {"kind": "proxy", "endpoint": "/echo",
                        "headers": {"Authorization": "Bearer mine", "User-Agent": "mine/0"}})
    assert result.ok, result.error
    headers = result.output["body"]["headers"]
    assert headers["authorization"] == "Bearer mine"
    assert headers["user-agent"] == "fake-agent/1"
    assert headers["x-custom-auth"] == "alice/key-secret-987"


def test_client_credentials_token_is_fetched_once_and_kept(tmp_path: Path, fake: FakeProvider) -> None:
    root = write_project(tmp_path, fake.base_url, connection(
        "fakeprov", "{type: OAUTH2_CC, client_id: client-abc, client_secret: client-secret-xyz}"))
    assert run(root, ME).ok
    assert run(root, {"kind": "token"}).output == {"token": "tok-minted-0001"}
    assert [c["grant_type"] for c in fake.state.token_calls] == ["client_credentials"]


EXPIRED = ("{type: OAUTH2, access_token: tok-old-000000, refresh_token: refresh-initial-123, "
           "expires_at: '2020-01-01T00:00:00Z', client_id: client-abc, client_secret: client-secret-xyz}")


def test_expired_token_is_refreshed_persisted_and_reused(tmp_path: Path, fake: FakeProvider) -> None:
    root = write_project(tmp_path, fake.base_url, connection("fakeprov", EXPIRED))
    before = (root / "fixtures/connections.yaml").read_text()
    result = run(root, ME)
    assert result.ok, result.error
    assert fake.state.token_calls == [{"grant_type": "refresh_token", "refresh_token": "refresh-initial-123",
                                       "client_id": "client-abc", "client_secret": "client-secret-xyz"}]
    assert fake.requests[-1].headers["authorization"] == "Bearer tok-minted-0001"
    # The token exchange happens below the recorder: the run shows one request, and no token.
    assert [r["url"].rsplit("/", 1)[1] for r in result.to_json()["requests"]] == ["me"]
    assert "tok-minted" not in json.dumps(result.to_json())
    # Written back beside the file, never into it; private to the user; ignored by git.
    assert (root / "fixtures/connections.yaml").read_text() == before
    tokens = root / ".harness/tokens.json"
    stored = json.loads(tokens.read_text())
    (entry,) = stored.values()
    assert entry["value"]["access_token"] == "tok-minted-0001"
    assert entry["value"]["refresh_token"] == "refresh-minted-0001"
    assert stat.S_IMODE(os.stat(tokens).st_mode) == 0o600
    assert (root / ".harness/.gitignore").read_text().splitlines() == ["*", "!.gitignore", "!deployed.json"]
    # The next run uses the stored token: no new exchange.
    assert run(root, {"kind": "token"}).output == {"token": "tok-minted-0001"}
    assert len(fake.state.token_calls) == 1


def test_editing_the_file_wins_over_a_stored_token(tmp_path: Path, fake: FakeProvider) -> None:
    root = write_project(tmp_path, fake.base_url, connection("fakeprov", EXPIRED))
    assert run(root, ME).ok
    (root / "fixtures/connections.yaml").write_text(connection(
        "fakeprov", "{type: OAUTH2, access_token: tok-initial-123}"))
    assert run(root, {"kind": "token"}).output == {"token": "tok-initial-123"}


def test_env_reference_credentials_refresh_into_the_state_file(tmp_path: Path, fake: FakeProvider,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_TOKEN", "tok-env-000000")
    monkeypatch.setenv("FAKE_REFRESH", "refresh-initial-123")
    creds = ("{type: OAUTH2, access_token: '${FAKE_TOKEN}', refresh_token: '${FAKE_REFRESH}', "
             "client_id: client-abc, client_secret: client-secret-xyz}")
    root = write_project(tmp_path, fake.base_url, connection("fakeprov", creds))
    result = run(root, ME)  # the env token is not valid: 401, refresh once, resend
    assert result.ok, result.error
    assert len(fake.state.token_calls) == 1
    assert [r.headers["authorization"] for r in fake.requests if r.path == "/me"] == [
        "Bearer tok-env-000000", "Bearer tok-minted-0001"]
    assert run(root, {"kind": "token"}).output == {"token": "tok-minted-0001"}
    monkeypatch.setenv("FAKE_TOKEN", "tok-initial-123")  # a new exported token wins over the stored one
    assert run(root, {"kind": "token"}).output == {"token": "tok-initial-123"}


def test_a_401_after_refresh_is_not_refreshed_again(tmp_path: Path, fake: FakeProvider) -> None:
    creds = EXPIRED.replace("expires_at: '2020-01-01T00:00:00Z', ", "")
    root = write_project(tmp_path, fake.base_url, connection("fakeprov", creds))
    fake.fail(401, times=10, path="/me")
    result = run(root, {**ME, "retries": 4}, clock=VirtualClock(0))
    assert result.error is not None and result.error.status == 401
    assert len(fake.state.token_calls) == 1
    # First 401 retried once (credentials changed), the next 401 with the same credentials stops.
    assert [r.path for r in fake.requests].count("/me") == 3
    assert any("invalid_credentials" in log["message"] for log in result.logs)


def test_a_refused_refresh_fails_the_run_without_the_token(tmp_path: Path, fake: FakeProvider) -> None:
    root = write_project(tmp_path, fake.base_url, connection("fakeprov", EXPIRED.replace("client-abc", "wrong")))
    result = run(root, ME)
    assert result.error is not None
    assert "token refresh failed" in result.error.message and "401" in result.error.message
    assert "refresh-initial-123" not in result.error.message
    assert not (root / ".harness/tokens.json").exists()


def test_near_expiry_counts_as_expired(tmp_path: Path, fake: FakeProvider) -> None:
    clock = VirtualClock(1767225600)  # 2026-01-01T00:00:00Z
    near = EXPIRED.replace("2020-01-01T00:00:00Z", "2026-01-01T00:14:00Z")
    root = write_project(tmp_path, fake.base_url, connection("fakeprov", near))
    assert run(root, ME, clock=clock).ok
    assert len(fake.state.token_calls) == 1  # within Nango's 15-minute margin
    far = EXPIRED.replace("2020-01-01T00:00:00Z", "2026-01-01T00:16:00Z").replace("tok-old-000000",
                                                                                   "tok-initial-123")
    (root / "fixtures/connections.yaml").write_text(connection("fakeprov", far))
    assert run(root, ME, clock=clock).ok
    assert len(fake.state.token_calls) == 1


# -- Nango as the source ------------------------------------------------------------------------------

@pytest.fixture
def nango(fake: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNango]:
    with FakeNango() as server:
        server.add("fake", "n1", provider="fakeprov", provider_url=fake.base_url,
                   credentials={"type": "OAUTH2", "access_token": "tok-initial-123"},
                   metadata={"team": "a"}, connection_config={"region": "eu"})
        monkeypatch.setenv("NANGO_SECRET_KEY", SECRET)
        monkeypatch.setenv("NANGO_HOST", server.base_url)
        yield server


def test_connection_from_nango(tmp_path: Path, fake: FakeProvider, nango: FakeNango) -> None:
    root = write_project(tmp_path, fake.base_url, "connections: {}\n")
    result = run(root, {"kind": "metadata", "value": {"x": 1}}, cid="n1")
    assert result.ok, result.error
    assert result.output == {"metadata": {"team": "a", "x": 1}}
    (get,) = [r for r in nango.requests if r.method == "GET"]
    assert get.path == "/connection/n1" and get.q("provider_config_key") == "fake"
    # Shown, not sent, without --persist-metadata.
    assert nango.metadata_calls == []
    assert any("--persist-metadata" in log["message"] for log in result.logs)
    assert run(root, ME, cid="n1", source="nango").ok
    assert fake.requests[-1].headers["authorization"] == "Bearer tok-initial-123"


def test_persist_metadata_to_nango(tmp_path: Path, fake: FakeProvider, nango: FakeNango) -> None:
    root = write_project(tmp_path, fake.base_url, "connections: {}\n")
    result = run(root, {"kind": "metadata", "value": {"x": 1}}, cid="n1", persist_metadata=True)
    assert result.ok, result.error
    assert nango.metadata_calls == [("PATCH", {"x": 1})]
    assert nango.connections[("fake", "n1")]["metadata"] == {"team": "a", "x": 1}


def test_persist_metadata_to_the_file_source(tmp_path: Path, fake: FakeProvider) -> None:
    root = write_project(tmp_path, fake.base_url, connection("fakeprov", "{type: NONE}",
                                                             extra="    metadata: {team: a}\n"))
    assert run(root, {"kind": "metadata", "value": {"x": 1}}).ok
    assert not (root / ".harness/metadata.json").exists()
    assert run(root, {"kind": "metadata", "value": {"x": 1}}, persist_metadata=True).ok
    second = run(root, {"kind": "metadata", "value": {"y": 2}})
    assert second.output == {"metadata": {"team": "a", "x": 1, "y": 2}}


def test_nango_refreshes_on_401(tmp_path: Path, fake: FakeProvider, nango: FakeNango) -> None:
    nango.connections[("fake", "n1")]["credentials"]["access_token"] = "tok-stale-0000"
    nango.connections[("fake", "n1")]["credentials"]["refresh_token"] = "managed-by-nango"

    def refresh(creds: dict[str, object]) -> dict[str, object]:
        return {**creds, "access_token": "tok-initial-123"}

    nango.refresh = refresh
    root = write_project(tmp_path, fake.base_url, "connections: {}\n")
    result = run(root, ME, cid="n1")
    assert result.ok, result.error
    forced = [r for r in nango.requests if r.q("force_refresh") == "true"]
    assert len(forced) == 1
    assert fake.state.token_calls == []  # Nango refreshed, not harness
    assert not (root / ".harness/tokens.json").exists()


def test_calls_through_the_nango_proxy(tmp_path: Path, fake: FakeProvider, nango: FakeNango) -> None:
    root = write_project(tmp_path, fake.base_url, "connections: {}\n")
    result = run(root, {"kind": "proxy", "endpoint": "/echo", "params": {"a": 1}, "headers": {"X-Thing": "t"}},
                 cid="n1", via_nango_proxy=True)
    assert result.ok, result.error
    proxied = [r for r in nango.requests if r.path.startswith("/proxy/")]
    assert [r.path for r in proxied] == ["/proxy/echo"]
    assert proxied[0].headers["connection-id"] == "n1"
    assert proxied[0].headers["provider-config-key"] == "fake"
    assert proxied[0].headers["nango-proxy-x-thing"] == "t"
    assert proxied[0].headers["authorization"] == f"Bearer {SECRET}"
    seen = result.output["body"]
    assert seen["headers"]["x-thing"] == "t" and seen["query"] == {"a": ["1"]}
    assert seen["headers"]["authorization"] == "Bearer tok-initial-123"  # added by Nango
    # The run shows the provider's URL, not Nango's.
    assert result.to_json()["requests"][0]["url"].startswith(fake.base_url + "/echo")


def test_unknown_nango_connection_is_a_clear_error(tmp_path: Path, fake: FakeProvider, nango: FakeNango) -> None:
    from harness.errors import NotFoundError

    root = write_project(tmp_path, fake.base_url, "connections: {}\n")
    with pytest.raises(NotFoundError, match="has no connection 'nope' for integration 'fake'"):
        run(root, ME, cid="nope")


@pytest.mark.parametrize("args", [["--via-nango-proxy"], ["--source", "nango"]])
def test_nango_options_without_a_secret_key_are_usage_errors(tmp_path: Path, fake: FakeProvider, cli: object,
                                                             args: list[str]) -> None:
    root = write_project(tmp_path, fake.base_url, connection("fakeprov", "{type: NONE}"))
    out = cli(root, "dryrun", "call", "c1", "--live", *args, "--input", '{"kind": "token"}')  # type: ignore[operator]
    assert out.exit_code == 2
    assert "needs NANGO_SECRET_KEY" in out.output and "Traceback" not in out.output
    assert fake.requests == []
