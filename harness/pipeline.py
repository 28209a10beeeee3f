"""The one way into the engine: a `RunRequest` in, an `Outcome` out.

Every face (CLI commands, the pytest plugin and its fixtures, `harness dev`, deploy's gate, invariant
checks, fuzzing) builds a `RunRequest` and calls `execute`, which:

1. finds the project, loads the function, and picks the mode (replay when a recording exists, else live;
   vcrpy's record modes; `none` under CI);
2. reads the scenario's cassette and its typed context (`cassettes.scenario.ScenarioContext`);
3. resolves the connection: in a replay from the cassette alone (hermetic: the connections file, `.env`
   and the environment change nothing), live from the connections file or Nango;
4. builds the transport stack (`http.stack.build_stack`), the clock, and the records store;
5. runs the function (`runner.run`), with time frozen at the recording's moment in a replay, runs 1..N-1
   of a multi-run scenario replayed first on the same store;
6. writes the cassette of a successful recording atomically after scanning it for secrets.

Nothing else builds a transport stack or picks a connection.
"""

from __future__ import annotations

import contextlib
import functools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from .cassettes.format import Cassette, Interaction, load_cassette, write_cassette
from .cassettes.locations import existing_cassette
from .cassettes.scenario import ScenarioContext, StoredConnection, build_context
from .ci import under_ci
from .clock import Clock, RealClock, VirtualClock
from .connections.model import Connection
from .definitions import Definition
from .errors import CassetteError, ConfigError, UsageError
from .frozen import frozen_at
from .http.faults import parse_fault
from .http.stack import HttpStack, LiveSpec, build_stack
from .loader import Catalog, load_catalog
from .project import Project, load_project
from .providers.catalog import Provider, get_provider
from .records.log import IN_MEMORY, Keeping
from .records.memory import MemoryStore
from .records.sqlite import SqliteStore
from .records.store import RecordStore
from .result import RunResult
from .runner import run
from .secrets.scrubber import Scrubber
from .state import RunOptions
from .unset import UNSET

__all__ = ["LOOSE", "MODES", "RECORD_MODES", "UNSET", "Outcome", "Prepared", "RunRequest", "checkpoint_key",
           "execute", "prepare", "run_paths", "run_request"]

MODES = ("live", "replay", "record")
SCENARIO_NAME = re.compile(r"[A-Za-z0-9_-]+")
# Replay where every request gets the closest recorded answer (action fuzzing).
LOOSE = "loose"
# vcrpy's record modes: none = replay only; once = record when there is no cassette, else replay;
# new_episodes = replay what is recorded, record what is not (appended); all = record everything anew.
RECORD_MODES = ("none", "once", "new_episodes", "all")


@dataclass
class RunRequest:
    """Everything a face can ask of one run. Unset values come from the cassette, then the connection."""

    function: str
    # Empty: the connection the scenario's cassette was recorded with (replays).
    connection_id: str = ""
    # An explicit connection instead of the one the cassette (replay) or the connection source (live) gives;
    # in a replay its credentials become placeholders and the cassette's base URL is kept.
    connection: Connection | None = None
    integration: str | None = None
    mode: str | None = None
    scenario: str = "default"
    # Which run of a multi-run scenario (runs before it are replayed first); None: the last recorded run.
    run: int | None = 1
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
    # Live runs: send every request to this base URL (a local fake) instead of the provider.
    redirect: str | None = None
    source: str | None = None  # connection source: file | nango (default: file, then Nango)
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
    # Injected faults that never fired fail it (exit 2); otherwise they are warnings in the result.
    fail_unfired: bool = False
    # Replays: extra interactions answered after the recorded ones (the cassette on disk is never changed).
    interactions: list[Any] = field(default_factory=list)
    # Replays: freeze `datetime.now()`/`time.time()` at the recording's moment.
    freeze: bool = True
    # Every socket connection attempt fails while the run goes (strict scenario replays).
    block_network: bool = False
    variant: str = "base"
    last_sync_date: datetime | None = None
    # Nango's `-e ENV`: the secret key is read from `NANGO_SECRET_KEY_<ENV>`.
    environment: str | None = None
    # Rows of each record list (saved, updated, deleted per model) the result holds as dicts; the rest spill
    # to an unlinked temporary file and are read back when asked for. None: all in memory (snapshots).
    records_in_memory: int | None = IN_MEMORY
    # Every row held in memory as its line (`harness.records.lines`) instead: what a snapshot is built from.
    records_as_lines: bool = False


