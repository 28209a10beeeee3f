"""Choosing a run's connection source: the connections file, a Nango server, or the cassette.

`--source file` reads only the connections file; `--source nango` only asks Nango. Without `--source`,
the file wins when it has the connection; otherwise a replay takes the connection stored in its cassette,
and a live run asks Nango when `NANGO_SECRET_KEY` is set (in the environment or the project's `.env`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError, NotFoundError, UsageError
from . import nango
from .file import _environment, find_connection
from .model import Connection

SOURCES = ("file", "nango")


def nango_settings(project_root: Path, environment: str | None = None) -> tuple[str, str] | None:
    return nango.settings(_environment(project_root), environment)


def _require_nango(project_root: Path, why: str, environment: str | None = None) -> tuple[str, str]:
    found = nango_settings(project_root, environment)
    if found is None:
        name = f"NANGO_SECRET_KEY_{environment.upper().replace('-', '_')}" if environment else "NANGO_SECRET_KEY"
        raise ConfigError(f"{why} needs {name}",
                          hint=f"set {name} (and NANGO_HOST for a self-hosted Nango) in the "
                               "environment or the project's .env")
    return found


def _from_cassette(stored: dict[str, Any]) -> Connection:
    # Replay needs no connections file: the cassette carries the connection's non-secret parts.
    return Connection(connection_id=stored["connection_id"], provider=stored.get("provider") or "",
                      credentials=stored.get("credentials") or {},
                      integration=stored.get("integration") or "",
                      connection_config=stored.get("connection_config") or {},
                      metadata=stored.get("metadata"), base_url=stored.get("base_url"))


def resolve(*, connections_file: Path, project_root: Path, state_dir: Path, connection_id: str,
            integration: str, mode: str, source: str | None, stored: dict[str, Any] | None,
            environment: str | None = None) -> Connection:
    if source is not None and source not in SOURCES:
        raise UsageError(f"unknown connection source {source!r}", hint="use --source file or --source nango")
    if source != "nango":
        try:
            return find_connection(connections_file, project_root, connection_id, state_dir)
        except NotFoundError:
            if source == "file":
                raise
            if stored and stored.get("connection_id") == connection_id:
                return _from_cassette(stored)
            if mode == "replay" or nango_settings(project_root, environment) is None:
                raise
    host, key = _require_nango(project_root, "--source nango", environment)
    return nango.NangoSource(host, key, integration, connection_id).fetch()
