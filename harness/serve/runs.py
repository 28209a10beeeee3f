"""One run of a function for the server: the pipeline request, the store, the history, webhooks and spans.

Every run goes through `harness.pipeline.execute` on a worker thread (see `executor`). Replay (the default)
answers provider calls from the function's cassette: the scenario is `default` unless the request names one
or, for an action, another scenario was recorded with the same input. The cassette's own starting
checkpoint is used, so a replayed sync sends exactly the recorded requests every time; its records land in
the server's SQLite store, so a second run counts them unchanged as production would. Live runs (`--live`)
use the connections file, the write guard (`--allow-writes`) and the stored checkpoint (none after a reset).

Syncs and their webhook handlers run one at a time per sync and connection (a trigger waits for the run in
flight); async actions run one at a time, in order, as Nango runs them per environment.
"""

from __future__ import annotations

import asyncio
import sqlite3
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..connections.model import Connection
from ..definitions import Definition, SyncDefinition
from ..errors import HarnessError
from ..pipeline import Outcome, RunRequest, checkpoint_key, execute
from ..records.sqlite import SqliteStore
from ..result import RunError, RunResult
from ..unset import UNSET
from ..webhooks import async_action_payload, sync_payloads
from .adhoc import AdhocConnections
from .executor import Executor, RunInterrupted
from .outbound import Outbound
from .record_reads import clear_records, delete_connection, iso
from .registry import Registry, ServeConnection
from .server_state import ServeState, SyncRun, run_key

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import TracerProvider

    from ..clock import Clock


KEEP_ASYNC_RESULTS = 1000


def _runs(req: RunRequest) -> Callable[[], Outcome]:
    return lambda: execute(req)


@dataclass
class AsyncAction:
    id: str
    integration: str
    connection_id: str
    action: str
    status: str = "pending"  # pending | done | failed
    output: Any = None
    result: RunResult | None = None
    failure: Any = None  # the ApiError answer of a failed action


@dataclass
class RunnerOptions:
    live: bool
    allow_writes: bool
    store_path: Path
    tmp_dir: Path