@dataclass
class Prepared:
    """The request resolved to files: the function, its cassette and the mode it runs in."""

    project: Project
    catalog: Catalog
    definition: Definition
    cassette_path: Path
    mode: str
    record_mode: str | None = None
    run: int = 1


@dataclass
class Outcome:
    """What `execute` returns: the requested run's result, and the runs replayed before it."""

    result: RunResult
    prepared: Prepared
    # The scenario's context as its cassette holds it (None for a run without a cassette).
    context: ScenarioContext | None = None
    # Runs 1..N-1 of a multi-run scenario, replayed on the same store before run N.
    previous: list[RunResult] = field(default_factory=list)

    @property
    def cassette_path(self) -> Path:
        return self.prepared.cassette_path

    @property
    def mode(self) -> str:
        return self.prepared.mode

    @property
    def results(self) -> list[RunResult]:
        return [*self.previous, self.result]


def run_paths(project: Project, integration: str, function: str, scenario: str) -> list[Path]:
    """The cassettes of a scenario's runs, in order (stops at the first missing run)."""
    paths = []
    number = 1
    while (path := project.cassette_path(integration, function, scenario, number)).is_file():
        paths.append(path)
        number += 1
    return paths


def prepare(req: RunRequest) -> Prepared:
    project = req.project or load_project()
    catalog = load_catalog(project.functions_dir)
    definition = catalog.find(req.function, req.integration)
    if req.mode is not None and req.mode not in (*MODES, LOOSE):
        raise UsageError(f"unknown mode {req.mode!r}", hint="use live, replay or record")
    if not SCENARIO_NAME.fullmatch(req.scenario):
        raise UsageError(f"bad scenario name {req.scenario!r}", hint="use letters, digits, dashes and underscores")
    number = req.run
    if number is None:
        number = max(1, len(run_paths(project, definition.integration, definition.name, req.scenario)))
    if number < 1:
        raise UsageError(f"bad run number {number}", hint="runs are numbered from 1")
    if req.payload is not UNSET:
        _check_payload_target(definition)
    path = project.cassette_path(definition.integration, definition.name, req.scenario, number)
    found = existing_cassette(path)  # a vcrpy `.json` or `.yml` cassette dropped in place replays as it is
    mode, record_mode = _modes(req, found)
    if mode == "record":
        _require_writable(project, path.parent, "cannot record the cassette")
    if mode in ("live", "record") and req.persist and req.store is None:
        _require_writable(project, project.state_dir, "cannot keep the records (--persist)")
    return Prepared(project, catalog, definition, found if mode in ("replay", LOOSE) else path, mode, record_mode,
                    number)


def _check_payload_target(definition: Definition) -> None:
    """A payload runs a sync's webhook handler: refused up front for anything else (exit 2)."""
    from .definitions import SyncDefinition

    if not isinstance(definition, SyncDefinition):
        raise UsageError(f"a payload runs a sync's webhook handler, and {definition.qualified_name} is "
                         f"{'an' if definition.type[0] in 'aeiou' else 'a'} {definition.type}",
                         hint="drop --payload, or name a sync with an @<sync>.on_webhook handler")
    if definition.webhook is None:
        raise UsageError(f"sync {definition.qualified_name} has no webhook handler",
                         hint=f"decorate one with @{definition.name.replace('-', '_')}.on_webhook")


