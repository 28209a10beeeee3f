"""Running functions the way tests need: scenario discovery, frozen time, a blocked network, fakes.

Shared by the pytest plugin (scenario items and fixtures) and `harness generate-tests`. A scenario is one
cassette, `cassettes/<integration>/<function>/<scenario>.yaml`; its snapshot sits beside it as
`<scenario>.snapshot.json`. A scenario replay runs with time frozen at the recording's time (time-machine:
`datetime.now()` and `time.time()` inside the function return it; `time.monotonic()` is left alone so
asyncio keeps working), waits are instant (the replay's virtual clock), and, when asked, every socket
connection attempt fails.
"""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from .cassettes.format import Cassette, Interaction, load_cassette
from .errors import CassetteError, HarnessError
from .project import Project
from .result import RunResult
from .runner import UNSET
from .snapshots import SNAPSHOT_SUFFIX

LATER_RUN = re.compile(r"\.run\d+$")
# When a cassette does not say when it was recorded (an imported one), time still has to stand still.
FALLBACK_TIME = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, order=True)
class Scenario:
    integration: str
    function: str
    name: str
    cassette: Path = field(compare=False)

    @property
    def id(self) -> str:
        return f"{self.integration}/{self.function}[{self.name}]"

    @property
    def snapshot(self) -> Path:
        return self.cassette.with_name(self.cassette.stem + SNAPSHOT_SUFFIX)


def find_scenarios(project: Project, under: Iterable[Path] | None = None) -> list[Scenario]:
    """Every cassette of the project (optionally only those inside `under`), sorted by id."""
    root = project.cassettes_dir
    if not root.is_dir():
        return []
    limits = [p.resolve() for p in under] if under is not None else None
    found = []
    for path in root.glob("*/*/*.yaml"):
        if path.name.startswith(".") or LATER_RUN.search(path.stem):
            continue  # run 2.. of a multi-run scenario belongs to the scenario of its run 1
        if limits is not None and not any(path.resolve() == lim or lim in path.resolve().parents for lim in limits):
            continue
        found.append(Scenario(path.parent.parent.name, path.parent.name, path.stem, path))
    return sorted(found)


def orphan_snapshots(project: Project) -> list[Path]:
    """Snapshot files whose cassette no longer exists (a renamed or deleted scenario)."""
    root = project.cassettes_dir
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob(f"*/*/*{SNAPSHOT_SUFFIX}")
                  if not p.with_name(p.name[: -len(SNAPSHOT_SUFFIX)] + ".yaml").is_file())


def recorded_time(context: dict[str, Any]) -> datetime:
    value = context.get("recorded_at")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return FALLBACK_TIME


@contextlib.contextmanager
def frozen_time(at: datetime) -> Iterator[None]:
    import time_machine

    with time_machine.travel(at, tick=False):
        yield


class NetworkBlockedError(HarnessError):
    """A socket connection attempted while the network is blocked (a strict scenario replay)."""


