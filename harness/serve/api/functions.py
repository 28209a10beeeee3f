"""`GET /scripts/config?format=nango|openai`: the project's functions as Nango describes them to an app or
an agent, and `GET /health`.

`nango` (the default) is one entry per integration, `{providerConfigKey, provider, syncs, actions,
'on-events'}`, each function with its models' JSON Schema (draft-07, under `json_schema.definitions`).
`openai` is `{"data": [{name, description, parameters}]}`: actions with their input's properties (and
`- field: text` lines of the description as field descriptions), syncs with none, as Nango builds it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...agents.tools import collect_tools
from ...definitions import ActionDefinition, Definition, EventDefinition, SyncDefinition
from ...loader import Catalog
from ...packaging.manifest import to_draft7
from ..api_errors import ApiError
from ..runtime import Runtime
from .common import authed, json_response, runtime


def _model_name(tp: Any) -> str | None:
    return tp.__name__ if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _schemas(models: list[type[BaseModel]]) -> dict[str, Any]:
    if not models:
        return {"definitions": {}}
    _, top = models_json_schema([(m, "validation") for m in dict.fromkeys(models)],
                                ref_template="#/definitions/{model}")
    converted: dict[str, Any] = to_draft7({"$defs": top.get("$defs", {})})
    return {"$schema": "http://json-schema.org/draft-07/schema#", "definitions": converted.get("definitions", {})}


def _common(d: Definition) -> dict[str, Any]:
    return {"name": d.name, "description": d.description, "version": d.version or "0.0.1", "scopes": d.scopes,
            "enabled": True, "endpoints": [], "attributes": {}, "is_public": False, "pre_built": False,
            "metadata": {"description": d.description, "scopes": d.scopes}}


def _sync(d: SyncDefinition) -> dict[str, Any]:
    models = list(d.models.values()) + ([d.metadata] if d.metadata is not None else [])
    return {**_common(d), "type": "sync", "sync_type": "incremental", "runs": d.frequency,
            "auto_start": d.auto_start, "track_deletes": False, "returns": list(d.models),
            "input": _model_name(d.metadata), "webhookSubscriptions": d.webhook_subscriptions,
            "json_schema": _schemas(models)}


def _action(d: ActionDefinition) -> dict[str, Any]:
    models = [m for m in (d.input, d.output) if _model_name(m)]
    output = _model_name(d.output)
    return {**_common(d), "type": "action", "input": _model_name(d.input), "returns": [output] if output else [],
            "json_schema": _schemas(models)}


def nango_config(rt: Runtime) -> list[dict[str, Any]]:
    out = []
    for integration in rt.registry.integrations:
        defs = list(rt.registry.definitions(integration))
        conns = rt.registry.of_integration(integration)
        out.append({
            "providerConfigKey": integration,
            "provider": conns[0].provider if conns else integration,
            "syncs": [_sync(d) for d in defs if isinstance(d, SyncDefinition)],
            "actions": [_action(d) for d in defs if isinstance(d, ActionDefinition)],
            "on-events": [{"name": d.name, "event": d.event, "description": d.description}
                          for d in defs if isinstance(d, EventDefinition)],
        })
    return out


def openai_config(rt: Runtime) -> dict[str, Any]:
    catalog: Catalog = rt.registry.catalog
    data: list[dict[str, Any]] = []
    for integration in rt.registry.integrations:
        conns = rt.registry.of_integration(integration)
        provider = conns[0].provider if conns else integration
        for sync in rt.registry.syncs(integration):
            data.append({"name": sync.name,
                         "description": sync.description or f"Execute the {sync.name} sync for {provider}",
                         "parameters": {"type": "object", "properties": {}, "required": []}})
        for tool in collect_tools(catalog, integration):
            schema = tool.input_schema
            data.append({"name": tool.definition.name, "description": tool.definition.description,
                         "parameters": {"type": "object", "properties": schema.get("properties", {}),
                                        "required": schema.get("required", [])}})
    return {"data": data}


@authed
async def scripts_config(request: Request) -> Response:
    rt = runtime(request)
    fmt = request.query_params.get("format") or "nango"
    if fmt == "nango":
        return json_response(nango_config(rt))
    if fmt == "openai":
        return json_response(openai_config(rt))
    raise ApiError(400, "invalid_query_params", f"Invalid format (query): {fmt!r}; use nango or openai.",
                   errors=[{"code": "invalid_enum_value", "message": "use nango or openai", "path": ["format"]}])


async def health(request: Request) -> Response:
    return json_response({"result": "ok"})


ROUTES = [Route("/scripts/config", scripts_config, methods=["GET"])]
