"""The cassette's `harness:` section as a typed value: what a replay needs besides the exchanges.

`ScenarioContext.parse` reads it once (with one `recorded_at` parser) and refuses a malformed one with a
`CassetteError` naming the cassette and the key; `build_context` writes it for a recording. A replay takes
its connection, connection config, metadata, input and starting checkpoint from here alone (hermetic).
Time in a replay follows one rule, `freeze_time_of`: the recording's moment, or `FALLBACK_TIME` when the
cassette does not say (imported ones), so a replay never reads the wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..connections.model import Connection
from ..errors import CassetteError
from ..unset import UNSET

# When a cassette does not say when it was recorded (an imported one), time still has to stand still.
FALLBACK_TIME = datetime(2000, 1, 1, tzinfo=UTC)
_KNOWN = ("format", "function", "integration", "type", "scenario", "recorded_at", "connection", "run", "input",
          "metadata", "checkpoint", "payload", "faults", "expected", "source")


def parse_recorded_at(value: Any) -> datetime | None:
    """An ISO 8601 time (a trailing `Z` allowed) or a YAML timestamp, as an aware datetime; None otherwise."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def format_recorded_at(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class StoredConnection:
    """The connection as the cassette keeps it: its credentials are scrub placeholders, never values."""

    connection_id: str
    provider: str = ""
    integration: str = ""
    base_url: str | None = None
    credentials: dict[str, Any] = field(default_factory=dict)
    connection_config: dict[str, Any] = field(default_factory=dict)
    metadata: Any = None

    def to_connection(self) -> Connection:
        return Connection(connection_id=self.connection_id, provider=self.provider, credentials=dict(self.credentials),
                          integration=self.integration, connection_config=dict(self.connection_config),
                          metadata=self.metadata, base_url=self.base_url, source="the cassette")

    def to_dict(self) -> dict[str, Any]:
        return {"connection_id": self.connection_id, "provider": self.provider, "credentials": self.credentials,
                "integration": self.integration, "base_url": self.base_url,
                "connection_config": self.connection_config, "metadata": self.metadata}


@dataclass
class ScenarioContext:
    function: str | None = None
    integration: str | None = None
    type: str | None = None
    scenario: str | None = None
    recorded_at: datetime | None = None
    connection: StoredConnection | None = None
    run: int = 1
    input: Any = UNSET
    metadata: Any = UNSET
    checkpoint: Any = None
    payload: Any = UNSET
    faults: list[str] = field(default_factory=list)
    expected: Any = UNSET
    source: str | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any], where: str) -> ScenarioContext:
        def text(key: str) -> str | None:
            value = raw.get(key)
            if value is None:
                return None
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise CassetteError(f"{where}: `harness.{key}` must be a string, not {type(value).__name__}")
            return str(value)

        ctx = cls(function=text("function"), integration=text("integration"), type=text("type"),
                  scenario=text("scenario"), source=text("source"),
                  recorded_at=parse_recorded_at(raw.get("recorded_at")))
        run = raw.get("run", 1)
        if not isinstance(run, int) or isinstance(run, bool) or run < 1:
            raise CassetteError(f"{where}: `harness.run` must be a run number (1, 2, ...), not {run!r}")
        ctx.run = run
        conn = raw.get("connection")
        if conn is not None:
            if not isinstance(conn, dict):
                raise CassetteError(f"{where}: `harness.connection` must be a mapping")
            cid = conn.get("connection_id")
            if not isinstance(cid, str | int) or isinstance(cid, bool) or not str(cid):
                raise CassetteError(f"{where}: `harness.connection.connection_id` is missing or not a string")
            for key in ("credentials", "connection_config"):
                if conn.get(key) is not None and not isinstance(conn.get(key), dict):
                    raise CassetteError(f"{where}: `harness.connection.{key}` must be a mapping")
            base = conn.get("base_url")
            if base is not None and not isinstance(base, str):
                raise CassetteError(f"{where}: `harness.connection.base_url` must be a string")
            ctx.connection = StoredConnection(
                connection_id=str(cid), provider=str(conn.get("provider") or ""),
                integration=str(conn.get("integration") or ""), base_url=base,
                credentials=dict(conn.get("credentials") or {}),
                connection_config=dict(conn.get("connection_config") or {}), metadata=conn.get("metadata"))
        for key in ("input", "metadata", "payload", "expected"):
            if key in raw:
                setattr(ctx, key, raw[key])
        checkpoint = raw.get("checkpoint")
        if checkpoint is not None and not isinstance(checkpoint, dict):
            raise CassetteError(f"{where}: `harness.checkpoint` must be a mapping")
        ctx.checkpoint = checkpoint
        faults = raw.get("faults") or []
        if not isinstance(faults, list):
            raise CassetteError(f"{where}: `harness.faults` must be a list of fault specs (e.g. [\"503@2\"])")
        ctx.faults = [str(f) for f in faults]
        return ctx

    @property
    def base_url(self) -> str | None:
        return self.connection.base_url if self.connection is not None else None

    @property
    def connection_id(self) -> str | None:
        return self.connection.connection_id if self.connection is not None else None

    def freeze_time(self) -> datetime:
        """The one rule for a replay's clock: when it was recorded, else `FALLBACK_TIME`."""
        return self.recorded_at or FALLBACK_TIME


def build_context(*, function: str, integration: str, type: str, scenario: str, recorded_at: datetime,
                  connection: StoredConnection, run: int = 1, input: Any = UNSET, metadata: Any = UNSET,
                  checkpoint: Any = None, payload: Any = UNSET) -> dict[str, Any]:
    """The `harness:` section of a new recording (values already scrubbed by the caller)."""
    out: dict[str, Any] = {"function": function, "integration": integration, "type": type, "scenario": scenario,
                           "recorded_at": format_recorded_at(recorded_at), "connection": connection.to_dict()}
    if run > 1:
        out["run"] = run
    if input is not UNSET:
        out["input"] = input
    if metadata is not UNSET:
        out["metadata"] = metadata
    if checkpoint is not None:
        out["checkpoint"] = checkpoint
    if payload is not UNSET:
        out["payload"] = payload
    return out
