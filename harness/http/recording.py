"""The recording transport: passes requests down and keeps a scrubbed copy of every exchange.

The copy is taken above the live transport, so credentials the harness injects are never seen; what the
function itself put in headers, URL or body is scrubbed by rule and by value before it is kept.
"""

from __future__ import annotations

import httpx

from ..cassettes.format import Interaction, clean_response_headers
from ..secrets.scrubber import Scrubber


def _header_lists(headers: httpx.Headers, scrubber: Scrubber) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in headers.multi_items():
        out.setdefault(name, []).append(scrubber.header(name, value))
    return out


def _text(raw: bytes) -> str | bytes:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


class RecordingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, scrubber: Scrubber) -> None:
        self.inner = inner
        self.scrubber = scrubber
        self.interactions: list[Interaction] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        req_raw = await request.aread()
        # Taken before the layers below add credentials or rewrite the request in place.
        uri = self.scrubber.url(str(request.url))
        req_headers = _header_lists(request.headers, self.scrubber)
        response = await self.inner.handle_async_request(request)
        try:
            body = await response.aread()
        finally:
            await response.aclose()
        # A decoded body with its encoding headers removed replays as the function saw it.
        headers = httpx.Headers([(k, v) for k, v in response.headers.multi_items()
                                 if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")])
        req_text = _text(req_raw) if req_raw else None
        ctype = request.headers.get("content-type")
        scrubbed_req = (self.scrubber.body(req_text, ctype) if isinstance(req_text, str) else None)
        resp_text = _text(body)
        scrubbed_resp = (self.scrubber.body(resp_text, response.headers.get("content-type"))
                         if isinstance(resp_text, str) else resp_text)
        self.interactions.append(Interaction(
            method=request.method, uri=uri, request_headers=req_headers, request_body=scrubbed_req,
            status=response.status_code, reason=response.reason_phrase,
            response_headers=clean_response_headers(_header_lists(headers, self.scrubber)),
            response_body=scrubbed_resp,
        ))
        return httpx.Response(response.status_code, headers=headers, content=body, request=request,
                              extensions={"http_version": response.extensions.get("http_version", b"HTTP/1.1")})

    async def aclose(self) -> None:
        await self.inner.aclose()
