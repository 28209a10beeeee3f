"""The runner: one definition, one connection, one transport stack in; one `RunResult` out.

It builds the context the function sees, validates the input, runs the function (or a sync's webhook
handler), maps whatever it raised to a Nango-named error, validates the output, and fills the result. It
never prints and never writes files: the faces (CLI, pytest plugin, packager) do that with the result.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import gc
import time
import traceback
from pathlib import Path
from typing import Any

import httpx

from . import __version__
from .connections.model import Connection
from .context import ActionContext, ProviderHTTPError, SyncContext
from .definitions import ActionDefinition, ActionError, Definition, SyncDefinition
from .errors import EXIT_CASSETTE, EXIT_FAILED, EXIT_USAGE, HarnessError, ReplayMissError, StoreError, WriteBlockedError
from .http.client import FunctionClient
from .http.stack import HttpStack
from .providers.catalog import Provider
from .records.memory import MemoryStore
from .records.store import RecordStore
from .result import Issue, RunError, RunResult
from .state import InvalidDataError, RunCapped, RunOptions, RunState
from .unset import UNSET
from .validation import check_checkpoint, check_value, parse_value


def _where(exc: BaseException, definition: Definition) -> str | None:
    """file:line of the deepest frame inside the function's own file."""
    target = Path(definition.file).resolve()
    last = None
    for frame in traceback.extract_tb(exc.__traceback__):
        try:
            if Path(frame.filename).resolve() == target:
                last = f"{definition.file}:{frame.lineno}"
        except OSError:
            continue
    return last


def _map_error(exc: BaseException, definition: Definition) -> RunError:
    if isinstance(exc, ActionError):
        payload = exc.payload
        if payload is not None and not isinstance(payload, dict):
            payload = {"message": payload}
        return RunError("action_script_runtime_error", "the function raised ActionError", payload=payload or {})
    if isinstance(exc, ProviderHTTPError):
        return RunError("script_http_error", str(exc), payload=exc.body, status=exc.status)
    if isinstance(exc, ReplayMissError):
        return RunError("replay_miss", str(exc), payload={"differences": exc.differences}, exit_code=EXIT_CASSETTE)
    if isinstance(exc, WriteBlockedError):
        return RunError("write_blocked", str(exc), exit_code=EXIT_USAGE)
    if isinstance(exc, InvalidDataError):
        return RunError("invalid_data", str(exc))
    if isinstance(exc, httpx.TransportError):
        return RunError("script_network_error", f"{type(exc).__name__}: {exc}")
    if isinstance(exc, StoreError):
        return RunError("store_error", str(exc), exit_code=exc.exit_code)
    if isinstance(exc, HarnessError):
        return RunError("sdk_error", str(exc), exit_code=exc.exit_code if exc.exit_code != EXIT_USAGE else EXIT_FAILED)
    where = _where(exc, definition)
    message = f"{type(exc).__name__}: {exc}" + (f" (at {where})" if where else "")
    return RunError("script_internal_error", message, payload={"name": type(exc).__name__, "message": str(exc),
                                                               "location": where})


async def run_async(definition: Definition, connection: Connection, stack: HttpStack, *, provider: Provider,
                    base_url: str, input: Any = UNSET, metadata: Any = UNSET, checkpoint: Any = None,
                    payload: Any = UNSET, mode: str = "live", scenario: str | None = None,
                    options: RunOptions | None = None, store: RecordStore | None = None) -> RunResult:
    """Run `definition` once. A webhook run is asked for by passing `payload` to a sync."""
    options = options or RunOptions()
    started = time.perf_counter()
    result = RunResult(function=definition.name, integration=definition.integration or connection.integration,
                       function_type="webhook" if payload is not UNSET else definition.type,
                       connection_id=connection.connection_id, mode=mode, scenario=scenario,
                       keeping=options.keeping)
    progress = options.progress
    result.requests = stack.exchanges
    if progress is not None:
        stack.on_exchange = lambda: progress(result)
    client = FunctionClient(transport=stack.transport, follow_redirects=True, timeout=options.timeout_s,
                               headers={"user-agent": f"harness/{__version__}"})
    state = RunState(definition, connection, provider, base_url, client, stack, result, options,
                     store or MemoryStore(stack.clock.now, spill_text=options.keeping.spill_text,
                                          redact=options.keeping.redact))
    state.metadata = connection.metadata if metadata is UNSET else metadata
    try:
        if checkpoint is not None:
            data, issues = check_checkpoint(checkpoint, state.checkpoint_model, strict=options.strict)
            state.report(issues)
            state.checkpoint = data
        result.initial_checkpoint = state.checkpoint
        ctx: ActionContext
        fn_started = time.perf_counter()
        if isinstance(definition, SyncDefinition):
            ctx = SyncContext(state)
            if payload is not UNSET:
                if definition.webhook is None:
                    raise HarnessError(f"sync {definition.name!r} has no webhook handler",
                                       hint="decorate one with @<sync>.on_webhook")
                await definition.webhook(ctx, payload)
            else:
                await definition.fn(ctx)
        elif isinstance(definition, ActionDefinition):
            ctx = ActionContext(state)
            value = None if input is UNSET else input
            result.input = value
            data, issues = check_value(value, definition.input, "input", strict=options.strict)
            result.issues.extend(issues)
            if [i for i in issues if i.severity == "error"]:
                raise InvalidDataError(issues)
            arg = parse_value(data, definition.input) if definition.input is not None and not issues else value
            output = await definition.fn(ctx, arg)
            result.output, out_issues = check_value(output, definition.output, "output", strict=options.strict)
            result.has_output = True
            result.issues.extend(out_issues)
        else:
            ctx = ActionContext(state)
            await definition.fn(ctx)
        result.timings["function"] = (time.perf_counter() - fn_started) * 1000
    except RunCapped:
        pass
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        if isinstance(exc, asyncio.CancelledError):
            raise
        result.error = _map_error(exc, definition)
    finally:
        await client.aclose()
    _finish(result, state, stack, options)
    result.timings["total"] = (time.perf_counter() - started) * 1000
    return result


