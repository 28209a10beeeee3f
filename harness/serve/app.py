"""The Starlette application: the API's routes in front of a `Runtime`, Nango's error answers, lifespan.

Any `ApiError` becomes its JSON answer; an unknown path is 404 `not_found` and a known path with another
method 405 `method_not_allowed`, both in Nango's error shape; anything unexpected is 500 `server_error`
(the server keeps running and says what happened on stderr).
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from .api import routes
from .api.common import json_response
from .api_errors import ApiError
from .runtime import Runtime


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return json_response(exc.body(), exc.status, headers=exc.headers or None)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        body = {"error": {"code": "not_found", "message": f"No endpoint {request.method} {request.url.path} "
                          "(harness serve answers the subset of Nango's API described in its README)."}}
    elif exc.status_code == 405:
        body = {"error": {"code": "method_not_allowed", "message": f"{request.method} is not allowed on "
                          f"{request.url.path}."}}
    else:
        body = {"error": {"code": "http_error", "message": str(exc.detail)}}
    return json_response(body, exc.status_code, headers=dict(exc.headers or {}) or None)


def build_app(runtime: Runtime) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    async def _unexpected(request: Request, exc: Exception) -> Response:
        runtime.log(f"internal error on {request.method} {request.url.path}: {type(exc).__name__}: {exc}\n"
                    f"{traceback.format_exc()}")
        return json_response({"error": {"code": "server_error", "message": f"internal error: "
                                        f"{type(exc).__name__}: {exc} (a bug in harness: please report it)"}}, 500)

    app = Starlette(routes=routes(), lifespan=lifespan,
                    exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _unexpected})
    app.state.runtime = runtime
    return app
