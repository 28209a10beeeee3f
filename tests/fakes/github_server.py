"""A fake GitHub-like HTTP provider for integration tests.

This module owns a small, deterministic stand-in for the parts of the GitHub
REST API that harness tests exercise: issue listing with real ``Link`` header
pagination, issue creation with GitHub-shaped validation errors, the
authenticated user, an ``/echo`` endpoint for secret-leak checks, and an OAuth2
token endpoint for refresh / client-credentials flows.

It is a real HTTP/1.1 server on 127.0.0.1 (ephemeral port), built only on the
standard library, so the code under test goes through genuine sockets,
keep-alive, timeouts and header parsing rather than a mocked transport.

Tests drive misbehaviour explicitly: ``fail_next`` queues injected error
responses (rate limits, 5xx), ``delay_next`` stalls responses (timeouts) and
``expire_token`` revokes credentials (refresh flows).  Every request is kept in
``requests`` so tests can assert exactly what the client sent.

It deliberately does not model GitHub beyond what the tests need: all
``{owner}/{repo}`` pairs share one issue store, and there is no persistence.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import math
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, quote, unquote, unquote_plus, urlencode, urlsplit

from . import POLL_S
from .server_base import Received as RecordedRequest

__all__ = ["FakeGitHub", "RecordedRequest"]


logger = logging.getLogger(__name__)

OAUTH_TOKEN_PATH = "/login/oauth/access_token"
RATE_LIMIT = 5000
MAX_PER_PAGE = 100
_JSON_CONTENT_TYPE = "application/json; charset=utf-8"
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_ISSUES_PATH = re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues$")
_REPO_PATH = re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)$")
_SUPPORTED_METHODS = ("GET", "POST")
# Link query parameters that are recomputed per link, plus credentials: putting
# an api_key into a Link header would hand the secret to anything that logs it.
_LINK_EXCLUDED_PARAMS = frozenset({"per_page", "page", "api_key"})


@dataclass
class _Response:
    status: int
    payload: object
    headers: dict[str, str] = field(default_factory=dict)
    # `/mirror`: repeated headers (several Set-Cookie) and a body sent as these exact bytes.
    header_list: list[tuple[str, str]] = field(default_factory=list)
    raw: bytes | None = None


@dataclass
class _Failure:
    status: int
    remaining: int
    headers: dict[str, str]
    path_prefix: str | None

    def matches(self, path: str) -> bool:
        return self.path_prefix is None or path.startswith(self.path_prefix)


def _seed_issue(number: int) -> dict[str, Any]:
    return {
        "id": 1000 + number,
        "number": number,
        "title": f"Issue {number}",
        "state": "closed" if number % 3 == 0 else "open",
        # Clamped so every day-of-month is valid; issues past 28 share a
        # timestamp, which also exercises `since` ties.
        "updated_at": f"2026-01-{min(number, 28):02d}T10:00:00Z",
        "user": {"login": "octocat"},
        "body": f"Body of issue {number}",
    }


def _parse_timestamp(raw: str) -> datetime:
    parsed = datetime.fromisoformat(raw)
    # GitHub treats zone-less timestamps as UTC; comparing naive and aware
    # datetimes would raise instead.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _first(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _int_param(query: Mapping[str, list[str]], name: str, default: int) -> int:
    raw = _first(query, name)
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        # GitHub silently ignores unparseable paging values.
        return default
    return value if value >= 1 else default


def _validation_failed(field_name: str, code: str) -> _Response:
    return _Response(
        422,
        {
            "message": "Validation Failed",
            "errors": [{"resource": "Issue", "field": field_name, "code": code}],
        },
    )


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    if authorization is None:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


class FakeGitHub:
    """Context manager. ``with FakeGitHub(issues=N) as gh:`` starts the server.

    The server listens on 127.0.0.1 with an ephemeral port; ``base_url`` is
    only available while it runs.
    """

    def __init__(
        self,
        *,
        issues: int = 7,
        token: str = "ghp_faketoken123456",
        per_page_default: int = 30,
        refresh_token: str = "refresh-abc-123456",
        client_id: str = "cid",
        client_secret: str = "csecret-987654",
    ) -> None:
        if issues < 0:
            raise ValueError("issues must be >= 0")
        if not 1 <= per_page_default <= MAX_PER_PAGE:
            raise ValueError(f"per_page_default must be in 1..{MAX_PER_PAGE}")
        self.token = token
        self.per_page_default = per_page_default
        self.client_id = client_id
        self.client_secret = client_secret
        self.requests: list[RecordedRequest] = []
        self.valid_tokens: set[str] = {token}
        self.valid_refresh_tokens: set[str] = {refresh_token}
        self.issues_store: list[dict[str, Any]] = [_seed_issue(n) for n in range(1, issues + 1)]
        self.rate_limit_reset = int(time.time()) + 3600
        self._rate_limit_used = 0
        self._minted = 0
        self._failures: list[_Failure] = []
        self._delays: list[float] = []
        # Handler threads and the test thread touch the same state.
        self._lock = threading.Lock()
        # Set on exit so handlers stalled by delay_next stop waiting at once
        # instead of outliving the test.
        self._closing = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------

    def __enter__(self) -> Self:
        if self._server is not None or self._closing.is_set():
            raise RuntimeError("FakeGitHub can only be started once")
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_S},
            name="FakeGitHub",
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        # Keep-alive connections would otherwise keep their handler threads
        # (and a usable socket) alive after the fake is "gone".
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        if self._server is None or self._closing.is_set():
            raise RuntimeError("FakeGitHub is not running; use it as a context manager")
        return self._root_url()

    def _root_url(self) -> str:
        # Unchecked variant for handlers: a request still in flight while the
        # fake shuts down should finish normally, not trip the running check.
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- test controls ---------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """Make the next ``times`` requests under ``path_prefix`` answer ``status``."""
        if not 100 <= status <= 599:
            raise ValueError("status must be an HTTP status code")
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._failures.append(_Failure(status, times, dict(headers or {}), path_prefix))

    def delay_next(self, seconds: float, *, times: int = 1) -> None:
        """Make the next ``times`` requests sleep ``seconds`` before answering."""
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._delays.extend([seconds] * times)

    def expire_token(self, token: str) -> None:
        with self._lock:
            self.valid_tokens.discard(token)

    # -- request pipeline (called from handler threads) ------------------

    def _admit(self, request: RecordedRequest) -> tuple[_Failure | None, float]:
        with self._lock:
            self.requests.append(request)
            failure = next((f for f in self._failures if f.matches(request.path)), None)
            if failure is not None:
                failure.remaining -= 1
                if failure.remaining == 0:
                    self._failures.remove(failure)
            delay = self._delays.pop(0) if self._delays else 0.0
        return failure, delay

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._closing.wait(seconds)

    def _respond(self, request: RecordedRequest, failure: _Failure | None) -> _Response:
        # Injected failures win over everything, auth included, so tests can
        # simulate rate limits even for requests that would otherwise 401.
        if failure is not None:
            return self._injected(failure)
        if request.method not in _SUPPORTED_METHODS:
            return _Response(405, {"message": "Method Not Allowed"}, {"Allow": ", ".join(_SUPPORTED_METHODS)})
        if request.path == OAUTH_TOKEN_PATH:
            return self._oauth_token(request)
        response = self._api(request)
        response.headers.update(self._rate_limit_headers())
        return response

    def _injected(self, failure: _Failure) -> _Response:
        if failure.status == 429:
            message = "API rate limit exceeded"
        else:
            try:
                message = HTTPStatus(failure.status).phrase
            except ValueError:
                message = "Injected failure"
        return _Response(failure.status, {"message": message}, dict(failure.headers))

    def _rate_limit_headers(self) -> dict[str, str]:
        with self._lock:
            self._rate_limit_used += 1
            used = self._rate_limit_used
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(max(RATE_LIMIT - used, 0)),
            "X-RateLimit-Reset": str(self.rate_limit_reset),
            "X-RateLimit-Used": str(used),
            "X-RateLimit-Resource": "core",
        }

    def _authenticate(self, request: RecordedRequest) -> str | None:
        valid = self.valid_tokens
        authorization = request.header("authorization")
        if authorization is not None:
            scheme, _, credential = authorization.strip().partition(" ")
            credential = credential.strip()
            if scheme.lower() in ("bearer", "token") and credential in valid:
                return credential
            basic = _basic_credentials(authorization)
            if basic is not None and basic[0] == "octo" and basic[1] in valid:
                return basic[1]
        api_key = request.header("x-api-key")
        if api_key is not None and api_key.strip() in valid:
            return api_key.strip()
        query_key = _first(request.query, "api_key")
        if query_key is not None and query_key in valid:
            return query_key
        return None

    def _api(self, request: RecordedRequest) -> _Response:
        # Auth is checked before routing, so an unauthenticated request to an
        # unknown path gets 401 rather than revealing what exists.
        token = self._authenticate(request)
        if token is None:
            return _Response(401, {"message": "Bad credentials"})
        routes: list[tuple[re.Pattern[str], dict[str, Callable[[re.Match[str]], _Response]]]] = [
            (
                _ISSUES_PATH,
                {
                    "GET": lambda m: self._list_issues(request, m),
                    "POST": lambda m: self._create_issue(request, m),
                },
            ),
            (re.compile(r"^/user$"), {"GET": lambda m: _Response(200, {"login": "octocat", "id": 1})}),
            (re.compile(r"^/mirror$"), {"POST": lambda m: self._mirror(request)}),
            (_REPO_PATH, {"GET": lambda m: self._repository(m)}),
            (
                re.compile(r"^/echo$"),
                {
                    "GET": lambda m: self._echo(request, token),
                    "POST": lambda m: self._echo(request, token),
                },
            ),
        ]
        for pattern, handlers in routes:
            match = pattern.match(request.path)
            if match is None:
                continue
            handler = handlers.get(request.method)
            if handler is None:
                return _Response(405, {"message": "Method Not Allowed"}, {"Allow": ", ".join(handlers)})
            return handler(match)
        return _Response(404, {"message": "Not Found"})

    def _repository(self, match: re.Match[str]) -> _Response:
        owner, repo = match["owner"], match["repo"]
        return _Response(200, {"id": 4242, "name": repo, "full_name": f"{owner}/{repo}", "private": False,
                               "default_branch": "main", "has_issues": True,
                               "owner": {"login": owner, "id": 1}})

    def _echo(self, request: RecordedRequest, token: str) -> _Response:
        return _Response(
            200,
            {
                "method": request.method,
                "path": request.path,
                "headers": request.headers,
                "query": request.query,
                "body": request.body.decode("utf-8", errors="replace"),
                "token_seen": token,
            },
        )

    # What `/mirror` fills in for `{{name}}`: values only the server knows (it issues them).
    MIRROR_VALUES: ClassVar[dict[str, str]] = {"session": "SERVERSESSION-abc123", "signature": "SRVSIG-8d7f6e5a4b",
                                                "fresh_access": "fresh-token-abcdef-123",
                                                "fresh_refresh": "fresh-r-987654"}

    def _mirror(self, request: RecordedRequest) -> _Response:
        """Answers what the request asks for: `{status, headers: [[name, value]...], body, encoding}`
        (a server that sets cookies, redirects, links or answers in UTF-16, on demand); `{{session}}`,
        `{{signature}}`, `{{fresh_access}}`, `{{fresh_refresh}}` become values the server issues."""

        def fill(text: str) -> str:
            return re.sub(r"\{\{(\w+)\}\}", lambda m: self.MIRROR_VALUES.get(m.group(1), m.group(0)), text)

        spec = json.loads(request.body or b"{}")
        encoding = spec.get("encoding", "utf-8")
        body = fill(str(spec.get("body", ""))).encode(encoding)
        pairs = [(str(k), fill(str(v))) for k, v in spec.get("headers", [])]
        return _Response(int(spec.get("status", 200)), None, header_list=pairs, raw=body)

    def _list_issues(self, request: RecordedRequest, match: re.Match[str]) -> _Response:
        query = request.query
        per_page = min(_int_param(query, "per_page", self.per_page_default), MAX_PER_PAGE)
        page = _int_param(query, "page", 1)
        # Real GitHub defaults to state=open; defaulting to "all" here keeps
        # every seeded issue visible so pagination counts are simple to assert.
        state = _first(query, "state") or "all"
        if state not in ("open", "closed", "all"):
            return _validation_failed("state", "invalid")
        since_raw = _first(query, "since")
        since: datetime | None = None
        if since_raw is not None:
            try:
                since = _parse_timestamp(since_raw)
            except ValueError:
                return _validation_failed("since", "invalid")

        with self._lock:
            snapshot = [dict(issue) for issue in self.issues_store]
        selected = [
            issue
            for issue in snapshot
            if (state == "all" or issue["state"] == state)
            and (since is None or _parse_timestamp(issue["updated_at"]) >= since)
        ]
        selected.sort(key=lambda issue: int(issue["number"]))
        start = (page - 1) * per_page
        body = selected[start : start + per_page]

        headers: dict[str, str] = {}
        link = self._link_header(request, match, per_page, page, math.ceil(len(selected) / per_page))
        if link:
            headers["Link"] = link
        return _Response(200, body, headers)

    def _link_header(
        self,
        request: RecordedRequest,
        match: re.Match[str],
        per_page: int,
        page: int,
        last_page: int,
    ) -> str:
        base = f"{self._root_url()}/repos/{match['owner']}/{match['repo']}/issues"
        kept = [
            (name, value)
            for name, values in request.query.items()
            if name not in _LINK_EXCLUDED_PARAMS
            for value in values
        ]

        def url(target: int) -> str:
            params = [("per_page", str(per_page)), *kept, ("page", str(target))]
            return f"{base}?{urlencode(params, quote_via=quote, safe=':')}"

        # GitHub's order: prev, next, last, first; next/last vanish on the last
        # page and prev/first on the first page.
        rels: list[tuple[str, int]] = []
        if page > 1:
            rels.append(("prev", page - 1))
        if page < last_page:
            rels.append(("next", page + 1))
            rels.append(("last", last_page))
        if page > 1:
            rels.append(("first", 1))
        return ", ".join(f'<{url(target)}>; rel="{rel}"' for rel, target in rels)

    def _create_issue(self, request: RecordedRequest, match: re.Match[str]) -> _Response:
        try:
            data = json.loads(request.body or b"null")
        except ValueError:
            return _Response(400, {"message": "Problems parsing JSON"})
        if not isinstance(data, dict):
            return _Response(400, {"message": "Problems parsing JSON"})
        title = data.get("title")
        if title is None or title == "":
            return _validation_failed("title", "missing_field")
        if not isinstance(title, str):
            return _validation_failed("title", "invalid")
        issue_body = data.get("body")
        if issue_body is not None and not isinstance(issue_body, str):
            return _validation_failed("body", "invalid")
        labels = data.get("labels")
        if labels is not None and not (
            isinstance(labels, list) and all(isinstance(label, str) for label in labels)
        ):
            return _validation_failed("labels", "invalid")

        owner, repo = unquote(match["owner"]), unquote(match["repo"])
        with self._lock:
            number = max((int(issue["number"]) for issue in self.issues_store), default=0) + 1
            latest = max(
                (_parse_timestamp(issue["updated_at"]) for issue in self.issues_store),
                default=datetime(2026, 1, 1, 10, tzinfo=UTC),
            )
            issue: dict[str, Any] = {
                "id": 1000 + number,
                "number": number,
                "title": title,
                "state": "open",
                # Derived from the store rather than the wall clock so runs are
                # reproducible and a new issue always sorts after a `since`
                # watermark taken from earlier data.
                "updated_at": (latest + timedelta(hours=1)).strftime(_TIMESTAMP_FORMAT),
                "user": {"login": "octocat"},
                "body": issue_body,
                "labels": [{"name": label} for label in labels or []],
                "html_url": f"https://github.com/{owner}/{repo}/issues/{number}",
            }
            self.issues_store.append(issue)
            created = dict(issue)
        return _Response(201, created)

    def _oauth_token(self, request: RecordedRequest) -> _Response:
        if request.method != "POST":
            return _Response(405, {"message": "Method Not Allowed"}, {"Allow": "POST"})
        params = self._oauth_params(request)
        client_id, client_secret = params.get("client_id"), params.get("client_secret")
        basic = _basic_credentials(request.header("authorization"))
        if basic is not None:
            # RFC 6749 2.3.1: Basic client credentials are form-urlencoded first.
            client_id, client_secret = unquote_plus(basic[0]), unquote_plus(basic[1])
        client_ok = client_id == self.client_id and client_secret == self.client_secret
        invalid = _Response(400, {"error": "invalid_grant"})

        grant_type = params.get("grant_type")
        if grant_type == "refresh_token":
            with self._lock:
                if not client_ok or params.get("refresh_token") not in self.valid_refresh_tokens:
                    return invalid
                access_token, k = self._mint_locked()
                new_refresh = f"refresh-new-{k}"
                self.valid_refresh_tokens.add(new_refresh)
            return _Response(
                200,
                {
                    "access_token": access_token,
                    "token_type": "bearer",
                    "expires_in": 3600,
                    "refresh_token": new_refresh,
                    "scope": "repo",
                },
            )
        if grant_type == "client_credentials":
            if not client_ok:
                return invalid
            with self._lock:
                access_token, _ = self._mint_locked()
            return _Response(
                200,
                {"access_token": access_token, "token_type": "bearer", "expires_in": 3600, "scope": "repo"},
            )
        return _Response(400, {"error": "unsupported_grant_type"})

    def _mint_locked(self) -> tuple[str, int]:
        self._minted += 1
        access_token = f"ghp_refreshed_{self._minted}"
        self.valid_tokens.add(access_token)
        return access_token, self._minted

    @staticmethod
    def _oauth_params(request: RecordedRequest) -> dict[str, str]:
        content_type = (request.header("content-type") or "").lower()
        if "json" in content_type:
            try:
                data = json.loads(request.body or b"{}")
            except ValueError:
                return {}
            if not isinstance(data, dict):
                return {}
            return {str(k): v for k, v in data.items() if isinstance(v, str)}
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            return {}
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


class _Server(ThreadingHTTPServer):
    # Handler threads must never keep the test process alive.
    daemon_threads = True
    block_on_close = False

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeGitHub/1.0"
    sys_version = ""
    # Headers and body go out in separate writes; with Nagle on, delayed ACKs
    # would add ~40ms to every keep-alive response.
    disable_nagle_algorithm = True
    # Bounds how long an idle keep-alive connection pins a handler thread.
    timeout = 30
    _verb = ""

    @property
    def _server(self) -> _Server:
        server = self.server
        assert isinstance(server, _Server)
        return server

    def setup(self) -> None:
        super().setup()
        self._server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self._server.untrack(self.connection)

    def handle(self) -> None:
        # The client may hang up (e.g. after its own timeout) or the fake may
        # shut down mid-request; neither is worth a traceback.
        with contextlib.suppress(OSError):
            super().handle()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        # The stdlib dispatches on do_<METHOD> and answers unknown verbs with
        # 501 before we see them; funnel every verb through one entry point so
        # they are recorded and get 405 like any other unsupported method.
        self._verb = self.command
        self.command = "DISPATCH"
        return True

    def do_DISPATCH(self) -> None:
        fake = self._server.fake
        split = urlsplit(self.path)
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send(_Response(400, {"message": "Malformed request body"}))
            return
        request = RecordedRequest(
            method=self._verb,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=headers,
            body=body,
        )
        failure, delay = fake._admit(request)
        fake._wait(delay)
        try:
            response = fake._respond(request, failure)
        except Exception:
            # Surface bugs in the fake loudly in test output, but still answer
            # so the client fails on a status code rather than hanging.
            logger.exception("FakeGitHub failed to handle %s %s", request.method, request.path)
            response = _Response(500, {"message": "FakeGitHub internal error"})
        self._send(response)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        raw_length = self.headers.get("Content-Length")
        length = int(raw_length) if raw_length else 0
        if length < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size_line = self.rfile.readline(65537)
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                break
            chunks.append(self.rfile.read(size))
            self.rfile.readline(65537)
        # Trailers end with an empty line; leaving them unread would corrupt
        # the next request on a keep-alive connection.
        while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
            pass
        return b"".join(chunks)

    def _send(self, response: _Response) -> None:
        payload = response.raw if response.raw is not None else json.dumps(response.payload).encode("utf-8")
        self.send_response(response.status)
        for name, value in [*response.headers.items(), *response.header_list]:
            self.send_header(name, value)
        # Injected failures may bring their own Content-Type (e.g. to test
        # non-JSON error pages); a second header would be ambiguous.
        names = [*response.headers, *(k for k, _ in response.header_list)]
        if not any(name.lower() == "content-type" for name in names):
            self.send_header("Content-Type", _JSON_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self._verb != "HEAD":
            self.wfile.write(payload)