def _require_writable(project: Project, folder: Path, what: str) -> None:
    """Preflight before any request is sent: `folder` (or the nearest part of it that exists) takes a file."""
    from .atomic import unwritable

    problem = unwritable(folder)
    if problem is None:
        return
    where = project.relative(folder)
    error = CassetteError if "cassette" in what else ConfigError
    if problem.not_a_folder:
        raise error(f"{what}: {project.relative(problem.part)} is not a folder, so {where} cannot be created",
                    hint=problem.fix)
    raise error(f"{what}: {project.relative(problem.part)} {problem.reason}",
                hint=f"{problem.fix}, or point [tool.harness] at a writable folder")


def _modes(req: RunRequest, path: Path) -> tuple[str, str | None]:
    record_mode = req.record_mode
    if record_mode is not None and record_mode not in RECORD_MODES:
        raise UsageError(f"unknown record mode {record_mode!r}", hint="use " + ", ".join(RECORD_MODES))
    if record_mode is None and req.mode is None and under_ci():
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
    return "record", record_mode  # new_episodes appends when the cassette exists; all records anew


def checkpoint_key(definition: Definition, *, webhook: bool = False, variant: str = "base") -> str:
    """Nango's checkpoint keys: `sync:<name>:<variant>`, `webhook:<name>:<variant>`, `action:<name>`..."""
    if definition.type == "sync":
        return f"{'webhook' if webhook else 'sync'}:{definition.name}:{variant}"
    return f"{definition.type}:{definition.name}"


# -- one run -----------------------------------------------------------------------------------------


def _extra_interaction(item: Any, base_url: str) -> Interaction:
    """An extra interaction: an `Interaction`, a vcrpy dict, or `{method, path, status, json|body, headers}`."""
    import json

    if isinstance(item, Interaction):
        return item
    if isinstance(item, dict) and "request" in item:
        return Interaction.from_vcr(item, "extra interaction")
    if not isinstance(item, dict) or "path" not in item:
        raise CassetteError(f"extra interaction {item!r} is not valid",
                            hint="pass {'method': 'GET', 'path': '/x', 'status': 200, 'json': {...}}")
    body = item.get("body")
    headers = {k: [str(v)] for k, v in (item.get("headers") or {}).items()}
    if "json" in item:
        body = json.dumps(item["json"])
        headers.setdefault("content-type", ["application/json"])
    path = str(item["path"])
    uri = path if path.startswith(("http://", "https://")) else base_url.rstrip("/") + "/" + path.lstrip("/")
    request_body = item.get("request_json")
    return Interaction(method=str(item.get("method", "GET")).upper(), uri=uri, request_headers={},
                       request_body=json.dumps(request_body) if request_body is not None else None,
                       status=int(item.get("status", 200)), reason="", response_headers=headers,
                       response_body=body if body is not None else "")


def _read_cassette(prep: Prepared, req: RunRequest) -> tuple[Cassette, ScenarioContext]:
    project = prep.project
    cassette = load_cassette(prep.cassette_path, cache_dir=project.state_dir / "cache")
    context = ScenarioContext.parse(cassette.context, project.relative(prep.cassette_path))
    if context.function not in (None, prep.definition.name):
        raise CassetteError(f"{project.relative(prep.cassette_path)} records function {context.function!r}, "
                            f"not {prep.definition.name!r}")
    if req.interactions:
        base = context.base_url or "https://example.invalid"
        extra = [_extra_interaction(i, base) for i in req.interactions]
        lazy = cassette
        cassette = Cassette([*cassette.interactions, *extra], cassette.context, cassette.path)
        lazy.close()
    return cassette, context


