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
    monkeypatch.setattr(httpx.Cookies, "extract_cookies",
                        lambda self, response: (parsed.append(response.url.path), real(self, response))[1])

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
