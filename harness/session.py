"""Preparing one dry run from names (function, connection, scenario) and saving what it recorded.

This is the shared front half of every face: find the project, load the function, pick the mode (replay
when a recording exists, else live), resolve the connection (from the connections file, or from the
cassette when replaying without one), build the transport stack, call the runner, and write the cassette
of a successful recording atomically after scanning it for secrets.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from .cassettes.format import Cassette, load_cassette, write_cassette
from .clock import Clock, RealClock, VirtualClock
from .connections.model import Connection
from .definitions import Definition
from .errors import CassetteError, ConfigError, UsageError
from .http.episodes import NewEpisodesTransport
from .http.faults import FaultTransport, parse_fault
from .http.live import LiveTransport
from .http.loose import LooseReplayTransport
from .http.recording import RecordingTransport
from .http.replay import ReplayTransport
from .loader import Catalog, load_catalog
from .project import Project, load_project
from .providers.catalog import Provider, get_provider
from .records.sqlite import SqliteStore
from .records.store import RecordStore
from .result import RunResult
from .runner import UNSET, HttpStack, RunOptions, run
from .secrets.scrubber import Scrubber

MODES = ("live", "replay", "record")
SCENARIO_NAME = re.compile(r"[A-Za-z0-9_-]+")
# Internal: replay where every request gets the closest recorded answer (action fuzzing).
LOOSE = "loose"
# vcrpy's record modes: none = replay only; once = record when there is no cassette, else replay;
# new_episodes = replay what is recorded, record what is not (appended); all = record everything anew.
RECORD_MODES = ("none", "once", "new_episodes", "all")


@dataclass
class DryRun:
    """Everything a face can ask of one run. Unset values come from the cassette, then the connection."""

    function: str
    connection_id: str
    integration: str | None = None
    mode: str | None = None
    scenario: str = "default"
    # Which run of a multi-run scenario (runs before it are replayed first: see scenarios.py).
    run: int = 1
    input: Any = UNSET
    metadata: Any = UNSET
    checkpoint: Any = UNSET
    payload: Any = UNSET
    strict: bool = True
    allow_writes: bool = False
    max_pages: int | None = None
    max_records: int | None = None
    # Keep the records and final checkpoint of a live run in `.harness/records.sqlite`.
    persist: bool = False
    faults: list[str] | None = None
    # A store shared by several runs (invariant checks); replaces the SQLite store of live runs.
    store: RecordStore | None = None
    interrupt_after_checkpoints: int | None = None
    project: Project | None = None
    # The bottom transport of live runs (tests pass one to reach a fake server without the network).
    network: httpx.AsyncBaseTransport | None = None
    source: str | None = None  # connection source: file | nango (default: file, then cassette, then Nango)
    via_nango_proxy: bool = False
    persist_metadata: bool = False
    timeout: float | None = None  # seconds per request
    clock: Clock | None = None  # live runs: the clock waits go through (tests pass a VirtualClock)
    progress: Callable[[RunResult], None] | None = None  # called as the run goes (the CLI's progress line)
    # vcrpy's record mode (RECORD_MODES); `--record` alone means `all`. Under CI the default is `none`.
    record_mode: str | None = None
    # Save the cassette even when the run failed (off: a failed run writes nothing).
    record_on_failure: bool = False
    # Recorded interactions the run never asked for fail it (exit 3).
    fail_unplayed: bool = False


@dataclass
class Prepared:
    project: Project
    catalog: Catalog
    definition: Definition
    cassette_path: Path
    mode: str
    record_mode: str | None = None
    # The cassette, when the caller has read it already (a scenario test reads it for its context).
    cassette: Cassette | None = None


def prepare(req: DryRun) -> Prepared:
    project = req.project or load_project()
    catalog = load_catalog(project.functions_dir)
    definition = catalog.find(req.function, req.integration)
    if req.mode is not None and req.mode not in (*MODES, LOOSE):
        raise UsageError(f"unknown mode {req.mode!r}", hint="use live, replay or record")
    if not SCENARIO_NAME.fullmatch(req.scenario):
        raise UsageError(f"bad scenario name {req.scenario!r}", hint="use letters, digits, dashes and underscores")
    if req.run < 1:
        raise UsageError(f"bad run number {req.run}", hint="runs are numbered from 1")
    path = project.cassette_path(definition.integration, definition.name, req.scenario, req.run)
    mode, record_mode = _modes(req, path)
    return Prepared(project, catalog, definition, path, mode, record_mode)


def _modes(req: DryRun, path: Path) -> tuple[str, str | None]:
    record_mode = req.record_mode
    if record_mode is not None and record_mode not in RECORD_MODES:
        raise UsageError(f"unknown record mode {record_mode!r}", hint="use " + ", ".join(RECORD_MODES))
    if record_mode is None and req.mode is None and os.environ.get("CI"):
        record_mode = "none"  # CI never goes live behind anyone's back
    if record_mode is None:
        return req.mode or ("replay" if path.is_file() else "live"), ("all" if req.mode == "record" else None)
    if req.mode not in (None, "record"):
        raise UsageError(f"--record-mode {record_mode} cannot be combined with --{req.mode}",
                         hint="use --record-mode alone (or with --record)")
    if record_mode == "none":
        if not path.is_file():
            raise CassetteError(f"no recording at {path} (record mode `none` never calls the provider)",
                                hint="record it with --record-mode once, or --record")
        return "replay", record_mode
    if record_mode == "once":
        return ("replay" if path.is_file() else "record"), record_mode
    if record_mode == "new_episodes":
        return "record", record_mode  # appends when the cassette exists, else records it whole
    return "record", record_mode


def _connection(project: Project, req: DryRun, cassette: Cassette | None, integration: str, mode: str
                ) -> Connection:
    from .connections.resolve import resolve

    stored = (cassette.context.get("connection") if cassette else None) or {}
    return resolve(connections_file=project.connections_file, project_root=project.root,
                   state_dir=project.state_dir, connection_id=req.connection_id, integration=integration,
                   mode=mode, source=req.source, stored=stored)


def _recorded_at(cassette: Cassette) -> float | None:
    value = cassette.context.get("recorded_at")
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def checkpoint_key(definition: Definition, *, webhook: bool = False, variant: str = "base") -> str:
    """Nango's checkpoint keys: `sync:<name>:<variant>`, `webhook:<name>:<variant>`, `action:<name>`..."""
    if definition.type == "sync":
        return f"{'webhook' if webhook else 'sync'}:{definition.name}:{variant}"
    return f"{definition.type}:{definition.name}"