@contextlib.contextmanager
def blocked_network() -> Iterator[None]:
    """Every outgoing connection and name lookup fails while inside (restored afterwards)."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NetworkBlockedError(f"network access attempted during a replay: {args[1:] or args!r}",
                                  hint="a replay must be answered from its cassette")

    saved = (socket.socket.connect, socket.socket.connect_ex, socket.create_connection, socket.getaddrinfo)
    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse
    socket.getaddrinfo = refuse
    try:
        yield
    finally:
        (socket.socket.connect, socket.socket.connect_ex,  # type: ignore[method-assign]
         socket.create_connection, socket.getaddrinfo) = saved


class RedirectTransport(httpx.AsyncBaseTransport):
    """Sends every request to `base_url` (a local fake) instead of the provider, keeping path and query."""

    def __init__(self, base_url: str, inner: httpx.AsyncBaseTransport | None = None) -> None:
        parts = urlsplit(base_url)
        self.scheme, self.host, self.port = parts.scheme or "http", parts.hostname or "127.0.0.1", parts.port
        self.prefix = parts.path.rstrip("/")
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # A new request: the caller's one keeps the provider's URL, which is what results and cassettes show.
        url = request.url.copy_with(scheme=self.scheme, host=self.host, port=self.port,
                                    path=self.prefix + request.url.path)
        # The Host header stays the provider's, so a fake that builds links from it links to the provider.
        sent = httpx.Request(request.method, url, headers=request.headers, stream=request.stream,
                             extensions=request.extensions)
        return await self.inner.handle_async_request(sent)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _interaction(item: Any, base_url: str) -> Interaction:
    """An extra interaction: an `Interaction`, a vcrpy dict, or `{method, path, status, json|body, headers}`."""
    if isinstance(item, Interaction):
        return item
    if isinstance(item, dict) and "request" in item:
        return Interaction.from_vcr(item, "extra interaction")
    if not isinstance(item, dict) or "path" not in item:
        raise CassetteError(f"extra interaction {item!r} is not valid",
                            hint="pass {'method': 'GET', 'path': '/x', 'status': 200, 'json': {...}}")
    import json

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


@dataclass
class ScenarioRun:
    scenario: Scenario
    context: dict[str, Any]
    result: RunResult
    # The runs before the last one, for a multi-run scenario (`<scenario>.run2.yaml`...).
    previous: list[RunResult] = field(default_factory=list)


def run_scenario(project: Project, function: str, scenario: str = "default", *, integration: str | None = None,
                 input: Any = UNSET, metadata: Any = UNSET, checkpoint: Any = UNSET, payload: Any = UNSET,
                 interactions: Iterable[Any] = (), faults: list[str] | None = None, freeze: bool = True,
                 block_network: bool = False, scratch: Path | None = None) -> ScenarioRun:
    """Replay one scenario (the cassette supplies connection, input, metadata, checkpoint) with overrides."""
    from .session import DryRun, execute, prepare

    req = DryRun(function=function, connection_id="", integration=integration, mode="replay", scenario=scenario,
                 input=input, metadata=metadata, checkpoint=checkpoint, payload=payload, project=project,
                 faults=faults)
    prep = prepare(req)
    cassette = load_cassette(prep.cassette_path)
    req.connection_id = str((cassette.context.get("connection") or {}).get("connection_id") or "")
    if not req.connection_id:
        raise CassetteError(f"{prep.cassette_path}: the `harness:` section names no connection",
                            hint="re-record it with --record")
    extra = list(interactions)
    if extra:
        # The cassette on disk is never changed: the augmented copy lives in a scratch folder.
        from .cassettes.format import dump_cassette

        base = str((cassette.context.get("connection") or {}).get("base_url") or "https://example.invalid")
        merged = Cassette([*cassette.interactions, *(_interaction(i, base) for i in extra)], cassette.context)
        folder = scratch or Path(__import__("tempfile").mkdtemp(prefix="harness-scenario-"))
        path = folder / prep.cassette_path.name
        path.write_text(dump_cassette(merged), encoding="utf-8")
        prep = replace(prep, cassette_path=path)
    else:
        prep = replace(prep, cassette=cassette)
    found = Scenario(prep.definition.integration, prep.definition.name, scenario, prep.cassette_path)
    from .scenarios import execute_runs, run_paths

    runs = 1 if extra else len(run_paths(project, found.integration, found.function, scenario))
    previous: list[RunResult] = []
    with contextlib.ExitStack() as stack:
        if freeze and "recorded_at" not in cassette.context:
            # The session freezes a replay at its recording time; a cassette without one still stands still.
            stack.enter_context(frozen_time(recorded_time(cassette.context)))
        if block_network:
            stack.enter_context(blocked_network())
        if runs > 1:
            *previous, result = execute_runs(req, upto=runs)
        else:
            result = execute(req, prep)
    if extra:
        result.cassette = project.relative(project.cassette_path(found.integration, found.function, scenario))
    return ScenarioRun(found, cassette.context, result, previous)
