"""What the served project holds: integrations, functions, connections and recorded scenarios.

Loaded once at start (restart the server to pick up new functions; edits to a function's code are picked up
by every run, since each run loads the function anew). Integrations are the `functions/<integration>`
folders. Connections come from the connections file and, in replay, from the cassettes (`harness:
connection:`), so the bundled example serves its `demo` connection with no file at all; connections created
through the API (`POST /connections`) live as long as the process. Connection ids are unique per
integration, as in Nango.

A replayed run needs a recording: `recorded_scenarios` reads only the `harness:` head of every cassette
(not its interactions), so an action's input can pick the scenario recorded with that input.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..connections.file import read_connections
from ..connections.model import Connection
from ..definitions import ActionDefinition, Definition, EventDefinition, SyncDefinition
from ..loader import Catalog, load_catalog
from ..names import is_safe_name
from ..project import Project
from . import api_errors as errors
from .timekeeping import wall_time

_RUN_FILE = re.compile(r"\.run\d+$")


@dataclass
class ServeConnection:
    """A connection as the API shows it."""

    connection_id: str
    integration: str
    provider: str
    origin: str  # file | cassette | api
    number: int  # Nango's numeric id
    created_at: float
    connection_config: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] | None = None
    # The credentials the API hands out: placeholders in replay, the real ones in --live.
    credentials: dict[str, Any] = field(default_factory=dict)
    base_url: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    end_user: Any = None
    updated_at: float = 0.0
    # Metadata changed through the API (or by a run) since the start: runs are given it explicitly.
    metadata_changed: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return self.integration, self.connection_id


def canonical(value: Any) -> str:
    """A JSON text that is equal for equal JSON values (`1` and `true` stay different)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _cassette_head(path: Path) -> dict[str, Any] | None:
    """The `harness:` section of a cassette, without parsing its (possibly huge) interactions."""
    try:
        with path.open(encoding="utf-8") as fh:
            lines = []
            for line in fh:
                if line.startswith("interactions:"):
                    break
                lines.append(line)
            text = "".join(lines)
            data = yaml.load(text, Loader=yaml.CSafeLoader)
            if not isinstance(data, dict) or "harness" not in data:
                # Another key order (a hand-written cassette): read the whole file once.
                data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    head = data.get("harness") if isinstance(data, dict) else None
    return head if isinstance(head, dict) else None


