"""A generic fake provider on 127.0.0.1: every auth shape and pagination strategy the harness supports.

- `/oauth/token`: `refresh_token` and `client_credentials` grants (client id/secret in the form body);
- `/me`: needs a valid credential of the configured kind (`bearer`, `basic`, `header` API key,
  `query` API key, `body` API key, `custom` header) and answers 401 otherwise;
- `/echo`: reflects method, headers, query and body;
- pagination over `items` ids 1..N: `/cursor` (cursor `meta.next`, `data`; POST takes it in the body),
  `/offset` (`results`), `/page` (a bare list), `/link-header` (Link rel=next, absolute URL),
  `/link-body` (`next` relative link), `/cycle` (a cursor that goes a -> b -> a forever);
- `fail(status, times, headers, path)` queues error answers; `delay` stalls `/slow`.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field
from typing import Any

from .server_base import FakeServer, Reply, Seen


@dataclass
class Failure:
    status: int
    times: int
    headers: dict[str, str]
    path: str | None
    payload: Any = None


@dataclass
class ProviderState:
    auth: str = "bearer"
    tokens: set[str] = field(default_factory=lambda: {"tok-initial-123"})
    refresh_tokens: set[str] = field(default_factory=lambda: {"refresh-initial-123"})
    client_id: str = "client-abc"
    client_secret: str = "client-secret-xyz"
    api_key: str = "key-secret-987"
    username: str = "alice"
    password: str = "pa55word-secret"
    items: int = 7
    delay: float = 0.0
    token_calls: list[dict[str, str]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


class FakeProvider(FakeServer):
    def __init__(self, **kwargs: Any) -> None:
        self.state = ProviderState(**kwargs)
        self._minted = itertools.count(1)
        super().__init__(self._handle_request)

    def fail(self, status: int, *, times: int = 1, headers: dict[str, str] | None = None,
             path: str | None = None, payload: Any = None) -> None:
        self.state.failures.append(Failure(status, times, headers or {}, path, payload))

    # -- dispatch ------------------------------------------------------------------------------------
    def _handle_request(self, req: Seen) -> Reply:
        for failure in self.state.failures:
            if failure.times > 0 and (failure.path is None or req.path.startswith(failure.path)):
                failure.times -= 1
                return Reply(failure.status, failure.payload or {"error": f"injected {failure.status}"},
                             failure.headers)
        if req.path == "/oauth/token":
            return self._token(req)
        if req.path == "/echo":
            return Reply(200, {"method": req.method, "headers": req.headers, "query": req.query,
                               "body": req.body.decode()})
        if req.path == "/me":
            return Reply(200, {"id": "me"}) if self._authorized(req) else Reply(401, {"error": "unauthorized"})
        if req.path == "/slow":
            return Reply(200, {"ok": True}, delay=self.state.delay)
        ids = [{"id": str(i)} for i in range(1, self.state.items + 1)]
        if req.path == "/cursor":
            bag = req.json() if req.method == "POST" else {k: v[0] for k, v in req.query.items()}
            start = int(bag.get("cursor") or 0)
            limit = int(bag.get("limit") or 3)
            page = ids[start:start + limit]
            nxt = str(start + limit) if start + limit < len(ids) else None
            return Reply(200, {"data": page, "meta": {"next": nxt}})
        if req.path == "/offset":
            offset, limit = int(req.q("offset") or 0), int(req.q("limit") or 3)
            return Reply(200, {"results": ids[offset:offset + limit]})
        if req.path == "/page":
            page, per_page = int(req.q("page") or 1), int(req.q("per_page") or 3)
            return Reply(200, ids[(page - 1) * per_page:page * per_page])
        if req.path == "/link-header":
            page, per_page = int(req.q("page") or 1), int(req.q("per_page") or 3)
            headers = {}
            if page * per_page < len(ids):
                headers["link"] = f'<{self.base_url}/link-header?page={page + 1}&per_page={per_page}>; rel="next"'
            return Reply(200, ids[(page - 1) * per_page:page * per_page], headers)
        if req.path == "/link-body":
            page = int(req.q("page") or 1)
            nxt = f"/link-body?page={page + 1}" if page * 3 < len(ids) else None
            return Reply(200, {"items": ids[(page - 1) * 3:page * 3], "next": nxt})
        if req.path == "/cycle":
            cursor = req.q("cursor")
            return Reply(200, {"data": [{"id": cursor or "start"}], "meta": {"next": "b" if cursor == "a" else "a"}})
        return Reply(404, {"error": "not found"})

    # -- auth ----------------------------------------------------------------------------------------
    def _authorized(self, req: Seen) -> bool:
        s = self.state
        auth = req.headers.get("authorization", "")
        if s.auth == "bearer":
            return auth.startswith("Bearer ") and auth[7:] in s.tokens
        if s.auth == "basic":
            expected = base64.b64encode(f"{s.username}:{s.password}".encode()).decode()
            return auth == f"Basic {expected}"
        if s.auth == "header":
            return req.headers.get("x-api-key") == s.api_key
        if s.auth == "query":
            return req.q("api_key") == s.api_key
        if s.auth == "body":
            body = req.json() if req.body else {}
            return isinstance(body, dict) and body.get("api_key") == s.api_key
        if s.auth == "custom":
            return req.headers.get("x-custom-auth") == f"{s.username}/{s.api_key}"
        return False

    def _token(self, req: Seen) -> Reply:
        from urllib.parse import parse_qsl

        form = dict(parse_qsl(req.body.decode()))
        s = self.state
        s.token_calls.append(form)
        if form.get("client_id") != s.client_id or form.get("client_secret") != s.client_secret:
            return Reply(401, {"error": "invalid_client"})
        n = next(self._minted)
        token = f"tok-minted-{n:04d}"
        if form.get("grant_type") == "client_credentials":
            s.tokens.add(token)
            return Reply(200, {"access_token": token, "token_type": "bearer", "expires_in": 3600})
        if form.get("grant_type") == "refresh_token" and form.get("refresh_token") in s.refresh_tokens:
            s.tokens.add(token)
            new_refresh = f"refresh-minted-{n:04d}"
            s.refresh_tokens.add(new_refresh)
            return Reply(200, {"access_token": token, "token_type": "bearer", "expires_in": 3600,
                               "refresh_token": new_refresh})
        return Reply(400, {"error": "invalid_grant"})
