"""The recording transport: passes requests down and keeps a scrubbed copy of every exchange.

The copy is taken above the live transport, so credentials the harness injects are never seen; what the
function itself put in headers, URL or body is scrubbed before it is kept.

Scrubbing is split so that a recording costs O(its traffic): rules run as each exchange passes (they learn
the credentials they remove: a cookie, a `signature=` of a next-page link), and the by-value pass runs
once over everything when `interactions` is read, with every value learned during the run known by then.
A value first seen in a response and learned by a later request is therefore scrubbed in both.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from ..cassettes.format import Interaction, clean_response_headers
from ..secrets.scrubber import Scrubber


def _text(raw: bytes) -> str | bytes:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


@dataclass
class _Exchange:
    """One exchange with the rules applied; the by-value pass is still to come."""

    method: str
    uri: str
    request_headers: list[tuple[str, str]]
    request_body: str | bytes | None
    request_type: str | None
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    response_body: str | bytes
    response_type: str | None


def _lists(headers: list[tuple[str, str]], scrubber: Scrubber) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in headers:
        out.setdefault(name, []).append(scrubber.header_values(name, value))
    return out


class RecordingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, scrubber: Scrubber) -> None:
        self.inner = inner
        self.scrubber = scrubber
        self._pending: list[_Exchange] = []
        self._done: list[Interaction] = []

    @property
    def interactions(self) -> list[Interaction]:
        """The recorded interactions, fully scrubbed with everything known now (one pass over each)."""
        if self._pending:
            s = self.scrubber
            s.compile()
            for ex in self._pending:
                body = s.body_values(ex.request_body, ex.request_type)
                if isinstance(body, bytes):
                    body = body.decode("utf-8", "replace")
                self._done.append(Interaction(
                    method=ex.method, uri=s.text(ex.uri), request_headers=_lists(ex.request_headers, s),
                    request_body=body, status=ex.status, reason=ex.reason,
                    response_headers=clean_response_headers(_lists(ex.response_headers, s)),
                    response_body=s.body_values(ex.response_body, ex.response_type) or ex.response_body,
                ))
            self._pending.clear()
        return self._done

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        s = self.scrubber
        req_raw = await request.aread()
        # Taken before the layers below add credentials or rewrite the request in place.
        url = str(request.url)
        req_headers = [(name, s.header_rules(name, value)) for name, value in request.headers.multi_items()]
        uri = s.url_rules(url)
        req_type = request.headers.get("content-type")
        req_text = _text(req_raw) if req_raw else None
        req_body = s.body_rules(req_text, req_type, url=url) if req_text is not None else None
        response = await self.inner.handle_async_request(request)
        try:
            body = await response.aread()
        finally:
            await response.aclose()
        # A decoded body with its encoding headers removed replays as the function saw it.
        headers = httpx.Headers([(k, v) for k, v in response.headers.multi_items()
                                 if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")])
        resp_type = response.headers.get("content-type")
        resp_body = s.body_rules(_text(body), resp_type, url=url)
        self._pending.append(_Exchange(
            method=request.method, uri=uri, request_headers=req_headers, request_body=req_body,
            request_type=req_type, status=response.status_code, reason=response.reason_phrase,
            response_headers=[(k, s.header_rules(k, v)) for k, v in headers.multi_items()],
            response_body=resp_body if resp_body is not None else b"", response_type=resp_type,
        ))
        return httpx.Response(response.status_code, headers=headers, content=body, request=request,
                              extensions={"http_version": response.extensions.get("http_version", b"HTTP/1.1")})

    async def aclose(self) -> None:
        await self.inner.aclose()
