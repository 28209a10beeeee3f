"""The Nango proxy seam: the bottom of a live stack that sends provider calls through Nango's `/proxy`.

`--via-nango-proxy` sends every call to `<host>/proxy/<endpoint>` with `Connection-Id` and
`Provider-Config-Key`, the function's headers as `Nango-Proxy-<name>`, `Base-Url-Override` when the call
left the provider's base URL, and `Retries: 0` (harness runs the retry loop itself). Nango adds the
credentials, so none pass through here.
"""

from __future__ import annotations

import httpx

from ..connections.model import Connection
from .network import network_transport

# Headers of the HTTP exchange itself, sent to Nango as they are rather than forwarded with the prefix.
_OWN_HEADERS = frozenset({"host", "content-type", "content-length", "accept", "accept-encoding", "connection",
                          "user-agent", "transfer-encoding"})


class NangoProxyTransport(httpx.AsyncBaseTransport):
    """Sends the provider calls through Nango's `/proxy`, which adds the credentials and calls the provider."""

    def __init__(self, host: str, secret_key: str, connection: Connection, base_url: str, *,
                 inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.host = host.rstrip("/")
        self._key = secret_key
        self.connection = connection
        self.base_url = base_url.rstrip("/")
        self.inner = inner or network_transport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        headers: dict[str, str] = {}
        if url.startswith(self.base_url + "/") or url == self.base_url:
            rest = url[len(self.base_url):]
        else:
            origin = f"{request.url.scheme}://{request.url.netloc.decode()}"
            headers["Base-Url-Override"] = origin
            rest = url[len(origin):]
        for name, value in request.headers.multi_items():
            if name.lower() in _OWN_HEADERS:
                headers[name] = value
            else:
                headers[f"Nango-Proxy-{name}"] = value
        headers.update({
            "authorization": f"Bearer {self._key}",
            "Connection-Id": self.connection.connection_id,
            "Provider-Config-Key": self.connection.integration,
            "Retries": "0",
            "Nango-Is-Dry-Run": "true",
        })
        target = httpx.URL(f"{self.host}/proxy/{rest.lstrip('/')}")
        outgoing = httpx.Request(request.method, target, headers=headers, content=await request.aread(),
                                 extensions=request.extensions)
        return await self.inner.handle_async_request(outgoing)

    async def aclose(self) -> None:
        await self.inner.aclose()
