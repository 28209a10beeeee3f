"""Deploy to an endpoint: the key travels over TLS only, URL credentials are refused, Retry-After in both
forms is read by the one parser provider retries use, and nothing printed or stored carries a secret."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from harness.cli import main
from harness.http.retry import wait_seconds
from harness.packaging import targets
from harness.providers.catalog import Provider
from harness.retry_after import retry_after_seconds
from tests.fakes.receiver import Receiver

KEY = "deploy-key-abcdef123456"
Invoke = Callable[..., Result]


@pytest.fixture
def invoke() -> Invoke:
    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The deploy key set, and the delivery's sleeps recorded instead of slept."""
    monkeypatch.setenv("HARNESS_DEPLOY_KEY", KEY)
    waits: list[float] = []
    monkeypatch.setattr("harness.packaging.deploy._sleep", waits.append)
    return waits


def _lan_address() -> str | None:
    """An address of this machine that is not loopback (the TLS rule must apply to it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # no packet is sent: this only picks the outgoing interface
            address = str(s.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def _deploy(invoke: Invoke, project: Path, url: str, *extra: str) -> Result:
    return invoke("--project", str(project), "deploy", "--to", url, "--skip-tests", *extra)


# -- TLS ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["http://deploy.example.com/hooks", "HTTP://10.1.2.3:8080/x",
                                 "http://[2001:db8::1]/x", "http://localhost.example.com/x"])
def test_plain_http_to_another_host_is_refused_before_anything_runs(example: Path, invoke: Invoke,
                                                                    keyed: list[float], url: str) -> None:
    res = _deploy(invoke, example, url)
    assert res.exit_code == 2, res.output
    assert "refusing to send $HARNESS_DEPLOY_KEY over plain http" in res.stderr
    assert "--allow-insecure-http" in res.stderr
    assert KEY not in res.output
    assert not (example / ".harness").exists()  # not even compiled


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "localhost", "api.localhost"])
def test_loopback_is_not_insecure(host: str) -> None:
    netloc = f"[{host}]" if ":" in host else host
    endpoint = targets.parse_endpoint(f"http://{netloc}:9999/hooks")
    assert not endpoint.insecure


def test_allow_insecure_http_sends_and_says_so(example: Path, invoke: Invoke, keyed: list[float]) -> None:
    address = _lan_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    with Receiver(host=address) as receiver:
        refused = _deploy(invoke, example, receiver.url)
        assert refused.exit_code == 2 and not receiver.received
        res = _deploy(invoke, example, receiver.url, "--allow-insecure-http")
        assert res.exit_code == 0, res.output
    assert "warning: --allow-insecure-http: the deploy key is sent in clear" in res.stderr
    assert [r.headers["authorization"] for r in receiver.received] == [f"Bearer {KEY}"]


def test_loopback_http_needs_no_flag_and_no_warning(example: Path, invoke: Invoke, keyed: list[float]) -> None:
    with Receiver() as receiver:
        res = _deploy(invoke, example, receiver.url)
    assert res.exit_code == 0, res.output
    assert "insecure" not in res.stderr and len(receiver.received) == 1


# -- credentials in the URL ----------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["https://deployer:s3cretpass@deploy.example.com/hooks",
                                 "https://s3cretpass@deploy.example.com/hooks",
                                 "http://deployer:s3cretpass@127.0.0.1:9/hooks",
                                 "https://deployer:s3cretpass@[::1]:9/x"])
def test_credentials_in_the_url_are_refused_and_never_echoed(example: Path, invoke: Invoke,
                                                             keyed: list[float], url: str) -> None:
    for extra in ((), ("--dry-run",), ("--dry-run", "--json")):
        res = _deploy(invoke, example, url, *extra)
        assert res.exit_code == 2, res.output
        assert "holds credentials" in res.stderr and "HARNESS_DEPLOY_KEY" in res.stderr
        assert "s3cretpass" not in res.output
    assert not (example / ".harness").exists()


def test_the_query_is_never_stored_and_its_values_never_printed(example: Path, invoke: Invoke,
                                                               keyed: list[float]) -> None:
    with Receiver() as receiver:
        url = receiver.url + "?token=qs-secret-value&env=prod"
        res = _deploy(invoke, example, url)
        assert res.exit_code == 0, res.output
        assert receiver.received[0].path.endswith("?token=qs-secret-value&env=prod")  # sent as given
    assert "qs-secret-value" not in res.output and "token=..." in res.stderr
    stored = (example / ".harness" / "deployed.json").read_text()
    assert "qs-secret-value" not in stored and "token" not in stored
    assert receiver.url in json.loads(stored)["targets"]


def test_credentials_an_older_version_stored_are_dropped_on_the_next_save(example: Path, invoke: Invoke,
                                                                          keyed: list[float]) -> None:
    state = example / ".harness" / "deployed.json"
    state.parent.mkdir()
    old = {"deployment": 1, "functions": {}, "models": {}, "bundle_sha256": "0" * 64}
    state.write_text(json.dumps({"format": 1, "targets": {"https://bob:hunter2pass@deploy.example.com/x": old}}))
    with Receiver() as receiver:
        assert _deploy(invoke, example, receiver.url).exit_code == 0
    text = state.read_text()
    assert "hunter2pass" not in text and "https://deploy.example.com/x" in json.loads(text)["targets"]


@pytest.mark.parametrize("url", ["ftp://deploy.example.com/x", "s3://bucket/x", "file:///tmp/x"])
def test_other_schemes_are_refused(example: Path, invoke: Invoke, url: str) -> None:
    res = _deploy(invoke, example, url)
    assert res.exit_code == 2 and "not supported" in res.stderr, res.output


# -- Retry-After ---------------------------------------------------------------------------------------------
def test_retry_after_in_seconds(example: Path, invoke: Invoke, keyed: list[float]) -> None:
    with Receiver(statuses=[503, 429], answer_headers=[{"Retry-After": "2"}, {"Retry-After": "1.5"}]) as receiver:
        res = _deploy(invoke, example, receiver.url)
    assert res.exit_code == 0, res.output
    assert keyed == [2.0, 1.5] and len(receiver.received) == 3


def test_retry_after_as_an_http_date(example: Path, invoke: Invoke, keyed: list[float]) -> None:
    when = formatdate(time.time() + 30, usegmt=True)
    with Receiver(statuses=[503], answer_headers=[{"Retry-After": when}]) as receiver:
        res = _deploy(invoke, example, receiver.url)
    assert res.exit_code == 0, res.output
    [wait] = keyed
    assert 20 < wait <= 30  # read from the date (the default backoff would be 0.5)


def test_retry_after_is_capped_and_garbage_falls_back(example: Path, invoke: Invoke, keyed: list[float]) -> None:
    headers = [{"Retry-After": "86400"}, {"Retry-After": "inf"}, {"Retry-After": "soon"}]
    with Receiver(statuses=[503, 503, 503], answer_headers=headers) as receiver:
        res = _deploy(invoke, example, receiver.url)
    assert res.exit_code == 0, res.output
    assert keyed == [60.0, 1.0, 2.0]  # capped; then the backoff 0.5 * 2**attempt


@pytest.mark.parametrize(("value", "wait"), [
    ("120", 120.0), (" 7 ", 7.0), ("1.5", 1.5), ("0", 0.0), (b"30", 30.0),
    ("Thu, 01 Jan 1970 00:00:30 GMT", 0.0),  # in the past
    ("Thu, 01 Jan 1970 00:01:40 GMT", 40.0),  # from now = 60
    ("Thursday, 01-Jan-70 00:01:40 GMT", 40.0),  # RFC 850
    ("Thu Jan  1 00:01:40 1970", 40.0),  # asctime
])
def test_retry_after_parser_reads_both_forms(value: str | bytes, wait: float) -> None:
    assert retry_after_seconds(value, 60.0) == wait


@pytest.mark.parametrize("value", ["", "soon", "-1", "+5", "inf", "nan", "1e9", "0x10", "9" * 40, "١٢",
                                   b"\xff\xfe", "Thu, 99 Foo 2026 25:61:61 GMT", None])
def test_retry_after_parser_refuses_anything_else(value: str | bytes | None) -> None:
    assert retry_after_seconds(value, 60.0) is None


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "1e400"])
def test_provider_retries_never_wait_forever_on_a_bad_header(value: str) -> None:
    response = httpx.Response(429, headers={"retry-after": value, "x-reset": value})
    provider = Provider(name="p", retry={"at": "x-reset", "after": "retry-after"})
    assert wait_seconds(response, provider, 0, now=1_700_000_000.0) == 3.0  # the default backoff


# -- hostile deployed state and target folders -----------------------------------------------------------
@pytest.mark.parametrize("entry", [{"deployment": "../../x"}, {"deployment": True}, {"deployment": -3},
                                   {"deployment": 1, "functions": []}, "nope",
                                   {"deployment": 1, "functions": {"a/b": {"version": 7}}}])
def test_a_hostile_deployed_state_is_a_config_error(example: Path, invoke: Invoke, tmp_path: Path,
                                                    entry: object) -> None:
    target = tmp_path / "dist"
    state = example / ".harness" / "deployed.json"
    state.parent.mkdir()
    state.write_text(json.dumps({"format": 1, "targets": {str(target): entry}}))
    res = _deploy(invoke, example, str(target))
    assert res.exit_code == 2 and "deployed.json" in res.stderr, res.output
    assert not target.exists()


@pytest.mark.parametrize("pointer", [
    {"deployment": 1, "bundle_sha256": "a" * 64, "bundle": "../../../etc/passwd"},
    {"deployment": 1, "bundle_sha256": "a" * 64, "bundle": "/etc/passwd"},
    {"deployment": 1, "bundle_sha256": "a" * 64, "bundle": "releases/000002-aaaaaaaaaaaa/bundle.zip"},
    {"deployment": "1", "bundle_sha256": "a" * 64}, {"hello": "world"}, [1, 2],
])
def test_a_foreign_or_hostile_pointer_is_never_followed_or_overwritten(example: Path, invoke: Invoke,
                                                                        tmp_path: Path, pointer: object) -> None:
    target = tmp_path / "dist"
    target.mkdir()
    (target / "deployment.json").write_text(json.dumps(pointer))
    res = _deploy(invoke, example, str(target))
    assert res.exit_code == 2, res.output
    assert "deployment.json" in res.stderr
    assert json.loads((target / "deployment.json").read_text()) == pointer
    assert sorted(p.name for p in target.iterdir()) == ["deployment.json"]


@pytest.mark.parametrize("target", ["", "dist\x00x"])
def test_a_target_that_is_no_folder_name_is_refused(example: Path, invoke: Invoke, target: str) -> None:
    res = _deploy(invoke, example, target)
    assert res.exit_code == 2 and "is not a folder name" in res.stderr, res.output
