"""`RunResult`: everything one run of a function did, and its stable JSON form.

This is the one document every face renders: the CLI prints it (or dumps `to_json()` with `--json`), the
pytest plugin snapshots it, the packager gates on it. The JSON layout is versioned by `RESULT_FORMAT`; keys
are only ever added.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, Literal

import pydantic_core

from .records.log import ALL_IN_MEMORY, Keeping, RecordLog

RESULT_FORMAT = 1

Status = Literal["success", "failed", "invalid"]
Severity = Literal["error", "warning"]


@dataclass
class Issue:
    """One validation finding: what, where (model, record id, field path), and how bad."""

    kind: str  # record | input | output | checkpoint | metadata | duplicate | run
    message: str
    model: str | None = None
    record_id: str | None = None
    index: int | None = None
    path: str | None = None
    severity: Severity = "error"

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}

    def __str__(self) -> str:
        where = [self.kind]
        if self.model:
            where.append(f"model {self.model}")
        if self.record_id is not None:
            where.append(f"id {self.record_id!r}")
        elif self.index is not None:
            where.append(f"record #{self.index}")
        if self.path:
            where.append(f"field {self.path}")
        return f"{', '.join(where)}: {self.message}"


_LOGS = frozenset({"saved", "updated", "deleted"})


@dataclass
class ModelChanges:
    """Records one model received during the run, in call order (each list a `RecordLog`: its first rows in
    memory, the rest spilled to a temporary file unless the run keeps them all)."""

    saved: RecordLog = field(default_factory=RecordLog)
    updated: RecordLog = field(default_factory=RecordLog)
    deleted: RecordLog = field(default_factory=RecordLog)
    added_count: int = 0
    updated_count: int = 0
    deleted_count: int = 0
    unchanged_count: int = 0

    def __setattr__(self, name: str, value: Any) -> None:
        # Tests and faces may hand in plain lists; the logs stay logs.
        if name in _LOGS and not isinstance(value, RecordLog):
            value = RecordLog(value)
        object.__setattr__(self, name, value)

    @classmethod
    def kept(cls, keeping: Keeping) -> ModelChanges:
        return cls(saved=RecordLog(keeping=keeping), updated=RecordLog(keeping=keeping),
                   deleted=RecordLog(keeping=keeping))

    def counts(self) -> dict[str, int]:
        return {"added": self.added_count, "updated": self.updated_count, "deleted": self.deleted_count,
                "unchanged": self.unchanged_count}


@dataclass
class Exchange:
    """One HTTP request the function made and what came back (URL already scrubbed)."""

    method: str
    url: str
    status: int | None
    duration_ms: float
    source: str  # live | replay
    error: str | None = None
    at_ms: float | None = None  # when it started, from the start of the run
    attempt: int = 0  # 0 for a first try, N for the Nth retry of the same call
    fault: str | None = None  # the injected fault (`--fault` spec) that answered it

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "url": self.url, "status": self.status,
                               "duration_ms": round(self.duration_ms, 3), "source": self.source}
        if self.error:
            out["error"] = self.error
        if self.at_ms is not None:
            out["at_ms"] = round(self.at_ms, 3)
        if self.attempt:
            out["attempt"] = self.attempt
        if self.fault:
            out["fault"] = self.fault
        return out


@dataclass
class RunError:
    """Why a run did not succeed: `type` follows Nango's error names where one exists."""

    type: str  # action_script_runtime_error | script_http_error | script_internal_error | invalid_data | ...
    message: str
    payload: Any = None
    status: int | None = None
    exit_code: int = 1

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.payload is not None:
            out["payload"] = self.payload
        if self.status is not None:
            out["status"] = self.status
        return out


