"""Record mode `new_episodes`: answer what the cassette knows, call the provider for the rest and record it.

vcrpy's meaning: recorded requests replay (each recorded response once, in order, as in replay), a request
the cassette has no answer for goes to the live stack below the recorder, and the saved cassette is the old
interactions followed by the new ones.
"""

from __future__ import annotations

import httpx

from .recording import RecordingTransport
from .replay import ReplayTransport


class NewEpisodesTransport(httpx.AsyncBaseTransport):
    def __init__(self, replay: ReplayTransport, recorder: RecordingTransport) -> None:
        self.replay = replay
        self.recorder = recorder
        self.replayed = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response, _ = await self.replay.lookup(request)
        if response is not None:
            self.replayed += 1
            return response
        return await self.recorder.handle_async_request(request)

    async def aclose(self) -> None:
        await self.recorder.aclose()
