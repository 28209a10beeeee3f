"""Moving a big run's held record lines to disk: `LineFile`, an unlinked temporary file of text lines read
back in order, and `SpilledLines`, one model's records in id order read back from such a file.

A replay that keeps every record (the in-memory store's tables, the logs behind a snapshot) holds each one
as its line (`harness.records.lines`). Once a table or a log holds more than `HELD_TEXT` characters of
lines, it writes what it holds to a `LineFile` and appends every later batch there, so the run's memory
stops growing with its records. The file has no name on disk (it is gone when the process ends, SIGKILL
included), and what is written has had known secrets replaced first (`LineRedactor`), as everything else
harness writes does. Reading a spilled log (a snapshot's compare, `result.records(model)`) streams the
file a megabyte at a time.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import IO, Any

from ..errors import StoreError
from .lines import RecordLines, split_keyed

# Characters of lines a table or a log holds in memory before it spills: a 500,000-record replay of short
# records (about 100 characters each) stays in memory; a run past about 650,000 of them spills.
HELD_TEXT = 64 << 20
_BLOCK = 1 << 20
SPILL_ROWS = 4096  # rows written at a time when what is held moves to the file

# The lines with known secrets replaced: the same list when none holds one (what a spill writes instead).
LineRedactor = Callable[[list[str]], list[str]]


def temporary_file(buffering: int = -1) -> IO[bytes]:
    """A new spill file: unlinked at once on POSIX, so there is nothing to sweep after a crash."""
    return tempfile.TemporaryFile(prefix="harness-records-", buffering=buffering)


def spill_error(exc: OSError) -> StoreError:
    """A spill that cannot be written: the machine's fault, not the function's (a store error, exit 5)."""
    return StoreError(f"cannot spill records to a temporary file in {tempfile.gettempdir()}: {exc.strerror or exc}",
                      hint="free some space there, or point TMPDIR at a writable folder")


def redacted_ids(ids: list[str], before: list[str], after: list[str]) -> list[str]:
    """The ids that go with `after`, the redacted `before`: a line that changed gives its id from the row
    (a secret in an id is in its line too)."""
    if after is before:
        return ids
    return [rid if old == new else str(json.loads(new).get("id"))
            for rid, old, new in zip(ids, before, after, strict=True)]


class LineFile:
    """An unlinked temporary file of lines (no line holds a newline: JSON escapes them), appended to and
    read back in order."""

    __slots__ = ("_fh", "count")

    def __init__(self) -> None:
        self._fh: IO[bytes] | None = None
        self.count = 0  # lines written

    def write(self, lines: Iterable[str]) -> None:
        batch = lines if isinstance(lines, list) else list(lines)
        if not batch:
            return
        try:
            if self._fh is None:
                # A megabyte's buffer: a write per batch (a page, a few kB) would be a system call each.
                self._fh = temporary_file(buffering=_BLOCK)
            self._fh.seek(0, 2)  # a reader left part-way must not make this overwrite
            # surrogatepass: a lone surrogate (a JSON body may hold one) is kept, not an error.
            self._fh.write(("\n".join(batch) + "\n").encode("utf-8", "surrogatepass"))
        except OSError as exc:
            raise spill_error(exc) from None
        self.count += len(batch)

    def chunks(self) -> Generator[list[str], None, None]:
        """The lines in order, about a megabyte of them at a time."""
        fh = self._fh
        if fh is None:
            return
        fh.flush()
        fh.seek(0)
        try:
            carry = b""
            while True:
                block = fh.read(_BLOCK)
                if not block:
                    break
                block = carry + block
                cut = block.rfind(b"\n")
                if cut < 0:
                    carry = block
                    continue
                # Cut at a newline: a UTF-8 sequence never holds that byte, so no character is split.
                carry = block[cut + 1:]
                yield block[:cut].decode("utf-8", "surrogatepass").split("\n")
        finally:
            if not fh.closed:  # a reader dropped part-way after `close`
                fh.seek(0, 2)

    def lines(self) -> Iterator[str]:
        for chunk in self.chunks():
            yield from chunk

    def first(self, n: int) -> list[str]:
        """The first `n` lines (or all of them)."""
        out: list[str] = []
        chunks = self.chunks()
        try:
            for chunk in chunks:
                out.extend(chunk[: n - len(out)])
                if len(out) >= n:
                    break
        finally:
            chunks.close()
        return out

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self.count = 0

    def __del__(self) -> None:
        # Closed with its owner (no ResourceWarning for a file left to the collector).
        fh = getattr(self, "_fh", None)
        if fh is not None:
            fh.close()


class SpilledLines(RecordLines):
    """A model's records in id order, read from a `LineFile` of `keyed_line`s saved in that order, each id
    once (what a sync paging through ids in order saves)."""

    __slots__ = ("_count", "_file")

    def __init__(self, file: LineFile) -> None:
        super().__init__([], [], range(0))
        self._file, self._count = file, file.count

    def _texts(self) -> Iterator[str]:
        # The records as they were when this was made: rows the log takes later are not in it.
        return itertools.islice(self._file.lines(), self._count)

    def keyed(self, prefix: str = "") -> Iterator[str]:
        return map(prefix.__add__, self._texts()) if prefix else self._texts()

    def lines(self) -> Iterator[tuple[str, str]]:
        return map(split_keyed, self._texts())

    def __iter__(self) -> Iterator[str]:
        return (rid for rid, _ in self.lines())

    def __len__(self) -> int:
        return self._count

    def _mapping(self) -> dict[str, str]:
        if self._by_id is None:
            self._by_id = dict(self.lines())
        return self._by_id

    def to_dict(self) -> dict[str, Any]:
        loads = json.loads
        return {rid: loads(line) for rid, line in self.lines()}

    def __repr__(self) -> str:
        return f"SpilledLines({self._count} records)"
