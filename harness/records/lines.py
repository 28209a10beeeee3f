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
import itertools
import json
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from json.decoder import scanstring  # type: ignore[attr-defined]
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


def id_order(record_id: str) -> tuple[int, int, str]:
    """Numeric ids in numeric order, then the others in string order (stable across runs and machines)."""
    # str.isdecimal is exactly `\d+` (Unicode decimal digits, at least one), at a fraction of a regex's cost.
    if record_id.isdecimal():
        return (0, len(record_id.lstrip("0")), record_id)
    return (1, 0, record_id)


def _order_shortcut(ids: list[str]) -> str | None:
    """How `id_order` can be had without a Python call per id: "string" (string order is the id order:
    no numeric id, or numeric ids of one length), "length" (numeric ids without leading zeros: string
    order, then a stable sort by length), or None (the general order)."""
    if not all(map(str.isdecimal, ids)):
        return None if any(map(str.isdecimal, ids)) else "string"
    if len(set(map(len, ids))) <= 1:
        return "string"
    return None if any(s[0] == "0" for s in ids) else "length"


def in_id_order(ids: list[str], after: str | None = None) -> bool:
    """Whether `ids` ascend strictly in `id_order` (each id once), all of them after `after`."""
    if not ids:
        return True
    if after is not None and not id_order(after) < id_order(ids[0]):
        return False
    shortcut = _order_shortcut(ids)
    keys: list[Any]
    if shortcut == "string":
        keys = ids
    elif shortcut == "length":
        keys = list(zip(map(len, ids), ids, strict=True))
    else:
        keys = list(map(id_order, ids))
    return all(map(operator.lt, keys, itertools.islice(keys, 1, None)))


def keyed_line(rid: str, line: str) -> str:
    """`"<id>": <line>`: a record as a snapshot file lays it out (after its indent)."""
    return f"{encode_basestring(rid)}: {line}"


def split_keyed(text: str) -> tuple[str, str]:
    """The id and the line of a `keyed_line`."""
    rid, end = scanstring(text, 1)
    return rid, text[end + 2:]


def sorted_ids(ids: Iterable[str]) -> list[str]:
    """`sorted(ids, key=id_order)`, without a Python call per id in the common shapes."""
    out = sorted(ids)
    shortcut = _order_shortcut(out)
    if shortcut == "length":
        out.sort(key=len)
    elif shortcut is None:
        out.sort(key=id_order)
    return out


class RecordLines(Mapping[str, Any]):
    """One model's records keyed by id in id order, each held as its line and decoded when read.

    Built over a log's own id and line lists and the order to read them in: no per-id mapping is made
    unless a record is looked up by id (the snapshot only walks them in order)."""

    __slots__ = ("_by_id", "_ids", "_lines", "_order")

    def __init__(self, ids: list[str], lines: list[str], order: Sequence[int]) -> None:
        self._ids, self._lines, self._order = ids, lines, order
        self._by_id: dict[str, str] | None = None

    @classmethod
    def last_saved(cls, ids: list[str], lines: list[str]) -> RecordLines:
        """The final state of each id (a later save wins) from ids and lines in call order."""
        if len(ids) != len(lines):
            raise ValueError("one line per id")
        at = ids.__getitem__
        shortcut = _order_shortcut(ids)
        if shortcut == "string" and all(map(operator.lt, ids, itertools.islice(ids, 1, None))):
            # Saved in id order already, each id once (a sync paging by id): reading them in call order
            # needs no order list.
            return cls(ids, lines, range(len(ids)))
        order = sorted(range(len(ids)), key=at)  # stable: the saves of one id stay in call order
        if shortcut == "length":
            order.sort(key=list(map(len, ids)).__getitem__)
        elif shortcut is None:
            order.sort(key=lambda n: id_order(ids[n]))
        if order:
            # Of each run of one id, the last save.
            keep = [*map(operator.ne, map(at, order[:-1]), map(at, order[1:])), True]
            if not all(keep):
                order = list(itertools.compress(order, keep))
        return cls(ids, lines, order)

    def _mapping(self) -> dict[str, str]:
        if self._by_id is None:
            ids, lines = self._ids, self._lines
            self._by_id = {ids[n]: lines[n] for n in self._order}
        return self._by_id

    def __getitem__(self, rid: str) -> Any:
        return json.loads(self._mapping()[rid])

    def __iter__(self) -> Iterator[str]:
        return map(self._ids.__getitem__, self._order)

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, rid: object) -> bool:
        return rid in self._mapping()

    def lines(self) -> Iterator[tuple[str, str]]:
        """(id, line) in id order."""
        ids, lines = self._ids, self._lines
        return ((ids[n], lines[n]) for n in self._order)

    def keyed(self, prefix: str = "") -> Iterator[str]:
        """Each record's `keyed_line` after `prefix` (a snapshot's indent), in id order."""
        ids, lines = self._ids, self._lines
        return (f"{prefix}{encode_basestring(ids[n])}: {lines[n]}" for n in self._order)

    def to_dict(self) -> dict[str, Any]:
        loads, ids, lines = json.loads, self._ids, self._lines
        return {ids[n]: loads(lines[n]) for n in self._order}

    def __repr__(self) -> str:
        return f"RecordLines({len(self._order)} records)"
