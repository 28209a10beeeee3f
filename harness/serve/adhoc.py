"""Connections created through the API (`POST /connections`), made runnable by the pipeline.

`harness.pipeline` resolves a run's connection from a connections file (or the cassette), so connections
the app creates at run time are written to a connections file of their own, in the server's temporary
folder, and their runs use a copy of the project that points at it. No secret is written there: every
credential value becomes a `${HARNESS_SERVE_...}` reference that only this process's environment holds, and
is removed with the connection.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from ..atomic import write_atomic
from ..project import Project

_PREFIX = "HARNESS_SERVE_CREDENTIAL"


class AdhocConnections:
    def __init__(self, project: Project, folder: Path) -> None:
        self.path = folder / "connections.yaml"
        self.project = replace(project, connections_file=self.path)
        self._entries: dict[str, dict[str, Any]] = {}
        self._owners: dict[str, str] = {}  # connection id -> integration
        self._variables: dict[str, list[str]] = {}
        self._previous: dict[str, tuple[dict[str, Any], str, list[str]]] = {}
        self._counter = 0

    def owner(self, connection_id: str) -> str | None:
        return self._owners.get(connection_id)

    def _references(self, connection_id: str, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: v if k == "type" else self._references(connection_id, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._references(connection_id, v) for v in value]
        if not isinstance(value, str):
            return value
        self._counter += 1
        name = f"{_PREFIX}_{self._counter}"
        os.environ[name] = value
        self._variables.setdefault(connection_id, []).append(name)
        return "${" + name + "}"

    def add(self, *, connection_id: str, integration: str, provider: str, credentials: dict[str, Any],
            connection_config: dict[str, Any], metadata: dict[str, Any] | None, base_url: str | None) -> None:
        """Write the connection; until `commit` (or `rollback`) the entry it replaces is kept aside."""
        self._drop_previous(connection_id)
        if connection_id in self._entries:
            self._previous[connection_id] = (self._entries.pop(connection_id), self._owners.pop(connection_id),
                                             self._variables.pop(connection_id, []))
        entry: dict[str, Any] = {"integration": integration, "provider": provider,
                                 "credentials": self._references(connection_id, credentials),
                                 "connection_config": connection_config}
        if metadata is not None:
            entry["metadata"] = metadata
        if base_url:
            entry["base_url"] = base_url
        self._entries[connection_id] = entry
        self._owners[connection_id] = integration
        self._write()

    def commit(self, connection_id: str) -> None:
        self._drop_previous(connection_id)

    def rollback(self, connection_id: str) -> None:
        """Back to what was there before the last `add` (nothing, or the entry it replaced)."""
        self._forget(connection_id)
        previous = self._previous.pop(connection_id, None)
        if previous is not None:
            entry, owner, variables = previous
            self._entries[connection_id], self._owners[connection_id] = entry, owner
            self._variables[connection_id] = variables
        self._write()

    def remove(self, connection_id: str) -> None:
        self._drop_previous(connection_id)
        if self._forget(connection_id):
            self._write()

    def _forget(self, connection_id: str) -> bool:
        if self._entries.pop(connection_id, None) is None:
            return False
        self._owners.pop(connection_id, None)
        for name in self._variables.pop(connection_id, []):
            os.environ.pop(name, None)
        return True

    def _drop_previous(self, connection_id: str) -> None:
        previous = self._previous.pop(connection_id, None)
        for name in previous[2] if previous is not None else []:
            os.environ.pop(name, None)

    def close(self) -> None:
        for connection_id in list(self._entries):
            self.remove(connection_id)
        for connection_id in list(self._previous):
            self._drop_previous(connection_id)

    def _write(self) -> None:
        # `$` must survive YAML as is; safe_dump quotes what needs quoting.
        text = yaml.safe_dump({"connections": self._entries}, sort_keys=True, allow_unicode=True)
        write_atomic(self.path, text)
