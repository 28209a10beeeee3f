"""Adopting a cassette recorded elsewhere (vcrpy, pytest-recording) as a harness scenario.

`adopt` reads the file with the same bounded reader as a replay (every vcrpy variant), scrubs every
exchange as harness's recorder would (credential headers and parameters by rule, the connection's known
secrets by value, the project's `[tool.harness.scrub]` rules), and writes it, with its `harness:` section,
to the scenario's place: `cassettes/<integration>/<function>/<scenario>.yaml`. Nothing is asked: what the
section needs comes from options, the project (the function's integration and type) and the connections
file; what is left is derived from the recording (the base URL from the first request, the recording
time from the first response's `Date`). Names are checked with `harness.names.check_name`; any problem
is raised before the one atomic write, so an error leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import NotFoundError, UsageError
from ..names import check_name, inside
from .format import Cassette, Interaction, load_cassette, write_cassette
from .section_check import check_context

UNSET: Any = object()


@dataclass
class AdoptRequest:
    source: Path
    function: str
    integration: str | None = None
    scenario: str = "default"
    run: int = 1
    connection: str | None = None
    provider: str | None = None
    base_url: str | None = None
    recorded_at: str | None = None
    input: Any = UNSET
    metadata: Any = UNSET
    checkpoint: Any = UNSET
    payload: Any = UNSET
    force: bool = False


@dataclass
class Adopted:
    path: Path
    cassette: Cassette
    connection_id: str
    replaced: bool
    warnings: list[str] = field(default_factory=list)


def _origin(interactions: Sequence[Interaction]) -> str | None:
    for item in interactions:
        parts = urlsplit(item.uri)
        if parts.scheme and parts.netloc:
            return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
    return None


def _recorded_at(req: AdoptRequest, cassette: Cassette, source: Path) -> str:
    stored = cassette.context.get("recorded_at")
    moment: datetime | None = None
    if req.recorded_at is not None:
        try:
            moment = datetime.fromisoformat(req.recorded_at.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"--recorded-at: {req.recorded_at!r} is not an ISO 8601 date and time",
                             hint="e.g. 2024-05-01T12:00:00Z") from None
    elif isinstance(stored, str):
        return stored
    elif isinstance(stored, datetime):
        moment = stored
    else:
        date = next((d for d in (i.header("date") for i in cassette.interactions) if d), None)
        try:
            moment = parsedate_to_datetime(date) if date else None
        except (TypeError, ValueError, IndexError):
            moment = None
    if moment is None:
        moment = datetime.fromtimestamp(source.stat().st_mtime, UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not 1970 <= moment.year <= 9998:
        raise UsageError(f"the recording time {moment.isoformat()} is outside the years 1970 to 9998",
                         hint="pass --recorded-at")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _scrubbed(items: Sequence[Interaction], scrubber: Any) -> list[Interaction]:
    """Each exchange as harness's recorder keeps it: credentials out of headers, URL and bodies."""

    def headers(raw: dict[str, list[str]]) -> dict[str, list[str]]:
        return {name: [scrubber.header(name, v) for v in values] for name, values in raw.items()}

    def ctype(raw: dict[str, list[str]]) -> str | None:
        return next((v[0] for k, v in raw.items() if k.lower() == "content-type" and v), None)

    def one(item: Interaction) -> Interaction:
        uri, req_headers, resp_headers = scrubber.url(item.uri), headers(item.request_headers), headers(
            item.response_headers)
        req_body = (scrubber.body(item.request_body, ctype(item.request_headers))
                    if isinstance(item.request_body, str) else item.request_body)
        resp_body = (scrubber.body(item.response_body, ctype(item.response_headers))
                     if isinstance(item.response_body, str) else item.response_body)
        return Interaction(item.method, uri, req_headers, req_body, item.status, item.reason, resp_headers,
                           resp_body, dict(item.extra))

    # Twice: a value removed by rule anywhere (a token parameter, a cookie) becomes a known secret, which is
    # then scrubbed wherever else it appears, in earlier exchanges too.
    for item in items:
        one(item)
    return [one(item) for item in items]