def _connection(prep: Prepared, req: RunRequest, context: ScenarioContext | None, replaying: bool) -> Connection:
    project = prep.project
    if req.connection is not None:
        if not replaying:
            return req.connection
        given = req.connection.with_placeholders()
        base = context.base_url if context is not None else None
        return replace(given, base_url=base or given.base_url)
    if replaying:
        assert context is not None
        stored = context.connection
        where = project.relative(prep.cassette_path)
        if stored is None:
            # A raw vcrpy cassette dropped at a scenario's path: the connection can only come from its source,
            # and replays with placeholders for credentials (adopting it makes the replay hermetic).
            if not req.connection_id:
                raise CassetteError(f"{where}: its `harness:` section names no connection",
                                    hint="name one on the command line, or adopt it with `harness cassettes adopt`")
            from .connections.resolve import resolve

            return resolve(connections_file=project.connections_file, project_root=project.root,
                           state_dir=project.state_dir, connection_id=req.connection_id,
                           integration=prep.definition.integration, mode="replay", source=req.source,
                           stored=None, environment=req.environment).with_placeholders()
        # Hermetic: the cassette alone; its credentials are placeholders, the function sends what it recorded.
        # A connection id asked for only names the run (`nango.connection_id`); nothing else is looked up.
        connection = stored.to_connection().with_placeholders()
        if req.connection_id and req.connection_id != stored.connection_id:
            connection = replace(connection, connection_id=req.connection_id)
        return connection
    from .connections.resolve import resolve

    if not req.connection_id:
        raise UsageError("a live run needs a connection", hint="name one from the connections file")
    return resolve(connections_file=project.connections_file, project_root=project.root,
                   state_dir=project.state_dir, connection_id=req.connection_id,
                   integration=prep.definition.integration, mode=prep.mode, source=req.source, stored=None,
                   environment=req.environment)


def _provider(project: Project, connection: Connection, context: ScenarioContext | None,
              replaying: bool) -> tuple[Provider, str]:
    base = context.base_url if context is not None else None
    try:
        provider = get_provider(connection.provider, project.settings.get("providers"))
    except ConfigError:
        # A replay needs no provider entry when the cassette knows the base URL (converted Nango recordings).
        if not replaying or not base:
            raise
        provider = Provider(name=connection.provider)
    try:
        return provider, connection.resolve_base_url(provider)
    except ConfigError:
        if not base:
            raise
        return provider, base


def persist_metadata(req: RunRequest, connection: Connection, result: RunResult) -> None:
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


def _stack(prep: Prepared, req: RunRequest, cassette: Cassette | None, context: ScenarioContext | None,
           connection: Connection, provider: Provider, base_url: str, scrubber: Scrubber,
           faults: list[str]) -> HttpStack:
    mode = prep.mode
    parsed = [parse_fault(str(f)) for f in faults]
    if mode in ("replay", LOOSE):
        assert cassette is not None and context is not None
        clock = VirtualClock(context.freeze_time().timestamp())
        # The cassette was read for this run alone: an interaction played is never read again (a big replay's
        # responses would otherwise stay in memory beside its records until the run ends).
        return build_stack(mode, scrubber, clock, cassette=cassette, faults=parsed, release_played=True)
    connection.require_credentials()
    proxy = None
    if req.via_nango_proxy:
        from .connections.resolve import _require_nango

        proxy = _require_nango(prep.project.root, "--via-nango-proxy", req.environment)
    network = req.network
    if req.redirect is not None:
        from .http.redirect import RedirectTransport

        network = RedirectTransport(req.redirect, inner=network)
    live = LiveSpec(connection, provider, base_url, network=network, nango_proxy=proxy,
                    allow_writes=req.allow_writes)
    episodes = mode == "record" and prep.record_mode == "new_episodes" and cassette is not None
    return build_stack(mode, scrubber, req.clock or RealClock(), cassette=cassette, live=live, episodes=episodes,
                       faults=parsed)


def _execute_one(req: RunRequest, prep: Prepared) -> tuple[RunResult, ScenarioContext | None]:
    with contextlib.ExitStack() as finished:
        return _run_one(req, prep, finished)


