"""A snapshot mismatch as data: what the test report shows side by side.

`snapshot_diff(stored, current)` compares two snapshot documents (`snapshots.document`) the way
`snapshots.diff.describe_differences` describes them in text, but keeps the values: per model the records
added, removed and changed (with both versions and the paths of the fields that differ), the deletes, the
checkpoints (initial, final, every saved one by position), and the other keys that differ (status, error,
output, counts, metadata, issues, requests). Each list is capped at `limit` entries, with the number left
out, so a 150,000-record change still makes a page that opens.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..snapshots.document import id_order

LIMIT = 200
_ABSENT = object()
_HANDLED = ("records", "updates", "deletes", "checkpoints")
_LISTS = ("requests", "issues")


def _same(a: Any, b: Any) -> bool:
    return a == b and type(a) is type(b)


def changed_paths(old: Any, new: Any, prefix: str = "") -> Iterator[str]:
    """The dotted path of every leaf that differs (dicts recurse; lists and scalars compare whole)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            a, b = old.get(key, _ABSENT), new.get(key, _ABSENT)
            if not _same(a, b):
                yield from changed_paths(a, b, f"{prefix}.{key}" if prefix else str(key))
        return
    if not _same(old, new):
        yield prefix or "(value)"


def _pair(a: Any, b: Any, **head: Any) -> dict[str, Any]:
    out = dict(head)
    if a is not _ABSENT:
        out["old"] = a
    if b is not _ABSENT:
        out["new"] = b
    return out


def _keyed(section: str, old: Mapping[str, Any], new: Mapping[str, Any], limit: int) -> list[dict[str, Any]]:
    out = []
    for model in sorted(set(old) | set(new)):
        a, b = old.get(model) or {}, new.get(model) or {}
        if a == b:
            continue
        added = sorted(set(b) - set(a), key=id_order)
        removed = sorted(set(a) - set(b), key=id_order)
        changed = [rid for rid in sorted(set(a) & set(b), key=id_order) if not _same(a[rid], b[rid])]
        out.append({
            "section": section, "model": model, "stored": len(a), "run": len(b),
            "counts": {"added": len(added), "removed": len(removed), "changed": len(changed)},
            "changed": [{"id": rid, "old": a[rid], "new": b[rid], "paths": list(changed_paths(a[rid], b[rid]))}
                        for rid in changed[:limit]],
            "removed": [{"id": rid, "old": a[rid]} for rid in removed[:limit]],
            "added": [{"id": rid, "new": b[rid]} for rid in added[:limit]],
        })
    return out


def _positional(old: list[Any], new: list[Any], limit: int, name: str) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    more = 0
    for n in range(max(len(old), len(new))):
        a = old[n] if n < len(old) else _ABSENT
        b = new[n] if n < len(new) else _ABSENT
        if _same(a, b):
            continue
        if len(items) >= limit:
            more += 1
            continue
        items.append(_pair(a, b, which=f"{name} #{n + 1}", index=n))
    return items, more


def snapshot_diff(stored: Mapping[str, Any], current: Mapping[str, Any], limit: int = LIMIT) -> dict[str, Any]:
    """The structured difference; every list is empty when the documents are equal."""
    fields: list[dict[str, Any]] = []
    for key in sorted(set(stored) | set(current), key=lambda k: (k not in ("status", "error", "output"), k)):
        if key in _HANDLED:
            continue
        a, b = stored.get(key, _ABSENT), current.get(key, _ABSENT)
        if _same(a, b):
            continue
        if key in _LISTS and isinstance(a, list) and isinstance(b, list):
            # Hundreds of requests: only the positions that differ.
            items, more = _positional(a, b, limit, key)
            fields.append({"key": key, "items": items, "more": more, "stored": len(a), "run": len(b)})
        else:
            fields.append(_pair(a, b, key=key))
    deletes = []
    old_del, new_del = stored.get("deletes") or {}, current.get("deletes") or {}
    for model in sorted(set(old_del) | set(new_del)):
        a, b = set(old_del.get(model) or []), set(new_del.get(model) or [])
        if a != b:
            deletes.append({"model": model, "more": sorted(b - a, key=id_order)[:limit],
                            "fewer": sorted(a - b, key=id_order)[:limit],
                            "counts": {"more": len(b - a), "fewer": len(a - b)}})
    old_cp, new_cp = stored.get("checkpoints") or {}, current.get("checkpoints") or {}
    checkpoints = [_pair(old_cp.get(k), new_cp.get(k), which=k) for k in ("initial", "final")
                   if not _same(old_cp.get(k), new_cp.get(k))]
    saved, more_saved = _positional(list(old_cp.get("saved") or []), list(new_cp.get("saved") or []), limit, "saved")
    return {
        "fields": fields,
        "models": _keyed("records", stored.get("records") or {}, current.get("records") or {}, limit)
        + _keyed("updates", stored.get("updates") or {}, current.get("updates") or {}, limit),
        "deletes": deletes,
        "checkpoints": {"changes": checkpoints + saved, "more": more_saved,
                        "stored": len(old_cp.get("saved") or []), "run": len(new_cp.get("saved") or [])},
        "limit": limit,
    }


def is_empty(diff: Mapping[str, Any]) -> bool:
    return not (diff["fields"] or diff["models"] or diff["deletes"] or diff["checkpoints"]["changes"])
