"""Where a connection came from, and how harness writes back to it (refreshed tokens, persisted metadata).

Two sources: the connections file (`FileSource`, writes go to `.harness/` beside it, see `writeback.py`) and a
Nango server (`nango.NangoSource`: Nango refreshes tokens itself and stores metadata). A run's live
transport asks the source for fresh credentials; the session asks it to persist metadata.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import httpx

from ..providers.catalog import Provider
from . import refresh, writeback
from .model import Connection


class ConnectionSource(Protocol):
    kind: str

    async def fresh_credentials(self, connection: Connection, provider: Provider, client: httpx.AsyncClient,
                                now: float, why: str) -> dict[str, Any]:
        """New credentials (a refreshed token); raises TokenRefreshError when there are none."""
        ...

    def save_credentials(self, connection: Connection) -> str | None:
        """Keep the connection's current credentials; returns where (None when the source keeps them)."""
        ...

    def save_metadata(self, connection: Connection, writes: list[dict[str, Any]], final: Any) -> str:
        """Send the run's metadata writes to the source; returns where they went."""
        ...


class FileSource:
    """A connection of the connections file; `base_*` are what the file said (after `${ENV}` expansion)."""

    kind = "file"

    def __init__(self, path: Path, state_dir: Path, connection_id: str, base_credentials: dict[str, Any],
                 base_metadata: Any) -> None:
        self.path = path
        self.state_dir = state_dir
        self.connection_id = connection_id
        self.base_credentials = base_credentials
        self.base_metadata = base_metadata

    async def fresh_credentials(self, connection: Connection, provider: Provider, client: httpx.AsyncClient,
                                now: float, why: str) -> dict[str, Any]:
        return await refresh.exchange(connection, provider, client, now, why)

    def save_credentials(self, connection: Connection) -> str | None:
        path = writeback.save(self.state_dir, writeback.TOKENS, str(self.path), self.connection_id,
                          self.base_credentials, connection.credentials)
        return str(path)

    def save_metadata(self, connection: Connection, writes: list[dict[str, Any]], final: Any) -> str:
        path = writeback.save(self.state_dir, writeback.METADATA, str(self.path), self.connection_id,
                          self.base_metadata, final)
        return str(path)