def adopt(project: Any, req: AdoptRequest) -> Adopted:
    """Write `req.source` as a scenario of `req.function`; see the module docstring."""
    from ..connections.file import read_connections
    from ..connections.model import Connection
    from ..loader import load_catalog
    from ..secrets.rules import secret_shapes
    from ..secrets.scrubber import Scrubber

    function = check_name("function", req.function)
    integration = check_name("integration", req.integration) if req.integration is not None else None
    scenario = check_name("scenario", req.scenario)
    if req.run < 1:
        raise UsageError(f"bad run number {req.run}", hint="runs are numbered from 1")
    if req.base_url is not None:
        # Checked here, as the option it is: the check of the written section would blame the source cassette
        # ("fix the cassette's harness: section", exit 3) for a value the command line gave.
        try:
            parts = urlsplit(req.base_url)
            parts.port  # noqa: B018 - reading it checks the port
        except ValueError:
            parts = urlsplit("")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"--base-url: {req.base_url[:60]!r} is not an http(s) URL",
                             hint="e.g. --base-url https://api.github.com")
    definition = load_catalog(project.functions_dir).find(function, integration)
    cassette = load_cassette(req.source)  # bounded; every vcrpy variant; CassetteError (exit 3) otherwise
    if not cassette.interactions:
        raise UsageError(f"{req.source}: the cassette has no interactions", hint="record something first")
    target = project.cassette_path(definition.integration, definition.name, scenario, req.run)
    if not inside(project.cassettes_dir, target):
        raise UsageError(f"{target} is outside {project.cassettes_dir}")
    same = target.exists() and target.resolve() == req.source.resolve()
    replaced = target.exists() and not same
    if replaced and not req.force:
        raise UsageError(f"{project.relative(target)} already exists",
                         hint="pass --force to replace it, or choose another --scenario")

    connections = read_connections(project.connections_file, project.root, project.state_dir)
    if req.connection is not None:
        connection_id = req.connection
        if not connection_id.strip():
            raise UsageError("--connection must not be empty")
    else:
        stored = (cassette.context.get("connection") or {}).get("connection_id")
        mine = sorted(cid for cid, c in connections.items() if c.integration == definition.integration)
        if stored:
            connection_id = str(stored)
        elif len(mine) == 1:
            connection_id = mine[0]
        else:
            known = f" (this project has {', '.join(mine)})" if mine else ""
            raise UsageError(f"which connection does this scenario replay as?{known}",
                             hint="pass --connection ID")
    known_conn = connections.get(connection_id)
    if known_conn is not None and known_conn.integration != definition.integration:
        raise NotFoundError(f"connection {connection_id!r} belongs to integration {known_conn.integration!r}, "
                            f"not {definition.integration!r}", hint="pass another --connection")
    provider_name = req.provider or (known_conn.provider if known_conn else None) or definition.integration
    conn = known_conn or Connection(connection_id=connection_id, provider=provider_name,
                                    integration=definition.integration, credentials={"type": "NONE"})
    base_url = req.base_url or _base_url(project, conn, cassette)
    if not base_url:
        raise UsageError("cannot tell the provider's base URL from the recording", hint="pass --base-url URL")

    scrubber = Scrubber.from_settings(conn.secrets(), project.settings.get("scrub"))
    context: dict[str, Any] = {
        "function": definition.name, "integration": definition.integration,
        "type": "webhook" if definition.type == "sync" and req.payload is not UNSET else definition.type,
        "scenario": scenario, "recorded_at": _recorded_at(req, cassette, req.source),
        "source": f"adopted from {req.source.name}",
        "connection": {"connection_id": connection_id, "provider": provider_name,
                       "credentials": conn.with_placeholders().credentials, "integration": definition.integration,
                       "base_url": base_url.rstrip("/"), "connection_config": scrubber.data(conn.connection_config),
                       "metadata": scrubber.data(conn.metadata)},
    }
    if req.run > 1:
        context["run"] = req.run
    for key in ("input", "metadata", "checkpoint", "payload"):
        value = getattr(req, key)
        if value is UNSET:
            value = cassette.context.get(key, UNSET)
        if value is not UNSET:
            context[key] = scrubber.data(value)
    context = check_context(context, str(req.source))  # what a replay will read back, checked now
    adopted = Cassette(_scrubbed(cassette.interactions, scrubber), context, target)
    write_cassette(target, adopted, scrubber)  # refuses (and writes nothing) if a known secret is left
    warnings = [f"it looks like it holds a {shape}: check it, or add a rule to [tool.harness.scrub]"
                for shape in secret_shapes(target.read_text(encoding="utf-8"))]
    return Adopted(target, adopted, connection_id, replaced=replaced, warnings=warnings)


def _base_url(project: Any, conn: Any, cassette: Cassette) -> str | None:
    from ..errors import ConfigError
    from ..providers.catalog import get_provider

    try:
        return str(conn.resolve_base_url(get_provider(conn.provider, project.settings.get("providers"))))
    except ConfigError:
        stored = (cassette.context.get("connection") or {}).get("base_url")
        return str(stored) if stored else _origin(cassette.interactions)
