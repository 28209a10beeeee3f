"""A corpus of secret placements, recorded live against the fake server: no secret value reaches disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.fakes.github_server import FakeGitHub

PLACER = """
import base64
from harness import action

@action()
async def place(nango, input):
    t = await nango.get_token()
    conn = await nango.get_connection()
    r = conn.credentials["refresh_token"] if hasattr(conn, "credentials") else "refresh-abc-123456"
    w = input["where"]
    if w == "auth-header":
        await nango.get("/echo", headers={"Authorization": f"Bearer {t}"})
    elif w == "custom-header":
        await nango.get("/echo", headers={"X-Debug": f"tok={t}"})
    elif w == "rule-header":
        await nango.get("/echo", headers={"X-Api-Key": "not-a-known-value-but-a-key"})
    elif w == "cookie":
        await nango.get("/echo", headers={"Cookie": f"session={t}; theme=dark"})
    elif w == "query-rule":
        await nango.get("/echo", params={"access_token": t})
    elif w == "query-value":
        await nango.get("/echo", params={"q": f"owner:{t}"})
    elif w == "form-rule":
        await nango.post("/echo", data={"grant_type": "refresh_token", "refresh_token": r,
                                         "client_secret": "cs-999999"})
    elif w == "form-value":
        await nango.post("/echo", data={"note": f"x{t}x"})
    elif w == "json-body":
        await nango.post("/echo", json={"a": [{"deep": t}], "refresh": r})
    elif w == "json-escaped":
        await nango.post("/echo", data='{"s": "' + t + '\\\\n"}', headers={"Content-Type": "text/plain"})
    elif w == "url-path":
        await nango.get(f"/echo/{t}") if False else await nango.get("/echo", params={"path": f"/x/{t}/y"})
    elif w == "token-response":
        await nango.post("/echo", json={"access_token": "fresh-token-abcdef-123", "refresh_token": "fresh-r-987654"})
    elif w == "basic-auth":
        await nango.get("/echo", headers={"Authorization": "Basic " + base64.b64encode(f"u:{t}".encode()).decode()})
    return {"ok": True}
"""
CONNECTIONS = """
connections:
  c1:
    provider: fakegh
    integration: gh
    base_url: ${GH_URL}
    connection_config: {token_url: "${GH_URL}/login/oauth/access_token"}
    credentials: {type: OAUTH2, access_token: "${GH_TOKEN}", refresh_token: "${GH_REFRESH}",
                  client_id: cid, client_secret: csecret-987654}
"""
PLACES = ["auth-header", "custom-header", "rule-header", "cookie", "query-rule", "query-value", "form-rule",
          "form-value", "json-body", "json-escaped", "url-path", "token-response", "basic-auth"]
PYPROJECT = """\
[tool.harness]
functions = "functions"
cassettes = "cassettes"
[tool.harness.providers.fakegh]
alias = "github"
# A 401 makes the live transport refresh the token: against the fake server, never github.com.
token_url = "${connectionConfig.token_url}"
[tool.harness.scrub]
keys = ["refresh"]
patterns = ["fresh-(?:token|r)-[a-z0-9-]+"]
"""


@pytest.fixture
def proj(make_project: Callable[..., Path]) -> Path:
    return make_project({"gh/actions/place.py": PLACER}, connections=CONNECTIONS, pyproject=PYPROJECT)


@pytest.mark.parametrize("where", PLACES)
def test_no_secret_on_disk(where: str, proj: Path, cli: Callable[..., Result], fake_github: FakeGitHub) -> None:
    env = {"GH_URL": fake_github.base_url, "GH_TOKEN": fake_github.token, "GH_REFRESH": "refresh-abc-123456"}
    # The fake server refuses a Basic header (401): that run fails, and is saved only because it is asked to.
    failing = where == "basic-auth"
    args = ["dryrun", "place", "c1", "--record", "--allow-writes", "--scenario", where,
            "--input", f'{{"where": "{where}"}}']
    if failing:
        res = cli(proj, *args, env=env)
        assert res.exit_code == 1 and not (proj / f"cassettes/gh/place/{where}.yaml").exists()
        args.append("--record-on-failure")
    res = cli(proj, *args, env=env)
    assert res.exit_code == (1 if failing else 0), res.output
    assert len(fake_github.requests) >= 1
    # `.harness/tokens.json` is the credential store a refresh writes to (like .env, private: mode 0600).
    tokens = proj / ".harness/tokens.json"
    if tokens.exists():
        assert tokens.stat().st_mode & 0o077 == 0
    written = [p for p in proj.rglob("*") if p.is_file() and "__pycache__" not in p.parts
               and p.suffix != ".py" and p != tokens]
    cassette = proj / f"cassettes/gh/place/{where}.yaml"
    assert cassette in written
    text = cassette.read_text()
    assert "<scrubbed" in text
    for p in written:
        body = p.read_bytes().decode("utf-8", "replace")
        for secret in (fake_github.token, "refresh-abc-123456", "cs-999999", "not-a-known-value-but-a-key",
                       "fresh-token-abcdef-123", "fresh-r-987654", "ghp_refreshed_", "refresh-new-"):
            assert secret not in body, (where, p.name, secret)
    # And the scrubbed cassette still replays with placeholder credentials, offline.
    again = cli(proj, "dryrun", "place", "c1", "--replay", "--strict", "--scenario", where)
    assert again.exit_code == (1 if failing else 0), again.output
    assert "answered 401" in again.output if failing else "success" in again.output
