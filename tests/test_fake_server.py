"""Tests for the fake GitHub provider, exercised over real sockets with httpx."""

from __future__ import annotations

import base64
import http.client
import math
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.fakes import http_client
from tests.fakes.github_server import FakeGitHub

TOKEN = "ghp_faketoken123456"
ISSUES = "/repos/octo/hello/issues"


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub(issues=7) as fake:
        yield fake


def client(fake: FakeGitHub, token: str | None = TOKEN, timeout: float = 5.0) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http_client(base_url=fake.base_url, headers=headers, timeout=timeout)


def walk_issues(fake: FakeGitHub, params: dict[str, str]) -> tuple[list[int], list[httpx.Response]]:
    """Follow rel="next" links exactly as a client would, collecting issue numbers."""
    numbers: list[int] = []
    responses: list[httpx.Response] = []
    with client(fake) as http:
        response = http.get(ISSUES, params=params)
        while True:
            assert response.status_code == 200
            responses.append(response)
            numbers.extend(issue["number"] for issue in response.json())
            next_link = response.links.get("next")
            if next_link is None:
                break
            assert len(responses) < 50, "pagination never terminates"
            response = http.get(next_link["url"])
    return numbers, responses


@pytest.mark.parametrize("n", [0, 1, 30, 31, 65])
def test_pagination_walks_every_issue_exactly_once(n: int) -> None:
    with FakeGitHub(issues=n) as fake:
        numbers, responses = walk_issues(fake, {"per_page": "30"})

    assert numbers == list(range(1, n + 1))
    assert len(set(numbers)) == len(numbers)
    assert len(responses) == max(1, math.ceil(n / 30))
    assert "prev" not in responses[0].links
    assert "next" not in responses[-1].links
    if len(responses) == 1:
        # GitHub omits the Link header entirely when everything fits on one page.
        assert "link" not in responses[0].headers
    else:
        assert responses[0].links["last"]["url"].endswith(f"page={len(responses)}")
        assert responses[-1].links["first"]["url"].endswith("page=1")


def test_link_header_matches_github_format_on_a_middle_page() -> None:
    with FakeGitHub(issues=65) as fake, client(fake) as http:
        response = http.get(ISSUES, params={"per_page": "30", "page": "2"})
        base = f"{fake.base_url}{ISSUES}"

    assert [issue["number"] for issue in response.json()] == list(range(31, 61))
    assert response.headers["link"] == (
        f'<{base}?per_page=30&page=1>; rel="prev", '
        f'<{base}?per_page=30&page=3>; rel="next", '
        f'<{base}?per_page=30&page=3>; rel="last", '
        f'<{base}?per_page=30&page=1>; rel="first"'
    )


def test_links_preserve_filters_but_not_api_key() -> None:
    with FakeGitHub(issues=40) as fake, http_client(base_url=fake.base_url) as http:
        params = {"per_page": "5", "state": "open", "since": "2026-01-02T00:00:00Z", "api_key": TOKEN}
        response = http.get(ISSUES, params=params)

    assert response.status_code == 200
    next_query = parse_qs(urlsplit(response.links["next"]["url"]).query)
    assert next_query == {
        "per_page": ["5"],
        "state": ["open"],
        "since": ["2026-01-02T00:00:00Z"],
        "page": ["2"],
    }
    assert TOKEN not in response.headers["link"]


def test_per_page_defaults_and_is_capped_at_100() -> None:
    with FakeGitHub(issues=150, per_page_default=10) as fake, client(fake) as http:
        default_page = http.get(ISSUES)
        capped_page = http.get(ISSUES, params={"per_page": "500"})

    assert len(default_page.json()) == 10
    assert len(capped_page.json()) == 100
    assert "per_page=100&page=2" in capped_page.links["next"]["url"]


def test_since_filter_is_inclusive(gh: FakeGitHub) -> None:
    with client(gh) as http:
        response = http.get(ISSUES, params={"since": "2026-01-05T10:00:00Z"})
        invalid = http.get(ISSUES, params={"since": "yesterday"})

    assert [issue["number"] for issue in response.json()] == [5, 6, 7]
    assert all(issue["updated_at"] >= "2026-01-05T10:00:00Z" for issue in response.json())
    assert invalid.status_code == 422


