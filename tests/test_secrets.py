"""No secret reaches a written cassette: by rule, by value, in both directions, and the scan refuses leaks."""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.secrets.scan import leak_names
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
    assert leak_names({"x": ["ok", "tok%5FSECRET_123"]}, s) == ["access_token"]  # an unusual percent-encoding
    assert leak_names({"x": ["ok", b"tok_SECRET_123"]}, s) == ["access_token"]


TOKEN = "tok_SECRET_123"


def test_cookie_values_are_scrubbed_and_attributes_never_learned() -> None:
    s = Scrubber({})
    cookie = "sid=a1b2c3d4e5f6; Domain=.splitwise.com; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Secure; HttpOnly"
    assert s.header("Set-Cookie", cookie) == cookie.replace("a1b2c3d4e5f6", "<scrubbed:cookie.sid>")
    assert s.header("Set-Cookie", "pref=secure; Max-Age=3600; SameSite=Lax") == \
        "pref=<scrubbed:cookie.pref>; Max-Age=3600; SameSite=Lax"
    assert s.header("Cookie", "sid=a1b2c3d4e5f6; theme=dark") == \
        "sid=<scrubbed:cookie.sid>; theme=<scrubbed:cookie.theme>"
    # Only the session value was learned: attributes and plain words stay data everywhere else.
    assert s.text("https://secure.splitwise.com/x?Path=/&Max-Age=1 dark") == \
        "https://secure.splitwise.com/x?Path=/&Max-Age=1 dark"
    assert s.text('{"echo": "a1b2c3d4e5f6"}') == '{"echo": "<scrubbed:cookie.sid>"}'


def test_provider_data_named_key_or_token_is_kept_and_token_exchanges_are_scrubbed() -> None:
    s = Scrubber({})
    data = '{"fields":{"project":{"key":"KAN"}},"token":"data-token-1","secret":"abc","password":"x"}'
    assert s.body(data, "application/json") == data
    exchange = '{"access_token":"new-access-999","refresh_token":"new-refresh-999","token_type":"bearer"}'
    assert s.body(exchange, "application/json") == \
        '{"access_token":"<scrubbed:access_token>","refresh_token":"<scrubbed:refresh_token>","token_type":"bearer"}'
    # A token endpoint's answer without a marker (GitHub App installation tokens).
    assert s.body('{"token":"ghs_installation_1","expires_at":"x"}', "application/json",
                  url="https://api.github.com/app/installations/1/access_tokens") == \
        '{"token":"<scrubbed:token>","expires_at":"x"}'
    assert s.body("grant_type=authorization_code&code=c0de-1234", "application/x-www-form-urlencoded") == \
        "grant_type=authorization_code&code=<scrubbed:code>"
    assert s.url("https://h/x?code=US") == "https://h/x?code=US"  # a query `code` is data


def test_links_and_locations_stay_followable_and_placeholders_are_stable() -> None:
    s = Scrubber({"access_token": TOKEN})
    link = (f'<https://h/items?page=2&access_token={TOKEN}>; rel="next", '
            '<https://h/items?signature=S1g-998877>; rel="last"')
    out = s.header("Link", link)
    assert out == ('<https://h/items?page=2&access_token=%3Cscrubbed%3Aaccess_token%3E>; rel="next", '
                   '<https://h/items?signature=%3Cscrubbed%3Asignature%3E>; rel="last"')
    assert s.header("Location", f"https://h/cb?token={TOKEN}&x=1") == \
        "https://h/cb?token=%3Cscrubbed%3Aaccess_token%3E&x=1"
    # Following the scrubbed link, a replay sends what the recorder recorded when the real one was followed.
    followed = "https://h/items?signature=%3Cscrubbed%3Asignature%3E"
    assert s.url(followed) == s.url("https://h/items?signature=S1g-998877") == \
        "https://h/items?signature=<scrubbed:signature>"
    # A learned value keeps the name it was first learned by, whatever scrubs it next.
    assert s.text("sig S1g-998877") == "sig <scrubbed:signature>"
    other = Scrubber({})
    other.header("Link", link)
    assert other.text("sig S1g-998877") == "sig <scrubbed:signature>"


