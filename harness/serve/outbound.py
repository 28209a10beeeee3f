"""Webhooks from the server to the app (`--webhook-url`), in Nango's shapes, signed, with Nango's retries.

Payloads and signing are `harness.webhooks`' (keys sorted, compact JSON, `X-Nango-Hmac-Sha256` over the
exact bytes sent); the key is `$NANGO_WEBHOOK_SIGNING_KEY`, else the secret key (what `@nangohq/node`'s
`verifyIncomingWebhookRequest` falls back to when the app gives no signing key). Each delivery runs in the
background, in the order sent per URL; a stop waits for the deliveries in flight.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

from ..clock import Clock
from ..webhooks import Delivery, deliver


class Outbound:
    def __init__(self, url: str | None, key: str, clock: Clock, log: Callable[[str], None]) -> None:
        self.url = url
        self.key = key
        self.clock = clock
        self.log = log
        self.deliveries: deque[Delivery] = deque(maxlen=1000)  # the latest, for tests and diagnostics
        self._tasks: set[asyncio.Task[None]] = set()
        self._chain: asyncio.Task[None] | None = None

    def send(self, payloads: list[dict[str, Any]]) -> None:
        """Queue payloads for delivery after those already queued (none when no URL is set)."""
        if not self.url or not payloads:
            return
        previous = self._chain
        task = asyncio.get_running_loop().create_task(self._send(previous, list(payloads)))
        self._chain = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, previous: asyncio.Task[None] | None, payloads: list[dict[str, Any]]) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        assert self.url is not None
        for payload in payloads:
            delivery = await deliver(self.url, payload, self.key, self.clock)
            self.deliveries.append(delivery)
            what = f"{payload.get('type')} {payload.get('syncName') or payload.get('connectionId', '')}"
            model = payload.get("model")
            if model:
                what += f" {model}"
            if not delivery.ok:
                state = delivery.status if delivery.status is not None else delivery.error
                self.log(f"webhook {what} -> {self.url}: failed ({state}) after {delivery.attempts} attempt(s)")

    async def drain(self) -> None:
        """Wait for every queued delivery."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
