"""`--webhook-url`: after a dry run, POST Nango's sync webhooks for it to the user's app, signed."""

from __future__ import annotations

import asyncio
import os
import time

import click

from ..errors import ConfigError
from ..result import RunResult

KEY_ENV = "NANGO_WEBHOOK_SIGNING_KEY"


def signing_key() -> str:
    key = os.environ.get(KEY_ENV)
    if not key:
        raise ConfigError(f"--webhook-url needs the signing key in ${KEY_ENV}",
                          hint="set it to the key your app verifies X-Nango-Hmac-Sha256 with")
    return key


def send_sync_webhooks(result: RunResult, url: str, *, quiet: bool = False) -> None:
    from ..clock import RealClock
    from ..webhooks import deliver, sync_payloads

    key = signing_key()
    started = time.time() - result.timings.get("total", 0) / 1000
    payloads = sync_payloads(result, provider_config_key=result.integration, started_at=started,
                             initial=result.initial_checkpoint is None)

    async def send_all() -> None:
        for payload in payloads:
            delivery = await deliver(url, payload, key, RealClock())
            if not quiet:
                state = delivery.status if delivery.status is not None else delivery.error
                click.echo(f"webhook {payload['type']} {payload.get('model', '')} -> {url}: {state} "
                           f"({delivery.attempts} attempt(s))", err=True)

    asyncio.run(send_all())
