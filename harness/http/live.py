"""The live transport: adds the connection's credentials as the provider expects, refreshes expired
tokens, and guards writes.

It sits at the bottom of a live stack, just above the network, so nothing above it (the recorder, the
exchange log) ever sees the credentials it adds or the token exchanges it makes. Injection follows
Nango's `buildProxyHeaders`: the default header of the credential type, then the provider's header
templates, then the function's own headers, which win over both (except `user-agent`, where a provider
template wins); the provider's query templates are set on the URL and its body templates are merged into
JSON and form bodies.

Token refresh: before a request, a token that expires within the margin (or an OAUTH2_CC connection
without one) is renewed through the connection's source; a 401 answer renews it once and sends the request
again. The new credentials are written back to the source at once and handed to `on_secret` so that
scrubbing knows them.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

from ..clock import Clock, RealClock
from ..connections import refresh
from ..connections.model import Connection
from ..providers.catalog import Provider
from ..providers.templates import render
from .network import network_transport

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


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


def auth_body(connection: Connection, provider: Provider) -> dict[str, Any]:
    """The provider's body templates, rendered; an unresolved one is left out (as Nango drops it)."""
    scope = connection.template_scope()
    out: dict[str, Any] = {}
    for name, template in provider.body.items():
        if isinstance(template, str):
            value = render(template, scope)
            if value is not None:
                out[name] = value
        else:
            out[name] = template
    return out


def _merge_body(content: bytes, ctype: str, extra: dict[str, Any]) -> tuple[bytes, str | None] | None:
    """The body with the templates merged in (a shallow spread), or None when it cannot take them."""
    if "x-www-form-urlencoded" in ctype:
        pairs = parse_qsl(content.decode("utf-8"), keep_blank_values=True)
        pairs += [(k, str(v)) for k, v in extra.items()]
        return urlencode(pairs).encode(), None
    if not content:
        return json.dumps(extra, separators=(",", ":"), ensure_ascii=False).encode(), "application/json"
    if "json" in ctype or not ctype:
        try:
            data = json.loads(content)
        except ValueError:
            return None
        if isinstance(data, dict):
            merged = {**data, **extra}
            return json.dumps(merged, separators=(",", ":"), ensure_ascii=False).encode(), None
    return None


class LiveTransport(httpx.AsyncBaseTransport):
    def __init__(self, connection: Connection, provider: Provider, *,
                 inner: httpx.AsyncBaseTransport | None = None, clock: Clock | None = None,
                 on_secret: Callable[[str, str], None] | None = None) -> None:
        self.connection = connection
        self.provider = provider
        self.inner = inner or network_transport()
        self.clock = clock or RealClock()
        self.on_secret = on_secret
        self.refreshes: list[str] = []  # why each refresh happened (no token in it)
        self.refresh_errors: list[str] = []
        self._lock = asyncio.Lock()
        self._produced: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        content = await request.aread()
        if refresh.needs_refresh(self.connection, self.provider, self.clock.now()):
            await self._refresh("expired", None)
        used = dict(self.connection.credentials)
        response = await self.inner.handle_async_request(self._outgoing(request, content))
        # A 401 renews the token once; credentials that a refresh just produced are not renewed again.
        if (response.status_code == 401 and refresh.can_refresh(self.connection) and self.connection.origin
                and used not in self._produced):
            body = await response.aread()
            await response.aclose()
            try:
                await self._refresh("401", used)
            except (refresh.TokenRefreshError, httpx.TransportError) as exc:
                # The function gets the provider's 401 (and the recording keeps it), as when Nango's refresh
                # fails; why the refresh failed is kept without any token in it.
                self.refresh_errors.append(f"{type(exc).__name__}: {exc}")
                return httpx.Response(response.status_code, headers=response.headers, content=body,
                                      request=request, extensions=response.extensions)
            response = await self.inner.handle_async_request(self._outgoing(request, content))
        return response

    def _outgoing(self, request: httpx.Request, content: bytes) -> httpx.Request:
        headers = httpx.Headers(request.headers)
        for name, value in auth_headers(self.connection, self.provider).items():
            if name not in headers or name == "user-agent":
                headers[name] = value
        url = request.url
        query = auth_query(self.connection, self.provider)
        if query:
            url = url.copy_merge_params(query)
        extra = auth_body(self.connection, self.provider) if request.method.upper() in BODY_METHODS else {}
        if extra:
            merged = _merge_body(content, headers.get("content-type", "").lower(), extra)
            if merged is not None:
                content, ctype = merged
                if ctype:
                    headers["content-type"] = ctype
        headers.pop("content-length", None)
        return httpx.Request(request.method, url, headers=headers, content=content,
                             extensions=request.extensions)

    async def _refresh(self, why: str, used: dict[str, Any] | None) -> None:
        async with self._lock:
            # Another request may have refreshed while this one waited for the lock.
            if used is not None and self.connection.credentials != used:
                return
            if used is None and not refresh.needs_refresh(self.connection, self.provider, self.clock.now()):
                return
            origin = self.connection.origin
            if origin is None:
                raise refresh.TokenRefreshError(
                    f"connection {self.connection.connection_id!r}: token needs refreshing ({why}) but the "
                    "connection has no source to refresh it from")
            async with httpx.AsyncClient(transport=_Unclosed(self.inner), timeout=30.0) as client:
                creds = await origin.fresh_credentials(self.connection, self.provider, client, self.clock.now(),
                                                       why)
            self.connection.credentials = creds
            self._produced.append(dict(creds))
            self.refreshes.append(why)
            if self.on_secret is not None:
                for name, value in self.connection.secrets().items():
                    self.on_secret(name, value)
            origin.save_credentials(self.connection)

    async def aclose(self) -> None:
        await self.inner.aclose()


class _Unclosed(httpx.AsyncBaseTransport):
    """Lends the network transport to a short-lived client without letting it close it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)