class Registry:
    def __init__(self, project: Project, *, live: bool, catalog: Catalog | None = None) -> None:
        self.project = project
        self.live = live
        self.catalog = catalog or load_catalog(project.functions_dir)
        self.integrations = sorted({d.integration for d in self.catalog.definitions})
        self._numbers = itertools.count(1)
        # (integration, function) -> scenario -> the cassette's harness head
        self.scenarios: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self.connections: dict[tuple[str, str], ServeConnection] = {}
        self._load_scenarios()
        self._load_connections()

    # -- functions ---------------------------------------------------------------------------------
    def integration(self, key: str | None) -> str:
        if not key:
            raise errors.missing("header or query", "Provider-Config-Key")
        if key not in self.integrations:
            raise errors.unknown_integration(key, self.integrations)
        return key

    def definitions(self, integration: str) -> Iterator[Definition]:
        return (d for d in self.catalog.definitions if d.integration == integration)

    def syncs(self, integration: str) -> list[SyncDefinition]:
        return [d for d in self.definitions(integration) if isinstance(d, SyncDefinition)]

    def sync(self, integration: str, name: str) -> SyncDefinition:
        found = [d for d in self.syncs(integration) if d.name == name]
        if not found:
            raise errors.unknown_function("sync", name, integration, [d.name for d in self.syncs(integration)])
        return found[0]

    def action(self, integration: str, name: str) -> ActionDefinition:
        actions = [d for d in self.definitions(integration) if isinstance(d, ActionDefinition)]
        found = [d for d in actions if d.name == name]
        if not found:
            raise errors.unknown_function("action", name, integration, [d.name for d in actions])
        return found[0]

    def events(self, integration: str, event: str) -> list[EventDefinition]:
        return [d for d in self.definitions(integration) if isinstance(d, EventDefinition) and d.event == event]

    def models(self, integration: str) -> dict[str, SyncDefinition]:
        """Model name -> the sync that writes it."""
        return {model: d for d in self.syncs(integration) for model in d.models}

    # -- scenarios ---------------------------------------------------------------------------------
    def _load_scenarios(self) -> None:
        root = self.project.cassettes_dir
        if not root.is_dir():
            return
        for path in sorted(root.glob("*/*/*.yaml")):
            scenario = path.stem
            if _RUN_FILE.search(scenario):
                continue  # later runs of a multi-run scenario
            head = _cassette_head(path)
            if head is None:
                continue
            integration, function = path.parent.parent.name, path.parent.name
            self.scenarios.setdefault((integration, function), {})[scenario] = head

    def scenario_for(self, definition: Definition, *, input: Any = None, explicit: str | None = None,
                     fallback: str = "default") -> str:
        """The recording a replayed run uses: the one asked for, else the one recorded with this input."""
        recorded = self.scenarios.get((definition.integration, definition.name), {})
        if explicit is not None:
            if not is_safe_name(explicit) or "." in explicit:
                raise errors.ApiError(400, "invalid_headers", f"Invalid X-Harness-Scenario {explicit!r}: use "
                                      "letters, digits, dashes and underscores.")
            if not self.live and explicit not in recorded:
                names = ", ".join(sorted(recorded)) or "none"
                raise errors.ApiError(404, "unknown_scenario", f"No recording {explicit!r} of "
                                      f"{definition.qualified_name} (recorded: {names}).")
            return explicit
        if input is not None:
            wanted = canonical(input)
            for name in sorted(recorded, key=lambda s: (s != fallback, s)):
                head = recorded[name]
                if "input" in head and canonical(head["input"]) == wanted:
                    return name
        return fallback

    def has_recording(self, definition: Definition, scenario: str) -> bool:
        return scenario in self.scenarios.get((definition.integration, definition.name), {})

    # -- connections -------------------------------------------------------------------------------
    def _add(self, conn: ServeConnection) -> None:
        self.connections.setdefault(conn.key, conn)

    def _load_connections(self) -> None:
        now = wall_time()
        for c in read_connections(self.project.connections_file, self.project.root, self.project.state_dir).values():
            shown = c.credentials if self.live else c.with_placeholders().credentials
            self._add(ServeConnection(c.connection_id, c.integration, c.provider, "file", next(self._numbers), now,
                                      dict(c.connection_config), c.metadata, dict(shown), c.base_url,
                                      updated_at=now))
        if self.live:
            return  # a live run only ever uses the connections file (never a cassette's stand-in)
        for (_, _), recorded in sorted(self.scenarios.items()):
            for head in recorded.values():
                stored = head.get("connection")
                if not isinstance(stored, dict) or not stored.get("connection_id"):
                    continue
                integration = str(stored.get("integration") or head.get("integration") or "")
                if not integration:
                    continue
                creds = stored.get("credentials") if isinstance(stored.get("credentials"), dict) else {}
                meta = stored.get("metadata") if isinstance(stored.get("metadata"), dict) else None
                config = stored.get("connection_config") if isinstance(stored.get("connection_config"), dict) else {}
                self._add(ServeConnection(str(stored["connection_id"]), integration,
                                          str(stored.get("provider") or integration), "cassette",
                                          next(self._numbers), now, dict(config or {}), meta, dict(creds or {}),
                                          stored.get("base_url"), updated_at=now))

    def of_integration(self, integration: str) -> list[ServeConnection]:
        return sorted((c for c in self.connections.values() if c.integration == integration),
                      key=lambda c: c.number)

    def connection(self, integration: str, connection_id: str | None) -> ServeConnection:
        if not connection_id:
            raise errors.missing("header or query", "Connection-Id")
        found = self.connections.get((integration, connection_id))
        if found is None:
            raise errors.unknown_connection(connection_id, integration,
                                            [c.connection_id for c in self.of_integration(integration)])
        return found

    def find_connection(self, connection_id: str, integration: str | None) -> ServeConnection:
        """A connection by id, with or without its integration (`GET /connections/:id`)."""
        if integration is not None:
            return self.connection(self.integration(integration), connection_id)
        hits = [c for c in self.connections.values() if c.connection_id == connection_id]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            known = sorted({c.connection_id for c in self.connections.values()})
            raise errors.ApiError(404, "unknown_connection", f"Unknown connection {connection_id!r}; known "
                                  f"connections: {', '.join(known) or 'none'}.")
        raise errors.ApiError(400, "missing_provider_config_key", f"Connection {connection_id!r} exists in several "
                              "integrations; pass provider_config_key.")

    def build(self, *, connection_id: str, integration: str, provider: str, connection_config: dict[str, Any],
              metadata: dict[str, Any] | None, credentials: dict[str, Any], tags: dict[str, str], end_user: Any,
              base_url: str | None = None) -> ServeConnection:
        """A connection created through the API (not registered until `register`)."""
        now = wall_time()
        shown = credentials if self.live else Connection(connection_id, provider, integration,
                                                         credentials).with_placeholders().credentials
        return ServeConnection(connection_id, integration, provider, "api", next(self._numbers), now,
                               connection_config, metadata, dict(shown), base_url, tags=tags, end_user=end_user,
                               updated_at=now, metadata_changed=metadata is not None)

    def register(self, conn: ServeConnection) -> None:
        self.connections[conn.key] = conn

    def remove(self, conn: ServeConnection) -> None:
        # The connections file may still list it; the API no longer does, until the process restarts.
        self.connections.pop(conn.key, None)

    def set_metadata(self, conn: ServeConnection, metadata: dict[str, Any]) -> None:
        conn.metadata = metadata
        conn.metadata_changed = True
        conn.updated_at = wall_time()