def test_every_encoding_of_a_value() -> None:
    import json
    from urllib.parse import quote, quote_plus

    pin = 'p@ss/w0rd+ "key"=1'
    s = Scrubber({"pin": pin, "access_token": TOKEN})
    for form in (pin, quote(pin, safe=""), quote(pin, safe="").lower(), quote_plus(pin), quote(pin),
                 json.dumps(pin)[1:-1], json.dumps(json.dumps(pin)[1:-1])[1:-1]):
        assert s.text(f"a {form} b") == "a <scrubbed:pin> b", form
    pair = base64.b64encode(f"acct:{TOKEN}".encode()).decode()
    assert s.header("X-Auth", pair) == base64.b64encode(b"acct:<scrubbed:access_token>").decode()
    url_pair = base64.urlsafe_b64encode(f"x{pin}".encode()).decode()
    assert base64.urlsafe_b64decode(s.text(f"https://h/?b={url_pair}").split("=", 1)[1]) == b"x<scrubbed:pin>"
    for codec in ("utf-16", "utf-16-le", "utf-32-be"):
        raw = f"hello {TOKEN}".encode(codec)
        scrubbed = s.body(raw, f"text/plain; charset={codec}")
        assert isinstance(scrubbed, bytes)
        assert scrubbed.decode(codec) == "hello <scrubbed:access_token>", codec


def test_the_final_scan_names_the_place_and_the_way_to_allow(tmp_path: Path) -> None:
    from harness.cassettes.format import Cassette, Interaction, write_cassette
    from harness.errors import SecretLeakError

    def one(**kw: object) -> Cassette:
        base: dict[str, object] = dict(method="GET", uri="https://h/x", request_headers={}, request_body=None,
                                       status=200, reason="OK", response_headers={}, response_body="")
        base.update(kw)
        return Cassette([Interaction(**base)])  # type: ignore[arg-type]

    s = Scrubber({"access_token": TOKEN, "pin": "p@ss/w0rd"})
    cases = [
        (one(response_headers={"X-Echo": [quote_lower("p@ss/w0rd")]}),
         "interaction #0 response header X-Echo holds the secret `pin` (percent-encoded)"),
        (one(uri=f"https://h/x?q={TOKEN}"), "interaction #0 request URL holds the secret `access_token` (raw)"),
        (one(response_body=json.dumps({"data": [{"n": 1}, {"t": f"is {TOKEN}"}]})),
         "interaction #0 response body at $.data[1].t holds the secret `access_token` (raw)"),
        (one(response_body=f"x {TOKEN}".encode("utf-16-le")),
         "interaction #0 response body holds the secret `access_token` (UTF-16-LE)"),
        (Cassette([], {"connection": {"metadata": {"k": base64.b64encode(f"u:{TOKEN}".encode()).decode()}}}),
         "harness: connection.metadata.k holds the secret `access_token` (base64)"),
    ]
    for cassette, where in cases:
        path = tmp_path / "c.yaml"
        with pytest.raises(SecretLeakError) as info:
            write_cassette(path, cassette, s)
        assert where in str(info.value)
        name = re.search(r"secret `([^`]+)`", where).group(1)  # type: ignore[union-attr]
        assert f'add "{name}" to allow = [...] in [tool.harness.scrub]' in str(info.value)
        assert "\n" not in str(info.value) and not path.exists()
    # An allowed name or value is no secret: it is neither scrubbed nor refused.
    for allow in (["access_token"], [TOKEN]):
        allowed = Scrubber({"access_token": TOKEN}, allow=allow)
        write_cassette(tmp_path / "ok.yaml", one(uri=f"https://h/x?q={TOKEN}"), allowed)
    assert Scrubber({}, allow=["signature"]).url("https://h/x?signature=S1g-998877") == \
        "https://h/x?signature=S1g-998877"


def quote_lower(text: str) -> str:
    from urllib.parse import quote

    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(text, safe=""))


def test_settings_are_checked() -> None:
    from harness.errors import ConfigError

    with pytest.raises(ConfigError, match="known keys: headers, params, keys, patterns, allow"):
        Scrubber.from_settings({}, {"alow": ["x"]})
    with pytest.raises(ConfigError, match="allow must be a list of non-empty strings"):
        Scrubber.from_settings({}, {"allow": "x"})


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.text(alphabet="abcXYZ019_-", min_size=6, max_size=12), min_size=1, max_size=40,
                       unique=True),
       text=st.text(alphabet="abcXYZ019_- ", max_size=200))
def test_the_matcher_finds_what_a_naive_search_finds(values: list[str], text: str) -> None:
    from harness.secrets.matcher import Matcher

    m: Matcher[str] = Matcher()
    for n, v in enumerate(values):
        m.add(v, v)
        if n == len(values) // 2:
            m.compile()  # half built, half pending
    hits = m.find(text + values[-1])
    assert hits and hits[-1][2] in values
    for start, end, pattern in hits:
        assert (text + values[-1])[start:end] == pattern
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(hits))


