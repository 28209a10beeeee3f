"""The write guard: a live run sends only safe methods unless the user passed `--allow-writes`.

Its own layer, above the recorder, so a blocked write is neither sent nor recorded, whichever bottom (the
provider, Nango's proxy, a fake) the stack has.
"""

from __future__ import annotations

import httpx

from ..errors import WriteBlockedError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WriteGuardTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method.upper() not in SAFE_METHODS:
            raise WriteBlockedError(
                f"live {request.method} {request.url.copy_with(query=None)} blocked: a live dry run does not "
                "write to the provider unless asked", hint="pass --allow-writes, or replay a recording")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
