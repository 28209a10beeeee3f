"""Request bodies and query strings, checked as Nango checks them (zod there, pydantic here).

A body that is not JSON is `400 invalid_body`; a body of the wrong shape is `400 invalid_body` with every
problem listed as Nango lists zod's: `{"code", "message", "path"}`. Query strings are checked the same way
(`invalid_query_params`).
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .api_errors import ApiError

M = TypeVar("M", bound=BaseModel)

# pydantic's error types, named as zod names them (what an app written against Nango may look at).
_ZOD_CODES = {"missing": "invalid_type", "extra_forbidden": "unrecognized_keys", "literal_error": "invalid_enum_value",
              "enum": "invalid_enum_value"}


def zod_errors(exc: ValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors(include_url=False):
        kind = err["type"]
        code = _ZOD_CODES.get(kind, "invalid_type" if kind.endswith("_type") else "custom")
        message = "Required" if kind == "missing" else err["msg"]
        out.append({"code": code, "message": message, "path": list(err["loc"])})
    return out


def parse_json(raw: bytes) -> Any:
    """The body as JSON; `400 invalid_body` naming where it stops being JSON."""
    if not raw.strip():
        raise ApiError(400, "invalid_body", "The request body is empty; send a JSON object "
                       "(Content-Type: application/json).")
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_body", "The request body is not UTF-8 text; send JSON.") from None
    except json.JSONDecodeError as exc:
        raise ApiError(400, "invalid_body", f"The request body is not valid JSON: {exc.msg} at line {exc.lineno} "
                       f"column {exc.colno}.") from None


def validate(model: type[M], data: Any, where: str = "body") -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = zod_errors(exc)
        first = errors[0]
        path = ".".join(str(p) for p in first["path"]) or "<root>"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ApiError(400, f"invalid_{where}" if where != "query" else "invalid_query_params",
                       f"Invalid {where}: {path}: {first['message']}{more}.", errors=errors) from None


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SyncName(_Body):
    name: str = Field(min_length=1)
    variant: str = "base"


class TriggerOpts(_Body):
    reset: bool | None = None
    emptyCache: bool | None = None  # Nango's spelling


class TriggerSyncBody(_Body):
    syncs: list[str | SyncName] = Field(default_factory=list)
    provider_config_key: str | None = None
    connection_id: str | None = None
    opts: TriggerOpts | None = None
    full_resync: bool | None = None
    sync_mode: Literal["incremental", "full_refresh", "full_refresh_and_clear_cache"] | None = None


class SyncScheduleBody(_Body):
    syncs: list[str | SyncName] = Field(default_factory=list)
    provider_config_key: str = Field(min_length=1)
    connection_id: str | None = None


class ActionBody(_Body):
    action_name: str = Field(min_length=1)
    input: Any = None


class MetadataBody(_Body):
    connection_id: str | list[str]
    provider_config_key: str = Field(min_length=1)
    metadata: dict[str, Any]


class CreateConnectionBody(BaseModel):
    # Nango's import endpoint takes more (end_user, tags...); they are accepted and kept as given.
    model_config = ConfigDict(extra="allow")

    connection_id: str | None = Field(default=None, min_length=1, max_length=255, pattern=r"^[A-Za-z0-9._@|:-]+$")
    provider_config_key: str = Field(min_length=1)
    metadata: dict[str, Any] | None = None
    connection_config: dict[str, Any] | None = None
    credentials: dict[str, Any] = Field(default_factory=lambda: {"type": "NONE"})
    tags: dict[str, str] | None = None


def sync_names(items: list[str | SyncName]) -> list[str]:
    """Plain sync names (`name` or `name::variant`; variants other than `base` are not supported here)."""
    names = []
    for item in items:
        if isinstance(item, SyncName):
            if item.variant != "base":
                raise ApiError(400, "invalid_variant", f"Sync variants are not supported by harness serve "
                               f"({item.name}::{item.variant}); use the base variant.")
            names.append(item.name)
        else:
            name, _, variant = item.partition("::")
            if variant and variant != "base":
                raise ApiError(400, "invalid_variant", f"Sync variants are not supported by harness serve "
                               f"({item}); use the base variant.")
            names.append(name)
    return names
