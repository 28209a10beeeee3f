"""Connections: list, get, create (Nango's import endpoint), delete; metadata set (replace) and update (merge).

Paths are the plural ones the SDK sends, plus Nango's deprecated singular ones. A replay hands out the
credentials' scrub placeholders (`<scrubbed:access_token>`), never a real secret; `--live` hands out the
connection's credentials, as Nango does. Creating a connection runs the integration's `validate-connection`
functions (a failure rejects it) and then, in the background, its `post-connection-creation` functions,
starts its syncs' schedules and sends Nango's `auth` webhook; deleting one runs `pre-connection-deletion`
first, then drops its schedules, records and checkpoints.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...connections.model import CREDENTIAL_TYPES
from ...webhooks import auth_payload
from ..api_errors import ApiError, missing
from ..bodies import CreateConnectionBody, MetadataBody, validate
from ..record_reads import iso
from ..registry import ServeConnection
from ..runtime import Runtime
from .common import authed, body_json, json_response, runtime


def _credentials(rt: Runtime, conn: ServeConnection) -> dict[str, Any]:
    if rt.config.live and conn.origin == "file":
        # Fresh from the file and `.harness/tokens.json` (a live run may have refreshed the token).
        from ...connections.file import read_connections

        fresh = read_connections(rt.project.connections_file, rt.project.root, rt.project.state_dir)
        if conn.connection_id in fresh:
            return dict(fresh[conn.connection_id].credentials)
    return dict(conn.credentials)


def public(conn: ServeConnection) -> dict[str, Any]:
    """Nango's `ApiPublicConnection` (the list's items)."""
    return {"id": conn.number, "connection_id": conn.connection_id, "provider_config_key": conn.integration,
            "provider": conn.provider, "created": iso(conn.created_at), "metadata": conn.metadata,
            "errors": [], "end_user": conn.end_user, "tags": conn.tags}


def full(rt: Runtime, conn: ServeConnection) -> dict[str, Any]:
    """Nango's `ApiPublicConnectionFull` (`GET /connections/:id`)."""
    return {"id": conn.number, "connection_id": conn.connection_id, "provider_config_key": conn.integration,
            "provider": conn.provider, "created_at": iso(conn.created_at), "updated_at": iso(conn.updated_at),
            "last_fetched_at": iso(rt.clock.now()), "metadata": conn.metadata,
            "connection_config": conn.connection_config, "webhook_url_override": None, "errors": [],
            "end_user": conn.end_user, "tags": conn.tags, "credentials": _credentials(rt, conn)}


@authed
async def list_connections(request: Request) -> Response:
    rt = runtime(request)
    query = request.query_params
    items = sorted(rt.registry.connections.values(), key=lambda c: c.number)
    if query.get("connectionId"):
        items = [c for c in items if c.connection_id == query["connectionId"]]
    if query.get("search"):
        items = [c for c in items if query["search"].lower() in c.connection_id.lower()]
    wanted = query.get("integrationId")
    if wanted:
        keys = {k.strip() for k in wanted.split(",") if k.strip()}
        items = [c for c in items if c.integration in keys]
    limit_text, page_text = query.get("limit"), query.get("page")
    if limit_text is not None or page_text is not None:
        if not (limit_text or "1").isdigit() or not (page_text or "0").isdigit() or int(limit_text or 1000) < 1:
            raise ApiError(400, "invalid_query_params", "limit must be a positive whole number and page a whole "
                           "number from 0.")
        limit, page = int(limit_text or 1000), int(page_text or 0)
        items = items[page * limit:(page + 1) * limit]
    return json_response({"connections": [public(c) for c in items]})


def _integration_query(rt: Runtime, request: Request) -> str:
    key = request.query_params.get("provider_config_key")
    if not key:
        raise missing("query", "provider_config_key")
    return rt.registry.integration(key)


@authed
async def get_connection(request: Request) -> Response:
    rt = runtime(request)
    integration = _integration_query(rt, request)
    conn = rt.registry.connection(integration, request.path_params["connection_id"])
    return json_response(full(rt, conn))


@authed
async def delete_connection(request: Request) -> Response:
    rt = runtime(request)
    integration = _integration_query(rt, request)
    conn = rt.registry.connection(integration, request.path_params["connection_id"])
    await rt.runner.events(conn, "pre-connection-deletion")  # a failure is logged; the deletion proceeds
    rt.scheduler.remove_connection(conn)
    rt.registry.remove(conn)
    await rt.runner.forget(conn)
    return json_response({"success": True})


