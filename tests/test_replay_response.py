"""A replayed response is built without running httpx's read of it (harness.http.replay._read_response): it
must be, to the function and to httpx's client, exactly what `httpx.Response(..., content=...)` makes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.cassettes.format import Interaction
from harness.http.replay import recorded_response

REQUEST = httpx.Request("GET", "https://api.example.com/items?page=2")

header_names = st.sampled_from(["Content-Type", "link", "X-Custom", "set-cookie", "ETag", "x-ünïcode",
                                "Content-Encoding", "content-length", "Transfer-Encoding"])
header_values = st.lists(st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=12), min_size=1,
                         max_size=2)
bodies = st.one_of(st.text(max_size=60), st.binary(max_size=60),
                   st.builds(lambda v: json.dumps(v), st.lists(st.integers(), max_size=5)), st.just(""))


def ordinary(item: Interaction) -> httpx.Response:
    """The response as httpx's own constructor makes it (what `recorded_response` did before)."""
    body = item.response_body
    content = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    headers = [(k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass"))
               for k, values in item.response_headers.items() for v in values]
    extensions = {"reason_phrase": item.reason.encode("ascii", "replace")} if item.reason else {}
    return httpx.Response(item.status, headers=headers, content=content, request=REQUEST, extensions=extensions)


def observed(response: httpx.Response) -> dict[str, Any]:
    """Everything a function (or httpx) can see of a response."""
    seen: dict[str, Any] = {
        "status": response.status_code, "reason": response.reason_phrase, "raw": response.headers.raw,
        "headers": response.headers.multi_items(), "closed": response.is_closed,
        "consumed": response.is_stream_consumed, "extensions": response.extensions, "request": response.request,
        "downloaded": response.num_bytes_downloaded, "history": response.history,
        "next_request": response.next_request, "default_encoding": response.default_encoding,
        "links": response.links if "link" in response.headers else None,
    }
    for name in ("content", "text", "encoding", "charset_encoding"):
        try:
            seen[name] = getattr(response, name)
        except Exception as exc:  # a compressed body may not decode: the error must match too
            seen[name] = repr(exc)
    try:
        seen["chunks"] = list(response.iter_bytes(7))
    except Exception as exc:
        seen["chunks"] = repr(exc)
    try:
        seen["json"] = response.json()
    except Exception as exc:
        seen["json"] = type(exc).__name__
    try:
        seen["elapsed"] = response.elapsed
    except RuntimeError as exc:
        seen["elapsed"] = str(exc)
    return seen


@settings(max_examples=150, deadline=None)
@given(status=st.sampled_from([200, 201, 204, 304, 404, 429, 500]), reason=st.sampled_from(["", "OK", "Nöt"]),
       headers=st.dictionaries(header_names, header_values, max_size=4), body=bodies)
def test_a_replayed_response_is_what_httpx_would_make(status: int, reason: str, headers: dict[str, list[str]],
                                                      body: str | bytes) -> None:
    item = Interaction("GET", str(REQUEST.url), {}, None, status, reason, headers, body)
    assert observed(recorded_response(item, REQUEST)) == observed(ordinary(item))


def test_through_httpx_client_the_response_reads_streams_and_closes_the_same() -> None:
    item = Interaction("GET", str(REQUEST.url), {}, None, 200, "OK",
                       {"Content-Type": ["application/json"], "Link": ['<https://api.example.com/items?page=3>; '
                                                                       'rel="next"']}, '[{"id": "1"}]')

    async def through(make: Any) -> list[Any]:
        out: list[Any] = []
        transport = httpx.MockTransport(lambda request: make(item))
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.get(str(REQUEST.url))
            out += [response.json(), response.links["next"]["url"], response.headers.raw, response.is_closed,
                    response.num_bytes_downloaded]
            async with client.stream("GET", str(REQUEST.url)) as streamed:
                out.append(b"".join([part async for part in streamed.aiter_bytes()]))
                out.append(await streamed.aread())
            out.append(streamed.is_closed)
        return out

    ours = asyncio.run(through(lambda i: recorded_response(i, REQUEST)))
    theirs = asyncio.run(through(ordinary))
    assert ours == theirs
    assert ours[0] == [{"id": "1"}] and ours[-1] is True
