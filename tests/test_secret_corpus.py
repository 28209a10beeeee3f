"""A corpus of secret placements, recorded live against the fake server: no secret value reaches a written
file or an output stream (stdout, stderr, `--json`), in any encoding, and every recording replays.

The check (`forms_found`) is independent of the scrubber: raw, percent-encoded (both hex cases, `+`), the
whole text percent-decoded, JSON-escaped, UTF-16/32, and every base64/base64url run decoded.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

import pytest
from click.testing import Result

from tests import cli_process, early
from tests.fakes.github_server import FakeGitHub

TOKEN = "ghp_faketoken123456"
REFRESH = "refresh-abc-123456"
CLIENT_SECRET = "csecret-987654"
PIN = 'p@ss/w0rd+ "key"=1'  # a credential with characters every encoding changes
URL_PASSWORD = "urlpass-424242"
CONFIG_SECRET = "cfgsecret-313131"
META_SECRETS = ("whsec-555555", "pk-777777-private", "meta-unknown-999")
SERVER_ONLY = ("SERVERSESSION-abc123", "SRVSIG-8d7f6e5a4b", "fresh-token-abcdef-123", "fresh-r-987654",
               "not-a-known-value-but-a-key")
REFRESHED = ("ghp_refreshed_1", "refresh-new-1")
SECRETS = (TOKEN, REFRESH, CLIENT_SECRET, PIN, URL_PASSWORD, CONFIG_SECRET, *META_SECRETS, *SERVER_ONLY, *REFRESHED)

PLACER = r'''
import base64
import json
from urllib.parse import quote
from pydantic import BaseModel, SecretStr
from harness import action


class Meta(BaseModel):
    webhook_secret: str | None = None
    signing: dict | None = None
    zz_custom: SecretStr | None = None  # a name no rule knows: declared secret by its type


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def b64(text):
    return base64.b64encode(text.encode()).decode()


@action(metadata=Meta)
async def place(nango, input):
    t = await nango.get_token()
    conn = await nango.get_connection()
    creds = conn.credentials
    r, pin = creds["refresh_token"], creds["api_pin"]
    base = conn.connection_config["mirror_base"]
    w = input["where"]
    out = {"ok": True}
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
    elif w == "query-lower-hex":
        await nango.get("/echo?q=" + quote(pin, safe="").lower().replace("%2f", "%2f"))
    elif w == "form-rule":
        await nango.post("/echo", data={"grant_type": "refresh_token", "refresh_token": r,
                                         "client_secret": creds["client_secret"]}, headers=FORM)
    elif w == "form-value":
        await nango.post("/echo", data={"note": f"x{t}x", "pin": pin}, headers=FORM)
    elif w == "json-body":
        await nango.post("/echo", json={"a": [{"deep": t}], "refresh": r})
    elif w == "json-escaped":
        await nango.post("/echo", data=json.dumps({"s": pin + "\n"}), headers={"Content-Type": "text/plain"})
    elif w == "url-path":
        await nango.get("/echo", params={"path": f"/x/{t}/y"})
    elif w == "base64-pair-header":
        await nango.get("/echo", headers={"X-Auth": b64("acct:" + t)})
    elif w == "base64url-pair-query":
        await nango.get("/echo", params={"blob": base64.urlsafe_b64encode(f"ab:{pin}".encode()).decode()})
    elif w == "utf16-request":
        await nango.post("/echo", data=f"note {t}".encode("utf-16"),
                         headers={"Content-Type": "text/plain; charset=utf-16"})
    elif w == "echo":
        await nango.get("/echo")
    elif w == "set-cookie":
        await nango.post("/mirror", json={"headers": [
            ["Set-Cookie", "sid={{session}}; Domain=127.0.0.1; Path=/; Secure; HttpOnly; SameSite=Lax"],
            ["Set-Cookie", "pref=secure; Max-Age=3600; Path=/"]], "body": "{}"})
        await nango.get("/echo")  # the client sends the cookie back; the server echoes it
    elif w == "link-token":
        resp = await nango.post("/mirror", json={"headers": [
            ["Link", f'<{base}/echo?page=2&access_token={t}>; rel="next"']], "body": "[]"})
        await nango.get(resp.links["next"]["url"])
    elif w == "link-signature":
        resp = await nango.post("/mirror", json={"headers": [
            ["Link", f'<{base}/echo?page=2&signature={{{{signature}}}}&expires=1767261600>; rel="next"']],
            "body": "[]"})
        await nango.get(resp.links["next"]["url"])
    elif w == "redirect":
        await nango.post("/mirror", json={"status": 302, "headers": [["Location", f"{base}/echo?token={t}&x=1"]]})
    elif w == "utf16-response":
        await nango.post("/mirror", json={"body": f"hello {t}", "encoding": "utf-16",
                                          "headers": [["Content-Type", "text/plain; charset=utf-16"]]})
    elif w == "utf32-response":
        await nango.post("/mirror", json={"body": f"hello {t}", "encoding": "utf-32-le",
                                          "headers": [["Content-Type", "text/plain; charset=utf-32le"]]})
    elif w == "base64-response":
        await nango.post("/mirror", json={"body": json.dumps({"blob": b64("acct:" + t), "u": b64(pin)})})
    elif w == "token-response":
        resp = await nango.post("/mirror", json={"body": json.dumps({
            "access_token": "{{fresh_access}}", "refresh_token": "{{fresh_refresh}}", "token_type": "bearer"})})
        out = {"issued": resp.json()["access_token"]}
    elif w == "error-body":
        await nango.post("/mirror", json={"status": 400, "body": json.dumps({"error": f"bad token {t}"})})
    elif w == "error-message":
        raise ValueError(f"could not use {t} / {pin}")
    elif w == "log":
        nango.log(f"using token {t}, pin {quote(pin)}, {b64('acct:' + t)}")
    elif w == "output":
        out = {"token": t, "pin64": b64(pin), "escaped": json.dumps(pin)}
    elif w == "refresh":
        resp = await nango.get("/echo")
        out = {"now": resp.json()["token_seen"], "via": await nango.get_token()}
    elif w == "metadata":
        meta = await nango.get_metadata()
        await nango.post("/echo", json={"w": meta.webhook_secret, "s": meta.signing})
    elif w == "metadata-secretstr":
        meta = await nango.get_metadata()
        await nango.post("/echo", json={"z": meta.zz_custom.get_secret_value()})
    elif w == "connection-config":
        await nango.post("/echo", json={"c": conn.connection_config["oauth_client_secret"]})
    elif w == "input":
        await nango.post("/echo", json={"key": input["api_key"]})
    return out
'''
URLPASS = '''
from harness import action

@action()
async def whoami(nango, input):
    r = await nango.get("/user")
    return r.json()
'''
ROWS = '''
from pydantic import BaseModel, ConfigDict
from harness import sync

class Row(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str

@sync(models=[Row])
async def rows(nango):
    seen = (await nango.get("/echo")).json()
    await nango.batch_save([{"id": "1", "echo": seen["token_seen"], "auth": seen["headers"]["authorization"]}], Row)
'''
CONNECTIONS = """
connections:
  c1:
    provider: fakegh
    integration: gh
    base_url: ${GH_URL}
    connection_config: {token_url: "${GH_URL}/login/oauth/access_token", mirror_base: "${GH_URL}",
                        oauth_client_secret: "cfgsecret-313131"}
    metadata: {webhook_secret: whsec-555555, signing: {private_key: pk-777777-private}, zz_custom: meta-unknown-999}
    credentials: {type: OAUTH2, access_token: "${GH_TOKEN}", refresh_token: "${GH_REFRESH}",
                  client_id: cid, client_secret: csecret-987654, api_pin: '${GH_PIN}'}
  c2:
    provider: fakegh
    integration: gh
    base_url: ${GH_URL_WITH_PASSWORD}
    credentials: {type: OAUTH2, access_token: "${GH_TOKEN}"}
