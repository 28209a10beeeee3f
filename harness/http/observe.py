"""The top of every stack: logs each exchange (method, scrubbed URL, status, time) for the run result.

It also notes when each exchange started (from the transport's creation, the start of the run), which retry
of a call it was (the context marks its requests with `harness_attempt`) and, when the fault injector below
answered it, the fault's spec (`harness_fault` on the response or the exception).

In a live run it also lets the scrubber learn what the traffic reveals (a cookie the server sets, the
tokens of an OAuth exchange the function makes), so the run's outputs are redacted of them even when
nothing is recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from ..result import Exchange
from ..secrets.scrubber import Scrubber

URL_TEXT = "harness_url"  # request.extensions key: (the httpx URL, its text), set by the observer


def url_text(request: httpx.Request) -> str:
    """`str(request.url)`, from the observer's copy when the URL is still the one it read (building the text
    of an httpx URL costs more than a replay's whole lookup of it)."""
    seen = request.extensions.get(URL_TEXT)
    if seen is not None and seen[0] is request.url:
        return str(seen[1])
    return str(request.url)


class ObservingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, scrubber: Scrubber, source: str,
                 exchanges: list[Exchange], on_exchange: Callable[[], None] | None = None) -> None:
        self.inner = inner
        self.scrubber = scrubber
        self.source = source
        self.exchanges = exchanges
        self.on_exchange = on_exchange
        self._origin = time.perf_counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        target = str(request.url)
        # The layers below that read the URL as text (a replay's key) take this one while the URL is this one.
        request.extensions[URL_TEXT] = (request.url, target)
        url = self.scrubber.url(target)
        at_ms = (started - self._origin) * 1000
        attempt = int(request.extensions.get("harness_attempt") or 0)
        try:
            response = await self.inner.handle_async_request(request)
        except Exception as exc:
            self.exchanges.append(Exchange(request.method, url, None, (time.perf_counter() - started) * 1000,
                                           self.source, error=type(exc).__name__, at_ms=at_ms, attempt=attempt,
                                           fault=getattr(exc, "harness_fault", None)))
            raise
        if self.source == "live":
            await self._learn(request, response, target)
        self.exchanges.append(Exchange(request.method, url, response.status_code,
                                       (time.perf_counter() - started) * 1000, self.source, at_ms=at_ms,
                                       attempt=attempt, fault=response.extensions.get("harness_fault")))
        if self.on_exchange is not None:
            self.on_exchange()
        return response

    async def _learn(self, request: httpx.Request, response: httpx.Response, target: str) -> None:
        s = self.scrubber
        for name, value in request.headers.multi_items():
            s.header_rules(name, value)
        content = request.content if isinstance(request.stream, httpx.ByteStream) else b""
        if content:
            s.body_rules(content.decode("utf-8", "replace"), request.headers.get("content-type"), url=target)
        for name, value in response.headers.multi_items():
            s.header_rules(name, value)
        ctype = response.headers.get("content-type") or ""
        if "json" in ctype or "x-www-form-urlencoded" in ctype:
            body = await response.aread()
            s.body_rules(body.decode("utf-8", "replace"), ctype, url=target)

    async def aclose(self) -> None:
        await self.inner.aclose()
