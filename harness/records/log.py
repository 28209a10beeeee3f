"""`RecordLog`: the records one model received through one kind of call in a run, in call order.

A run's result lists what the function saved, updated and deleted. Held as Python dicts, a million records
cost over a gigabyte (the dicts, their strings, and the heap fragmentation around them), so a log keeps only
its first `in_memory` rows as dicts and spills the rest to an unlinked temporary file as compact JSON, one
batch per line. The file has no name on disk (it is gone when the process ends, SIGKILL included) and the
rows are scrubbed before they are written, as the records store's are. Reading the log (iterating it,
`list(log)`, `result.records(model)`, `to_json()`) decodes the spilled rows back, so the whole set is always
there when asked for, at the cost of reading it; `head(n)` and `len()` never touch the file.

A run that keeps every record for a snapshot (`Keeping(encoded=True)`) holds them as lines instead
(`harness.records.lines`: the compact JSON a snapshot writes each record as), shared with the in-memory
store: a third of a dict's memory, decoded only when read. Past `Keeping.spill_text` characters of lines
such a log moves them to a `harness.records.spill.LineFile` as the snapshot lays them out (`"<id>": <line>`)
and appends the later ones there; when the rows came in id order, each id once, the snapshot's records are
read straight from that file (`SpilledLines`), otherwise they are read back into memory to be sorted.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import IO, Any, overload

import pydantic_core

from ..heap import release_freed
from .lines import RecordLines, encode_line, in_id_order, keyed_line, record_lines, split_keyed
from .spill import (
    HELD_TEXT,
    SPILL_ROWS,
    LineFile,
    LineRedactor,
    SpilledLines,
    redacted_ids,
    spill_error,
    temporary_file,
)

Rows = list[dict[str, Any]]
# Rows kept as dicts per log unless a face asks for all of them (`RunRequest.records_in_memory`).
IN_MEMORY = 1_000


@dataclass(frozen=True)
class Keeping:
    """How a run's logs hold their rows: how many as dicts (None: all), and the scrub applied before a spill."""

    in_memory: int | None = IN_MEMORY
    scrub: Callable[[Rows], Rows] | None = None
    encoded: bool = False  # every row held as its line (`in_memory` is then ignored)
    spill_text: int | None = HELD_TEXT  # characters of lines an encoded log holds before it spills (None: never)
    redact: LineRedactor | None = None  # applied to lines before they are spilled


ALL_IN_MEMORY = Keeping(in_memory=None)


def _ids_of(rows: Rows) -> list[str]:
    """Each row's id as a string (at C speed when every row is a dict with a string id, as saved rows are)."""
    try:
        ids = list(map(operator.itemgetter("id"), rows))
    except (KeyError, TypeError):
        ids = None
    if ids is not None and set(map(type, ids)) == {str}:
        return ids
    return [str(r.get("id")) if isinstance(r, dict) else str(r) for r in rows]