def test_state_filter_and_issue_shape(gh: FakeGitHub) -> None:
    with client(gh) as http:
        everything = http.get(ISSUES).json()
        closed = http.get(ISSUES, params={"state": "closed"}).json()
        open_ = http.get(ISSUES, params={"state": "open"}).json()

    assert everything[2] == {
        "id": 1003,
        "number": 3,
        "title": "Issue 3",
        "state": "closed",
        "updated_at": "2026-01-03T10:00:00Z",
        "user": {"login": "octocat"},
        "body": "Body of issue 3",
    }
    assert [issue["number"] for issue in closed] == [3, 6]
    assert [issue["number"] for issue in open_] == [1, 2, 4, 5, 7]


def test_updated_at_is_clamped_to_day_28() -> None:
    with FakeGitHub(issues=31) as fake:
        store = fake.issues_store

    assert store[27]["updated_at"] == "2026-01-28T10:00:00Z"
    assert store[30]["updated_at"] == "2026-01-28T10:00:00Z"


def test_edits_to_issues_store_are_served(gh: FakeGitHub) -> None:
    gh.issues_store[0]["title"] = "Renamed"
    with client(gh) as http:
        first = http.get(ISSUES).json()[0]

    assert first["title"] == "Renamed"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic !!notbase64"}],
    ids=["missing", "wrong-token", "garbage-basic"],
)
def test_unauthenticated_requests_get_401(gh: FakeGitHub, headers: dict[str, str]) -> None:
    with http_client(base_url=gh.base_url, headers=headers) as http:
        response = http.get("/user")

    assert response.status_code == 401
    assert response.json() == {"message": "Bad credentials"}
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_expired_token_is_rejected(gh: FakeGitHub) -> None:
    with client(gh) as http:
        assert http.get("/user").status_code == 200
        gh.expire_token(TOKEN)
        response = http.get("/user")

    assert response.status_code == 401
    assert TOKEN not in gh.valid_tokens


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("headers", "params"),
    [
        ({"Authorization": f"Bearer {TOKEN}"}, {}),
        ({"Authorization": f"token {TOKEN}"}, {}),
        ({"Authorization": basic("octo", TOKEN)}, {}),
        ({"X-Api-Key": TOKEN}, {}),
        ({}, {"api_key": TOKEN}),
    ],
    ids=["bearer", "token", "basic", "x-api-key", "api_key-query"],
)
def test_supported_auth_schemes_are_accepted(
    gh: FakeGitHub, headers: dict[str, str], params: dict[str, str]
) -> None:
    with http_client(base_url=gh.base_url, headers=headers) as http:
        response = http.get("/user", params=params)
        echoed = http.get("/echo", params=params)

    assert response.status_code == 200
    assert response.json() == {"login": "octocat", "id": 1}
    assert echoed.json()["token_seen"] == TOKEN


def test_basic_auth_requires_the_octo_user(gh: FakeGitHub) -> None:
    with http_client(base_url=gh.base_url, headers={"Authorization": basic("mallory", TOKEN)}) as http:
        assert http.get("/user").status_code == 401


def test_create_issue_returns_201_and_is_listed(gh: FakeGitHub) -> None:
    with client(gh) as http:
        created = http.post(ISSUES, json={"title": "New bug", "body": "details", "labels": ["bug"]})
        listed = http.get(ISSUES, params={"since": created.json()["updated_at"]}).json()

    assert created.status_code == 201
    issue = created.json()
    assert issue["number"] == 8
    assert issue["id"] == 1008
    assert issue["title"] == "New bug"
    assert issue["state"] == "open"
    assert issue["labels"] == [{"name": "bug"}]
    assert issue["html_url"] == "https://github.com/octo/hello/issues/8"
    assert issue["updated_at"] > "2026-01-07T10:00:00Z"
    assert [i["number"] for i in listed] == [8]
    assert gh.issues_store[-1]["title"] == "New bug"


