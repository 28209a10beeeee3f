"""`GET /records` (the SDK sends `/records/`): a model's records with `_nango_metadata`, paged by cursor.

Headers `Connection-Id` and `Provider-Config-Key`; query `model` (required), `variant` (only `base`),
`modified_after` (or the legacy `delta`; ISO 8601, inclusive), `limit` (1 to 10,000, default 100),
`cursor` (a `next_cursor` this server returned), `filter` (`added`, `updated`, `deleted`, comma-separated)
and `ids` (repeated, at most 100).
"""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..api_errors import ApiError, unknown_model
from ..record_reads import ACTIONS, MAX_IDS, MAX_LIMIT
from .common import authed, header, runtime


def _bad(name: str, message: str) -> ApiError:
    return ApiError(400, "invalid_query_params", f"Invalid {name} (query): {message}.",
                    errors=[{"code": "custom", "message": message, "path": [name]}])


def parse_time(name: str, value: str) -> float:
    text = value.strip()
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise _bad(name, f"{value!r} is not an ISO 8601 date-time") from None
    if when.tzinfo is None:
        from datetime import UTC

        when = when.replace(tzinfo=UTC)
    return when.timestamp()


@authed
async def list_records(request: Request) -> Response:
    rt = runtime(request)
    query = request.query_params
    integration = rt.registry.integration(header(request, "provider-config-key"))
    conn = rt.registry.connection(integration, header(request, "connection-id"))
    model = query.get("model")
    if not model:
        raise _bad("model", "Required")
    models = rt.registry.models(integration)
    if model not in models:
        raise unknown_model(model, integration, sorted(models))
    variant = query.get("variant")
    if variant not in (None, "", "base"):
        raise ApiError(400, "invalid_variant", f"Sync variants are not supported by harness serve ({variant!r}).")
    limit = 100
    if query.get("limit") is not None:
        text = query["limit"]
        if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
            raise _bad("limit", f"{text!r} is not a whole number from 1 to {MAX_LIMIT}")
        limit = int(text)
    after = query.get("modified_after") or query.get("delta")
    modified_after = parse_time("modified_after", after) if after else None
    cursor = 0
    if query.get("cursor"):
        text = query["cursor"]
        if not text.isdigit():
            raise _bad("cursor", f"{text!r} is not a cursor this server returned")
        cursor = int(text)
    actions: tuple[str, ...] = ()
    if query.get("filter"):
        wanted = [a.strip().lower() for a in query["filter"].split(",") if a.strip()]
        unknown = [a for a in wanted if a not in ACTIONS]
        if unknown or not wanted:
            raise _bad("filter", f"{query['filter']!r}: use added, updated, deleted (comma-separated)")
        actions = tuple(dict.fromkeys(wanted))
    ids = query.getlist("ids")
    if len(ids) > MAX_IDS:
        raise _bad("ids", f"{len(ids)} ids given; at most {MAX_IDS}")
    text, _ = rt.reader.page(conn.connection_id, integration, model, modified_after=modified_after, cursor=cursor,
                             limit=limit, actions=actions, ids=ids or None)
    return Response(text, media_type="application/json")


ROUTES = [
    Route("/records", list_records, methods=["GET"]),
    Route("/records/", list_records, methods=["GET"]),
]