def _finish(result: RunResult, state: RunState, stack: HttpStack, options: RunOptions) -> None:
    result.final_checkpoint = state.checkpoint
    # Nango's checkpoint pitfalls, reported as warnings.
    if any(cp is not None for cp in result.checkpoints) and not state.checkpoint_read and result.capped is None:
        result.issues.append(Issue("checkpoint", "checkpoints were saved but get_checkpoint() was never called: "
                                   "the next run cannot resume from them", severity="warning"))
    saved_records = any(changes.saved for changes in result.models.values())
    if (state.checkpoint_read and not result.checkpoints and saved_records and result.capped is None
            and result.error is None):
        result.issues.append(Issue("checkpoint", "get_checkpoint() was called but no checkpoint was saved: the "
                                   "next run starts from the beginning again (save one after each page)",
                                   severity="warning"))
    if state.cleared_empty:
        result.issues.append(Issue("checkpoint", "clear_checkpoint() was called with no checkpoint saved",
                                   severity="warning"))
    result.final_metadata = state.metadata
    report = stack.report()
    if report.misses and (result.error is None or result.error.type != "replay_miss"):
        miss = report.misses[0]
        result.error = RunError("replay_miss", str(miss), payload={"differences": miss.differences},
                                exit_code=EXIT_CASSETTE)
    result.unplayed = report.unplayed
    result.issues.extend(report.unfired)
    if options.fail_unfired and report.unfired_error is not None and result.error is None:
        result.error = report.unfired_error
    if state.fail_unplayed and result.unplayed and result.error is None:
        result.error = RunError("unplayed_interactions",
                                f"{len(result.unplayed)} recorded interaction(s) were never requested "
                                f"(first: #{result.unplayed[0]['index']} {result.unplayed[0]['method']} "
                                f"{result.unplayed[0]['uri']})", payload={"unplayed": result.unplayed},
                                exit_code=EXIT_CASSETTE)
    errors = result.errors
    if result.error is not None:
        result.status = "failed"
    elif errors:
        result.status = "invalid"
        kinds = sorted({i.kind for i in errors})
        result.error = RunError("invalid_data", f"{len(errors)} validation error(s) in {', '.join(kinds)}")


class _ContextExecutor(concurrent.futures.ThreadPoolExecutor):
    """The function's event loop's default executor: each call runs in a copy of its caller's context, as
    `asyncio.to_thread`'s do. A strict replay's network block (harness/http/blocking.py) is a context variable:
    without this, `run_in_executor(None, ...)` and the loop's own name lookups (`getaddrinfo` runs there)
    escaped it."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


def run(definition: Definition, connection: Connection, stack: HttpStack, **kwargs: Any) -> RunResult:
    """`run_async` for callers that are not in an event loop (the CLI, plain pytest tests)."""
    # A result keeping every row as a dict grows the heap with objects the cyclic collector walks: with
    # the default thresholds it re-walks them again and again (a sixth of a 500,000-record replay), so
    # it collects less often during such a run. Any other run keeps a flat heap of tracked objects (the
    # stores hold records as strings and columns, logs spill or hold lines); there, collecting late only
    # lets each page's cyclic garbage pin fresh memory (a 400,000-record live sync peaked at 106 MB
    # instead of 69, a 500,000-record snapshot replay at 300 MB instead of 276).
    options = kwargs.get("options")
    keeping = options.keeping if options is not None else None
    heap_grows = keeping is None or (keeping.in_memory is None and not keeping.encoded)
    thresholds = gc.get_threshold()
    if heap_grows:
        gc.set_threshold(max(thresholds[0], 100_000), *thresholds[1:])
    try:
        with asyncio.Runner() as runner:  # asyncio.run's, with the executor above
            runner.get_loop().set_default_executor(_ContextExecutor(thread_name_prefix="harness-function"))
            return runner.run(run_async(definition, connection, stack, **kwargs))
    finally:
        gc.set_threshold(*thresholds)