"""
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
"""
# where -> the exit code of its run (1: the function fails on purpose; such runs record with
# --record-on-failure).
PLACES = {
    "auth-header": 0, "custom-header": 0, "rule-header": 0, "cookie": 0, "query-rule": 0, "query-value": 0,
    "query-lower-hex": 0, "form-rule": 0, "form-value": 0, "json-body": 0, "json-escaped": 0, "url-path": 0,
    "base64-pair-header": 0, "base64url-pair-query": 0, "utf16-request": 0, "echo": 0, "set-cookie": 0,
    "link-token": 0, "link-signature": 0, "redirect": 0, "utf16-response": 0, "utf32-response": 0,
    "base64-response": 0, "token-response": 0, "error-body": 1, "error-message": 1, "log": 0, "output": 0,
    "refresh": 0, "metadata": 0, "metadata-secretstr": 0, "connection-config": 0, "input": 0,
}


def _lower_hex(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


@functools.lru_cache(maxsize=4)
def _decoded(data: bytes) -> tuple[str, str, tuple[bytes, ...]]:
    """`data` as text, percent-decoded, and every base64 run in it decoded (standard and URL alphabets): made
    once for the data, then searched for each secret."""
    text = data.decode("utf-8", "replace")
    raws: list[bytes] = []
    for m in re.finditer(r"[A-Za-z0-9+/_-]{8,}={0,2}", text):
        blob = m.group(0).rstrip("=")
        for alt in (None, b"-_"):
            try:
                raws.append(base64.b64decode(blob + "=" * (-len(blob) % 4), altchars=alt))
            except ValueError:
                continue
    return text, unquote_plus(text), tuple(raws)


def forms_found(data: bytes, secret: str) -> list[str]:
    """The encodings in which `secret` appears in `data` (empty: it does not)."""
    text, unquoted, raws = _decoded(data)
    found = [label for label, form in (
        ("raw", secret), ("percent", quote(secret, safe="")), ("percent-lower", _lower_hex(quote(secret, safe=""))),
        ("plus", quote_plus(secret)), ("json", json.dumps(secret)[1:-1]),
        ("json-ascii", json.dumps(secret, ensure_ascii=True)[1:-1])) if form in text]
    if secret in unquoted:
        found.append("percent-decoded")
    found += [codec for codec in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be") if secret.encode(codec) in data]
    encoded = secret.encode()
    found += ["base64" for raw in raws if encoded in raw]
    return found


def assert_clean(data: bytes, where: str) -> None:
    leaks = {s: f for s in SECRETS if (f := forms_found(data, s))}
    assert not leaks, f"{where}: {leaks}"


@pytest.fixture
def proj(make_project: Callable[..., Path]) -> Path:
    return make_project({"gh/actions/place.py": PLACER, "gh/actions/whoami.py": URLPASS, "gh/syncs/rows.py": ROWS},
                        connections=CONNECTIONS, pyproject=PYPROJECT)


@pytest.fixture
def env(fake_github: FakeGitHub) -> dict[str, str]:
    return server_env(fake_github)


def server_env(fake_github: FakeGitHub) -> dict[str, str]:
    """The variables the connections read, for this server (which then also takes the URL's password)."""
    fake_github.valid_tokens.add(URL_PASSWORD)
    host = fake_github.base_url.split("://", 1)[1]
    return {"GH_URL": fake_github.base_url, "GH_TOKEN": TOKEN, "GH_REFRESH": REFRESH, "GH_PIN": PIN,
            "GH_URL_WITH_PASSWORD": f"http://octo:{URL_PASSWORD}@{host}"}


def written_files(root: Path) -> list[Path]:
    # `.harness/tokens.json` is the credential store a refresh writes to (private, like .env: mode 0600).
    return [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".py"
            and p.name != "tokens.json" and p.name != "connections.yaml"]


# A metadata value that is secret only for a function whose metadata model declares it `SecretStr`.
OUTPUT_EXEMPT: tuple[str, ...] = ()


def check_outputs(res: Result, where: str) -> None:
    for stream, text in (("stdout", res.stdout), ("stderr", res.stderr)):
        leaks = {s: f for s in SECRETS if s not in OUTPUT_EXEMPT and (f := forms_found(text.encode(), s))}
        assert not leaks, f"{where} {stream}: {leaks}"


def test_the_corpus_is_big_enough() -> None:
    assert len(PLACES) >= 30


@pytest.mark.parametrize("where", list(PLACES))
def test_no_secret_on_disk_or_in_output(where: str, proj: Path, cli: Callable[..., Result], env: dict[str, str],
                                        fake_github: FakeGitHub) -> None:
    code = PLACES[where]
    if where == "refresh":
        fake_github.expire_token(TOKEN)  # the first call answers 401: the live transport refreshes
    args = ["dryrun", "place", "c1", "--allow-writes", "--scenario", where, "--input",
            json.dumps({"where": where, "api_key": TOKEN if where == "input" else "not-secret"})]
    res = cli(proj, *args, "--record", "--record-on-failure", env=env)
    assert res.exit_code == code, res.output
    check_outputs(res, where)
    assert len(fake_github.requests) >= (0 if where in ("error-message", "log", "output") else 1)
    if where == "refresh":
        assert any(r.path == "/login/oauth/access_token" for r in fake_github.requests)
        assert (proj / ".harness/tokens.json").stat().st_mode & 0o077 == 0
        fake_github.expire_token(TOKEN)
    live = cli(proj, *args, "--live", "--json", env=env)
    assert live.exit_code == code, (live.output, live.stderr)
    check_outputs(live, f"{where} --json")
    doc = json.loads(live.stdout)
    assert doc["status"] == ("success" if code == 0 else "failed")
    cassette = proj / f"cassettes/gh/place/{where}.yaml"
    assert cassette in written_files(proj)
    assert "<scrubbed" in cassette.read_text() or where in ("error-message", "log", "output")
    for path in written_files(proj):
        assert_clean(path.read_bytes(), f"{where}: {path.relative_to(proj)}")
    # The scrubbed cassette replays with placeholder credentials, offline, using every interaction.
    # (The environment only fills the connections file's ${GH_URL}: the credentials are placeholders.)
    again = cli(proj, "dryrun", "place", "c1", "--replay", "--strict", "--scenario", where, "--json", env=env)
    assert again.exit_code == code, again.output
    replayed = json.loads(again.stdout)
    assert replayed["unplayed"] == []
    assert [r["status"] for r in replayed["requests"]] == [r["status"] for r in doc["requests"]]


def test_the_context_holds_no_secret_and_keeps_its_data(proj: Path, cli: Callable[..., Result],
                                                        env: dict[str, str]) -> None:
    res = cli(proj, "dryrun", "place", "c1", "--record", "--scenario", "ctx", "--input",
              json.dumps({"where": "metadata", "api_key": TOKEN}), "--allow-writes", env=env)
    assert res.exit_code == 0, res.output
    from harness.cassettes.format import load_cassette

    ctx = load_cassette(proj / "cassettes/gh/place/ctx.yaml").context
    conn = ctx["connection"]
    assert conn["connection_config"]["token_url"].endswith("/login/oauth/access_token")  # a URL is not a secret
    assert conn["connection_config"]["oauth_client_secret"] == "<scrubbed:connection_config.oauth_client_secret>"
    assert conn["metadata"] == {"webhook_secret": "<scrubbed:metadata.webhook_secret>",
                                "signing": {"private_key": "<scrubbed:metadata.signing.private_key>"},
                                "zz_custom": "<scrubbed:metadata.zz_custom>"}
    assert conn["credentials"]["access_token"] == "<scrubbed:access_token>"
    assert conn["credentials"]["client_id"] == "cid"
    assert ctx["input"] == {"where": "metadata", "api_key": "<scrubbed:access_token>"}


def test_a_base_url_password_is_scrubbed(proj: Path, cli: Callable[..., Result], env: dict[str, str]) -> None:
    res = cli(proj, "dryrun", "whoami", "c2", "--record", env=env)
    assert res.exit_code == 0, res.output
    check_outputs(res, "base_url")
    text = (proj / "cassettes/gh/whoami/default.yaml").read_text()
    assert_clean(text.encode(), "base_url cassette")
    assert "%3Cscrubbed%3Abase_url.password%3E@127.0.0.1" in text
    again = cli(proj, "dryrun", "whoami", "c2", "--replay", "--strict")
    assert again.exit_code == 0, again.output


def test_records_reach_the_store_redacted(proj: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.connections.file import read_connections
    from harness.pipeline import RunRequest, execute
    from harness.project import load_project
    from harness.records.sqlite import SqliteStore
    from harness.secrets.redact import RedactingStore, redact_result
    from harness.secrets.scrubber import Scrubber

    for k, v in env.items():
        monkeypatch.setenv(k, v)
    project = load_project(proj)
    connection = read_connections(project.connections_file, project.root)["c1"]
    scrubber = Scrubber(connection.secrets())
    path = proj / ".harness/records.sqlite"
    path.parent.mkdir(exist_ok=True)
    store = RedactingStore(SqliteStore(path, "c1", "gh", lambda: 0.0), scrubber)
    outcome = execute(RunRequest("rows", "c1", mode="live", project=project, store=store))
    assert outcome.result.ok, outcome.result.error
    store.close()
    assert_clean(path.read_bytes(), "records.sqlite")
    redact_result(outcome.result, scrubber)
    assert outcome.result.records("Row") == [{"id": "1", "echo": "<scrubbed:access_token>",
                                              "auth": "Bearer <scrubbed:access_token>"}]
    # (`meta-unknown-999` is a secret only for a function whose metadata model declares it so; `rows` does not.)
    leaks = {s: f for s in SECRETS if s != "meta-unknown-999"
             and (f := forms_found(json.dumps(outcome.result.to_json()).encode(), s))}
    assert not leaks


def write_proj(root: Path) -> Path:
    """What `proj` makes (conftest's `make_project` with the same files), at `root`."""
    for rel, text in {"gh/actions/place.py": PLACER, "gh/actions/whoami.py": URLPASS, "gh/syncs/rows.py": ROWS}.items():
        path = root / "functions" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    (root / "fixtures").mkdir(parents=True, exist_ok=True)
    (root / "cassettes").mkdir(exist_ok=True)
    (root / "fixtures" / "connections.yaml").write_text(textwrap.dedent(CONNECTIONS))
    (root / "pyproject.toml").write_text(PYPROJECT)
    return root


Outcome = tuple[int | None, bytes, bytes]


# The test's processes, with a project and a fake server of their own, start ahead, on the other core
# (tests/early.py); the test checks what they printed.
@early.ahead("test_a_real_process_prints_no_secret")
def _real_processes(ctx: early.Context) -> dict[str, Outcome]:
    proj = write_proj(ctx.folder / "proj")

    def args(where: str) -> list[str]:
        return ["--project", str(proj), "dryrun", "place", "c1", "--live", "--input",
                json.dumps({"where": where, "api_key": TOKEN})]

    with FakeGitHub(issues=12) as fake_github:  # the `fake_github` fixture's server
        fake_github.rate_limit_reset = 1767261600
        env = server_env(fake_github)
        # A new `python -m harness` once, and a process forked warm (tests/cli_process.py) while it starts: its
        # own stdout and stderr all the same.
        new = ctx.popen([sys.executable, "-m", "harness", *args("log")], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, env={**ctx.env, **env}, cwd=ctx.cwd)
        try:
            forked = ctx.forked(cli_process.HarnessProcess(args("error-message"), cwd=ctx.cwd,
                                                           env={**ctx.env, **env}))
            new_out, new_err = new.communicate(timeout=120)
        finally:
            if new.poll() is None:
                new.kill()
                new.wait()
    return {"log": (new.returncode, new_out, new_err),
            "error-message": (forked.returncode, forked.stdout.encode(), forked.stderr.encode())}


def test_a_real_process_prints_no_secret() -> None:
    for where, (returncode, out, err) in _real_processes.result().items():
        assert returncode == (0 if where == "log" else 1), err
        assert b"using token" in out or b"could not use" in out
        assert_clean(out, f"{where} process stdout")
        assert_clean(err, f"{where} process stderr")


def test_show_secrets_lifts_redaction_for_one_local_run(proj: Path, cli: Callable[..., Result],
                                                        env: dict[str, str]) -> None:
    args = ["dryrun", "place", "c1", "--live", "--input", json.dumps({"where": "output", "api_key": "x"})]
    shown = cli(proj, "--show-secrets", *args, env=env)
    assert shown.exit_code == 0 and TOKEN in shown.stdout
    hidden = cli(proj, *args, env=env)
    assert hidden.exit_code == 0 and TOKEN not in hidden.stdout and "<scrubbed:access_token>" in hidden.stdout
    refused = cli(proj, "--show-secrets", *args, env={**env, "CI": "1"})
    assert refused.exit_code == 2
    assert "--show-secrets is refused under CI" in refused.stderr


DATA = '''
from harness import action

@action()
async def create(nango, input):
    r = await nango.post("/echo", json=input)
    return {"sent": r.json()["body"]}
'''


def test_data_fields_named_key_token_secret_survive_a_recording(
        make_project: Callable[..., Path], cli: Callable[..., Result], fake_github: FakeGitHub) -> None:
    root = make_project({"gh/actions/create.py": DATA}, connections=CONNECTIONS, pyproject=PYPROJECT)
    data: dict[str, Any] = {"fields": {"project": {"key": "KAN"}, "summary": "Secure Path=/ issue"},
                            "token": "data-token-value", "secret": "not-a-secret-flag", "password_hint": "blue",
                            "key": "KAN-1"}
    env = {"GH_URL": fake_github.base_url, "GH_TOKEN": TOKEN, "GH_REFRESH": REFRESH, "GH_PIN": PIN,
           "GH_URL_WITH_PASSWORD": fake_github.base_url}
    res = cli(root, "dryrun", "create", "c1", "--record", "--allow-writes", "--input", json.dumps(data), env=env)
    assert res.exit_code == 0, res.output
    from harness.cassettes.format import load_cassette

    cassette = load_cassette(root / "cassettes/gh/create/default.yaml")
    assert json.loads(cassette.interactions[0].request_body or "") == data
    assert cassette.context["input"] == data
    again = cli(root, "dryrun", "create", "c1", "--replay", "--strict", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(json.loads(again.stdout)["output"]["sent"]) == data
