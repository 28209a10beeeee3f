"""Redirect to a fake: every request goes to a local server (`base_url`) instead of the provider.

The bottom of a live stack in tests (`harness_live(..., base_url=fake.url)`): the request the function and
the recorder see keeps the provider's URL, so results and cassettes read as if the provider answered.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from .network import network_transport


class RedirectTransport(httpx.AsyncBaseTransport):
    """Sends every request to `base_url` (a local fake) instead of the provider, keeping path and query."""

    def __init__(self, base_url: str, inner: httpx.AsyncBaseTransport | None = None) -> None:
        parts = urlsplit(base_url)
        self.scheme, self.host, self.port = parts.scheme or "http", parts.hostname or "127.0.0.1", parts.port
        self.prefix = parts.path.rstrip("/")
        self.inner = inner or network_transport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # A new request: the caller's one keeps the provider's URL, which is what results and cassettes show.
        url = request.url.copy_with(scheme=self.scheme, host=self.host, port=self.port,
                                    path=self.prefix + request.url.path)
        # The Host header stays the provider's, so a fake that builds links from it links to the provider.
        sent = httpx.Request(request.method, url, headers=request.headers, stream=request.stream,
                             extensions=request.extensions)
        return await self.inner.handle_async_request(sent)

    async def aclose(self) -> None:
        await self.inner.aclose()
