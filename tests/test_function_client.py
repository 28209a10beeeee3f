"""The function's client keeps cookies as httpx does, and skips the cookie jar for responses that set none."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from harness.http.client import FunctionClient


def test_cookies_are_kept_and_sent_back_and_a_response_without_one_skips_the_jar(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        if request.url.path == "/login":
            return httpx.Response(200, headers=[("Set-Cookie", "sid=abc; Path=/"), ("set-cookie", "t=1; Path=/")])
        return httpx.Response(200, json={"ok": True})

    parsed: list[str] = []
    real = httpx.Cookies.extract_cookies
    # The class's, so every client of the process's (another thread's too): only this client's host counts.
    monkeypatch.setattr(httpx.Cookies, "extract_cookies", lambda self, response: (
        response.url.host == "api.example.com" and parsed.append(response.url.path), real(self, response))[1])

    async def go() -> FunctionClient:
        async with FunctionClient(transport=httpx.MockTransport(answer), base_url="https://api.example.com") as c:
            await c.get("/before")
            await c.get("/login")
            await c.get("/after")
            return c

    client = asyncio.run(go())
    assert seen == [None, None, "sid=abc; t=1"]
    assert parsed == ["/login"]  # the jar read only the response that set cookies
    assert dict(client.cookies) == {"sid": "abc", "t": "1"}
    client.cookies = {"x": "y"}
    assert isinstance(client.cookies, httpx.Cookies) and dict(client.cookies) == {"x": "y"}


def test_a_response_read_whole_is_freed_by_reference_counting_and_reads_as_before() -> None:
    # httpx's client wraps each response's stream in an object that refers back to the response; the
    # function's client swaps it once the response is read, so a response (and its body) is not left to the
    # cyclic collector. A streamed response keeps httpx's wrapper (it is still being read).
    import gc
    import weakref

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"page": request.url.params.get("page")})

    async def go() -> tuple[list[object], weakref.ref[httpx.Response], bool]:
        async with FunctionClient(transport=httpx.MockTransport(answer)) as c:
            response = await c.get("https://api.example.com/items?page=2")
            seen: list[object] = [response.json(), response.content, await response.aread(),
                                  b"".join([part async for part in response.aiter_bytes()]), response.is_closed]
            async with c.stream("GET", "https://api.example.com/items?page=3") as streamed:
                wrapped = type(streamed.stream).__name__ != "ByteStream"
                seen.append(await streamed.aread())
            return seen, weakref.ref(response), wrapped

    gc.collect()
    gc.disable()
    try:
        seen, ref, wrapped = asyncio.run(go())
        assert ref() is None  # freed when the function let go of it, without a collection
    finally:
        gc.enable()
    assert seen == [{"page": "2"}, b'{"page":"2"}', b'{"page":"2"}', b'{"page":"2"}', True, b'{"page":"3"}']
    assert wrapped
