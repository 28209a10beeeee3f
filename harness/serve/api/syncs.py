"""`POST /sync/trigger`, `POST /sync/pause`, `POST /sync/start` and `GET /sync/status`.

A trigger answers 200 `{"success": true}` at once and runs in the background (after the run in flight for
that sync and connection). `opts.reset` (or `sync_mode: full_refresh`) runs without the stored checkpoint;
`opts.emptyCache` (or `full_refresh_and_clear_cache`) also deletes the sync's records first. No `syncs`
means every sync of the integration; no connection means every connection of it.

The status follows Nango's rules: `status` is RUNNING while a run is going, else PAUSED when the schedule
is paused, else ERROR when the latest run failed, else SUCCESS (also before any run); a client waits for
`latestExecutionStatus: SUCCESS` with a `finishedAt` after its trigger.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...definitions import SyncDefinition
from ..api_errors import ApiError, missing
from ..bodies import SyncScheduleBody, TriggerSyncBody, sync_names, validate
from ..record_reads import iso
from ..registry import ServeConnection
from ..runtime import Runtime
from .common import authed, body_json, header, json_response, runtime


def _targets(rt: Runtime, integration: str, names: list[str], connection_id: str | None
             ) -> tuple[list[SyncDefinition], list[ServeConnection]]:
    if names:
        syncs = [rt.registry.sync(integration, n) for n in dict.fromkeys(names)]
    else:
        syncs = rt.registry.syncs(integration)
    if not syncs:
        raise ApiError(404, "no_syncs_found", f"Integration {integration!r} has no syncs.")
    conns = ([rt.registry.connection(integration, connection_id)] if connection_id
             else rt.registry.of_integration(integration))
    return syncs, conns


def _stopping(rt: Runtime) -> None:
    if rt.executor.stopping.is_set():
        raise ApiError(503, "server_stopping", "harness serve is stopping; no new runs are started.")


@authed
async def trigger(request: Request) -> Response:
    rt = runtime(request)
    body = validate(TriggerSyncBody, await body_json(request))
    integration = rt.registry.integration(body.provider_config_key or header(request, "provider-config-key"))
    syncs, conns = _targets(rt, integration, sync_names(body.syncs),
                            body.connection_id or header(request, "connection-id"))
    scenario = header(request, "x-harness-scenario")
    if scenario is not None:
        for sync in syncs:
            rt.registry.scenario_for(sync, explicit=scenario)
    _stopping(rt)
    opts = body.opts
    empty = bool(opts and opts.emptyCache) or body.sync_mode == "full_refresh_and_clear_cache"
    reset = bool(opts and opts.reset) or body.full_resync is True or body.sync_mode == "full_refresh" or empty
    for sync in syncs:
        for conn in conns:
            rt.runner.trigger(sync, conn, trigger="api", reset=reset, empty_cache=empty, scenario=scenario or "default")
    return json_response({"success": True})


async def _schedule(request: Request, start: bool) -> Response:
    rt = runtime(request)
    body = validate(SyncScheduleBody, await body_json(request))
    integration = rt.registry.integration(body.provider_config_key)
    syncs, conns = _targets(rt, integration, sync_names(body.syncs), body.connection_id)
    if start:
        _stopping(rt)
    for sync in syncs:
        for conn in conns:
            if start:
                rt.scheduler.start(sync, conn)
            else:
                rt.scheduler.pause(sync, conn)
    return json_response({"success": True})


@authed
async def pause(request: Request) -> Response:
    return await _schedule(request, start=False)


@authed
async def start(request: Request) -> Response:
    return await _schedule(request, start=True)


def status_entry(rt: Runtime, sync: SyncDefinition, conn: ServeConnection) -> dict[str, Any]:
    key = f"{conn.integration}/{sync.name}/{conn.connection_id}"
    latest = rt.state.latest(conn.integration, sync.name, conn.connection_id)
    running = rt.runner.running.get(key)
    if running is not None:
        latest = running
    if latest is not None and latest.status == "RUNNING":
        status = "RUNNING"
    elif rt.scheduler.status(sync, conn) == "PAUSED":
        status = "PAUSED"
    elif latest is not None and latest.status == "STOPPED":
        status = "ERROR"
    else:
        status = "SUCCESS"
    entry: dict[str, Any] = {
        "id": key,
        "connection_id": conn.connection_id,
        "name": sync.name,
        "variant": "base",
        "type": latest.kind if latest is not None else "INITIAL",
        "status": status,
        "frequency": sync.frequency,
        "nextScheduledSyncAt": iso(rt.scheduler.next_run(sync, conn)),
        "recordCount": rt.reader.counts(conn.connection_id, conn.integration, list(sync.models)),
        "checkpoint": None,
    }
    if latest is not None:
        entry["latestExecutionStatus"] = latest.status
        entry["jobStatus"] = latest.status
        entry["latestResult"] = latest.results
        entry["checkpoint"] = latest.checkpoint
        if latest.finished_at is not None and latest.status != "RUNNING":
            entry["finishedAt"] = iso(latest.finished_at)
        if latest.error is not None:
            entry["error"] = latest.error
    return entry


@authed
async def status(request: Request) -> Response:
    rt = runtime(request)
    query = request.query_params
    names = query.get("syncs")
    if names is None or not names.strip():
        raise ApiError(400, "invalid_query_params", "Missing syncs (query): a comma-separated list of sync names, "
                       "or * for all.", errors=[{"code": "invalid_type", "message": "Required", "path": ["syncs"]}])
    key = query.get("provider_config_key")
    if not key:
        raise missing("query", "provider_config_key")
    integration = rt.registry.integration(key)
    wanted = [] if names.strip() == "*" else sync_names([n.strip() for n in names.split(",") if n.strip()])
    syncs, conns = _targets(rt, integration, wanted, query.get("connection_id") or None)
    return json_response({"syncs": [status_entry(rt, s, c) for s in syncs for c in conns]})


ROUTES = [
    Route("/sync/trigger", trigger, methods=["POST"]),
    Route("/sync/pause", pause, methods=["POST"]),
    Route("/sync/start", start, methods=["POST"]),
    Route("/sync/status", status, methods=["GET"]),
]