def _run_one(req: RunRequest, prep: Prepared, finished: contextlib.ExitStack) -> tuple[RunResult,
                                                                                      ScenarioContext | None]:
    project, definition, mode = prep.project, prep.definition, prep.mode
    replaying = mode in ("replay", LOOSE)
    episodes = mode == "record" and prep.record_mode == "new_episodes" and prep.cassette_path.is_file()
    cassette: Cassette | None = None
    context: ScenarioContext | None = None
    if replaying or episodes:
        cassette, context = _read_cassette(prep, req)
        finished.callback(cassette.close)  # a cache hit holds its cache file open while it is read
    connection = _connection(prep, req, context, replaying)
    provider, base_url = _provider(project, connection, context, replaying)
    # Every secret of the connection from the start (credentials, base_url userinfo, secret-shaped config and
    # metadata, SecretStr metadata fields), so the traffic, the context and every output lose them.
    from .secrets.connection_secrets import run_scrubber

    scrubber = run_scrubber(connection, provider, definition.metadata, project.settings.get("scrub"))

    stored = context or ScenarioContext()
    input_value = req.input if req.input is not UNSET else stored.input
    metadata = req.metadata if req.metadata is not UNSET else stored.metadata
    checkpoint = req.checkpoint if req.checkpoint is not UNSET else stored.checkpoint
    payload = req.payload if req.payload is not UNSET else stored.payload
    faults = req.faults if req.faults is not None else stored.faults

    if not replaying:
        from .atomic import sweep_project

        sweep_project(project.state_dir, project.cassettes_dir)  # what a killed run left behind
    started_at = datetime.now(UTC)
    stack = _stack(prep, req, cassette, context, connection, provider, base_url, scrubber, faults)

    store: SqliteStore | None = None
    key = checkpoint_key(definition, webhook=payload is not UNSET, variant=req.variant)
    if mode in ("live", "record") and req.store is None:
        # Live runs count against what earlier runs stored; replays stay self-contained.
        path = project.state_dir / "records.sqlite"
        opener = SqliteStore if req.persist else SqliteStore.scratch_copy
        store = opener(path, connection.connection_id, definition.integration, stack.clock.now)
        if req.persist and checkpoint is None:
            checkpoint = store.get_checkpoint(key)
    from .records import spill
    from .secrets.redact import RedactingStore, SpillRedaction, redact_result, redact_rows

    run_store: RecordStore | None = store or req.store
    if run_store is not None:
        run_store = RedactingStore(run_store, scrubber)  # no known secret reaches the store's file
    options = RunOptions(strict=req.strict, max_pages=req.max_pages, max_records=req.max_records,
                         interrupt_after_checkpoints=req.interrupt_after_checkpoints,
                         timeout_s=req.timeout or RunOptions.timeout_s, fail_unplayed=req.fail_unplayed,
                         progress=req.progress, variant=req.variant, last_sync_date=req.last_sync_date,
                         fail_unfired=req.fail_unfired,
                         keeping=Keeping(req.records_in_memory, functools.partial(redact_rows, scrubber),
                                         encoded=req.records_as_lines, spill_text=spill.HELD_TEXT,
                                         redact=SpillRedaction(scrubber)))
    frozen = context.freeze_time() if replaying and context is not None and req.freeze else None
    try:
        with frozen_at(frozen):
            result = run(definition, connection, stack, provider=provider, base_url=base_url, input=input_value,
                         metadata=metadata, checkpoint=checkpoint, payload=payload, mode=mode,
                         scenario=req.scenario, options=options, store=run_store)
        if store is not None and req.persist and result.ok:
            store.set_checkpoint(key, result.final_checkpoint)
    finally:
        if store is not None:
            store.close()
    result.cassette = project.relative(prep.cassette_path) if mode != "live" else None
    if replaying:
        given = {"input": req.input, "metadata": req.metadata, "checkpoint": req.checkpoint, "payload": req.payload}
        result.overrides = [name for name, value in given.items() if value is not UNSET]
        result.overrides += ["faults"] if req.faults is not None else []
        result.overrides += ["connection"] if req.connection is not None else []
        result.overrides += ["interactions"] if req.interactions else []
    if not replaying:
        persist_metadata(req, connection, result)
    if mode == "record" and stack.records and (result.ok or req.record_on_failure):
        from .secrets.connection_secrets import provider_credential_fields, scrub_context

        meta_used = connection.metadata if metadata is UNSET else metadata
        stored_conn = StoredConnection(
            connection_id=connection.connection_id, provider=connection.provider,
            credentials=connection.with_placeholders().credentials, integration=connection.integration,
            base_url=base_url, connection_config=connection.connection_config, metadata=meta_used)
        raw = build_context(function=definition.name, integration=definition.integration,
                            type=result.function_type, scenario=req.scenario, recorded_at=started_at,
                            connection=stored_conn, run=prep.run, input=input_value, metadata=metadata,
                            checkpoint=checkpoint, payload=payload)
        # The context is scrubbed like the traffic: credentials, base_url userinfo, secret-shaped values.
        raw = scrub_context(raw, scrubber, credential_fields=provider_credential_fields(provider),
                            metadata_model=definition.metadata)
        old = cassette.interactions if episodes and cassette is not None else []
        try:
            write_cassette(prep.cassette_path, Cassette([*old, *stack.recorded()], raw), scrubber)
        except OSError as exc:
            raise CassetteError(f"cannot write {project.relative(prep.cassette_path)}: {exc.strerror or exc}",
                                hint="check the cassettes folder is writable") from None
        result.cassette_written = True
    redact_result(result, scrubber)  # every output surface shows known secrets as placeholders
    return result, context