@dataclass
class Finished:
    """A run's outcome for the caller: the result, or the harness error that kept it from running."""

    result: RunResult | None
    error: HarnessError | None = None
    started_at: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class Runner:
    def __init__(self, registry: Registry, state: ServeState, options: RunnerOptions, executor: Executor,
                 outbound: Outbound, clock: Clock, log: Callable[[str], None],
                 tracer: TracerProvider | None = None) -> None:
        self.registry = registry
        self.state = state
        self.options = options
        self.executor = executor
        self.outbound = outbound
        self.clock = clock
        self.log = log
        self.tracer = tracer
        self.adhoc = AdhocConnections(registry.project, options.tmp_dir)
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}
        self.running: dict[str, SyncRun] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._async_lock = asyncio.Lock()
        self.async_actions: dict[str, AsyncAction] = {}
        self._hurry = asyncio.Event()
        self.mode = "live" if options.live else "replay"

    # -- building requests -------------------------------------------------------------------------
    def _request(self, definition: Definition, conn: ServeConnection, *, scenario: str, input: Any = UNSET,
                 payload: Any = UNSET) -> RunRequest:
        project = self.adhoc.project if conn.origin == "api" else self.registry.project
        # A connection the app created is given explicitly: a replay takes everything else from its cassette.
        given = None
        if conn.origin == "api" and not self.options.live:
            given = Connection(connection_id=conn.connection_id, provider=conn.provider, integration=conn.integration,
                               credentials=dict(conn.credentials), connection_config=dict(conn.connection_config),
                               metadata=conn.metadata, base_url=conn.base_url, source="harness serve")
        return RunRequest(function=definition.name, connection_id=conn.connection_id, connection=given,
                          integration=definition.integration, mode=self.mode, scenario=scenario, input=input,
                          metadata=dict(conn.metadata or {}) if conn.metadata_changed else UNSET, payload=payload,
                          allow_writes=self.options.allow_writes, project=project,
                          source="file" if self.options.live else None, progress=self.executor.progress)

    def _store(self, conn: ServeConnection) -> SqliteStore:
        return SqliteStore(self.options.store_path, conn.connection_id, conn.integration, self.clock.now)

    def _interrupted(self, result: RunResult) -> None:
        if result.error is not None and RunInterrupted().args[0] in result.error.message:
            result.error = RunError("script_aborted", "harness serve stopped during the run")
            result.status = "failed"

    def pending(self) -> list[asyncio.Task[Any]]:
        """Runs (and event functions, async actions) queued or going."""
        return [t for t in self._tasks if not t.done()]

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _after(self, finished: Finished, parent: Context | None = None) -> None:
        """A stop's interruption named as such, and the run's spans."""
        result = finished.result
        if result is None:
            return
        self._interrupted(result)
        if self.tracer is not None:
            from ..telemetry import record_run

            record_run(self.tracer, result, started_at=finished.started_at, extra=finished.extra, parent=parent)

    def _keep_metadata(self, conn: ServeConnection, result: RunResult) -> None:
        # A function's set_metadata/update_metadata stays on the connection, as in Nango.
        if result.ok and result.metadata_writes and isinstance(result.final_metadata, dict):
            self.registry.set_metadata(conn, dict(result.final_metadata))
            self.state.set_metadata(conn.integration, conn.connection_id, dict(result.final_metadata))

    def _line(self, what: str, conn: ServeConnection, finished: Finished) -> None:
        result = finished.result
        if result is None:
            self.log(f"{what} {conn.connection_id}: not run: {finished.error}")
            return
        totals = result.totals()
        counts = f" +{totals['added']} ~{totals['updated']} -{totals['deleted']}" if result.models else ""
        error = f": {result.error.type}: {result.error.message}" if result.error else ""
        self.log(f"{what} {conn.connection_id}: {result.status}{counts} "
                 f"({result.timings.get('total', 0):.0f} ms){error}")

    async def _execute(self, work: Callable[[], Outcome]) -> Finished:
        started = self.clock.now()
        try:
            outcome = await self.executor.run(work)
        except HarnessError as exc:
            return Finished(None, exc, started)
        except Exception as exc:  # a bug in harness: keep serving, say what happened
            self.log(f"internal error: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")
            return Finished(None, HarnessError(f"internal error: {type(exc).__name__}: {exc}"), started)
        return Finished(outcome.result, None, started)

    # -- actions -----------------------------------------------------------------------------------
    async def action(self, definition: Definition, conn: ServeConnection, input: Any, *, scenario: str,
                     parent: Context | None = None) -> Finished:
        req = self._request(definition, conn, scenario=scenario, input=input)
        finished = await self._execute(_runs(req))
        finished.extra = {"harness.trigger": "api"}
        self._after(finished, parent)
        if finished.result is not None:
            self._keep_metadata(conn, finished.result)
        self._line(f"action {definition.qualified_name}", conn, finished)
        return finished

    def action_async(self, definition: Definition, conn: ServeConnection, input: Any, *, scenario: str,
                     retries: int, answer: Callable[[Finished], tuple[bool, Any]],
                     parent: Context | None = None) -> AsyncAction:
        """Queue an action; `answer` turns its outcome into (ok, output or the error answer)."""
        job = AsyncAction(str(uuid.uuid4()), conn.integration, conn.connection_id, definition.name)
        done = [k for k, j in self.async_actions.items() if j.status != "pending"]
        for key in done[:max(0, len(self.async_actions) - KEEP_ASYNC_RESULTS)]:
            del self.async_actions[key]  # the oldest results go first (404 `not_found` afterwards)
        self.async_actions[job.id] = job

        async def go() -> None:
            async with self._async_lock:
                for _ in range(retries + 1):
                    finished = await self.action(definition, conn, input, scenario=scenario, parent=parent)
                    ok, value = answer(finished)
                    if ok or self.executor.stopping.is_set():
                        break
                job.result = finished.result
                job.status, job.output, job.failure = ("done", value, None) if ok else ("failed", None, value)
                self.outbound.send([async_action_payload(connection_id=conn.connection_id,
                                                         provider_config_key=conn.integration, action_id=job.id)])

        self.spawn(go())
        return job

    # -- syncs -------------------------------------------------------------------------------------
    def busy(self, definition: SyncDefinition, conn: ServeConnection) -> bool:
        key = run_key(conn.integration, definition.name, conn.connection_id)
        return key in self.running or self._waiting.get(key, 0) > 0

    def trigger(self, definition: SyncDefinition, conn: ServeConnection, *, trigger: str, reset: bool = False,
                empty_cache: bool = False, scenario: str = "default") -> asyncio.Task[SyncRun | None]:
        """Start a sync run in the background (after the run in flight for this sync and connection)."""
        return self.spawn(self.sync(definition, conn, trigger=trigger, reset=reset, empty_cache=empty_cache,
                                    scenario=scenario))

    def webhook(self, definition: SyncDefinition, conn: ServeConnection, payload: Any) -> asyncio.Task[SyncRun | None]:
        scenario = "webhook" if self.registry.has_recording(definition, "webhook") else "default"
        return self.spawn(self.sync(definition, conn, trigger="webhook", payload=payload, scenario=scenario))

    async def sync(self, definition: SyncDefinition, conn: ServeConnection, *, trigger: str, reset: bool = False,
                   empty_cache: bool = False, scenario: str = "default", payload: Any = UNSET) -> SyncRun | None:
        key = run_key(conn.integration, definition.name, conn.connection_id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            await lock.acquire()
        finally:
            self._waiting[key] -= 1
        try:
            if self.executor.stopping.is_set() or conn.key not in self.registry.connections:
                return None  # stopped, or the connection went away while this run waited
            return await self._sync_locked(definition, conn, key, trigger=trigger, reset=reset,
                                           empty_cache=empty_cache, scenario=scenario, payload=payload)
        finally:
            lock.release()

    async def _sync_locked(self, definition: SyncDefinition, conn: ServeConnection, key: str, *, trigger: str,
                           reset: bool, empty_cache: bool, scenario: str, payload: Any) -> SyncRun:
        webhook = payload is not UNSET
        initial = not self.state.has_succeeded(conn.integration, definition.name, conn.connection_id)
        kind = "WEBHOOK" if webhook else ("FULL" if reset or empty_cache else ("INITIAL" if initial else "INCREMENTAL"))
        run = SyncRun(str(uuid.uuid4()), conn.integration, definition.name, conn.connection_id, kind, "RUNNING",
                      self.clock.now(), trigger=trigger)
        self.running[key] = run
        self.state.add_run(run)
        req = self._request(definition, conn, scenario=scenario, payload=payload)
        ckey = checkpoint_key(definition, webhook=webhook)
        live = self.options.live
        models = list(definition.models)

        def work() -> Outcome:
            store = self._store(conn)
            try:
                if empty_cache:
                    db = sqlite3.connect(str(self.options.store_path))
                    try:
                        clear_records(db, conn.connection_id, conn.integration, models)
                    finally:
                        db.close()
                checkpoint: Any = UNSET
                if live:
                    checkpoint = None if reset or empty_cache else store.get_checkpoint(ckey)
                outcome = execute(replace(req, store=store, checkpoint=checkpoint))
                if live:
                    # Nango keeps every saved checkpoint at once: a failed run resumes from its last one.
                    store.set_checkpoint(ckey, outcome.result.final_checkpoint)
                return outcome
            finally:
                store.close()

        try:
            finished = await self._execute(work)
        finally:
            self.running.pop(key, None)
        finished.extra = {"harness.trigger": trigger, "harness.sync_type": kind}
        self._after(finished)
        result = finished.result
        run.finished_at = self.clock.now()
        if result is not None:
            run.status = "SUCCESS" if result.ok else "STOPPED"
            run.results = {m: {k: c[k] for k in ("added", "updated", "deleted")} for m, c in result.counts().items()}
            run.checkpoint = result.final_checkpoint
            run.error = result.error.to_json() if result.error else None
            self._keep_metadata(conn, result)
        else:
            run.status = "STOPPED"
            run.error = {"type": "harness_error", "message": str(finished.error)}
        self.state.save()
        self._line(f"{'webhook' if webhook else 'sync'} {definition.qualified_name}", conn, finished)
        self.outbound.send(self._sync_webhooks(definition, conn, run, result, initial))
        return run

    def _sync_webhooks(self, definition: SyncDefinition, conn: ServeConnection, run: SyncRun,
                       result: RunResult | None, initial: bool) -> list[dict[str, Any]]:
        if result is not None:
            return sync_payloads(result, provider_config_key=conn.integration, started_at=run.started_at,
                                 initial=initial and run.kind != "FULL")
        return [{"from": "nango", "type": "sync", "connectionId": conn.connection_id,
                 "providerConfigKey": conn.integration, "syncName": definition.name, "syncVariant": "base",
                 "model": ",".join(definition.models), "syncType": "WEBHOOK" if run.kind == "WEBHOOK" else (
                     "INITIAL" if initial else "INCREMENTAL"), "success": False,
                 "error": {"type": "script_error", "description": str(run.error and run.error.get("message"))},
                 "startedAt": iso(run.started_at), "failedAt": iso(run.finished_at)}]

    # -- connection events -------------------------------------------------------------------------
    async def events(self, conn: ServeConnection, event: str) -> list[Finished]:
        """Run every `event` function of the connection's integration, in order."""
        out = []
        for definition in self.registry.events(conn.integration, event):
            finished = await self._execute(_runs(self._request(definition, conn, scenario="default")))
            finished.extra = {"harness.trigger": event}
            self._after(finished)
            if finished.result is not None:
                self._keep_metadata(conn, finished.result)
            self._line(f"{event} {definition.qualified_name}", conn, finished)
            out.append(finished)
        return out

    async def forget(self, conn: ServeConnection) -> None:
        """Drop a deleted connection's records, checkpoints and history."""
        path = self.options.store_path

        def work() -> None:
            db = sqlite3.connect(str(path))
            try:
                delete_connection(db, conn.connection_id, conn.integration)
            finally:
                db.close()

        await self.executor.run(work)
        self.state.forget_connection(conn.integration, conn.connection_id)
        self.adhoc.remove(conn.connection_id)

    # -- stopping ----------------------------------------------------------------------------------
    def hurry(self) -> None:
        """A second stop signal: interrupt the runs in flight now instead of after the grace period."""
        self._hurry.set()
        self.executor.interrupting.set()

    async def stop(self, grace_s: float) -> None:
        """Let runs in flight finish within the grace period, then interrupt them; queued runs never start."""
        self.executor.stopping.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_s
        hurry = asyncio.ensure_future(self._hurry.wait())
        try:
            while (pending := self.pending()) and not self._hurry.is_set() and loop.time() < deadline:
                await asyncio.wait([*pending, hurry], timeout=deadline - loop.time(),
                                   return_when=asyncio.FIRST_COMPLETED)
        finally:
            hurry.cancel()
        late = self.pending()
        if late:
            self.executor.interrupting.set()
            _, rest = await asyncio.wait(late, timeout=max(1.0, min(5.0, grace_s)))
            for task in rest:
                task.cancel()
        for key, run in list(self.running.items()):
            # Still running after the interruption (stuck outside any HTTP call or save): marked failed;
            # whatever it committed stays, as after a crash.
            run.status, run.finished_at = "STOPPED", self.clock.now()
            run.error = {"type": "script_aborted", "message": "harness serve stopped during the run"}
            self.running.pop(key, None)
            self.log(f"sync {run.integration}/{run.sync} {run.connection_id}: stopped during the run (marked failed)")
        self.state.save()
        self.adhoc.close()