def live_transport(project: Project, req: DryRun, connection: Connection, provider: Provider, base_url: str,
                   scrubber: Scrubber) -> httpx.AsyncBaseTransport:
    """The bottom of a live stack: straight to the provider, or through Nango's proxy."""
    if req.via_nango_proxy:
        from .connections.nango import NangoProxyTransport
        from .connections.resolve import _require_nango

        host, key = _require_nango(project.root, "--via-nango-proxy")
        return NangoProxyTransport(host, key, connection, base_url, allow_writes=req.allow_writes,
                                   inner=req.network)
    return LiveTransport(connection, provider, allow_writes=req.allow_writes, inner=req.network,
                         clock=req.clock, on_secret=scrubber.add_secret)


def persist_metadata(req: DryRun, connection: Connection, result: RunResult) -> None:
    """A live run's metadata writes go back to the connection source only with --persist-metadata."""
    writes = result.metadata_writes
    if not writes:
        return
    if not req.persist_metadata:
        result.logs.append({"level": "info", "at_ms": 0.0, "message": f"{len(writes)} metadata write(s) shown, "
                            "not sent to the connection source (pass --persist-metadata to send them)"})
        return
    if not result.ok or connection.origin is None:
        why = "the run failed" if not result.ok else "the connection has no source to write to"
        result.logs.append({"level": "warn", "at_ms": 0.0, "message": f"metadata not persisted: {why}"})
        return
    where = connection.origin.save_metadata(connection, writes, result.final_metadata)
    result.logs.append({"level": "info", "at_ms": 0.0, "message": f"metadata persisted to {where}"})


