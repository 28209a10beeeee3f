"""The top of every stack: logs each exchange (method, scrubbed URL, status, time) for the run result."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from ..result import Exchange
from ..secrets.scrubber import Scrubber


class ObservingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, scrubber: Scrubber, source: str,
                 exchanges: list[Exchange], on_exchange: Callable[[], None] | None = None) -> None:
        self.inner = inner
        self.scrubber = scrubber
        self.source = source
        self.exchanges = exchanges
        self.on_exchange = on_exchange

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        url = self.scrubber.url(str(request.url))
        try:
            response = await self.inner.handle_async_request(request)
        except Exception as exc:
            self.exchanges.append(Exchange(request.method, url, None, (time.perf_counter() - started) * 1000,
                                           self.source, error=type(exc).__name__))
            raise
        self.exchanges.append(Exchange(request.method, url, response.status_code,
                                       (time.perf_counter() - started) * 1000, self.source))
        if self.on_exchange is not None:
            self.on_exchange()
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
