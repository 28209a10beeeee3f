"""The snapshot document: the whole observable result of one run, as deterministic JSON data.

`snapshot_document(result)` turns a `RunResult` into the document a scenario's snapshot stores: records per
model keyed and sorted by id (final state after every save), updates and deletes per model, checkpoints
(initial, every saved one in order, final), metadata writes and the final metadata, counts, the action
output or the error, validation findings, and the request list (method, path with query, status). Nothing
in it depends on the clock, the machine or the hash seed: timings, log times and absolute paths are left
out, and `[tool.harness.snapshot]` can drop or type-match volatile fields (see `SnapshotSettings`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError
from ..records.lines import RecordLines, sorted_ids
from ..records.lines import id_order as id_order  # re-exported: the faces read it here
from ..records.log import RecordLog
from ..result import RunResult

SNAPSHOT_FORMAT = 1
_MISSING = object()


def _is_datetime(value: Any) -> bool:
    if isinstance(value, datetime):
        return True
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in value or " " in value


def _is_date(value: Any) -> bool:
    if isinstance(value, date):
        return True
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_uuid(value: Any) -> bool:
    if isinstance(value, uuid.UUID):
        return True
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# A field matched by type is stored as `<type>` when its value has that type; a value of another type is
# kept as is, so the snapshot still fails (and shows it) when the field changes kind.
TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "datetime": _is_datetime,
    "date": _is_date,
    "uuid": _is_uuid,
    "string": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "any": lambda v: True,
}


@dataclass(frozen=True)
class SnapshotSettings:
    """`[tool.harness.snapshot]`: `exclude = [paths]` and `types = {path = type}`.

    A path is dot-separated keys of the snapshot document; `*` matches any key or list index, so
    `records.Issue.*.updated_at` is the `updated_at` field of every Issue record and
    `checkpoints.saved.*.since` every saved checkpoint's `since`.
    """

    exclude: tuple[tuple[str, ...], ...] = ()
    types: tuple[tuple[tuple[str, ...], str], ...] = ()
    strip_prefixes: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_table(cls, table: Any, *, strip_prefixes: Iterable[str] = ()) -> SnapshotSettings:
        where = "[tool.harness.snapshot]"
        if table is None:
            return cls(strip_prefixes=tuple(strip_prefixes))
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table", hint='write [tool.harness.snapshot] exclude = ["..."]')
        unknown = sorted(set(table) - {"exclude", "types"})
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}", hint="known keys: exclude, types")
        exclude = table.get("exclude", [])
        if not isinstance(exclude, list) or not all(isinstance(p, str) and p for p in exclude):
            raise ConfigError(f"{where} exclude must be a list of paths",
                              hint='e.g. exclude = ["records.Issue.*.updated_at"]')
        types = table.get("types", {})
        if not isinstance(types, dict):
            raise ConfigError(f"{where} types must be a table of path = type",
                              hint='e.g. types = {"records.*.*.created_at" = "datetime"}')
        for path, kind in types.items():
            if kind not in TYPE_CHECKS:
                raise ConfigError(f"{where} types: {path!r} has unknown type {kind!r}",
                                  hint="known types: " + ", ".join(TYPE_CHECKS))
        return cls(exclude=tuple(tuple(p.split(".")) for p in exclude),
                   types=tuple((tuple(p.split(".")), str(k)) for p, k in types.items()),
                   strip_prefixes=tuple(strip_prefixes))

    def apply(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Drop excluded fields and replace type-matched ones, in place; returns `doc`."""
        if any(p[0] in ("records", "*") for p in (*self.exclude, *(p for p, _ in self.types))):
            records = doc.get("records")
            if isinstance(records, dict):  # records held as lines are decoded to be edited
                doc["records"] = {m: v.to_dict() if isinstance(v, RecordLines) else v for m, v in records.items()}
        for path in self.exclude:
            _walk(doc, path, lambda parent, key: _delete(parent, key))
        for path, kind in self.types:
            check = TYPE_CHECKS[kind]
            _walk(doc, path, lambda parent, key, c=check, k=kind: _typed(parent, key, c, k))  # type: ignore[misc]
        return doc


def _delete(parent: Any, key: Any) -> None:
    if isinstance(parent, dict):
        parent.pop(key, None)
    elif isinstance(parent, list) and isinstance(key, int) and key < len(parent):
        parent[key] = None  # keep the other positions stable


