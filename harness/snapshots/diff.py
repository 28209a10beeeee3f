"""Differences a reviewer can read: what changed between a stored snapshot and a run, record by record.

Instead of a text diff of two large JSON files, `describe_differences(stored, current)` says which records
were added, removed or changed per model (by id, with the changed fields and their old and new values),
which checkpoints, metadata writes and requests differ (by position), and how the status, error, counts
and output changed. Every section is capped, so a 150,000-record change still prints a short report.
"""

from __future__ import annotations

import itertools
import json
import operator
from collections.abc import Iterable, Iterator
from typing import Any

from ..heap import collector_paused
from ..records.lines import id_order

_ABSENT = object()
LIMIT = 10  # lines per section before "... and N more"
_WIDTH = 100


def _short(value: Any) -> str:
    if value is _ABSENT:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= _WIDTH else text[: _WIDTH - 3] + "..."


def field_changes(old: Any, new: Any, prefix: str = "") -> Iterator[str]:
    """`path: old -> new` for every leaf that differs (dicts recurse; lists and scalars compare whole)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            a, b = old.get(key, _ABSENT), new.get(key, _ABSENT)
            if a == b and type(a) is type(b):
                continue
            yield from field_changes(a, b, f"{prefix}.{key}" if prefix else str(key))
        return
    if old != new or type(old) is not type(new):
        yield f"{prefix or '(value)'}: {_short(old)} -> {_short(new)}"


def _capped(lines: list[str], indent: str = "    ") -> list[str]:
    shown = [indent + line for line in lines[:LIMIT]]
    if len(lines) > LIMIT:
        shown.append(f"{indent}... and {len(lines) - LIMIT} more")
    return shown


def _keyed_section(name: str, old: dict[str, Any], new: dict[str, Any], label: str) -> list[str]:
    """records / updates: {model: {id: record}}."""
    out: list[str] = []
    for model in sorted(set(old) | set(new)):
        a, b = old.get(model) or {}, new.get(model) or {}
        if a == b:
            continue
        ids = list(a)
        if ids == list(b):
            # The same ids in the same order (a changed mapping, the usual failure): walk both sides' values
            # in step, without hashing an id.
            added = removed = []
            differ: Iterable[str] = itertools.compress(ids, map(operator.is_not, a.values(), b.values()))
        else:
            # Set operations on the key views, and only the (few) differing ids sorted.
            added = sorted(b.keys() - a.keys(), key=id_order)
            removed = sorted(a.keys() - b.keys(), key=id_order)
            common = list(a.keys() & b.keys())
            differ = itertools.compress(common, map(operator.is_not, map(a.__getitem__, common),
                                                    map(b.__getitem__, common)))
        # Records shared by both sides (the slow compare shares the equal ones) are skipped at C speed.
        changed = sorted((rid for rid in differ if a[rid] != b[rid]), key=id_order)
        out.append(f"  {name}.{model}: {len(added)} added, {len(removed)} removed, {len(changed)} changed "
                   f"({label} {len(a)}, run {len(b)})")
        # Changed records first: they are what a mapping change produces, and the most telling.
        lines = []
        for rid in changed:
            fields = list(field_changes(a[rid], b[rid]))
            lines.append(f"~ {rid}: " + "; ".join(fields[:5]) + (f"; ... ({len(fields)} fields)"
                                                                   if len(fields) > 5 else ""))
        lines += [f"- {rid} {_short(a[rid])}" for rid in removed]
        lines += [f"+ {rid} {_short(b[rid])}" for rid in added]
        out += _capped(lines)
    return out


def _list_section(name: str, old: list[Any], new: list[Any], show: Any = _short) -> list[str]:
    if old == new:
        return []
    lines: list[str] = []
    for n in range(max(len(old), len(new))):
        a = old[n] if n < len(old) else _ABSENT
        b = new[n] if n < len(new) else _ABSENT
        if a == b:
            continue
        if a is _ABSENT:
            lines.append(f"+ #{n}: {show(b)}")
        elif b is _ABSENT:
            lines.append(f"- #{n}: {show(a)}")
        else:
            lines.append(f"~ #{n}: {show(a)} -> {show(b)}")
    head = f"  {name}: {len(old)} before, {len(new)} in the run" if len(old) != len(new) else f"  {name}:"
    return [head, *_capped(lines)]


def _request(value: Any) -> str:
    if isinstance(value, dict):
        return f"{value.get('method')} {value.get('path')} {value.get('status')}"
    return _short(value)


def describe_differences(stored: dict[str, Any], current: dict[str, Any], label: str = "snapshot") -> list[str]:
    """Readable lines, most telling first; empty when the documents are equal. `label` names `stored`."""
    with collector_paused():
        return _describe(stored, current, label)


def _describe(stored: dict[str, Any], current: dict[str, Any], label: str) -> list[str]:
    out: list[str] = []
    handled = {"records", "updates", "deletes", "checkpoints", "metadata", "requests", "issues", "counts",
               "output", "error"}
    for key in ("status", "type", "function", "scenario", "format", "capped"):
        a, b = stored.get(key, _ABSENT), current.get(key, _ABSENT)
        if a != b:
            out.append(f"  {key}: {_short(a)} -> {_short(b)}")
    for key in ("error", "output"):
        a, b = stored.get(key, _ABSENT), current.get(key, _ABSENT)
        if a != b:
            out.append(f"  {key}:")
            out += _capped(list(field_changes(a, b)) if isinstance(a, dict) and isinstance(b, dict)
                           else [f"{_short(a)} -> {_short(b)}"])
    for key in ("records", "updates"):
        out += _keyed_section(key, stored.get(key) or {}, current.get(key) or {}, label)
    old_del, new_del = stored.get("deletes") or {}, current.get("deletes") or {}
    for model in sorted(set(old_del) | set(new_del)):
        a, b = set(old_del.get(model) or []), set(new_del.get(model) or [])
        if a != b:
            lines = [f"+ {rid}" for rid in sorted(b - a, key=id_order)]
            lines += [f"- {rid}" for rid in sorted(a - b, key=id_order)]
            out += [f"  deletes.{model}: {len(b - a)} more, {len(a - b)} fewer", *_capped(lines)]
    old_cp, new_cp = stored.get("checkpoints") or {}, current.get("checkpoints") or {}
    for key in ("initial", "final"):
        if old_cp.get(key) != new_cp.get(key):
            out.append(f"  checkpoints.{key}: {_short(old_cp.get(key))} -> {_short(new_cp.get(key))}")
    out += _list_section("checkpoints.saved", old_cp.get("saved") or [], new_cp.get("saved") or [])
    old_md, new_md = stored.get("metadata") or {}, current.get("metadata") or {}
    out += _list_section("metadata.writes", old_md.get("writes") or [], new_md.get("writes") or [])
    if old_md.get("final") != new_md.get("final"):
        out.append("  metadata.final:")
        out += _capped(list(field_changes(old_md.get("final"), new_md.get("final"))))
    old_counts, new_counts = stored.get("counts") or {}, current.get("counts") or {}
    count_lines = list(field_changes(old_counts, new_counts))
    if count_lines:
        out += ["  counts:", *_capped(count_lines)]
    out += _list_section("issues", stored.get("issues") or [], current.get("issues") or [])
    out += _list_section("requests", stored.get("requests") or [], current.get("requests") or [], _request)
    for key in sorted((set(stored) | set(current)) - handled - {"status", "type", "function", "scenario",
                                                                  "format", "capped"}):
        a, b = stored.get(key, _ABSENT), current.get(key, _ABSENT)
        if a != b:
            out.append(f"  {key}: {_short(a)} -> {_short(b)}")
    return out