class RecordLog:
    """A list-like log of rows: `append`, `extend`, `len`, iteration, indexing, equality with a list."""

    __slots__ = ("_file", "_head", "_held", "_ids", "_keeping", "_last", "_lines", "_ordered", "_spill", "_spilled")

    def __init__(self, rows: Iterable[dict[str, Any]] = (), keeping: Keeping = ALL_IN_MEMORY) -> None:
        self._head: Rows = []
        self._spill: IO[bytes] | None = None
        self._spilled = 0
        self._keeping = keeping
        # Encoded: each row's id and line, in call order (the head and the spill stay empty).
        self._ids: list[str] | None = [] if keeping.encoded else None
        self._lines: list[str] = []
        # Encoded and spilled: every row's keyed line in the file, in call order (the lists stay empty).
        self._file: LineFile | None = None
        self._held = 0  # characters of lines held in `_lines`
        self._ordered = True  # while spilled: the rows came in id order, each id once
        self._last: str | None = None  # while spilled: the last id written
        self.extend(rows)

    # -- writing -----------------------------------------------------------------------------------

    def append(self, row: dict[str, Any]) -> None:
        self.extend([row])

    def extend(self, rows: Iterable[dict[str, Any]], lines: list[str] | None = None) -> None:
        """Add `rows` (with their lines, when the caller has them already: the store makes them)."""
        batch = rows if isinstance(rows, list) else list(rows)
        if not batch:
            return
        if self._ids is not None:
            ids = _ids_of(batch)
            lines = lines if lines is not None else record_lines(batch)
            if self._file is not None:
                self._write_keyed(ids, lines)
                return
            self._ids.extend(ids)
            self._lines.extend(lines)
            cap = self._keeping.spill_text
            if cap is not None:
                self._held += sum(map(len, lines))
                if self._held > cap:
                    self._spill_held()
            return
        limit = self._keeping.in_memory
        if self._spill is None and (limit is None or len(self._head) + len(batch) <= limit):
            self._head.extend(batch)
            return
        # Once rows spill, every later row follows them, so call order is the head, then the file.
        room = 0 if self._spill is not None or limit is None else max(0, limit - len(self._head))
        self._head.extend(batch[:room])
        self._write(batch[room:])

    def _spill_held(self) -> None:
        """Move the held lines to a new file; later rows follow them there."""
        ids, lines = self._ids or [], self._lines
        self._ids, self._lines, self._held = [], [], 0
        self._file = LineFile()
        self._ordered, self._last = True, None
        for start in range(0, len(ids), SPILL_ROWS):  # in slices: the file's text is never made whole
            self._write_keyed(ids[start:start + SPILL_ROWS], lines[start:start + SPILL_ROWS])
        del ids, lines
        release_freed()  # what the lines held goes back to the system (the store lets go of them too)

    def _write_keyed(self, ids: list[str], lines: list[str]) -> None:
        assert self._file is not None
        redact = self._keeping.redact
        if redact is not None:
            clean = redact(lines)
            ids, lines = redacted_ids(ids, lines, clean), clean
        if self._ordered and ids:
            self._ordered = in_id_order(ids, self._last)
            self._last = ids[-1]
        enc = encode_basestring  # `keyed_line`, inline: no call per row
        self._file.write([f"{enc(rid)}: {line}" for rid, line in zip(ids, lines, strict=True)])

    def _unspill(self) -> None:
        """Read a spilled encoded log back into memory (rows out of id order, or replaced one by one)."""
        file = self._file
        if file is None:
            return
        pairs = list(map(split_keyed, file.lines()))
        self._ids = [rid for rid, _ in pairs] + (self._ids or [])
        self._lines = [line for _, line in pairs] + self._lines
        self._file = None
        file.close()

    def _write(self, rows: Rows) -> None:
        if not rows:
            return
        scrub = self._keeping.scrub
        if scrub is not None:
            rows = scrub(rows)
        try:
            if self._spill is None:
                self._spill = temporary_file()
            self._spill.seek(0, 2)
            self._spill.write(pydantic_core.to_json(rows) + b"\n")
        except OSError as exc:
            raise spill_error(exc) from None
        self._spilled += len(rows)

    def __del__(self) -> None:
        # The spill is closed with its log (no ResourceWarning for a file left to the collector).
        spill = getattr(self, "_spill", None)
        if spill is not None:
            spill.close()

    # -- reading -----------------------------------------------------------------------------------

    @property
    def spilled(self) -> int:
        """How many rows live in the temporary file rather than in memory."""
        return self._spilled + (self._file.count if self._file is not None else 0)

    @property
    def encoded(self) -> bool:
        return self._ids is not None

    def last_saved(self) -> RecordLines:
        """Each id's last row, in id order, as lines (encoded logs only; what a snapshot's records are)."""
        if self._ids is None:
            raise TypeError("only an encoded log holds its rows as lines")
        if self._file is not None:
            if self._ordered:
                return SpilledLines(self._file)
            self._unspill()
            assert self._ids is not None
        return RecordLines.last_saved(self._ids, self._lines)

    def head(self, n: int) -> Rows:
        """The first `n` rows (from memory when they are there)."""
        if self._ids is not None:
            if self._file is not None:
                return [json.loads(split_keyed(text)[1]) for text in self._file.first(n)]
            return [json.loads(line) for line in self._lines[:n]]
        if n <= len(self._head):
            return self._head[:n]
        out = list(self._head)
        for batch in self._batches():
            out.extend(batch[: n - len(out)])
            if len(out) >= n:
                break
        return out

    def _batches(self) -> Iterator[Rows]:
        spill = self._spill
        if spill is None:
            return
        spill.flush()
        spill.seek(0)
        try:
            for line in spill:
                yield json.loads(line)
        finally:
            spill.seek(0, 2)

    def batches(self) -> Iterator[Rows]:
        """The rows in call order, a batch at a time: the in-memory head, then each spilled batch."""
        if self._ids is not None:
            loads, lines = json.loads, self._lines
            if self._file is not None:
                for chunk in self._file.chunks():
                    rows = [loads(split_keyed(text)[1]) for text in chunk]
                    for start in range(0, len(rows), IN_MEMORY):
                        yield rows[start:start + IN_MEMORY]
            for start in range(0, len(lines), IN_MEMORY):
                yield [loads(line) for line in lines[start:start + IN_MEMORY]]
            return
        if self._head:
            yield list(self._head)
        yield from self._batches()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for batch in self.batches():
            yield from batch

    def __len__(self) -> int:
        return len(self._head) + self.spilled + len(self._lines)

    def __bool__(self) -> bool:
        return bool(self._head) or self.spilled > 0 or bool(self._lines)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> Rows: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | Rows:
        if self._ids is not None:
            if self._file is not None:
                return list(self)[index]  # reaches into the file: read it all (rare: faces show the head)
            if isinstance(index, slice):
                return [json.loads(line) for line in self._lines[index]]
            row: dict[str, Any] = json.loads(self._lines[index])
            return row
        if not self._spilled:
            return self._head[index]
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step > 0 and stop <= len(self._head):
                return self._head[start:stop:step]
        elif 0 <= index < len(self._head):
            return self._head[index]
        return list(self)[index]  # reaches into the spill: read it all (rare: faces show the head)

    def __setitem__(self, index: int, row: dict[str, Any]) -> None:
        if self._ids is not None:
            self._unspill()
            assert self._ids is not None
            self._lines[index] = encode_line(row)
            self._ids[index] = str(row.get("id"))
            return
        if not 0 <= index < len(self._head):
            raise IndexError("only the rows held in memory can be replaced")
        self._head[index] = row

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RecordLog):
            return len(self) == len(other) and list(self) == list(other)
        if isinstance(other, list):
            return len(self) == len(other) and list(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if self._ids is not None:
            spilled = f", {self._file.count} spilled" if self._file is not None else ""
            return f"RecordLog({len(self)} encoded{spilled})"
        more = f" + {self._spilled} spilled" if self._spilled else ""
        return f"RecordLog({len(self._head)} in memory{more})"

    # -- rewriting ---------------------------------------------------------------------------------

    def rewrite(self, fn: Callable[[Rows], Rows], *, needed: Callable[[str], bool]) -> None:
        """Replace the rows by `fn(rows)`, batch by batch; a spilled batch is decoded only when `needed(text)`
        says its JSON text holds something to change (the end-of-run redaction of late-learned secrets)."""
        if self._ids is not None:
            if self._file is not None:
                self._rewrite_file(fn, needed)
                return
            ids, lines = self._ids, self._lines
            if lines and needed("\n".join(lines)):
                for n, held in enumerate(lines):
                    if needed(held):
                        row = fn([json.loads(held)])[0]
                        lines[n], ids[n] = encode_line(row), str(row.get("id"))
            return
        if self._head and needed(json.dumps(self._head, ensure_ascii=False, default=str)):
            self._head[:] = fn(self._head)
        spill = self._spill
        if spill is None:
            return
        spill.flush()
        spill.seek(0)
        if not any(needed(line.decode("utf-8")) for line in spill):
            spill.seek(0, 2)
            return
        fresh = temporary_file()  # replaces the spill
        spill.seek(0)
        for line in spill:
            text = line.decode("utf-8")
            fresh.write(pydantic_core.to_json(fn(json.loads(text))) + b"\n" if needed(text) else line)
        spill.close()
        self._spill = fresh

    def _rewrite_file(self, fn: Callable[[Rows], Rows], needed: Callable[[str], bool]) -> None:
        """`rewrite` of a spilled encoded log: the file streamed into a new one, a chunk decoded only when
        `needed` finds something in it."""
        old = self._file
        assert old is not None
        fresh = LineFile()
        changed = False
        for chunk in old.chunks():
            if needed("\n".join(chunk)):
                for n, text in enumerate(chunk):
                    _, held = split_keyed(text)
                    if needed(held):
                        row = fn([json.loads(held)])[0]
                        chunk[n] = keyed_line(str(row.get("id")), encode_line(row))
                        changed = True
            fresh.write(chunk)
        old.close()
        self._file = fresh
        if changed:
            self._ordered = False  # an id may have changed: sort them when asked
