"""The HTTP stack under a function's client: its exchange hook, and that a finished stack is freed by reference
counting (a reference cycle left the whole cassette, its index and every exchange to the collector)."""

from __future__ import annotations

import asyncio
import gc
import weakref

import httpx

from harness.cassettes.format import Cassette, Interaction
from harness.clock import VirtualClock
from harness.errors import ReplayMissError
from harness.http.stack import build_stack
from harness.secrets.scrubber import Scrubber

URL = "https://api.example.com/items?page={}"


def cassette(pages: int) -> Cassette:
    return Cassette([Interaction("GET", URL.format(n), {}, None, 200, "OK", {"content-type": ["application/json"]},
                                 f'[{{"id": "{n}"}}]') for n in range(1, pages + 1)], {})


def test_the_exchange_hook_runs_after_each_exchange_and_a_finished_stack_is_freed_without_the_collector() -> None:
    calls: list[int] = []
    stack = build_stack("replay", Scrubber({}), VirtualClock(0.0), cassette=cassette(3))
    exchanges = stack.exchanges
    stack.on_exchange = lambda: calls.append(len(exchanges))
    assert stack.on_exchange is not None

    async def run(transport: httpx.AsyncBaseTransport) -> list[object]:
        async with httpx.AsyncClient(transport=transport) as client:
            return [(await client.get(URL.format(n))).json() for n in (1, 2, 3)]

    assert asyncio.run(run(stack.transport)) == [[{"id": "1"}], [{"id": "2"}], [{"id": "3"}]]
    assert calls == [1, 2, 3]
    stack.on_exchange = None
    assert stack.on_exchange is None
    gc.collect()
    gc.disable()
    try:
        transport = weakref.ref(stack.transport)
        replayer = weakref.ref(stack._replayer) if stack._replayer is not None else None
        del stack
        assert transport() is None and replayer is not None and replayer() is None
    finally:
        gc.enable()


def test_a_replay_that_owns_its_cassette_drops_each_interaction_once_played() -> None:
    tape = cassette(3)
    tape.interactions.append(Interaction("GET", "https://api.example.com/hashed", {}, None, 200, "OK", {},
                                         "{}", extra={"nango_hash": "h1"}))
    stack = build_stack("replay", Scrubber({}), VirtualClock(0.0), cassette=tape, release_played=True)

    async def run(transport: httpx.AsyncBaseTransport) -> tuple[list[int], str]:
        async with httpx.AsyncClient(transport=transport) as client:
            codes = [(await client.get(URL.format(n))).status_code for n in (1, 2)]
            codes.append((await client.get("https://api.example.com/hashed")).status_code)
            try:
                await client.get(URL.format(1))  # played already: a miss, whose closest match is still known
            except ReplayMissError as exc:
                return codes, str(exc)
        return codes, ""

    codes, miss = asyncio.run(run(stack.transport))
    assert codes == [200, 200, 200]
    assert "closest recorded: GET /items?page=1" in miss and "already played" in miss
    uris = [i.uri for i in tape.interactions]
    assert uris[:2] == ["", ""] and uris[2] == URL.format(3)  # played ones gone, the unplayed one kept
    assert uris[3] == "https://api.example.com/hashed"  # a Nango hash entry can play again: kept
    assert stack.report().unplayed == [{"index": 2, "method": "GET", "uri": URL.format(3)}]