@pytest.mark.parametrize("payload", [{}, {"title": None}, {"title": ""}, {"body": "no title"}])
def test_create_issue_without_title_is_422(gh: FakeGitHub, payload: dict[str, object]) -> None:
    with client(gh) as http:
        response = http.post(ISSUES, json=payload)

    assert response.status_code == 422
    assert response.json() == {
        "message": "Validation Failed",
        "errors": [{"resource": "Issue", "field": "title", "code": "missing_field"}],
    }
    assert len(gh.issues_store) == 7


def test_create_issue_with_invalid_json_is_400(gh: FakeGitHub) -> None:
    with client(gh) as http:
        response = http.post(ISSUES, content=b"{not json", headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json() == {"message": "Problems parsing JSON"}


def test_chunked_request_body_is_read(gh: FakeGitHub) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"title": '
        yield b'"chunked"}'

    with client(gh) as http:
        response = http.post(ISSUES, content=chunks())
        follow_up = http.get("/user")

    assert gh.requests[0].headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 201
    assert response.json()["title"] == "chunked"
    assert follow_up.status_code == 200


def test_refresh_flow_mints_tokens_that_are_accepted(gh: FakeGitHub) -> None:
    gh.expire_token(TOKEN)
    with http_client(base_url=gh.base_url) as http:
        minted = http.post(
            "/login/oauth/access_token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": "refresh-abc-123456",
                "client_id": "cid",
                "client_secret": "csecret-987654",
            },
        )
        token = minted.json()["access_token"]
        user = http.get("/user", headers={"Authorization": f"Bearer {token}"})
        # The rotated refresh token works too, and via JSON + Basic client auth.
        rotated = http.post(
            "/login/oauth/access_token",
            json={"grant_type": "refresh_token", "refresh_token": minted.json()["refresh_token"]},
            headers={"Authorization": basic("cid", "csecret-987654")},
        )

    assert minted.status_code == 200
    assert minted.json() == {
        "access_token": "ghp_refreshed_1",
        "token_type": "bearer",
        "expires_in": 3600,
        "refresh_token": "refresh-new-1",
        "scope": "repo",
    }
    assert user.status_code == 200
    assert rotated.status_code == 200
    assert rotated.json()["access_token"] == "ghp_refreshed_2"
    assert gh.valid_tokens == {"ghp_refreshed_1", "ghp_refreshed_2"}


def test_client_credentials_grant_has_no_refresh_token(gh: FakeGitHub) -> None:
    with http_client(base_url=gh.base_url) as http:
        response = http.post(
            "/login/oauth/access_token",
            data={"grant_type": "client_credentials", "client_id": "cid", "client_secret": "csecret-987654"},
        )

    assert response.status_code == 200
    assert "refresh_token" not in response.json()
    assert response.json()["access_token"] in gh.valid_tokens


@pytest.mark.parametrize(
    "data",
    [
        {"grant_type": "refresh_token", "refresh_token": "stolen", "client_id": "cid"},
        {
            "grant_type": "refresh_token",
            "refresh_token": "refresh-abc-123456",
            "client_id": "cid",
            "client_secret": "wrong",
        },
        {"grant_type": "client_credentials", "client_id": "cid", "client_secret": "wrong"},
    ],
    ids=["bad-refresh-token", "bad-secret", "bad-client-credentials"],
)
def test_invalid_token_requests_are_400_invalid_grant(gh: FakeGitHub, data: dict[str, str]) -> None:
    if "client_secret" not in data:
        data = {**data, "client_secret": "csecret-987654"}
    with http_client(base_url=gh.base_url) as http:
        response = http.post("/login/oauth/access_token", data=data)

    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant"}
    assert gh.valid_tokens == {TOKEN}


def test_injected_429_then_success(gh: FakeGitHub) -> None:
    gh.fail_next(429, headers={"Retry-After": "2"})
    with client(gh) as http:
        limited = http.get(ISSUES)
        ok = http.get(ISSUES)

    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert limited.json() == {"message": "API rate limit exceeded"}
    assert ok.status_code == 200
    assert len(ok.json()) == 7
    assert len(gh.requests) == 2


