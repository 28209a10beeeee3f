"""Sync invariants: properties every correct sync has, checked by running it several times.

- *resume*: interrupt the run right after its Nth saved checkpoint (as if the process died there), start a
  second run from that checkpoint on the same store: the live records must equal those of one uninterrupted
  run, and the resumed run must not fetch again the pages before the checkpoint. A sync that saves its
  checkpoint before saving the page fails this, and so does one that ignores its checkpoint and starts over.
- *idempotent*: a second run from the final checkpoint adds nothing.
- *lint*: Nango's checkpoint pitfalls (saved but never read, cleared with nothing saved) from the runs.

Each run is a normal run of the pipeline (`check_request` varies one `RunRequest`), so the checks work live
(read-only) or on any transport.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .definitions import SyncDefinition
from .records.memory import MemoryStore
from .records.store import RecordStore
from .result import RunResult
from .unset import UNSET

if TYPE_CHECKING:
    from .pipeline import RunRequest

RunFn = Callable[..., RunResult]  # run(store=..., checkpoint=..., interrupt_after_checkpoints=...)


@dataclass
class Finding:
    check: str
    ok: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "message": self.message, **({"details": self.details}
                                                                               if self.details else {})}


@dataclass
class Report:
    function: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {"function": self.function, "ok": self.ok, "findings": [f.to_json() for f in self.findings]}


def live_records(store: RecordStore, models: list[str]) -> dict[str, dict[str, Any]]:
    """model -> id -> record, for the records that are not deleted."""
    out: dict[str, dict[str, Any]] = {}
    for model in models:
        rows: dict[str, Any] = {}
        cursor: str | None = None
        while True:
            page, cursor = store.list(model, cursor=cursor, limit=1000)
            for rec in page:
                meta = rec.get("_nango_metadata") or {}
                if meta.get("deleted_at") is None:
                    rows[rec["id"]] = {k: v for k, v in rec.items() if k != "_nango_metadata"}
            if cursor is None:
                break
        out[model] = rows
    return out


def _diff(want: dict[str, dict[str, Any]], got: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for model in want:
        a, b = want[model], got.get(model, {})
        missing = sorted(set(a) - set(b))
        extra = sorted(set(b) - set(a))
        changed = sorted(rid for rid in set(a) & set(b) if a[rid] != b[rid])
        if missing or extra or changed:
            out[model] = {"missing": missing, "extra": extra, "changed": changed}
    return out


def _saved_ids(result: RunResult) -> set[tuple[str, str]]:
    return {(model, str(row.get("id"))) for model, changes in result.models.items() for row in changes.saved}


def refetched_requests(interrupted: RunResult, resumed: RunResult) -> list[str]:
    """The requests made before the checkpoint that the resumed run sends again, when it starts over.

    A resumed run that uses its checkpoint asks for something else first (a `since=`, a cursor, a next link).
    One that ignores it repeats, in order, every request the interrupted run made before the checkpoint and
    saves the same records again. Both must hold: a run may legitimately repeat a setup request made before
    the first checkpoint (GET /user), but then it does not save again what the interrupted run saved.
    """
    before = [(e.method, e.url) for e in interrupted.requests]
    again = [(e.method, e.url) for e in resumed.requests[: len(before)]]
    if not before or again != before:
        return []
    if not _saved_ids(interrupted) & _saved_ids(resumed):
        return []
    return [f"{method} {url}" for method, url in before]


def resume_points(checkpoints: int, limit: int) -> list[int]:
    """Interruption points 1..checkpoints-1, all of them or `limit` spread evenly."""
    points = list(range(1, checkpoints))
    if len(points) <= limit:
        return points
    step = len(points) / limit
    return sorted({points[int(i * step)] for i in range(limit)})


def check_sync(definition: SyncDefinition, run: RunFn, *, points: list[int] | None = None,
               max_points: int = 20) -> Report:
    report = Report(definition.qualified_name)
    models = list(definition.models)

    def store() -> MemoryStore:
        return MemoryStore(time.time)

    base_store = store()
    base = run(store=base_store)
    if not base.ok:
        report.findings.append(Finding("baseline", False, f"the uninterrupted run failed: "
                                       f"{base.error.message if base.error else base.status}"))
        return report
    reference = live_records(base_store, models)
    saved = len(base.checkpoints)
    chosen = points if points is not None else resume_points(saved, max_points)
    if saved < 2 and points is None:
        report.findings.append(Finding("resume", True, f"skipped: the run saved {saved} checkpoint(s), "
                                       "so there is no point to interrupt it at"))
    for k in chosen:
        shared = store()
        first = run(store=shared, interrupt_after_checkpoints=k)
        if not first.ok:
            report.findings.append(Finding("resume", False, f"interrupted run #{k} failed: "
                                           f"{first.error.message if first.error else first.status}"))
            continue
        start = first.final_checkpoint
        second = run(store=shared, checkpoint=start if start is not None else UNSET)
        if not second.ok:
            report.findings.append(Finding("resume", False, f"resuming from checkpoint {k} failed: "
                                           f"{second.error.message if second.error else second.status}",
                                           {"checkpoint": start}))
            continue
        refetched = refetched_requests(first, second)
        diff = _diff(reference, live_records(shared, models))
        if refetched:
            shown = ", ".join(refetched[:3]) + (f" and {len(refetched) - 3} more" if len(refetched) > 3 else "")
            report.findings.append(Finding("resume", False, f"resumed from checkpoint {k} ({start}) but fetched "
                                           f"again the {len(refetched)} request(s) made before it: {shown}; the "
                                           "sync does not start from its checkpoint",
                                           {"checkpoint": start, "refetched": refetched}))
        elif diff:
            report.findings.append(Finding("resume", False, f"interrupted after checkpoint {k} and resumed from "
                                           f"{start}: the records differ from an uninterrupted run",
                                           {"checkpoint": start, "differences": diff}))
        else:
            report.findings.append(Finding("resume", True, f"interrupted after checkpoint {k}: same records"))
    again = run(store=base_store, checkpoint=base.final_checkpoint if base.final_checkpoint is not None else UNSET)
    added = again.totals()["added"] if again.ok else None
    if again.ok and not added:
        report.findings.append(Finding("idempotent", True, "a second run from the final checkpoint adds nothing"))
    else:
        report.findings.append(Finding("idempotent", False,
                                       f"a second run from the final checkpoint {base.final_checkpoint} "
                                       + (f"added {added} record(s)" if again.ok else
                                          f"failed: {again.error.message if again.error else again.status}")))
    for issue in base.warnings:
        if issue.kind == "checkpoint":
            report.findings.append(Finding("lint", False, issue.message))
    return report


def check_request(req: RunRequest, *, points: list[int] | None = None, max_points: int = 20,
                  wrap: Callable[[RunFn], RunFn] | None = None) -> Report:
    """`check_sync` on the function `req` names, each run being `req` with the check's overrides (`wrap`
    sees every run: the HTML report keeps them)."""
    from .errors import UsageError
    from .pipeline import execute, prepare

    prepared = prepare(req)
    definition = prepared.definition
    if not isinstance(definition, SyncDefinition):
        article = "an" if definition.type[0] in "aeio" else "a"
        raise UsageError(f"{definition.qualified_name} is {article} {definition.type}; `harness check` checks syncs",
                         hint="fuzz actions with `harness fuzz`")

    def run(**overrides: Any) -> RunResult:
        return execute(replace(req, **overrides), prepared).result

    return check_sync(definition, wrap(run) if wrap is not None else run, points=points, max_points=max_points)
