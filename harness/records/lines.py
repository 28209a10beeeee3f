"""A record's line: the compact JSON one record is held in and written as, and records keyed by id as lines.

A line is the record's JSON with keys sorted, `", "` and `": "` as separators and non-ASCII kept (the form
a snapshot file gives each record on a line of its own). A replay that keeps every record (the in-memory
store, the result behind a snapshot) holds each one as its line instead of a dict: about a third of the
memory, and the snapshot is then the sorted lines joined, with no encoding left to do at the end.
`RecordLines` is the snapshot document's value for one model's records in that case: a read-only mapping
of id to record that decodes a record only when it is read.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from json.encoder import encode_basestring
from typing import Any

from pydantic_core import to_jsonable_python


def _default(value: Any) -> Any:
    # pydantic-core turns models, datetimes, enums, UUIDs, tuples and sets into JSON data.
    return to_jsonable_python(value, serialize_unknown=True)


_SLOW = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(", ", ": "), default=_default)


@functools.cache
def _c_encoder() -> Callable[[Any, int], Any] | None:
    """json's C encoder with the line's options, called directly: `JSONEncoder.encode` builds a new one per
    call, which is most of the cost of encoding 500,000 records. None where the C accelerator is missing."""
    try:
        from json.encoder import c_make_encoder  # type: ignore[attr-defined]

        # No circular-reference markers: a cycle ends in RecursionError, and the caller falls back.
        encoder: Callable[[Any, int], Any] = c_make_encoder(None, _default, encode_basestring, None, ": ", ", ",
                                                            True, False, True)
        return encoder
    except (ImportError, TypeError):
        return None


def encode_line(value: Any) -> str:
    """One value as its line (any JSON-able value; a dict's keys need not be strings)."""
    enc = _c_encoder()
    if enc is not None:
        try:
            return "".join(enc(value, 0))
        except (TypeError, RecursionError):
            pass  # keys of mixed types (not sortable as they are), or a cycle: json's own path says which
    try:
        return _SLOW.encode(value)
    except TypeError:
        return _SLOW.encode(to_jsonable_python(value, serialize_unknown=True))  # int keys become strings


def record_lines(rows: Iterable[Any]) -> list[str]:
    """Each row as its line, in order."""
    enc = _c_encoder()
    if enc is None:
        return [encode_line(r) for r in rows]
    join = "".join
    try:
        return [join(enc(r, 0)) for r in rows]
    except (TypeError, RecursionError):
        return [encode_line(r) for r in rows]


def decode_line(line: str) -> Any:
    return json.loads(line)


def id_order(record_id: str) -> tuple[int, int, str]:
    """Numeric ids in numeric order, then the others in string order (stable across runs and machines)."""
    # str.isdecimal is exactly `\d+` (Unicode decimal digits, at least one), at a fraction of a regex's cost.
    if record_id.isdecimal():
        return (0, len(record_id.lstrip("0")), record_id)
    return (1, 0, record_id)


def sorted_ids(ids: Iterable[str]) -> list[str]:
    """`sorted(ids, key=id_order)`, without a Python call per id in the common shapes."""
    out = sorted(ids)
    if not out or not all(map(str.isdecimal, out)):
        return sorted(out, key=id_order)  # mixed: the general order
    # All numeric: by the number's length without leading zeros, then as strings. Zero-padded ids of one
    # length are already in order; without leading zeros, a stable sort by length finishes it.
    if len(set(map(len, out))) == 1 or not any(s[0] == "0" for s in out):
        out.sort(key=len)
        return out
    return sorted(out, key=id_order)


class RecordLines(Mapping[str, Any]):
    """One model's records keyed by id in id order, each held as its line and decoded when read."""

    __slots__ = ("_ids", "_lines")

    def __init__(self, ids: list[str], lines: dict[str, str]) -> None:
        self._ids = ids  # sorted (`sorted_ids`)
        self._lines = lines

    @classmethod
    def last_saved(cls, ids: Iterable[str], lines: Iterable[str]) -> RecordLines:
        """The final state of each id (a later save wins) from ids and lines in call order."""
        keyed = dict(zip(ids, lines, strict=True))
        return cls(sorted_ids(keyed), keyed)

    def __getitem__(self, rid: str) -> Any:
        return json.loads(self._lines[rid])

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, rid: object) -> bool:
        return rid in self._lines

    def lines(self) -> Iterator[tuple[str, str]]:
        """(id, line) in id order."""
        lines = self._lines
        return ((rid, lines[rid]) for rid in self._ids)

    def to_dict(self) -> dict[str, Any]:
        loads, lines = json.loads, self._lines
        return {rid: loads(lines[rid]) for rid in self._ids}

    def __repr__(self) -> str:
        return f"RecordLines({len(self._ids)} records)"
