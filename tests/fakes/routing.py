"""A network transport that sends a provider's real origin to a local fake server, over real sockets.

Requests to `https://api.github.com/...` go to `http://127.0.0.1:<port>/...`; `Link` headers coming back
are mapped the other way, so everything above this transport (the recorder included) sees the provider's
real URLs. `Date` and `Server` are dropped so that recordings made from a fake are byte-stable.
"""

from __future__ import annotations

import httpx

from harness.http.network import network_transport


class RoutingTransport(httpx.AsyncBaseTransport):
    def __init__(self, routes: dict[str, str], inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.routes = {k.rstrip("/"): v.rstrip("/") for k, v in routes.items()}
        self.inner = inner or network_transport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        for origin, target in self.routes.items():
            if url.startswith(origin):
                new_url = httpx.URL(target + url[len(origin):])
                headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() != "host"]
                request = httpx.Request(request.method, new_url, headers=headers, content=await request.aread(),
                                        extensions=request.extensions)
                break
        response = await self.inner.handle_async_request(request)
        headers = []
        for name, value in response.headers.multi_items():
            if name.lower() in ("date", "server"):
                continue
            if name.lower() == "link":
                for origin, target in self.routes.items():
                    value = value.replace(target, origin)
            headers.append((name, value))
        body = await response.aread()
        await response.aclose()
        return httpx.Response(response.status_code, headers=headers, content=body, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()
