"""The replay transport: answers every request from a cassette and never opens a socket.

Each incoming request is scrubbed exactly as the recorder scrubbed it, then looked up in the cassette's
index in constant time. A miss raises `ReplayMissError` naming the closest recorded request and what
differs; misses are also kept, so a function that swallows the error still fails its run.
"""

from __future__ import annotations

import httpx

from ..cassettes.format import Cassette
from ..cassettes.matching import InteractionIndex, describe, request_key
from ..errors import ReplayMissError
from .scrub import Scrubber


class ReplayTransport(httpx.AsyncBaseTransport):
    def __init__(self, cassette: Cassette, scrubber: Scrubber) -> None:
        self.cassette = cassette
        self.scrubber = scrubber
        self.index = InteractionIndex(cassette.interactions)
        self.misses: list[ReplayMissError] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raw = await request.aread()
        ctype = request.headers.get("content-type")
        body: str | None = None
        if raw:
            try:
                body = self.scrubber.body(raw.decode("utf-8"), ctype)
            except UnicodeDecodeError:
                body = raw.decode("utf-8", "replace")
        key = request_key(request.method, self.scrubber.url(str(request.url)), body, ctype)
        match = self.index.take(key)
        if match is None:
            raise self._miss(key)
        item = match.interaction
        content = item.response_body.encode("utf-8") if isinstance(item.response_body, str) else item.response_body
        headers = [(k, v) for k, values in item.response_headers.items() for v in values]
        return httpx.Response(item.status, headers=headers, content=content, request=request,
                              extensions={"reason_phrase": item.reason.encode("ascii", "replace")}
                              if item.reason else {})

    def _miss(self, key: tuple[str, str, tuple[tuple[str, str], ...], str]) -> ReplayMissError:
        where = str(self.cassette.path) if self.cassette.path else "the recording"
        near = self.index.nearest(key)
        if near is None:
            message = f"no recorded response for {describe(key)}: {where} has no interactions"
            err = ReplayMissError(message, request={"request": describe(key)})
        else:
            nkey, diffs, played = near
            detail = ("; ".join(diffs) if diffs
                      else "it was already played (the function sent it more times than recorded)")
            if played and diffs:
                detail += " (and it was already played)"
            message = (f"no recorded response for {describe(key)} in {where}; closest recorded: "
                       f"{describe(nkey)}: {detail}")
            err = ReplayMissError(message, request={"request": describe(key)}, nearest={"request": describe(nkey)},
                                  differences=diffs)
        err.hint = "re-record with --record if the function's requests changed on purpose"
        self.misses.append(err)
        return err
