"""External webhooks: `POST /webhook/<environment>/<integration>` (Nango's webhook URL) or
`POST /webhook/<integration>`, routed to the integration's sync webhook handlers.

As Nango does, each sync whose `webhook_subscriptions` match the event runs its handler once per matched
connection, with the body as the payload, one at a time with that sync's other runs. Nango's per-provider
routing scripts are not reproduced; instead:

- the event type is read from a provider event header (`X-GitHub-Event`, `X-Gitlab-Event`, `X-Event-Key`,
  `X-Shopify-Topic`, `X-Event-Type`) or the body's `type`, `event`, `eventType`, `event_type`,
  `subscriptionType`, `topic` or `event.type`; a subscription matches one of them, and `*` matches all.
  A sync with a handler but no subscriptions gets every webhook of its integration;
- the connections are the one named by a `Connection-Id` header or `?connection_id=`, else every
  connection of the integration (Nango's rule when a provider names none).

The answer is 200 `{"success": true, "runs": [{sync, connection_id}]}` at once; the runs go on in the
background. No secret key is asked for (providers do not have it).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...definitions import SyncDefinition
from ..api_errors import ApiError
from ..bodies import parse_json
from .common import header, json_response, runtime

EVENT_HEADERS = ("x-github-event", "x-gitlab-event", "x-event-key", "x-shopify-topic", "x-event-type")
EVENT_KEYS = ("type", "event", "eventType", "event_type", "subscriptionType", "topic")


def event_types(headers: dict[str, str], payload: Any) -> set[str]:
    found = {headers[h] for h in EVENT_HEADERS if headers.get(h)}
    items = payload if isinstance(payload, list) else [payload]
    for item in items:
        if not isinstance(item, dict):
            continue
        for key in EVENT_KEYS:
            value = item.get(key)
            if isinstance(value, str):
                found.add(value)
            elif isinstance(value, dict) and isinstance(value.get("type"), str):
                found.add(value["type"])
    return found


def subscribed(sync: SyncDefinition, types: set[str]) -> bool:
    if sync.webhook is None:
        return False
    subs = sync.webhook_subscriptions
    return not subs or "*" in subs or bool(types & set(subs))


async def receive(request: Request) -> Response:
    rt = runtime(request)
    integration = rt.registry.integration(request.path_params["integration"])
    payload = parse_json(await request.body())
    wanted = header(request, "connection-id") or request.query_params.get("connection_id")
    conns = [rt.registry.connection(integration, wanted)] if wanted else rt.registry.of_integration(integration)
    if rt.executor.stopping.is_set():
        raise ApiError(503, "server_stopping", "harness serve is stopping; no new runs are started.")
    types = event_types({k.lower(): v for k, v in request.headers.items()}, payload)
    runs = []
    for sync in rt.registry.syncs(integration):
        if not subscribed(sync, types):
            continue
        for conn in conns:
            rt.runner.webhook(sync, conn, payload)
            runs.append({"sync": sync.name, "connection_id": conn.connection_id})
    return json_response({"success": True, "runs": runs})


ROUTES = [
    Route("/webhook/{environment}/{integration}", receive, methods=["POST"]),
    Route("/webhook/{integration}", receive, methods=["POST"]),
]