def run_frozen(at: float | None, definition: Definition, connection: Connection, stack: HttpStack,
               **kwargs: Any) -> RunResult:
    """`run`, with `datetime.now()` and `time.time()` inside the function frozen at `at` (a replay's
    recording time), so code that reads the wall clock sees the moment the cassette was recorded."""
    if at is None:
        return run(definition, connection, stack, **kwargs)
    import time_machine

    with time_machine.travel(at, tick=False):
        return run(definition, connection, stack, **kwargs)


def _stack(project: Project, req: DryRun, mode: str, cassette: Cassette | None, connection: Connection,
           provider: Provider, base_url: str, scrubber: Scrubber, episodes: bool) -> HttpStack:
    """The transports for the mode: replay (strict or loose) from the cassette, or live, maybe recording."""
    if mode in ("replay", LOOSE):
        assert cassette is not None
        clock = VirtualClock(_recorded_at(cassette))
        if mode == LOOSE:
            return HttpStack(LooseReplayTransport(cassette, scrubber), "replay", scrubber, clock=clock)
        replayer = ReplayTransport(cassette, scrubber)
        return HttpStack(replayer, "replay", scrubber, clock=clock, replayer=replayer)
    connection.require_credentials()
    live = live_transport(project, req, connection, provider, base_url, scrubber)
    stack = HttpStack(live, "live", scrubber, clock=req.clock or RealClock())
    if mode == "record":
        recorder = RecordingTransport(live, scrubber)
        stack.transport, stack.recorder = recorder, recorder
        if episodes:
            assert cassette is not None
            stack.transport = NewEpisodesTransport(ReplayTransport(cassette, scrubber), recorder)
    return stack


def _scenario_context(req: DryRun, definition: Definition, result: RunResult, connection: Connection,
                      base_url: str, scrubber: Scrubber, started_at: datetime, input_value: Any, metadata: Any,
                      checkpoint: Any, payload: Any, provider: Provider | None = None) -> dict[str, Any]:
    """The cassette's `harness:` section: what a replay needs besides the exchanges (secrets scrubbed)."""
    from .secrets.context import provider_credential_fields, scrub_context

    meta_used = connection.metadata if metadata is UNSET else metadata
    context: dict[str, Any] = {
        "function": definition.name,
        "integration": definition.integration,
        "type": result.function_type,
        "scenario": req.scenario,
        "recorded_at": started_at.isoformat().replace("+00:00", "Z"),
        "connection": {"connection_id": connection.connection_id, "provider": connection.provider,
                       "credentials": connection.with_placeholders().credentials,
                       "integration": connection.integration, "base_url": base_url,
                       "connection_config": connection.connection_config, "metadata": meta_used},
    }
    if req.run > 1:
        context["run"] = req.run
    if input_value is not UNSET:
        context["input"] = input_value
    if metadata is not UNSET:
        context["metadata"] = metadata
    if checkpoint is not None:
        context["checkpoint"] = checkpoint
    if payload is not UNSET:
        context["payload"] = payload
    return scrub_context(context, scrubber, credential_fields=provider_credential_fields(provider),
                         metadata_model=definition.metadata)


