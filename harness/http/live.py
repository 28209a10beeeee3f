"""The live transport: adds the connection's credentials as the provider expects, and guards writes.

It sits at the bottom of a live stack, just above the network, so nothing above it (the recorder, the
exchange log) ever sees the credentials it adds. Headers the function set itself win over the injected
ones, as in Nango.
"""

from __future__ import annotations

import base64

import httpx

from ..connections.model import Connection
from ..errors import WriteBlockedError
from ..providers.catalog import Provider
from ..providers.templates import render

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def auth_headers(connection: Connection, provider: Provider) -> dict[str, str]:
    creds = connection.credentials
    kind = connection.auth_type
    headers: dict[str, str] = {}
    if kind in ("OAUTH2", "APP") and creds.get("access_token"):
        headers["authorization"] = f"Bearer {creds['access_token']}"
    elif kind in ("OAUTH2_CC", "JWT") and creds.get("token"):
        headers["authorization"] = f"Bearer {creds['token']}"
    elif kind == "BASIC":
        pair = f"{creds.get('username') or ''}:{creds.get('password') or ''}".encode()
        headers["authorization"] = "Basic " + base64.b64encode(pair).decode()
    scope = connection.template_scope()
    for name, template in provider.headers.items():
        value = render(str(template), scope)
        if value is not None:
            headers[name.lower()] = value
    return headers


def auth_query(connection: Connection, provider: Provider) -> dict[str, str]:
    scope = connection.template_scope()
    out: dict[str, str] = {}
    for name, template in provider.query.items():
        value = render(str(template), scope)
        if value is not None:
            out[name] = value
    return out


class LiveTransport(httpx.AsyncBaseTransport):
    def __init__(self, connection: Connection, provider: Provider, *, allow_writes: bool = False,
                 inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.connection = connection
        self.provider = provider
        self.allow_writes = allow_writes
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method.upper() not in SAFE_METHODS and not self.allow_writes:
            raise WriteBlockedError(
                f"live {request.method} {request.url.copy_with(query=None)} blocked: a live dry run does not "
                "write to the provider unless asked", hint="pass --allow-writes, or replay a recording")
        for name, value in auth_headers(self.connection, self.provider).items():
            if name not in request.headers:
                request.headers[name] = value
        query = auth_query(self.connection, self.provider)
        if query:
            request.url = request.url.copy_merge_params(query)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
