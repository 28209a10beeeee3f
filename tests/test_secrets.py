"""No secret reaches a written cassette: by rule, by value, in both directions, and the scan refuses leaks."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from harness.secrets.scrubber import Scrubber
from tests.fakes.github_server import FakeGitHub

from .conftest import files_under

LEAKY = """
from harness import action

@action()
async def leaky(nango, input):
    token = await nango.get_token()
    where = input["where"]
    if where == "header":
        r = await nango.get("/echo", headers={"Authorization": f"token {token}", "X-Debug": token})
    elif where == "query":
        r = await nango.get("/echo", params={"access_token": token, "q": f"owner:{token}"})
    elif where == "body":
        r = await nango.post("/echo", json={"note": token, "nested": {"token": token}})
    else:
        r = await nango.get("/echo")
    return {"seen": r.json()["token_seen"] == token}
"""
CONNECTIONS = """
connections:
  c1:
    provider: github
    integration: gh
    base_url: ${GH_URL}
    credentials: {type: OAUTH2, access_token: "${GH_TOKEN}", refresh_token: "${GH_REFRESH}"}
"""


@pytest.fixture
def proj(make_project: Callable[..., Path]) -> Path:
    return make_project({"gh/actions/leaky.py": LEAKY}, connections=CONNECTIONS)


@pytest.fixture
def env(fake_github: FakeGitHub) -> dict[str, str]:
    return {"GH_URL": fake_github.base_url, "GH_TOKEN": fake_github.token, "GH_REFRESH": "refresh-abc-123456"}


@pytest.mark.parametrize("where", ["header", "query", "body", "echo"])
def test_secret_never_reaches_the_cassette(where: str, proj: Path, cli: Callable[..., Result],
                                           env: dict[str, str], fake_github: FakeGitHub) -> None:
    res = cli(proj, "dryrun", "leaky", "c1", "--record", "--allow-writes", "--scenario", where, "--input",
              f'{{"where": "{where}"}}', env=env)
    assert res.exit_code == 0, res.output
    # The provider really received the token, and echoed it back in its response body.
    assert fake_github.requests[-1].header("authorization") is not None
    text = (proj / f"cassettes/gh/leaky/{where}.yaml").read_text()
    token = fake_github.token
    for form in (token, base64.b64encode(token.encode()).decode()[:-2], "refresh-abc-123456"):
        assert form not in text
    assert "<scrubbed" in text
    assert token not in res.output
    # Scrubbed requests still match on replay, with no credentials at all.
    replay = cli(proj, "dryrun", "leaky", "c1", "--scenario", where, "--json")
    assert replay.exit_code == 0, replay.output


def test_a_leak_the_scrubber_misses_is_refused(proj: Path, cli: Callable[..., Result], env: dict[str, str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulate a scrubbing bug: bodies pass through untouched. The scan must still refuse to write.
    monkeypatch.setattr(Scrubber, "body_values", lambda self, body, content_type: body)
    before = files_under(proj)
    res = cli(proj, "dryrun", "leaky", "c1", "--record", "--input", '{"where": "echo"}', env=env)
    assert res.exit_code == 3
    assert "interaction #0 response body at $.headers.authorization holds the secret `access_token` (raw)" \
        in res.stderr
    assert 'add "access_token" to allow = [...] in [tool.harness.scrub]' in res.stderr
    assert len(res.stderr.splitlines()) == 1
    assert files_under(proj) == before


def test_scrubber_rules_and_values() -> None:
    s = Scrubber({"access_token": "tok_SECRET_123", "basic": "dXNlcjpwYXNzd29yZA=="})
    assert s.url("https://u:p@h/x?access_token=abc&q=tok_SECRET_123&page=2") == \
        "https://<scrubbed:userinfo>@h/x?access_token=<scrubbed:access_token>&q=<scrubbed:access_token>&page=2"
    assert s.header("Cookie", "a=b") == "a=<scrubbed:cookie.a>"
    assert s.header("X-Other", "Bearer tok_SECRET_123") == "Bearer <scrubbed:access_token>"
    assert s.body('{"refresh_token": "zzz", "a": "tok_SECRET_123"}', "application/json") == \
        '{"refresh_token":"<scrubbed:refresh_token>","a":"<scrubbed:access_token>"}'
    assert s.body("grant_type=refresh_token&client_secret=xyz", "application/x-www-form-urlencoded") == \
        "grant_type=refresh_token&client_secret=<scrubbed:client_secret>"
    assert s.body("a%20tok_SECRET_123", "text/plain") == "a%20<scrubbed:access_token>"
    assert s.leaks({"x": ["ok", "tok%5FSECRET_123"]}) == ["access_token"]  # an unusual percent-encoding
    assert s.leaks({"x": ["ok", b"tok_SECRET_123"]}) == ["access_token"]