def execute(req: DryRun, prepared: Prepared | None = None) -> RunResult:
    prep = prepared or prepare(req)
    project, definition, mode = prep.project, prep.definition, prep.mode
    episodes = mode == "record" and prep.record_mode == "new_episodes" and prep.cassette_path.is_file()
    cassette = None
    if mode in ("replay", LOOSE) or episodes:
        cassette = prep.cassette if prep.cassette is not None else load_cassette(prep.cassette_path)
    if cassette is not None and cassette.context.get("function") not in (None, definition.name):
        raise CassetteError(f"{prep.cassette_path} records function {cassette.context.get('function')!r}, "
                            f"not {definition.name!r}")
    connection = _connection(project, req, cassette, definition.integration,
                             "replay" if mode == LOOSE else mode)
    if mode in ("replay", LOOSE):
        connection = connection.with_placeholders()
    stored_conn = (cassette.context.get("connection") or {}) if cassette else {}
    try:
        provider = get_provider(connection.provider, project.settings.get("providers"))
    except ConfigError:
        # A replay needs no provider entry when the cassette knows the base URL (converted Nango recordings).
        if mode not in ("replay", LOOSE) or not stored_conn.get("base_url"):
            raise
        provider = Provider(name=connection.provider)
    try:
        base_url = connection.resolve_base_url(provider)
    except Exception:
        if not stored_conn.get("base_url"):
            raise
        base_url = str(stored_conn["base_url"])
    scrubber = Scrubber.from_settings(connection.secrets(), project.settings.get("scrub"))

    ctx = cassette.context if cassette else {}
    input_value = req.input if req.input is not UNSET else ctx.get("input", UNSET) if cassette else UNSET
    metadata = req.metadata if req.metadata is not UNSET else ctx.get("metadata", UNSET)
    checkpoint = req.checkpoint if req.checkpoint is not UNSET else ctx.get("checkpoint")
    payload = req.payload if req.payload is not UNSET else ctx.get("payload", UNSET) if cassette else UNSET

    started_at = datetime.now(UTC)
    stack = _stack(project, req, mode, cassette, connection, provider, base_url, scrubber, episodes)

    fault_specs = req.faults if req.faults is not None else (ctx.get("faults") or [])
    if fault_specs:
        stack.transport = FaultTransport(stack.transport, [parse_fault(str(f)) for f in fault_specs])

    store: SqliteStore | None = None
    key = checkpoint_key(definition, webhook=payload is not UNSET)
    if mode in ("live", "record") and req.store is None:
        # Live runs count against what earlier runs stored; replays stay self-contained.
        path = project.state_dir / "records.sqlite"
        opener = SqliteStore if req.persist else SqliteStore.scratch_copy
        store = opener(path, connection.connection_id, definition.integration, stack.clock.now)
        if req.persist and checkpoint is None:
            checkpoint = store.get_checkpoint(key)
    options = RunOptions(strict=req.strict, max_pages=req.max_pages, max_records=req.max_records,
                         interrupt_after_checkpoints=req.interrupt_after_checkpoints,
                         timeout_s=req.timeout or RunOptions.timeout_s, fail_unplayed=req.fail_unplayed,
                         progress=req.progress)
    kwargs: dict[str, Any] = dict(provider=provider, base_url=base_url, input=input_value, metadata=metadata,
                                  checkpoint=checkpoint, payload=payload, mode=mode, scenario=req.scenario,
                                  options=options, store=store or req.store)
    frozen = _recorded_at(cassette) if cassette is not None and mode in ("replay", LOOSE) else None
    try:
        result = run_frozen(frozen, definition, connection, stack, **kwargs)
        if store is not None and req.persist and result.ok:
            store.set_checkpoint(key, result.final_checkpoint)
    finally:
        if store is not None:
            store.close()
    result.cassette = project.relative(prep.cassette_path) if mode != "live" else None
    if mode not in ("replay", LOOSE):
        persist_metadata(req, connection, result)
    if mode == "record" and stack.recorder is not None and (result.ok or req.record_on_failure):
        context = _scenario_context(req, definition, result, connection, base_url, scrubber, started_at,
                                    input_value, metadata, checkpoint, payload, provider=provider)
        old = cassette.interactions if episodes and cassette is not None else []
        write_cassette(prep.cassette_path, Cassette([*old, *stack.recorder.interactions], context), scrubber)
        result.cassette_written = True
    return result
