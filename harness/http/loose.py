"""Loose replay, for fuzzing: every request gets the response of the closest recorded request.

A fuzzed action sends inputs nobody recorded; what matters is how the function handles plausible answers,
not whether the request was recorded. The closest request is chosen as in miss diagnostics (method, then
path, then query and body), and interactions may be served any number of times. Never opens a socket.
"""

from __future__ import annotations

import httpx

from ..cassettes.format import Cassette
from ..cassettes.matching import InteractionIndex, request_key
from ..errors import ReplayMissError
from ..secrets.scrubber import Scrubber
from .replay import recorded_response


class LooseReplayTransport(httpx.AsyncBaseTransport):
    def __init__(self, cassette: Cassette, scrubber: Scrubber) -> None:
        self.index = InteractionIndex(cassette.interactions, str(cassette.path) if cassette.path else None)
        self.scrubber = scrubber
        self.path = cassette.path

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raw = await request.aread()
        key = request_key(request.method, self.scrubber.url(str(request.url)), raw or None,
                          request.headers.get("content-type"))
        near = self.index.nearest(key)
        if near is None:
            raise ReplayMissError(f"{self.path} has no interactions to answer {request.method} {request.url.path}")
        item = self.index.interactions[self.index.keys.index(near[0])]
        return recorded_response(item, request)
