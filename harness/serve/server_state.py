"""What the server remembers between runs and across restarts: sync run history and connection metadata.

Kept in memory, and written atomically (`harness.atomic`) to `<store>.state.json` beside the records
database whenever it changes, so a crash leaves the previous complete file. A run still marked RUNNING
when the file is read again was cut short by a stop: it is marked failed then (`STOPPED`, "the server
stopped during the run"), which is what a status request reports.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import write_atomic

KEEP_RUNS = 20  # per sync and connection
STATE_FORMAT = 1


@dataclass
class SyncRun:
    """One run of a sync (or of its webhook handler) for one connection."""

    id: str
    integration: str
    sync: str
    connection_id: str
    kind: str  # INITIAL | INCREMENTAL | FULL | WEBHOOK
    status: str  # RUNNING | SUCCESS | STOPPED
    started_at: float
    finished_at: float | None = None
    results: dict[str, dict[str, int]] = field(default_factory=dict)  # model -> added/updated/deleted
    checkpoint: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    trigger: str = "api"  # api | schedule | webhook | start

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def run_key(integration: str, sync: str, connection_id: str) -> str:
    return f"{integration}/{sync}/{connection_id}"


class ServeState:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.runs: dict[str, list[SyncRun]] = {}
        self.metadata: dict[str, dict[str, Any]] = {}  # "integration/connection" -> metadata
        self.recovered: list[SyncRun] = []
        if path is not None and path.is_file():
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # unreadable: start afresh (the records database is the source of truth for records)
        for key, items in (data.get("runs") or {}).items():
            runs = []
            for item in items:
                with contextlib.suppress(TypeError):
                    runs.append(SyncRun(**item))
            self.runs[key] = runs
        self.metadata = {k: v for k, v in (data.get("metadata") or {}).items() if isinstance(v, dict)}
        for runs in self.runs.values():
            for run in runs:
                if run.status == "RUNNING":
                    run.status = "STOPPED"
                    run.finished_at = run.finished_at or run.started_at
                    run.error = {"type": "script_aborted", "message": "the server stopped during the run"}
                    self.recovered.append(run)
        if self.recovered:
            self.save()

    def save(self) -> None:
        if self.path is None:
            return
        doc = {"format": STATE_FORMAT, "runs": {k: [r.to_json() for r in v] for k, v in self.runs.items()},
               "metadata": self.metadata}
        write_atomic(self.path, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")

    def add_run(self, run: SyncRun) -> None:
        runs = self.runs.setdefault(run_key(run.integration, run.sync, run.connection_id), [])
        runs.append(run)
        del runs[:-KEEP_RUNS]
        self.save()

    def latest(self, integration: str, sync: str, connection_id: str) -> SyncRun | None:
        runs = self.runs.get(run_key(integration, sync, connection_id))
        return runs[-1] if runs else None

    def has_succeeded(self, integration: str, sync: str, connection_id: str) -> bool:
        return any(r.status == "SUCCESS" and r.kind != "WEBHOOK"
                   for r in self.runs.get(run_key(integration, sync, connection_id), []))

    def forget_connection(self, integration: str, connection_id: str) -> None:
        for key in [k for k in self.runs if k.split("/")[0] == integration and k.split("/")[-1] == connection_id]:
            del self.runs[key]
        self.metadata.pop(f"{integration}/{connection_id}", None)
        self.save()

    def set_metadata(self, integration: str, connection_id: str, metadata: dict[str, Any]) -> None:
        self.metadata[f"{integration}/{connection_id}"] = metadata
        self.save()