def test_injected_failures_precede_auth_and_respect_times_and_prefix(gh: FakeGitHub) -> None:
    gh.fail_next(503, times=2, path_prefix="/repos/")
    with http_client(base_url=gh.base_url) as anonymous, client(gh) as http:
        unauthenticated = anonymous.get(ISSUES)
        other_path = http.get("/user")
        second = http.get(ISSUES)
        third = http.get(ISSUES)

    assert unauthenticated.status_code == 503
    assert unauthenticated.json() == {"message": "Service Unavailable"}
    assert other_path.status_code == 200
    assert second.status_code == 503
    assert third.status_code == 200


def test_delay_causes_client_timeout_then_recovers(gh: FakeGitHub) -> None:
    gh.delay_next(2.0)
    with client(gh, timeout=0.2) as http:
        with pytest.raises(httpx.ReadTimeout):
            # Only the read shortened (to a fortieth of the delay): connecting keeps the client's 0.2 s.
            http.get("/user", timeout=httpx.Timeout(0.2, read=0.05))
        response = http.get("/user")  # within the client's 0.2 s: the delay was for one request only

    assert response.status_code == 200
    assert len(gh.requests) == 2


def test_requests_log_records_method_path_query_headers_body(gh: FakeGitHub) -> None:
    with client(gh) as http:
        http.get(ISSUES, params={"state": "open", "labels": ["a", "b"]})
        http.post(ISSUES, json={"title": "x"}, headers={"X-Custom": "yes"})

    first, second = gh.requests
    assert (first.method, first.path) == ("GET", ISSUES)
    assert first.query == {"state": ["open"], "labels": ["a", "b"]}
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert first.body == b""
    assert (second.method, second.path, second.query) == ("POST", ISSUES, {})
    assert second.headers["x-custom"] == "yes"
    assert second.json() == {"title": "x"}


def test_rate_limit_headers_count_down(gh: FakeGitHub) -> None:
    with client(gh) as http:
        first = http.get("/user")
        second = http.get("/user")

    assert first.headers["x-ratelimit-limit"] == "5000"
    assert int(first.headers["x-ratelimit-remaining"]) == int(second.headers["x-ratelimit-remaining"]) + 1
    assert int(first.headers["x-ratelimit-reset"]) == gh.rate_limit_reset


def test_echo_reflects_headers_query_and_token(gh: FakeGitHub) -> None:
    with client(gh) as http:
        response = http.get("/echo", params={"q": "1"}, headers={"X-Trace": "abc"})

    echoed = response.json()
    assert echoed["token_seen"] == TOKEN
    assert echoed["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert echoed["headers"]["x-trace"] == "abc"
    assert echoed["query"] == {"q": ["1"]}


def test_unknown_path_is_404_and_unsupported_methods_are_405(gh: FakeGitHub) -> None:
    with client(gh) as http:
        missing = http.get("/nope")
        delete = http.delete("/user")
        head = http.head("/user")
        custom = http.request("FROB", "/user")
        wrong_route_method = http.post("/user")

    assert missing.status_code == 404
    assert missing.json() == {"message": "Not Found"}
    for response in (delete, head, custom):
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, POST"
    assert head.content == b""
    assert wrong_route_method.status_code == 405
    assert [r.method for r in gh.requests] == ["GET", "DELETE", "HEAD", "FROB", "POST"]


def test_keep_alive_serves_several_requests_on_one_connection(gh: FakeGitHub) -> None:
    host, port = urlsplit(gh.base_url).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request("GET", "/user", headers={"Authorization": f"Bearer {TOKEN}"})
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        conn.request("POST", ISSUES, body=b'{"title": "t"}', headers={"Authorization": f"token {TOKEN}"})
        second = conn.getresponse()
        second.read()
        assert conn.sock is sock
    finally:
        conn.close()

    assert first.status == 200
    assert first.getheader("Connection") is None
    assert second.status == 201


def test_server_stops_on_exit() -> None:
    fake = FakeGitHub()
    with pytest.raises(RuntimeError):
        _ = fake.base_url
    with fake:
        base_url = fake.base_url
        with http_client() as http:
            assert http.get(f"{base_url}/user", headers={"Authorization": f"Bearer {TOKEN}"}).is_success

    with pytest.raises(httpx.ConnectError), http_client() as http:
        http.get(f"{base_url}/user")
