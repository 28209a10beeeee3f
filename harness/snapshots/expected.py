"""Checking a run against the `expected:` section of a cassette's context (written by importers).

An imported scenario (from a Nango mock, for instance) may carry what the run must produce:
`expected: {records: {Model: [record, ...]}, deletes: {Model: [record or id, ...]}, output: ...}`. Only
the models and keys it names are checked; records are compared by id, with Nango's bookkeeping fields
(`_nango_metadata`) ignored. The differences use the snapshot diff's words.
"""

from __future__ import annotations

from typing import Any

from ..records.lines import id_order
from .diff import describe_differences


def _records(items: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        if isinstance(item, dict):
            out[str(item.get("id"))] = {k: v for k, v in item.items() if not str(k).startswith("_nango")}
        else:
            out[str(item)] = None
    return {rid: out[rid] for rid in sorted(out, key=id_order)}


def expected_differences(expected: Any, doc: dict[str, Any]) -> list[str]:
    """Lines describing how the run's snapshot document differs from `expected` (empty when it matches)."""
    if not isinstance(expected, dict):
        return [f"  expected: must be a mapping, got {type(expected).__name__}"]
    want: dict[str, Any] = {}
    have: dict[str, Any] = {}
    if "records" in expected:
        models = expected.get("records") or {}
        want["records"] = {m: _records(rs) for m, rs in models.items()}
        have["records"] = {m: (doc.get("records") or {}).get(m) or {} for m in models}
    if "deletes" in expected:
        models = expected.get("deletes") or {}
        want["deletes"] = {m: list(_records(rs)) for m, rs in models.items()}
        have["deletes"] = {m: list((doc.get("deletes") or {}).get(m) or []) for m in models}
    if "output" in expected:
        want["output"] = expected["output"]
        have["output"] = doc.get("output")
    return describe_differences(want, have, label="expected")
