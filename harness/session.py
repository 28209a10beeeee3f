"""Preparing one dry run from names (function, connection, scenario) and saving what it recorded.

This is the shared front half of every face: find the project, load the function, pick the mode (replay
when a recording exists, else live), resolve the connection (from the connections file, or from the
cassette when replaying without one), build the transport stack, call the runner, and write the cassette
of a successful recording atomically after scanning it for secrets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from .cassettes.format import Cassette, load_cassette, write_cassette
from .clock import Clock, RealClock, VirtualClock
from .connections.model import Connection
from .definitions import Definition
from .errors import CassetteError, UsageError
from .http.live import LiveTransport
from .http.recording import RecordingTransport
from .http.replay import ReplayTransport
from .http.scrub import Scrubber
from .loader import Catalog, load_catalog
from .project import Project, load_project
from .providers.catalog import Provider, get_provider
from .result import RunResult
from .runner import UNSET, HttpStack, RunOptions, run

MODES = ("live", "replay", "record")


@dataclass
class DryRun:
    """Everything a face can ask of one run. Unset values come from the cassette, then the connection."""

    function: str
    connection_id: str
    integration: str | None = None
    mode: str | None = None
    scenario: str = "default"
    input: Any = UNSET
    metadata: Any = UNSET
    checkpoint: Any = UNSET
    payload: Any = UNSET
    strict: bool = True
    allow_writes: bool = False
    max_pages: int | None = None
    max_records: int | None = None
    project: Project | None = None
    # The bottom transport of live runs (tests pass one to reach a fake server without the network).
    network: httpx.AsyncBaseTransport | None = None
    source: str | None = None  # connection source: file | nango (default: file, then cassette, then Nango)
    via_nango_proxy: bool = False
    persist_metadata: bool = False
    timeout: float | None = None  # seconds per request
    clock: Clock | None = None  # live runs: the clock waits go through (tests pass a VirtualClock)


@dataclass
class Prepared:
    project: Project
    catalog: Catalog
    definition: Definition
    cassette_path: Path
    mode: str


def prepare(req: DryRun) -> Prepared:
    project = req.project or load_project()
    catalog = load_catalog(project.functions_dir)
    definition = catalog.find(req.function, req.integration)
    if req.mode is not None and req.mode not in MODES:
        raise UsageError(f"unknown mode {req.mode!r}", hint="use live, replay or record")
    if not req.scenario or "/" in req.scenario or req.scenario.startswith("."):
        raise UsageError(f"bad scenario name {req.scenario!r}", hint="use letters, digits, dashes and underscores")
    path = project.cassette_path(definition.integration, definition.name, req.scenario)
    mode = req.mode or ("replay" if path.is_file() else "live")
    return Prepared(project, catalog, definition, path, mode)


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


def execute(req: DryRun, prepared: Prepared | None = None) -> RunResult:
    prep = prepared or prepare(req)
    project, definition, mode = prep.project, prep.definition, prep.mode
    cassette = load_cassette(prep.cassette_path) if mode == "replay" else None
    if cassette is not None and cassette.context.get("function") not in (None, definition.name):
        raise CassetteError(f"{prep.cassette_path} records function {cassette.context.get('function')!r}, "
                            f"not {definition.name!r}")
    connection = _connection(project, req, cassette, definition.integration, mode)
    if mode == "replay":
        connection = connection.with_placeholders()
    provider = get_provider(connection.provider, project.settings.get("providers"))
    stored_conn = (cassette.context.get("connection") or {}) if cassette else {}
    try:
        base_url = connection.resolve_base_url(provider)
    except Exception:
        if not stored_conn.get("base_url"):
            raise
        base_url = str(stored_conn["base_url"])
    scrub_rules = project.settings.get("scrub") or {}
    scrubber = Scrubber(connection.secrets(), headers=scrub_rules.get("headers", ()),
                        params=scrub_rules.get("params", ()))

    ctx = cassette.context if cassette else {}
    input_value = req.input if req.input is not UNSET else ctx.get("input", UNSET) if cassette else UNSET
    metadata = req.metadata if req.metadata is not UNSET else ctx.get("metadata", UNSET)
    checkpoint = req.checkpoint if req.checkpoint is not UNSET else ctx.get("checkpoint")
    payload = req.payload if req.payload is not UNSET else ctx.get("payload", UNSET) if cassette else UNSET

    stack: HttpStack
    started_at = datetime.now(UTC)
    if mode == "replay":
        assert cassette is not None
        stack = HttpStack(ReplayTransport(cassette, scrubber), "replay", scrubber,
                          clock=VirtualClock(_recorded_at(cassette)))
        stack.replayer = stack.transport  # type: ignore[assignment]
    else:
        connection.require_credentials()
        live = live_transport(project, req, connection, provider, base_url, scrubber)
        stack = HttpStack(live, "live", scrubber, clock=req.clock or RealClock())
        if mode == "record":
            recorder = RecordingTransport(live, scrubber)
            stack.transport, stack.recorder = recorder, recorder

    options = RunOptions(strict=req.strict, max_pages=req.max_pages, max_records=req.max_records,
                         timeout_s=req.timeout or RunOptions.timeout_s)
    result = run(definition, connection, stack, provider=provider, base_url=base_url, input=input_value,
                 metadata=metadata, checkpoint=checkpoint, payload=payload, mode=mode, scenario=req.scenario,
                 options=options)
    result.cassette = project.relative(prep.cassette_path) if mode != "live" else None
    if mode != "replay":
        persist_metadata(req, connection, result)
    if mode == "record" and stack.recorder is not None and result.ok:
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
                           "connection_config": scrubber.data(connection.connection_config),
                           "metadata": scrubber.data(meta_used)},
        }
        if input_value is not UNSET:
            context["input"] = scrubber.data(input_value)
        if metadata is not UNSET:
            context["metadata"] = scrubber.data(metadata)
        if checkpoint is not None:
            context["checkpoint"] = checkpoint
        if payload is not UNSET:
            context["payload"] = scrubber.data(payload)
        write_cassette(prep.cassette_path, Cassette(stack.recorder.interactions, context), scrubber)
        result.cassette_written = True
    return result