def _typed(parent: Any, key: Any, check: Callable[[Any], bool], kind: str) -> None:
    if check(parent[key]):
        parent[key] = f"<{kind}>"


def _walk(node: Any, path: tuple[str, ...], act: Callable[[Any, Any], None]) -> None:
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        keys: list[Any] = list(node) if head == "*" else ([head] if head in node else [])
    elif isinstance(node, list):
        if head == "*":
            keys = list(range(len(node)))
        elif head.isdigit() and int(head) < len(node):
            keys = [int(head)]
        else:
            keys = []
    else:
        return
    for key in keys:
        if rest:
            _walk(node[key], rest, act)
        else:
            act(node, key)


def _by_id(records: Iterable[dict[str, Any]]) -> dict[str, Any] | RecordLines:
    if isinstance(records, RecordLog) and records.encoded:
        return records.last_saved()  # the lines the store made: nothing to copy or encode
    keyed: dict[str, Any] = {}
    for record in records:
        rid = str(record.get("id")) if isinstance(record, dict) else str(record)
        keyed[rid] = record  # a later save of the same id is the record's final state
    return {rid: keyed[rid] for rid in sorted_ids(keyed)}


def _merged_updates(updates: Iterable[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, dict[str, Any]] = {}
    for partial in updates:
        rid = str(partial.get("id"))
        merged.setdefault(rid, {}).update(partial)
    return {rid: merged[rid] for rid in sorted(merged, key=id_order)}


def _request_path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _strip(value: Any, prefixes: tuple[str, ...]) -> Any:
    """Absolute paths (of the project, of a temporary folder) would make the snapshot machine-specific."""
    if isinstance(value, str):
        for prefix in prefixes:
            value = value.replace(prefix, "")
        return value
    if isinstance(value, dict):
        return {k: _strip(v, prefixes) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip(v, prefixes) for v in value]
    return value


def run_summary(result: RunResult) -> dict[str, Any]:
    """An earlier run of a multi-run scenario, as its snapshot shows it: what it changed and where it ended."""
    return {"status": result.status, "counts": {name: result.models[name].counts() for name in sorted(result.models)},
            "deletes": {name: sorted({str(r.get("id")) for r in c.deleted}, key=id_order)
                        for name, c in sorted(result.models.items()) if c.deleted},
            "final_checkpoint": result.final_checkpoint}


def snapshot_document(result: RunResult, settings: SnapshotSettings | None = None) -> dict[str, Any]:
    """The snapshot of one run: JSON data (dicts, lists, str, numbers, bools, None).

    Records, outputs and checkpoints reach the result already as JSON data; anything else (a pydantic
    model, a datetime in a dict record) is turned into JSON when the document is written or compared
    (`format.to_json`), so the large record lists are not copied here.
    """
    settings = settings or SnapshotSettings()
    models = sorted(result.models)
    doc: dict[str, Any] = {
        "format": SNAPSHOT_FORMAT,
        "function": f"{result.integration}/{result.function}",
        "type": result.function_type,
        "scenario": result.scenario,
        "status": result.status,
        "error": _strip(result.error.to_json(), settings.strip_prefixes) if result.error else None,
        "counts": {name: result.models[name].counts() for name in models},
        "records": {name: _by_id(result.models[name].saved) for name in models if result.models[name].saved},
        "updates": {name: _merged_updates(result.models[name].updated) for name in models
                    if result.models[name].updated},
        "deletes": {name: sorted({str(r.get("id")) for r in result.models[name].deleted}, key=id_order)
                    for name in models if result.models[name].deleted},
        "checkpoints": {"initial": result.initial_checkpoint, "saved": result.checkpoints,
                        "final": result.final_checkpoint},
        "metadata": {"writes": result.metadata_writes, "final": result.final_metadata},
    }
    if result.function_type == "action":
        doc["output"] = result.output if result.has_output else None
    if result.issues:
        doc["issues"] = [_strip(i.to_json(), settings.strip_prefixes) for i in result.issues]
    if result.capped:
        doc["capped"] = result.capped
    doc["requests"] = [{"method": r.method, "path": _request_path(r.url), "status": r.status}
                       for r in result.requests]
    return settings.apply(doc)
