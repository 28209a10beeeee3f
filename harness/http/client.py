"""The function's HTTP client: httpx's `AsyncClient`, with a cookie jar that is read only when a response
sets a cookie.

httpx hands every response to its cookie jar, which builds urllib request and message objects to look for
`Set-Cookie` (about 18 µs a response, a fifth of a replayed request). Cookies are kept exactly as httpx
keeps them (a `Set-Cookie` is stored and sent back on later requests); a response without one skips the
jar. A response read whole leaves httpx's client-side stream wrapper behind, which refers back to the response
(a reference cycle per response: each one, with its body, waits for the collector); the client swaps it for
a plain stream of the same bytes once the response is read and closed, so reference counting frees it.
"""

from __future__ import annotations

from typing import Any

import httpx


class _Cookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


class FunctionClient(httpx.AsyncClient):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._jar = _Cookies(kwargs.get("cookies"))

    async def send(self, request: httpx.Request, *, stream: bool = False, **kwargs: Any) -> httpx.Response:
        response = await super().send(request, stream=stream, **kwargs)
        if not stream and response.is_closed and response.is_stream_consumed:
            response.stream = httpx.ByteStream(response.content)
        return response

    @property
    def cookies(self) -> httpx.Cookies:
        return self._jar

    @cookies.setter
    def cookies(self, cookies: httpx._types.CookieTypes) -> None:
        self._jar = _Cookies(cookies)