def test_redact_result_and_the_redacting_stream() -> None:
    import io

    from harness.result import Exchange, RunError, RunResult
    from harness.secrets.redact import RedactingStream, redact_result, redaction_scope

    result = RunResult("f", "gh", "action", "c1", "live", output={"t": TOKEN}, has_output=True,
                       error=RunError("script_http_error", f"GET /x?t={TOKEN} answered 401", payload={"m": TOKEN}),
                       logs=[{"level": "info", "message": f"tok {TOKEN}", "at_ms": 0}],
                       requests=[Exchange("GET", f"https://h/x?access_token={TOKEN}", 200, 1.0, "live")])
    result.model("Row").saved.append({"id": "1", "v": TOKEN})
    redact_result(result, {"access_token": TOKEN})
    assert TOKEN not in json.dumps(result.to_json())
    assert result.output == {"t": "<scrubbed:access_token>"}
    with redaction_scope():
        Scrubber({"access_token": TOKEN})
        inner = io.StringIO()
        stream = RedactingStream(inner)
        stream.write(f"a {TOKEN[:5]}")
        stream.write(f"{TOKEN[5:]} b\npartial {TOKEN}")
        assert inner.getvalue() == "a <scrubbed:access_token> b\n"
        stream.flush()
        assert inner.getvalue().endswith("partial <scrubbed:access_token>")
        with pytest.raises(TypeError):
            stream.write(b"x")  # type: ignore[arg-type]


def test_scrub_context_by_name_by_provider_and_by_model() -> None:
    from pydantic import BaseModel, SecretStr

    from harness.providers.catalog import Provider
    from harness.secrets.connection_secrets import provider_credential_fields, scrub_context

    class Meta(BaseModel):
        hidden: SecretStr
        nested: dict[str, str] | None = None

    provider = Provider(name="p", headers={"X-Key": "${connectionConfig.tenant_key}"})
    s = Scrubber({})
    ctx = {"connection": {"credentials": {"type": "API_KEY", "apiKey": "k-1234567"},
                          "base_url": "https://bot:pw-7654321@h/api",
                          "connection_config": {"tenant_key": "tk-99887766", "token_url": "https://h/oauth/token",
                                                "subdomain": "acme", "use_token": "true"},
                          "metadata": {"hidden": "x1", "clientSecret": "cs-5566778", "max_tokens": 100}},
           "input": {"note": "cs-5566778 and tk-99887766"}}
    out = scrub_context(ctx, s, credential_fields=provider_credential_fields(provider), metadata_model=Meta)
    conn = out["connection"]
    assert conn["credentials"] == {"type": "API_KEY", "apiKey": "<scrubbed:apiKey>"}
    assert conn["base_url"] == "https://%3Cscrubbed%3Abase_url.password%3E@h/api"
    assert conn["connection_config"] == {"tenant_key": "<scrubbed:connection_config.tenant_key>",
                                         "token_url": "https://h/oauth/token", "subdomain": "acme",
                                         "use_token": "true"}
    assert conn["metadata"] == {"hidden": "<scrubbed:metadata.hidden>",
                                "clientSecret": "<scrubbed:metadata.clientSecret>", "max_tokens": 100}
    assert out["input"] == {"note": "<scrubbed:metadata.clientSecret> and <scrubbed:connection_config.tenant_key>"}
    assert s.text("pw-7654321") == "<scrubbed:base_url.password>"


def test_lint_reads_scrubbed_cookie_values() -> None:
    from harness.secrets.rules import header_is_scrubbed

    assert header_is_scrubbed("Cookie", "a=<scrubbed:cookie.a>; b=<scrubbed:cookie.b>")
    assert not header_is_scrubbed("Cookie", "a=<scrubbed:cookie.a>; b=raw-value")
    assert header_is_scrubbed("Set-Cookie", "sid=<scrubbed:cookie.sid>; Path=/; Secure")
    assert header_is_scrubbed("Authorization", "Bearer <scrubbed:access_token>")
    assert not header_is_scrubbed("Authorization", "Bearer abc")


def test_a_snapshot_holding_a_project_secret_is_refused(proj: Path, env: dict[str, str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.errors import SecretLeakError
    from harness.project import load_project
    from harness.secrets.connection_secrets import project_scrubber
    from harness.snapshots.files import write_snapshot

    for k, v in env.items():
        monkeypatch.setenv(k, v)
    scrubber = project_scrubber(load_project(proj))
    path = proj / "cassettes/gh/leaky/default.snapshot.json"
    doc = {"records": {"Row": [{"id": "1", "note": base64.b64encode(b"u:" + env["GH_TOKEN"].encode()).decode()}]}}
    with pytest.raises(SecretLeakError, match=r"\$\.records\.Row\[0\]\.note holds the secret `c1\.access_token`"):
        write_snapshot(path, json.dumps(doc), scrubber)
    assert not path.exists()
    write_snapshot(path, json.dumps({"records": {"Row": [{"id": "1"}]}}), scrubber)
    assert path.exists()
