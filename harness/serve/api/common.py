"""What every endpoint shares: the secret-key check, request helpers and JSON answers."""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from .. import api_errors as errors
from ..bodies import parse_json

if TYPE_CHECKING:
    from ..runtime import Runtime

Endpoint = Callable[[Request], Awaitable[Response]]


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def json_response(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def check_key(request: Request) -> None:
    header = request.headers.get("authorization")
    if header is None or not header.strip():
        raise errors.missing_auth()
    scheme, _, key = header.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key or " " in key:
        raise errors.malformed_auth()
    expected = runtime(request).config.secret_key
    if not hmac.compare_digest(key.encode("utf-8"), expected.encode("utf-8")):
        raise errors.unknown_account()


def authed(endpoint: Endpoint) -> Endpoint:
    """Nango's secret-key check (`Authorization: Bearer <secret key>`) before the endpoint."""

    async def wrapped(request: Request) -> Response:
        check_key(request)
        return await endpoint(request)

    wrapped.__name__ = endpoint.__name__
    wrapped.__doc__ = endpoint.__doc__
    return wrapped


async def body_json(request: Request) -> Any:
    return parse_json(await request.body())


def header(request: Request, name: str) -> str | None:
    value = request.headers.get(name)
    return value.strip() if value is not None and value.strip() else None


def flag(request: Request, name: str) -> bool:
    """A stringbool header (`true`/`false`, as zod's stringbool reads it)."""
    value = header(request, name)
    if value is None:
        return False
    lowered = value.lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise errors.ApiError(400, "invalid_headers", f"Invalid {name} header {value!r}: expected true or false.",
                          errors=[{"code": "invalid_type", "message": "expected true or false",
                                   "path": [name.lower()]}])
