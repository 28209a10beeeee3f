"""Pagination, retries, rate limits and timeouts against the generic fake provider over real sockets; the
provider catalog."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.clock import VirtualClock
from harness.errors import ConfigError
from harness.http import retry
from harness.providers.catalog import get_provider, shipped
from harness.result import RunResult
from tests.fakes.provider_server import FakeProvider

from .provider_project import connection, run, write_project

T0 = 1767225600.0  # 2026-01-01T00:00:00Z


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


@pytest.fixture
def root(tmp_path: Path, fake: FakeProvider) -> Path:
    return write_project(tmp_path, fake.base_url, connection("fakeprov", "{type: NONE}")
                         + "  c2:\n    integration: fake\n    provider: fake-cursor\n")


def pages(result: RunResult) -> list[list[str]]:
    assert result.ok, result.error
    out: list[list[str]] = result.output["pages"]
    return out


def ids(*numbers: int) -> list[str]:
    return [str(n) for n in numbers]


CURSOR = {"type": "cursor", "cursor_path_in_response": "meta.next", "cursor_name_in_request": "cursor",
          "limit_name_in_request": "limit", "limit": 3, "response_path": "data"}


# -- pagination -----------------------------------------------------------------------------------------

def test_cursor_injects_limit_reads_response_path_and_stops_without_cursor(root: Path, fake: FakeProvider) -> None:
    result = run(root, {"kind": "paginate", "endpoint": "/cursor", "paginate": CURSOR, "on_page": True})
    assert pages(result) == [ids(1, 2, 3), ids(4, 5, 6), ids(7)]
    assert [r.query for r in fake.requests] == [{"limit": ["3"]}, {"limit": ["3"], "cursor": ["3"]},
                                               {"limit": ["3"], "cursor": ["6"]}]
    # on_page runs after the loop body handled the page, with the next cursor.
    assert result.output["on_page"] == [["3", 1], ["6", 2], [None, 3]]


def test_cursor_stops_on_an_empty_page_without_yielding_it(root: Path, fake: FakeProvider) -> None:
    fake.state.items = 0
    assert pages(run(root, {"kind": "paginate", "endpoint": "/cursor", "paginate": CURSOR})) == []


def test_provider_defaults_merge_under_the_call_and_in_body_follows_the_call(root: Path, fake: FakeProvider) -> None:
    # fake-cursor's defaults say limit 3 and in_body (which Nango ignores for a provider): a GET uses the query.
    result = run(root, {"kind": "paginate", "endpoint": "/cursor", "paginate": {"limit": 4}}, cid="c2")
    assert pages(result) == [ids(1, 2, 3, 4), ids(5, 6, 7)]
    assert fake.requests[0].query == {"limit": ["4"]}
    fake.requests.clear()
    body = run(root, {"kind": "paginate", "endpoint": "/cursor", "method": "POST", "json": {"q": "x"}},
               cid="c2", allow_writes=True)
    assert pages(body) == [ids(1, 2, 3), ids(4, 5, 6), ids(7)]
    assert [r.json() for r in fake.requests] == [{"q": "x", "limit": 3}, {"q": "x", "limit": 3, "cursor": "3"},
                                                {"q": "x", "limit": 3, "cursor": "6"}]
    assert all(r.query == {} for r in fake.requests)


def test_cycling_cursor_is_stopped(root: Path, fake: FakeProvider) -> None:
    conf = {**CURSOR, "limit": None}
    result = run(root, {"kind": "paginate", "endpoint": "/cycle", "paginate": conf})
    assert pages(result) == [["start"], ["a"], ["b"]]
    assert len(fake.requests) == 3
    assert any("pagination cycle" in log["message"] for log in result.logs)


@pytest.mark.parametrize(("method", "expected", "requests"), [
    ("by-response-size", [ids(1, 2, 3), ids(4, 5, 6)], ["0", "3", "6"]),
    ("per-page", [ids(1, 2, 3), ids(2, 3, 4), ids(3, 4, 5), ids(4, 5, 6), ids(5, 6), ],
     ["0", "1", "2", "3", "4"]),
])
def test_offset_strategies_and_their_stop_rules(root: Path, fake: FakeProvider, method: str,
                                                expected: list[list[str]], requests: list[str]) -> None:
    fake.state.items = 6
    conf = {"type": "offset", "offset_name_in_request": "offset", "offset_calculation_method": method,
            "limit_name_in_request": "limit", "limit": 3, "response_path": "results"}
    result = run(root, {"kind": "paginate", "endpoint": "/offset", "paginate": conf})
    assert pages(result) == expected
    # by-response-size ends on the empty page (not yielded); per-page on the page shorter than the limit.
    assert [r.q("offset") for r in fake.requests] == requests


def test_offset_without_limit_stops_on_empty_page(root: Path, fake: FakeProvider) -> None:
    conf = {"type": "offset", "offset_name_in_request": "offset", "response_path": "results"}
    assert pages(run(root, {"kind": "paginate", "endpoint": "/offset", "paginate": conf})) == [
        ids(1, 2, 3), ids(4, 5, 6), ids(7)]
    assert len(fake.requests) == 4


def test_page_strategy(root: Path, fake: FakeProvider) -> None:
    conf = {"type": "page", "page_name_in_request": "page", "limit_name_in_request": "per_page", "limit": 3}
    assert pages(run(root, {"kind": "paginate", "endpoint": "/page", "paginate": conf})) == [
        ids(1, 2, 3), ids(4, 5, 6), ids(7)]
    assert [r.q("page") for r in fake.requests] == ["1", "2", "3"]


def test_link_header_absolute_and_params_dropped_after_first_page(root: Path, fake: FakeProvider) -> None:
    conf = {"type": "link", "link_rel_in_response_header": "next", "limit_name_in_request": "per_page", "limit": 3}
    result = run(root, {"kind": "paginate", "endpoint": "/link-header", "params": {"extra": "x"}, "paginate": conf})
    assert pages(result) == [ids(1, 2, 3), ids(4, 5, 6), ids(7)]
    assert [r.query for r in fake.requests] == [{"extra": ["x"], "per_page": ["3"]},
                                               {"page": ["2"], "per_page": ["3"]},
                                               {"page": ["3"], "per_page": ["3"]}]


def test_link_body_relative_and_empty_page_is_yielded(root: Path, fake: FakeProvider) -> None:
    conf = {"type": "link", "link_path_in_response_body": "next", "response_path": "items"}
    assert pages(run(root, {"kind": "paginate", "endpoint": "/link-body", "paginate": conf})) == [
        ids(1, 2, 3), ids(4, 5, 6), ids(7)]
    fake.state.items = 0
    assert pages(run(root, {"kind": "paginate", "endpoint": "/link-body", "paginate": conf})) == [[]]


def test_max_pages_ends_a_live_run_cleanly(root: Path, fake: FakeProvider) -> None:
    result = run(root, {"kind": "paginate", "endpoint": "/cursor", "paginate": CURSOR}, max_pages=2)
    assert pages(result) == [ids(1, 2, 3), ids(4, 5, 6)]
    assert len(fake.requests) == 2
    assert result.capped == "stopped after 2 page(s) (--max-pages)"


def test_max_pages_through_the_cli(root: Path, fake: FakeProvider, cli: Any) -> None:
    out = cli(root, "dryrun", "call", "c1", "--live", "--max-pages", "1", "--json", "--input",
              '{"kind": "paginate", "endpoint": "/cursor", "paginate": {"type": "cursor", '
              '"cursor_path_in_response": "meta.next", "cursor_name_in_request": "cursor", "response_path": "data"}}')
    assert out.exit_code == 0, out.output
    assert '"capped": "stopped after 1 page(s) (--max-pages)"' in out.output
    assert len(fake.requests) == 1


def test_paginate_without_settings_is_a_clear_error(root: Path) -> None:
    result = run(root, {"kind": "paginate", "endpoint": "/cursor"})
    assert result.error is not None and "no pagination settings" in result.error.message


# -- retries and rate limits ----------------------------------------------------------------------------

def test_429_retry_after_seconds(root: Path, fake: FakeProvider) -> None:
    fake.fail(429, headers={"retry-after": "7"})
    clock = VirtualClock(T0)
    result = run(root, {"kind": "proxy", "endpoint": "/me", "retries": 2}, clock=clock)
    assert result.error is not None and result.error.status == 401  # the 429 passed, then /me wants auth
    assert clock.waits[0] == 7.0
    assert "Retrying HTTP call (reason: status_code_429). Waiting for 7000ms [1/2]" in [
        log["message"] for log in result.logs]


def test_429_retry_after_http_date(root: Path, fake: FakeProvider) -> None:
    fake.fail(429, headers={"retry-after": formatdate(T0 + 20, usegmt=True)})
    clock = VirtualClock(T0)
    result = run(root, {"kind": "proxy", "endpoint": "/echo", "retries": 1}, clock=clock)
    assert result.ok, result.error
    assert clock.waits == [20.0]


def test_provider_reset_header_waits_until_the_reset(tmp_path: Path, fake: FakeProvider) -> None:
    extra = '\n[tool.harness.providers.fake-reset]\nalias = "fakeprov"\nretry = {at = ["x-reset"]}\n'
    root = write_project(tmp_path, fake.base_url, connection("fake-reset", "{type: NONE}"), extra)
    fake.fail(403, headers={"x-reset": str(int(T0 + 42))}, path="/echo")
    clock = VirtualClock(T0)
    result = run(root, {"kind": "proxy", "endpoint": "/echo", "retries": 1, "retry_on": [403]}, clock=clock)
    assert result.ok, result.error
    assert clock.waits == [42.0]


def test_5xx_retried_then_succeeding_with_nango_backoff(root: Path, fake: FakeProvider) -> None:
    fake.fail(503, times=2)
    clock = VirtualClock(T0)
    result = run(root, {"kind": "proxy", "endpoint": "/echo", "retries": 3}, clock=clock)
    assert result.ok, result.error
    assert clock.waits == [3.0, 6.0]
    assert len(fake.requests) == 3


def test_5xx_exhausting_the_retries_raises_provider_http_error(root: Path, fake: FakeProvider) -> None:
    fake.fail(500, times=10, headers={"x-trace": "abc"}, payload={"error": "boom"})
    clock = VirtualClock(T0)
    result = run(root, {"kind": "proxy", "endpoint": "/echo", "retries": 2}, clock=clock)
    assert result.error is not None
    assert (result.error.type, result.error.status, result.error.payload) == ("script_http_error", 500,
                                                                             {"error": "boom"})
    assert len(fake.requests) == 3 and clock.waits == [3.0, 6.0]


def test_retries_default_to_zero_and_400_is_not_retried(root: Path, fake: FakeProvider) -> None:
    fake.fail(503)
    assert run(root, {"kind": "proxy", "endpoint": "/echo"}).error is not None
    fake.fail(400)
    result = run(root, {"kind": "proxy", "endpoint": "/echo", "retries": 3}, clock=VirtualClock(T0))
    assert result.error is not None and result.error.status == 400
    assert len(fake.requests) == 2
    assert "Skipping retry HTTP call (reason: not_retryable) [1/3]" in [log["message"] for log in result.logs]


def test_timeout_per_request(root: Path, fake: FakeProvider) -> None:
    fake.state.delay = 1.0
    clock = VirtualClock(T0)
    # 0.1 s: a tenth of the server's delay, and ample for a connection on the loopback (a ConnectTimeout
    # instead would fail the check on the message below).
    result = run(root, {"kind": "proxy", "endpoint": "/slow", "timeout": 0.1, "retries": 1}, clock=clock)
    # Each attempt ended by its own 0.1 s timeout (a ReadTimeout), not by the server's 1 s answer.
    assert result.error is not None and result.error.type == "script_network_error"
    assert "ReadTimeout" in result.error.message
    assert clock.waits == [3.0]  # a timed-out attempt is retried like a network error
    assert [r.path for r in fake.requests] == ["/slow", "/slow"]


def test_timeout_option_of_the_cli(root: Path, fake: FakeProvider, cli: Any) -> None:
    fake.state.delay = 1.0
    out = cli(root, "dryrun", "call", "c1", "--live", "--timeout", "0.1", "--input",
              '{"kind": "proxy", "endpoint": "/slow"}')
    assert out.exit_code == 1 and "ReadTimeout" in out.output


def test_network_error_is_retried(tmp_path: Path) -> None:
    with FakeProvider() as gone:
        url = gone.base_url
    root = write_project(tmp_path, url, connection("fakeprov", "{type: NONE}"))
    clock = VirtualClock(T0)
    result = run(root, {"kind": "proxy", "endpoint": "/echo", "retries": 2}, clock=clock)
    assert result.error is not None and result.error.type == "script_network_error"
    assert clock.waits == [3.0, 6.0]


def test_replayed_429_then_200_takes_no_real_time(root: Path, fake: FakeProvider, request: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    fake.fail(429, headers={"retry-after": "30"})
    recorded = run(root, {"kind": "proxy", "endpoint": "/echo", "retries": 1}, mode="record",
                   clock=VirtualClock(T0))
    assert recorded.ok, recorded.error
    request.getfixturevalue("no_network")
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float, *args: Any) -> Any:
        slept.append(seconds)
        return await real_sleep(0, *args)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    replayed = run(root, {"kind": "proxy", "endpoint": "/echo", "retries": 1}, mode="replay")
    assert [s for s in slept if s > 0] == []  # the 30 s Retry-After passed on the replay's virtual clock
    assert replayed.ok, replayed.error
    assert replayed.unplayed == []
    assert "Retrying HTTP call (reason: status_code_429). Waiting for 30000ms [1/1]" in [
        log["message"] for log in replayed.logs]


# -- retry rules (units) --------------------------------------------------------------------------------

def response(status: int, headers: dict[str, str] | None = None, json: Any = None) -> httpx.Response:
    return httpx.Response(status, headers=headers, json=json)


def test_retryable_statuses_follow_the_provider_rules() -> None:
    github = get_provider("github")
    assert retry.is_retryable(response(403), github, None)
    assert not retry.is_retryable(response(404), github, None)
    assert retry.is_retryable(response(404), github, [404])
    plain = get_provider("salesforce")
    assert [retry.is_retryable(response(s), plain, None) for s in (401, 403, 429, 500, 599)] == [
        True, False, True, True, True]
    hubspot = get_provider("hubspot")
    assert retry.is_retryable(response(400, {"x-hubspot-ratelimit-remaining": "0"}), hubspot, None)
    assert retry.is_retryable(response(502), get_provider("linear"), None)


def test_reset_header_in_seconds_or_milliseconds_and_backoff_cap() -> None:
    github = get_provider("github")
    assert retry.wait_seconds(response(403, {"x-ratelimit-reset": str(int(T0 + 10))}), github, 0, T0) == 10
    assert retry.wait_seconds(response(403, {"x-ratelimit-reset": str(int((T0 + 10) * 1000))}), github, 0, T0) == 10
    # A reset in the past falls through to the default backoff.
    assert retry.wait_seconds(response(403, {"x-ratelimit-reset": str(int(T0 - 5))}), github, 2, T0) == 12
    assert retry.wait_seconds(None, github, 20, T0) == 600


def test_wait_read_from_the_error_body() -> None:
    google = get_provider("google-drive")
    body = {"error": {"message": "User-rate limit exceeded.  Retry after 2026-01-01T00:01:00.000Z"}}
    assert retry.wait_seconds(response(403, json=body), google, 0, T0) == 60


# -- catalog ---------------------------------------------------------------------------------------------

WANTED = ["github", "gitlab", "slack", "hubspot", "salesforce", "zendesk", "jira", "confluence", "linear",
          "notion", "asana", "intercom", "google-calendar", "google-drive", "microsoft-graph", "shopify", "stripe",
          "airtable", "servicenow", "splitwise"]


def test_catalog_has_the_common_providers_and_each_loads() -> None:
    assert set(WANTED) <= set(shipped())
    for name in shipped():
        provider = get_provider(name)
        assert provider.base_url, name


def test_alias_inherits_and_overrides_merge() -> None:
    app = get_provider("github-app")
    assert app.auth_mode == "APP" and app.base_url == "https://api.github.com"
    assert app.retry == get_provider("github").retry
    over = get_provider("github", {"github": {"base_url": "http://localhost:9"}})
    assert over.base_url == "http://localhost:9" and over.paginate["type"] == "link"
    new = get_provider("acme", {"acme": {"alias": "slack", "base_url": "https://acme.test"}})
    assert new.paginate == get_provider("slack").paginate


def test_unknown_provider_lists_close_names() -> None:
    with pytest.raises(ConfigError, match=r"unknown provider 'hubspt' \(did you mean hubspot\?\)"):
        get_provider("hubspt")
    with pytest.raises(ConfigError, match="unknown key"):
        get_provider("github", {"github": {"bse_url": "x"}})


def test_base_url_templates() -> None:
    from harness.connections.model import Connection

    def base(provider: str, config: dict[str, Any]) -> str:
        conn = Connection("c", provider, provider, connection_config=config)
        return conn.resolve_base_url(get_provider(provider))

    assert base("zendesk", {"subdomain": "acme"}) == "https://acme.zendesk.com"
    assert base("intercom", {"region": "eu"}) == "https://api.eu.intercom.io"
    assert base("intercom", {}) == "https://api.intercom.io"
    with pytest.raises(ConfigError, match="cannot fill the base URL"):
        base("servicenow", {})
