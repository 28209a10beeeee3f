"""The replay transport: answers every request from a cassette and never opens a socket.

Each incoming request is scrubbed exactly as the recorder scrubbed it (rules aim at credentials only, so a
JSON field named `key` or `token` is matched as it is), then looked up in the cassette's index in constant
time; Nango's request hash (converted recordings) is computed from the body as the function sent it. A
miss raises `ReplayMissError` naming the closest recorded request and what differs; misses are also kept,
so a function that swallows the error still fails its run.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import httpx

from ..cassettes.format import Cassette, Interaction
from ..cassettes.matching import InteractionIndex, Key, describe, key_order_matters, parts_key
from ..cassettes.nango_hash import identity, identity_hash
from ..errors import ReplayMissError
from ..heap import release_freed
from ..secrets.scrubber import Scrubber
from .observe import url_text

# Played bodies dropped between two returns of freed memory to the system.
_RELEASE_BYTES = 8 << 20
# What a played interaction's place in the cassette holds once it is released (see `release_played`).
_PLAYED = Interaction("", "", {}, None, 0, "", {}, b"")


# Headers that make httpx decode or frame a body itself: a response carrying one is built the ordinary way.
_FRAMING = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def recorded_response(item: Interaction, request: httpx.Request) -> httpx.Response:
    """The recorded answer as an httpx response. Header names and values go as UTF-8 bytes: httpx would
    refuse a non-ASCII `str` value, and bytes are what a live server sends (httpx decodes them the same)."""
    body = item.response_body
    # surrogatepass: a JSON cassette can hold a lone surrogate; it must replay, not fail the function.
    content = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    headers = []
    framed = False
    for k, values in item.response_headers.items():  # a loop, not a comprehension: no function made per call
        framed = framed or k.lower() in _FRAMING
        name = k.encode("utf-8", "surrogatepass")
        for v in values:
            headers.append((name, v.encode("utf-8", "surrogatepass")))
    extensions = {"reason_phrase": item.reason.encode("ascii", "replace")} if item.reason else {}
    if framed:
        return httpx.Response(item.status, headers=headers, content=content, request=request,
                              extensions=extensions)
    return _read_response(item.status, headers, content, request, extensions)


def _read_response(status: int, headers: list[tuple[bytes, bytes]], content: bytes, request: httpx.Request,
                   extensions: dict[str, bytes]) -> httpx.Response:
    """`httpx.Response(status, headers=..., content=...)` for a body httpx would pass through unchanged (no
    content or transfer encoding), left in the state that constructor leaves it in (the same headers with the
    Content-Length it adds, read, closed), without running its read: a third of replay's cost per request.
    tests/test_replay_response.py holds it to what httpx's own constructor makes."""
    if content:
        headers.append((b"Content-Length", str(len(content)).encode("ascii")))
    response = httpx.Response(status, headers=headers, stream=httpx.ByteStream(content), request=request,
                              extensions=extensions)
    response._content = content
    response.is_stream_consumed = response.is_closed = True
    return response


class ReplayTransport(httpx.AsyncBaseTransport):
    def __init__(self, cassette: Cassette, scrubber: Scrubber, *, release_played: bool = False) -> None:
        self.cassette = cassette
        self.scrubber = scrubber
        # Drop an interaction from the cassette once played (an interaction plays once; a converted Nango
        # recording's hash entries can play again, so theirs stay).
        self.release_played = release_played
        self._released = 0
        self.ordered = key_order_matters(cassette.context)
        self.index = InteractionIndex(cassette.interactions, str(cassette.path) if cassette.path else None,
                                      ordered=self.ordered)
        self.misses: list[ReplayMissError] = []
        self._learned_from: list[tuple[bytes, bytes]] = []
        base = ((cassette.context.get("connection") or {}).get("base_url") or "") if cassette.context else ""
        self._base_path = urlsplit(str(base)).path.rstrip("/")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response, key = self._answer(request, await request.aread())
        if response is None:
            raise self._miss(key)
        return response

    async def lookup(self, request: httpx.Request) -> tuple[httpx.Response | None, Key]:
        """The recorded response for `request` (consumed), or None and the request's key on a miss."""
        return self._answer(request, await request.aread())

    def _answer(self, request: httpx.Request, raw: bytes) -> tuple[httpx.Response | None, Key]:
        s = self.scrubber
        # The recorder learned from the request's credential headers before scrubbing the rest: so does this.
        # Learning only adds what is not known yet, so the same headers as the last request's teach nothing.
        headers = request.headers.raw
        if headers != self._learned_from:
            s.learn_headers(request.headers.multi_items())
            self._learned_from = headers
        url = url_text(request)
        text = body = ctype = None
        if raw:
            ctype = request.headers.get("content-type")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("utf-8", "replace")
            scrubbed = s.body(text, ctype, url=url)
            body = scrubbed.decode("utf-8", "replace") if isinstance(scrubbed, bytes) else scrubbed
        # The URL is scrubbed and split once (the observer above asks for the same scrubbed URL: it is kept).
        path, pairs = s.request_url(url)[1]
        key = parts_key(request.method, path, pairs, body, ctype, ordered=self.ordered)
        # Nango hashed the body its function sent, unscrubbed: so is this hash.
        nango_hash = self._nango_hash(request, text) if self.index.by_nango_hash else None
        n = self.index.take(key, nango_hash)
        if n is None:
            return None, key
        item = self.index.interactions[n]
        response = recorded_response(item, request)
        if self.release_played and "nango_hash" not in item.extra:
            # The whole interaction goes (its URL and headers too: 2.6 KB a page); the index keeps its key
            # for a miss's closest match, and only unplayed ones are listed after the run.
            self._released += len(item.response_body)
            self.index.interactions[n] = _PLAYED
            if self._released >= _RELEASE_BYTES:
                self._released = 0
                release_freed()  # the bodies' pages go back as the records grow, not after the run
        return response, key

    def _nango_hash(self, request: httpx.Request, body: str | None) -> str:
        # Nango's endpoint is relative to the provider's base URL.
        path = request.url.raw_path.decode("ascii").split("?")[0]
        if self._base_path and path.startswith(self._base_path + "/"):
            path = path[len(self._base_path):]
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        params = parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True)
        return identity_hash(identity(request.method, path, params, headers, body))

    def _miss(self, key: Key) -> ReplayMissError:
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