@dataclass(repr=False)
class RunResult:
    function: str
    integration: str
    function_type: str
    connection_id: str
    mode: str
    scenario: str | None = None
    status: Status = "success"
    input: Any = None
    output: Any = None
    has_output: bool = False
    error: RunError | None = None
    models: dict[str, ModelChanges] = field(default_factory=dict)
    checkpoints: list[dict[str, Any] | None] = field(default_factory=list)
    # How many requests had been made when each checkpoint was saved (the report's timeline).
    checkpoint_requests: list[int] = field(default_factory=list)
    initial_checkpoint: dict[str, Any] | None = None
    final_checkpoint: dict[str, Any] | None = None
    metadata_writes: list[dict[str, Any]] = field(default_factory=list)
    final_metadata: Any = None
    logs: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Exchange] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    unplayed: list[dict[str, Any]] = field(default_factory=list)
    cassette: str | None = None
    cassette_written: bool = False
    capped: str | None = None
    # A replay's values given on top of what its cassette holds (`--metadata`, fixture arguments...).
    overrides: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # How the record logs hold their rows (set by the pipeline from `RunRequest.records_in_memory`).
    keeping: Keeping = field(default=ALL_IN_MEMORY, repr=False, compare=False)

    def __repr__(self) -> str:
        # Short on purpose: asyncio and pytest repr results, and a 500,000-record repr costs seconds.
        error = f", error={self.error.type}" if self.error else ""
        return (f"RunResult({self.integration}/{self.function}, {self.mode}, {self.status}{error}, "
                f"totals={self.totals()}, requests={len(self.requests)})")

    def model(self, name: str) -> ModelChanges:
        if name not in self.models:
            self.models[name] = ModelChanges.kept(self.keeping)
        return self.models[name]

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    def counts(self) -> dict[str, dict[str, int]]:
        return {name: changes.counts() for name, changes in self.models.items()}

    def totals(self) -> dict[str, int]:
        total = {"added": 0, "updated": 0, "deleted": 0, "unchanged": 0}
        for changes in self.models.values():
            for key, value in changes.counts().items():
                total[key] += value
        return total

    def records(self, model: str) -> list[dict[str, Any]]:
        """The saved records of one model, in call order."""
        return list(self.models[model].saved) if model in self.models else []

    def to_json(self, *, timings: bool = True,
                rows: Callable[[RecordLog], Any] = list) -> dict[str, Any]:
        """The stable document (`--json`). `timings=False` drops everything that varies run to run; `rows`
        turns each record log into its JSON value (the whole list, unless `write_json` streams it)."""
        doc: dict[str, Any] = {
            "format": RESULT_FORMAT,
            "function": self.function,
            "integration": self.integration,
            "type": self.function_type,
            "connection_id": self.connection_id,
            "mode": self.mode,
            "scenario": self.scenario,
            "status": self.status,
            "counts": self.counts(),
            "totals": self.totals(),
            "records": {name: {"saved": rows(c.saved), "updated": rows(c.updated), "deleted": rows(c.deleted)}
                        for name, c in self.models.items()},
            "checkpoints": {"initial": self.initial_checkpoint, "saved": self.checkpoints,
                            "final": self.final_checkpoint, "after_requests": self.checkpoint_requests},
            "metadata": {"writes": self.metadata_writes, "final": self.final_metadata},
            "logs": self.logs,
            "requests": [r.to_json() for r in self.requests],
            "issues": [i.to_json() for i in self.issues],
            "unplayed": self.unplayed,
            "cassette": {"path": self.cassette, "written": self.cassette_written},
            "capped": self.capped,
            "overrides": self.overrides,
        }
        if self.function_type == "action":
            doc["input"] = self.input
            doc["output"] = self.output if self.has_output else None
        doc["error"] = self.error.to_json() if self.error else None
        if timings:
            doc["timings_ms"] = {k: round(v, 3) for k, v in self.timings.items()}
        else:
            for req in doc["requests"]:
                req.pop("duration_ms", None)
                req.pop("at_ms", None)
        return doc

    def write_json(self, out: IO[str], *, timings: bool = True) -> None:
        """Write `to_json()` as indented JSON plus a newline (`json.dumps(..., indent=2, ensure_ascii=False)`'s
        layout), with each spilled record log streamed from its file batch by batch, never built in memory."""
        streamed: dict[str, RecordLog] = {}

        def mark(log: RecordLog) -> Any:
            if not log.spilled:
                return list(log)
            token = f"\x00harness-records-{len(streamed)}\x00"
            streamed[json.dumps(token)] = log
            return token

        text = json.dumps(self.to_json(timings=timings, rows=mark), indent=2, ensure_ascii=False)
        for token, log in streamed.items():
            before, after = text.split(token, 1)
            out.write(before)
            line = before[before.rfind("\n") + 1:]
            base = " " * (len(line) - len(line.lstrip(" ")))
            out.write("[")
            sep = "\n"
            for batch in log.batches():
                # Rust's pretty printer: the same layout as json's indent=2, at C speed (floats may be spelt
                # differently, e.g. 1e-7 for 1e-07: the same numbers).
                body = pydantic_core.to_json(batch, indent=2).decode("utf-8")[2:-2]
                out.write(sep + base + body.replace("\n", "\n" + base))
                sep = ",\n"
            out.write("\n" + base + "]")
            text = after
        out.write(text + "\n")
