"""`POST /action/trigger` (sync, or async with `X-Async: true`) and `GET /action/:id`.

A synchronous trigger answers 200 with the action's output as the body; an async one answers 202
`{id, statusUrl}` with `Location`, then `GET /action/<id>` answers 404 while it runs, 200 with the output
when done, or the failure's error answer. Failures are answered as Nango answers them: an `ActionError` is
500 `action_script_runtime_error` with its payload, a provider error 424 `script_http_error` with the
upstream status and body. An invalid input is 400 `invalid_action_input` listing every problem, before
anything runs. `X-Harness-Scenario` (harness's own header) picks the recording a replay uses.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...errors import CassetteError, ConfigError, HarnessError, NotFoundError, ReplayMissError
from ...result import RunResult
from ...telemetry import parent_from
from ...validation import check_value
from ..api_errors import ApiError
from ..bodies import ActionBody, validate
from ..runs import Finished
from .common import authed, body_json, flag, header, json_response, runtime

_MAX_RETRIES = 5


def harness_error(error: HarnessError) -> ApiError:
    """A run that could not start (no recording, unknown connection in the cassette, missing credentials)."""
    if isinstance(error, ReplayMissError):
        return ApiError(500, "replay_miss", str(error), payload={"differences": error.differences})
    if isinstance(error, CassetteError):
        return ApiError(500, "cassette_error", str(error))
    if isinstance(error, NotFoundError):
        return ApiError(404, "not_found", str(error))
    if isinstance(error, ConfigError):
        return ApiError(500, "configuration_error", str(error))
    return ApiError(500, "harness_error", str(error))


def _issues(result: RunResult) -> list[dict[str, Any]]:
    return [{"code": "custom", "message": issue.message, "path": [issue.kind, *(issue.path or "").split(".")]
             if issue.path else [issue.kind]} for issue in result.errors]


def failure(result: RunResult) -> ApiError:
    """A failed action's answer, shaped as Nango's `errResFromNangoErr`."""
    error = result.error
    if error is None:
        return ApiError(500, "invalid_data", "the run produced invalid data", errors=_issues(result))
    if error.type == "action_script_runtime_error":
        return ApiError(500, error.type, "The action script failed with a runtime error", payload=error.payload or {})
    if error.type == "script_http_error":
        payload = error.payload
        if isinstance(payload, dict) and "payload" in payload:
            payload = payload["payload"]
        if not isinstance(payload, dict):
            payload = {"message": payload}
        return ApiError(424, error.type, error.message, payload=payload,
                        extra={"upstream": {"status": error.status, "headers": {}, "body": error.payload}})
    if error.type == "invalid_data":
        kinds = {i.kind for i in result.errors}
        code = "invalid_action_output" if kinds == {"output"} else "invalid_data"
        return ApiError(500, code, error.message, errors=_issues(result))
    if error.type == "script_aborted":
        return ApiError(410, error.type, error.message)
    return ApiError(500, error.type, error.message, payload=error.payload)


def answer(finished: Finished) -> tuple[bool, Any]:
    """(True, output) for a successful action, else (False, its error answer)."""
    if finished.result is None:
        assert finished.error is not None
        return False, harness_error(finished.error)
    if finished.result.ok:
        return True, finished.result.output
    return False, failure(finished.result)


def _retries(request: Request) -> int:
    value = header(request, "x-max-retries")
    if value is None:
        return 0
    if not value.isdigit() or int(value) > _MAX_RETRIES:
        raise ApiError(400, "invalid_headers", f"Invalid X-Max-Retries {value!r}: expected 0 to {_MAX_RETRIES}.",
                       errors=[{"code": "invalid_type", "message": f"expected 0 to {_MAX_RETRIES}",
                                "path": ["x-max-retries"]}])
    return int(value)


@authed
async def trigger(request: Request) -> Response:
    rt = runtime(request)
    if request.url.query:
        raise ApiError(400, "invalid_query_params", "POST /action/trigger takes no query string.")
    body = validate(ActionBody, await body_json(request))
    integration = rt.registry.integration(header(request, "provider-config-key"))
    conn = rt.registry.connection(integration, header(request, "connection-id"))
    definition = rt.registry.action(integration, body.action_name)
    run_async, retries = flag(request, "x-async"), _retries(request)
    _, issues = check_value(body.input, definition.input, "input", strict=True)
    if issues:
        errors = [{"code": "custom", "message": i.message, "path": (i.path or "").split(".") if i.path and
                   i.path != "<root>" else []} for i in issues]
        shown = "; ".join(f"{'.'.join(e['path']) or '<input>'}: {e['message']}" for e in errors)
        raise ApiError(400, "invalid_action_input", f"Invalid input for action {definition.name!r}: {shown}.",
                       errors=errors)
    scenario = rt.registry.scenario_for(definition, input=body.input, explicit=header(request, "x-harness-scenario"))
    parent = parent_from(header(request, "traceparent")) if rt.tracer is not None else None
    if rt.executor.stopping.is_set():
        raise ApiError(503, "server_stopping", "harness serve is stopping; no new runs are started.")
    if run_async:
        job = rt.runner.action_async(definition, conn, body.input, scenario=scenario, retries=retries,
                                     answer=answer, parent=parent)
        status_url = f"/action/{job.id}"
        return json_response({"id": job.id, "statusUrl": status_url}, 202, headers={"Location": status_url})
    finished = await rt.runner.action(definition, conn, body.input, scenario=scenario, parent=parent)
    ok, value = answer(finished)
    if not ok:
        raise value
    return json_response(value)


@authed
async def result(request: Request) -> Response:
    rt = runtime(request)
    action_id = request.path_params["id"]
    job = rt.runner.async_actions.get(action_id)
    if job is None or job.status == "pending":
        what = "is still running" if job is not None else "is unknown"
        raise ApiError(404, "not_found", f"Action {action_id!r} {what}.")
    if job.status == "failed":
        raise job.failure
    return json_response(job.output)


ROUTES = [
    Route("/action/trigger", trigger, methods=["POST"]),
    Route("/action/{id}", result, methods=["GET"]),
]
