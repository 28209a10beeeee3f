"""Every cassette vcrpy reads is a cassette harness reads: recorded by vcrpy itself (httpx, requests and
aiohttp against a provider on 127.0.0.1), vcrpy's own repository's cassettes, `.json` ones, pre-1.0 ones;
`harness cassettes adopt` turns each into a scenario that replays through the CLI."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr
import yaml
from click.testing import Result

from harness.cassettes.format import load_cassette
from harness.cassettes.locations import CASSETTE_SUFFIXES, SNAPSHOT_SUFFIX, cassette_files
from tests import early
from tests.conftest import files_under
from tests.fakes.vcr_provider import ISSUES, NOTE, Provider

VCRPY_DATA = Path(__file__).parent / "data" / "vcrpy"
CREATE = {"title": "Found a bug", "body": None, "labels": []}


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with Provider() as p:
        yield p


def _issues_url(base: str) -> str:
    return f"{base}/repos/octocat/hello-world/issues?state=all&per_page=5"


def record_httpx(base: str) -> None:
    with httpx.Client() as client:
        url: str | None = _issues_url(base)
        while url:
            url = client.get(url).links.get("next", {}).get("url")


def create_httpx(base: str) -> None:
    httpx.post(f"{base}/repos/octocat/hello-world/issues", json=CREATE).raise_for_status()


def record_requests(base: str) -> None:
    import requests

    url: str | None = _issues_url(base)
    while url:
        url = requests.get(url, timeout=10).links.get("next", {}).get("url")


def create_requests(base: str) -> None:
    import requests

    requests.post(f"{base}/repos/octocat/hello-world/issues", json=CREATE, timeout=10).raise_for_status()


def record_aiohttp(base: str) -> None:
    import aiohttp

    async def go() -> None:
        async with aiohttp.ClientSession() as session:
            url: str | None = _issues_url(base)
            while url:
                async with session.get(url) as resp:
                    await resp.read()
                    nxt = resp.links.get("next")
                    url = str(nxt["url"]) if nxt else None

    asyncio.run(go())


def create_aiohttp(base: str) -> None:
    import aiohttp

    async def go() -> None:
        async with aiohttp.ClientSession() as session, session.post(
                f"{base}/repos/octocat/hello-world/issues", json=CREATE) as resp:
            await resp.read()

    asyncio.run(go())


CLIENTS: dict[str, tuple[Callable[[str], None], Callable[[str], None]]] = {
    "httpx": (record_httpx, create_httpx), "requests": (record_requests, create_requests),
    "aiohttp": (record_aiohttp, create_aiohttp),
}


def record(path: Path, fn: Callable[[str], None], base: str, **options: Any) -> dict[str, Any]:
    """Record with vcrpy itself, as a vcrpy or pytest-recording user does."""
    # vcrpy patches every thread's HTTP clients while inside: no work of tests/early.py meanwhile.
    with early.paused(), vcr.use_cassette(str(path), **options):
        fn(base)
    loader = yaml.CSafeLoader if path.suffix != ".json" else None
    raw: dict[str, Any] = (json.loads(path.read_text()) if loader is None
                           else yaml.load(path.read_text(), Loader=loader))
    return raw


def adopt(cli: Callable[..., Result], project: Path, source: Path, *args: str) -> Result:
    return cli(project, "cassettes", "adopt", str(source), *args)


def replay_json(cli: Callable[..., Result], project: Path, *args: str) -> dict[str, Any]:
    res = cli(project, "dryrun", *args, "--replay", "--json")
    assert res.exit_code == 0, res.output
    doc: dict[str, Any] = json.loads(res.stdout)
    return doc


@pytest.mark.parametrize("client", list(CLIENTS))
def test_a_vcrpy_recording_adopts_and_replays(client: str, provider: Provider, example: Path, tmp_path: Path,
                                             cli: Callable[..., Result]) -> None:
    listing, creating = CLIENTS[client]
    raw = record(tmp_path / "list.yaml", listing, provider.base_url)
    first = raw["interactions"][0]
    if client == "requests":  # what made it fail before: a decoded body under a stale Content-Encoding
        assert first["response"]["headers"]["content-encoding"] == ["gzip"]
        assert isinstance(first["response"]["body"]["string"], str)
    res = adopt(cli, example, tmp_path / "list.yaml", "--function", "issues", "--connection", "demo",
                "--scenario", f"vcr-{client}")
    assert res.exit_code == 0, res.output
    assert f"replay it: harness dryrun github/issues demo --scenario vcr-{client} --replay" in res.output
    doc = replay_json(cli, example, "issues", "demo", "--scenario", f"vcr-{client}")
    assert doc["status"] == "success" and doc["counts"]["Issue"]["added"] == ISSUES
    assert [r["title"] for r in doc["records"]["Issue"]["saved"]] == [f"Issue {n}" for n in range(1, ISSUES + 1)]
    assert doc["unplayed"] == []

    raw = record(tmp_path / "create.yaml", creating, provider.base_url)
    if client == "aiohttp":  # its stub stores a json= body as a mapping
        assert raw["interactions"][0]["request"]["body"] == CREATE
    res = adopt(cli, example, tmp_path / "create.yaml", "--function", "create-issue", "--connection", "demo",
                "--scenario", f"vcr-{client}", "--input", json.dumps({"title": "Found a bug"}))
    assert res.exit_code == 0, res.output
    doc = replay_json(cli, example, "create-issue", "demo", "--scenario", f"vcr-{client}")
    assert doc["output"] == {"id": "2001", "number": 8, "url": "https://github.com/octocat/hello-world/issues/8"}


def test_the_adopted_cassette_is_a_harness_scenario(provider: Provider, example: Path, tmp_path: Path,
                                                    cli: Callable[..., Result]) -> None:
    raw = record(tmp_path / "list.yaml", record_requests, provider.base_url)
    assert adopt(cli, example, tmp_path / "list.yaml", "--function", "issues", "--connection", "demo",
                 "--scenario", "vcr").exit_code == 0
    path = example / "cassettes/github/issues/vcr.yaml"
    c = load_cassette(path)
    date = raw["interactions"][0]["response"]["headers"]["Date"][0]
    from email.utils import parsedate_to_datetime

    assert c.context["recorded_at"] == parsedate_to_datetime(date).isoformat().replace("+00:00", "Z")
    assert c.context["function"] == "issues" and c.context["integration"] == "github"
    assert c.context["type"] == "sync" and c.context["scenario"] == "vcr"
    assert c.context["connection"]["connection_id"] == "demo"
    assert c.context["connection"]["credentials"]["access_token"] == "<scrubbed:access_token>"
    item = c.interactions[0]
    assert not {"content-encoding", "content-length"} & {k.lower() for k in item.response_headers}
    assert json.loads(item.response_body)[0]["title"] == "Issue 1"
    # vcrpy reads what adopt wrote, as it reads every harness cassette.
    from vcr.persisters.filesystem import FilesystemPersister
    from vcr.serializers import yamlserializer

    requests_, responses = FilesystemPersister.load_cassette(str(path), yamlserializer)
    assert len(requests_) == len(responses) == 2


def test_non_ascii_header_values_survive_record_adopt_and_replay(provider: Provider, make_project: Callable[..., Path],
                                                                 tmp_path: Path, cli: Callable[..., Result]) -> None:
    proj = make_project({"gh/actions/note.py": '''
        from harness import action

        @action()
        async def note(nango, input):
            resp = await nango.get("/repos/octocat/hello-world/issues", params={"state": "all", "per_page": 5})
            return {"note": resp.headers["x-note"], "first": resp.json()[0]["title"]}
        '''}, connections=f"connections:\n  c1: {{provider: github, integration: gh, base_url: {provider.base_url}}}\n")
    record(tmp_path / "note.yaml", lambda base: httpx.get(_issues_url(base)), provider.base_url)
    assert adopt(cli, proj, tmp_path / "note.yaml", "--function", "note").exit_code == 0  # its only connection
    doc = replay_json(cli, proj, "note", "c1")
    assert doc["output"] == {"note": NOTE, "first": "Issue 1"}


def test_json_cassettes_vcrpys_json_serializer(provider: Provider, example: Path, cli: Callable[..., Result]) -> None:
    source = example / "cassettes/github/issues/from-vcrpy.json"
    record(source, record_httpx, provider.base_url, serializer="json", decode_compressed_response=True)
    res = cli(example, "cassettes", "list")
    assert "cassettes/github/issues/from-vcrpy.json" in res.output and SNAPSHOT_SUFFIX not in res.output
    res = cli(example, "cassettes", "show", str(source))
    assert res.exit_code == 0 and "interactions (2)" in res.output, res.output
    assert adopt(cli, example, source, "--function", "issues", "--scenario", "json").exit_code == 0
    doc = replay_json(cli, example, "issues", "demo", "--scenario", "json")
    assert doc["counts"]["Issue"]["added"] == ISSUES


def test_cassette_files_are_yaml_yml_and_json_but_not_snapshots(tmp_path: Path) -> None:
    from harness.snapshots import SNAPSHOT_SUFFIX as SNAPSHOTS

    assert SNAPSHOTS == SNAPSHOT_SUFFIX and CASSETTE_SUFFIXES == (".yaml", ".yml", ".json")
    for name in ("a/x/default.yaml", "a/x/b.yml", "a/y/c.json", "a/x/default.snapshot.json", "a/x/.default.yaml.1.tmp",
                 "a/x/.hidden.yaml", "a/x/notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    assert [p.relative_to(tmp_path).as_posix() for p in cassette_files(tmp_path)] == [
        "a/x/b.yml", "a/x/default.yaml", "a/y/c.json"]
    assert [p.name for p in cassette_files(tmp_path, "*/x/*")] == ["b.yml", "default.yaml"]


def test_a_scenarios_file_is_found_whichever_suffix_it_has(tmp_path: Path) -> None:
    from harness.cassettes.locations import existing_cassette

    path = tmp_path / "default.yaml"
    assert existing_cassette(path) == path  # none yet: where a recording goes
    (tmp_path / "default.json").write_text("{}")
    assert existing_cassette(path) == tmp_path / "default.json"
    (tmp_path / "default.yml").write_text("{}")
    assert existing_cassette(path) == tmp_path / "default.yml"
    path.write_text("{}")
    assert existing_cassette(path) == path


def test_a_vcrpy_cassette_at_the_scenario_path_replays_as_it_is(provider: Provider, example: Path,
                                                                cli: Callable[..., Result]) -> None:
    # Without a harness: section, a replay takes the connection from the connections file.
    path = example / "cassettes/github/issues/plain.yaml"
    record(path, record_requests, provider.base_url)
    doc = replay_json(cli, example, "issues", "demo", "--scenario", "plain")
    assert doc["counts"]["Issue"]["added"] == ISSUES
    # Adopting it in place needs no --force and keeps it where it is.
    res = adopt(cli, example, path, "--function", "issues", "--scenario", "plain")
    assert res.exit_code == 0 and "wrote cassettes/github/issues/plain.yaml" in res.output, res.output
    assert load_cassette(path).context["function"] == "issues"


@pytest.mark.parametrize("name", sorted(p.name for p in VCRPY_DATA.iterdir() if p.suffix in (".yaml", ".json")))
def test_every_cassette_in_vcrpys_repository_is_read(name: str) -> None:
    c = load_cassette(VCRPY_DATA / name)
    assert c.interactions
    for item in c.interactions:
        assert item.method == "GET" and item.uri.startswith("http")
        assert all(isinstance(v, str) for values in item.response_headers.values() for v in values)
        names = {k.lower() for k in item.response_headers}
        assert not {"content-length", "transfer-encoding"} & names
        assert "content-encoding" not in names  # every encoded body here is decoded, every stale header dropped


def test_what_vcrpys_repository_cassettes_hold() -> None:
    old = load_cassette(VCRPY_DATA / "old_cassette.yaml").interactions[0]
    new = load_cassette(VCRPY_DATA / "new_cassette.yaml").interactions[0]
    assert (old.uri, old.status, old.response_body) == (new.uri, new.status, new.response_body)
    assert old.uri == "http://httpbin.org/ip" and json.loads(old.response_body) == {"origin": "217.122.164.194"}
    assert old.request_headers["accept"] == ["*/*"]
    assert load_cassette(VCRPY_DATA / "old_cassette.json").interactions[0].uri == "http://httpbin.org/ip"
    gz = load_cassette(VCRPY_DATA / "gzip_requests.yaml").interactions[0]
    assert json.loads(gz.response_body)["gzipped"] is True  # a !!binary gzip body, decoded
    old_httpx = load_cassette(VCRPY_DATA / "gzip_httpx_old_format.yaml").interactions[0]
    assert old_httpx.status == 200 and json.loads(old_httpx.response_body)["gzipped"] is True
    tornado = load_cassette(VCRPY_DATA / "test_tornado_with_decorator_use_cassette.yaml").interactions[0]
    assert tornado.response_body == "not actually google" and len(tornado.response_headers["Set-Cookie"]) == 2
    redirect = load_cassette(VCRPY_DATA / "domain_redirect.yaml").interactions
    assert redirect[0].status == 301 and "<html" in str(redirect[1].response_body).lower()


def test_a_pre_1_0_cassette_adopts_and_replays(make_project: Callable[..., Path], cli: Callable[..., Result]) -> None:
    proj = make_project({"bin/actions/ip.py": '''
        from harness import action

        @action()
        async def ip(nango, input):
            return (await nango.get("/ip")).json()
        '''}, connections="connections:\n  c1: {provider: github, integration: bin, base_url: 'http://httpbin.org'}\n")
    for name in ("old_cassette.yaml", "old_cassette.json"):
        before = (VCRPY_DATA / name).read_bytes()
        res = adopt(cli, proj, VCRPY_DATA / name, "--function", "ip", "--scenario", Path(name).suffix[1:])
        assert res.exit_code == 0, res.output
        assert (VCRPY_DATA / name).read_bytes() == before  # vcrpy's migration ran in memory only
        doc = replay_json(cli, proj, "ip", "c1", "--scenario", Path(name).suffix[1:])
        assert doc["output"] == {"origin": "217.122.164.194"}


def test_adopt_scrubs_credentials_as_a_recording_would(make_project: Callable[..., Path], tmp_path: Path,
                                                       cli: Callable[..., Result]) -> None:
    proj = make_project({"api/actions/me.py": '''
        from harness import action

        @action()
        async def me(nango, input):
            return (await nango.get("/me", params={"api_key": "k", "x": "1"})).json()
        '''}, connections="connections:\n  c1: {provider: github, integration: api, base_url: 'https://api.x.io'}\n")
    token = "ghp_" + "A1b2C3d4" * 5
    source = tmp_path / "me.yaml"
    source.write_text(yaml.safe_dump({"version": 1, "interactions": [{
        "request": {"method": "GET", "uri": "https://api.x.io/me?api_key=hunter2hunter2&x=1", "body": None,
                    "headers": {"Authorization": [f"Bearer {token}"], "Accept": ["*/*"]}},
        "response": {"status": {"code": 200, "message": "OK"}, "headers": {"Set-Cookie": ["session=abcdef123456"]},
                     "body": {"string": json.dumps({"login": "me", "echo": "hunter2hunter2"})}}}]}))
    res = adopt(cli, proj, source, "--function", "me")
    assert res.exit_code == 0, res.output
    text = (proj / "cassettes/api/me/default.yaml").read_text()
    for secret in (token, "hunter2hunter2", "abcdef123456"):
        assert secret not in text
    assert "api_key=<scrubbed:api_key>" in text
    assert replay_json(cli, proj, "me", "c1")["output"]["login"] == "me"


def test_adopt_refuses_bad_input_and_writes_nothing(example: Path, tmp_path: Path, cli: Callable[..., Result]) -> None:
    source = example / "cassettes/github/issues/default.yaml"
    bad = tmp_path / "bomb.yaml"
    bad.write_text("harness: {metadata: [&a [x,x,x,x,x,x,x,x,x,x], " + ", ".join(
        f"&a{i} [" + ",".join(["*a" if i == 1 else f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)) + "]}\n"
                   "interactions: []\n")
    before = files_under(example)
    cases: list[tuple[list[str], int, str]] = [
        ([str(source), "--function", "issues", "--scenario", "../../x"], 2, "bad scenario name '../../x'"),
        ([str(source), "--function", "issues", "--integration", "../x"], 2, "bad integration name '../x'"),
        ([str(source), "--function", "../../etc"], 2, "bad function name"),
        ([str(source), "--function", "isues"], 2, "unknown function 'isues'"),
        ([str(source), "--function", "create-issue"], 2, "default.yaml already exists"),
        ([str(source), "--function", "issues", "--scenario", "x", "--input", "{nope"], 2, "--input: not valid JSON"),
        ([str(source), "--function", "issues", "--scenario", "x", "--recorded-at", "soon"], 2, "--recorded-at"),
        ([str(bad), "--function", "issues", "--scenario", "x"], 3, "its YAML aliases expand to"),
        ([str(tmp_path / "missing.yaml"), "--function", "issues", "--scenario", "x"], 3, "no recording at"),
        ([str(source), "--function", "issues", "--scenario", "x", "--connection", " "], 2, "--connection"),
    ]
    for args, code, message in cases:
        res = cli(example, "cassettes", "adopt", *args)
        errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
        assert res.exit_code == code and len(errors) == 1 and message in errors[0], (args, res.output)
        assert files_under(example) == before, args


def test_adopt_needs_a_connection_it_can_name(make_project: Callable[..., Path], tmp_path: Path,
                                              cli: Callable[..., Result]) -> None:
    proj = make_project({"api/actions/me.py": "from harness import action\n\n@action()\nasync def me(nango, input):\n"
                                              "    return {}\n"},
                        connections="connections:\n  a: {provider: github, integration: api}\n"
                                    "  b: {provider: github, integration: api}\n")
    source = VCRPY_DATA / "new_cassette.yaml"
    res = cli(proj, "cassettes", "adopt", str(source), "--function", "me")
    assert res.exit_code == 2 and "which connection does this scenario replay as? (this project has a, b)" in res.stderr
    res = cli(proj, "cassettes", "adopt", str(source), "--function", "me", "--connection", "zz",
              "--base-url", "http://httpbin.org")
    assert res.exit_code == 0, res.output
    ctx = load_cassette(proj / "cassettes/api/me/default.yaml").context
    assert ctx["connection"]["connection_id"] == "zz" and ctx["connection"]["base_url"] == "http://httpbin.org"