# -- the entry point ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _surroundings(req: RunRequest) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        if req.block_network:
            from .http.blocking import blocked_network

            stack.enter_context(blocked_network())
        yield


def execute(req: RunRequest, prepared: Prepared | None = None) -> Outcome:
    """Run what `req` asks for; runs 1..N-1 of a multi-run scenario are replayed first, on one store."""
    prep = prepared or prepare(req)
    last = prep.run
    if req.interactions and last > 1:
        raise UsageError("extra interactions apply to single-run scenarios", hint="drop interactions= or run=")
    with _surroundings(req):
        if last == 1:
            result, context = _execute_one(req, prep)
            return Outcome(result, prep, context)
        store = req.store or MemoryStore(time.time)
        previous: list[RunResult] = []
        for number in range(1, last):
            # Earlier runs replay exactly as recorded (their own input, metadata and checkpoint).
            step = replace(req, run=number, store=store, mode="replay", input=UNSET, metadata=UNSET,
                           payload=UNSET, checkpoint=UNSET, faults=None, record_mode=None, interactions=[])
            step_prep = prepare(step)
            if not step_prep.cassette_path.is_file():
                raise CassetteError(f"run {number} of this scenario is not recorded "
                                    f"({prep.project.relative(step_prep.cassette_path)})",
                                    hint=f"record the runs in order: --record --run {number}")
            result, _ = _execute_one(step, step_prep)
            previous.append(result)
            if not result.ok:
                return Outcome(result, step_prep, None, previous[:-1])
        final = replace(req, run=last, store=store)
        if prep.mode != "replay" and final.checkpoint is UNSET:
            # A new run continues from where the previous one ended, as the next production run would.
            final = replace(final, checkpoint=previous[-1].final_checkpoint)
        result, context = _execute_one(final, prep)
        return Outcome(result, prep, context, previous)


def run_request(req: RunRequest) -> RunResult:
    """`execute(req).result`: the requested run's result."""
    return execute(req).result

