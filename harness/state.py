"""One run's options and live state: `RunOptions` (what a face asked for), `RunState` (what the context and the
runner share while the function runs), and the two exceptions that end a run from inside the context.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel

from .connections.model import Connection
from .definitions import Definition, SyncDefinition
from .providers.catalog import Provider
from .records.log import ALL_IN_MEMORY, Keeping
from .records.store import RecordStore
from .result import Issue, RunResult

if TYPE_CHECKING:
    from .http.stack import HttpStack


class InvalidDataError(Exception):
    """A checkpoint, metadata value or input the function handed over failed its model (strict runs)."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("; ".join(str(i) for i in issues))


class RunCapped(Exception):
    """Raised to end a dry run early and cleanly (`--max-records`)."""


@dataclass
class RunOptions:
    strict: bool = True
    max_pages: int | None = None
    max_records: int | None = None
    # End the run right after the Nth saved checkpoint, as if the process died there (resume checks).
    interrupt_after_checkpoints: int | None = None
    variant: str = "base"
    last_sync_date: datetime | None = None
    timeout_s: float = 30.0
    # Called with the result so far after each HTTP exchange and each batch of records (progress display).
    progress: Callable[[RunResult], None] | None = None
    # Strict replay: recorded interactions the run never asked for fail it (exit 3).
    fail_unplayed: bool = False
    # Injected faults that never fired fail the run (exit 2) instead of being a warning.
    fail_unfired: bool = False
    # How the result's record logs hold their rows (all in memory, or a head and a spill file).
    keeping: Keeping = ALL_IN_MEMORY


class RunState:
    """What a context reads and writes during one run (shared by the context and the runner)."""

    def __init__(self, definition: Definition, connection: Connection, provider: Provider, base_url: str,
                 client: httpx.AsyncClient, stack: HttpStack, result: RunResult, options: RunOptions,
                 store: RecordStore) -> None:
        self.definition = definition
        self.connection = connection
        self.provider = provider
        self.base_url = base_url
        self.client = client
        self.clock = stack.clock
        self.result = result
        self.strict = options.strict
        self.max_pages = options.max_pages
        self.max_records = options.max_records
        self.interrupt_after = options.interrupt_after_checkpoints
        self.progress = options.progress
        self.cleared_empty = False
        self.variant = options.variant
        self.last_sync_date = options.last_sync_date
        self.fail_unplayed = options.fail_unplayed
        self.store = store
        self.checkpoint: dict[str, Any] | None = None
        self.checkpoint_read = False
        self.metadata: Any = None
        self.records_seen = 0
        self._started = time.perf_counter()

    @property
    def checkpoint_model(self) -> type[BaseModel] | None:
        d = self.definition
        return d.checkpoint if isinstance(d, SyncDefinition) else None

    @property
    def sync_models(self) -> dict[str, type[BaseModel]]:
        d = self.definition
        return d.models if isinstance(d, SyncDefinition) else {}

    def add_log(self, level: str, message: str) -> None:
        self.result.logs.append({"level": level, "message": message,
                                 "at_ms": round((time.perf_counter() - self._started) * 1000, 3)})

    def report(self, issues: list[Issue]) -> None:
        if not issues:
            return
        self.result.issues.extend(issues)
        # Records keep going so every invalid one is reported; other data stops the run at once.
        fatal = [i for i in issues if i.severity == "error" and i.kind in ("checkpoint", "metadata")]
        if fatal:
            raise InvalidDataError(fatal)

    def cap(self, why: str) -> None:
        self.result.capped = why
        self.add_log("warn", why)

    def checkpoint_saved(self) -> None:
        if self.interrupt_after is not None and len(self.result.checkpoints) >= self.interrupt_after:
            self.result.capped = f"interrupted after checkpoint {len(self.result.checkpoints)}"
            raise RunCapped()

    def count_records(self, n: int) -> None:
        self.records_seen += n
        if self.progress is not None:
            self.progress(self.result)
        if self.max_records is not None and self.records_seen >= self.max_records:
            self.cap(f"stopped after {self.records_seen} record(s) (--max-records)")
            raise RunCapped()