def _provider_for(rt: Runtime, integration: str) -> str:
    known = rt.registry.of_integration(integration)
    return known[0].provider if known else integration


@authed
async def create_connection(request: Request) -> Response:
    rt = runtime(request)
    body = validate(CreateConnectionBody, await body_json(request))
    integration = rt.registry.integration(body.provider_config_key)
    kind = str(body.credentials.get("type") or "NONE").upper()
    if kind not in CREDENTIAL_TYPES:
        raise ApiError(400, "invalid_body", f"Invalid body: credentials.type {kind!r} is not supported (use one of "
                       f"{', '.join(CREDENTIAL_TYPES)}).",
                       errors=[{"code": "invalid_enum_value", "message": "unsupported credentials type",
                                "path": ["credentials", "type"]}])
    connection_id = body.connection_id or str(uuid.uuid4())
    owner = rt.runner.adhoc.owner(connection_id)
    if owner is not None and owner != integration:
        raise ApiError(409, "conflict", f"Connection id {connection_id!r} is already used by integration {owner!r} "
                       "on this server; choose another id.")
    if rt.executor.stopping.is_set():
        raise ApiError(503, "server_stopping", "harness serve is stopping.")
    existing = rt.registry.connections.get((integration, connection_id))
    provider = existing.provider if existing is not None else _provider_for(rt, integration)
    base_url = existing.base_url if existing is not None else None
    credentials = {**body.credentials, "type": kind}
    rt.runner.adhoc.add(connection_id=connection_id, integration=integration, provider=provider,
                        credentials=credentials, connection_config=dict(body.connection_config or {}),
                        metadata=body.metadata, base_url=base_url)
    conn = rt.registry.build(connection_id=connection_id, integration=integration, provider=provider,
                             connection_config=dict(body.connection_config or {}), metadata=body.metadata,
                             credentials=credentials, tags=dict(body.tags or {}),
                             end_user=(body.model_extra or {}).get("end_user"), base_url=base_url)
    for finished in await rt.runner.events(conn, "validate-connection"):
        result = finished.result
        if result is None or not result.ok:
            rt.runner.adhoc.rollback(connection_id)  # the connection stays as it was (or absent)
            message = "Connection failed validation"
            payload = result.error.payload if result is not None and result.error is not None else None
            if isinstance(payload, dict):
                message = str(payload.get("message") or payload.get("error") or message)
            elif finished.error is not None:
                message = f"{message}: {finished.error}"
            raise ApiError(400, "connection_validation_failed", message, payload=payload)
    rt.runner.adhoc.commit(connection_id)
    if existing is not None:
        rt.scheduler.remove_connection(existing)
    rt.registry.register(conn)
    rt.schedule_connection(integration, connection_id)
    operation = "override" if existing is not None else "creation"
    rt.outbound.send([auth_payload(connection_id=connection_id, provider_config_key=integration, provider=provider,
                                   auth_mode=kind, operation=operation)])
    if existing is None:
        rt.runner.spawn(rt.runner.events(conn, "post-connection-creation"))
    return json_response(full(rt, conn), 201 if existing is None else 200)


async def _metadata(request: Request, merge: bool) -> Response:
    rt = runtime(request)
    raw = await body_json(request)
    body = validate(MetadataBody, raw)
    integration = rt.registry.integration(body.provider_config_key)
    ids = [body.connection_id] if isinstance(body.connection_id, str) else list(body.connection_id)
    if not ids:
        raise ApiError(400, "invalid_body", "Invalid body: connection_id: give at least one connection id.")
    conns = [rt.registry.connection(integration, cid) for cid in ids]  # every one checked before any change
    for conn in conns:
        value = {**(conn.metadata or {}), **body.metadata} if merge else dict(body.metadata)
        rt.registry.set_metadata(conn, value)
        rt.state.set_metadata(integration, conn.connection_id, value)
    return json_response(raw)


@authed
async def set_metadata(request: Request) -> Response:
    return await _metadata(request, merge=False)


@authed
async def update_metadata(request: Request) -> Response:
    return await _metadata(request, merge=True)


ROUTES = []
for _base in ("/connections", "/connection"):
    ROUTES += [
        Route(f"{_base}/metadata", set_metadata, methods=["POST"]),
        Route(f"{_base}/metadata", update_metadata, methods=["PATCH"]),
        Route(_base, list_connections, methods=["GET"]),
        Route(_base, create_connection, methods=["POST"]),
        Route(f"{_base}/{{connection_id}}", get_connection, methods=["GET"]),
        Route(f"{_base}/{{connection_id}}", delete_connection, methods=["DELETE"]),
    ]
