"""The in-memory records store: Nango's record semantics for the length of one run (or one test).

Per model, records are keyed by id. A save of a new id is *added*, of a live id with different content
*updated*, with the same content nothing; a save of a soft-deleted id revives it as added. `update` deep-merges
into live records (unknown or deleted ids ignored), `delete` soft-deletes, and a `track_deletes` window
soft-deletes the live records not saved since it started. Content identity is Nango's: the same compact JSON,
key order included (the SQLite store keeps its md5).

Each record is held as its line (`harness.records.lines`: compact JSON, keys sorted), decoded when it is read,
plus what its key order was: a third of a dict's memory, and the same string the run's result and snapshot
use. Two saves are the same content when their lines and their key orders are equal; the order is the tuple
of top-level keys (shared by every record with that order), or, for a record holding a nested object, the
record's compact JSON itself. A model's records are columns (`_Table`): its id, line, order, times, change
number and deletes-tracking generation in lists and arrays, so a record costs no Python object of its own
beyond its line (and the collector has nothing per record to walk).

The id -> row index is built only when something must look an id up. A batch whose ids all sort after (or
all before) every id held, in (length, string) order (numeric ids counting up, or down, as most APIs page
them), cannot hold a known id, so it is added without a probe: a replay that saves each id once never
builds the index (a hash table of millions of ids is most of what made the cost per record grow with size).

Such a table (every row added by whole new batches, none changed since, no index built) spills once it
holds more than `spill_text` characters of lines: its ids, lines and key orders go to a
`harness.records.spill.LineFile` (known secrets replaced first), its columns become one run per batch
(the batch's time, first change number and generation), and later batches that sort beyond it follow them
there, so a replay saving millions of records in id order keeps its memory flat. Anything that needs a
row (a lookup, a read, an update, a delete, a batch among the held ids) reads the file back first, and the
table is in memory again from then on; a deletes-tracking window that every row was saved in ends
without reading it.
"""

from __future__ import annotations

import builtins
import itertools
import json
import math
import operator
from array import array
from collections.abc import Callable
from typing import Any

from pydantic_core import to_json

from .lines import encode_line, record_lines
from .spill import HELD_TEXT, SPILL_ROWS, LineFile, LineRedactor, redacted_ids
from .store import SaveOutcome, deep_merge, public_record, track_error

Order = tuple[str, ...] | bytes
_ID = operator.itemgetter("id")
_LIVE = math.nan  # `deleted` of a live record


def _exact(row: Any) -> bytes:
    """A record's compact JSON, keys in the order saved (a lone surrogate a JSON body can hold kept as is)."""
    try:
        return to_json(row)
    except ValueError:  # pydantic-core refuses lone surrogates
        return json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8", "surrogatepass")


def _exact_text(order: bytes) -> str:
    return order.decode("utf-8", "surrogatepass")


Bound = tuple[int, str]  # an id's place in (length, string) order
Run = tuple[int, float, int, int]  # a batch added whole: its size, time, first change number, generation


def _bounds(ids: list[str]) -> tuple[Bound, Bound]:
    lengths = list(map(len, ids))
    short, long = min(lengths), max(lengths)
    if short == long:  # ids of one length (the usual batch): no pair made per id
        return (short, min(ids)), (long, max(ids))
    keys = list(zip(lengths, ids, strict=True))
    return min(keys), max(keys)


class _Table:
    """One model's records as columns, row `n` for the id `ids[n]`."""

    __slots__ = ("_index", "bounded", "created", "deleted", "file", "gens", "held", "high", "ids", "lines", "low",
                 "order_codes", "orders", "runs", "seqs", "updated")

    def __init__(self) -> None:
        self._index: dict[str, int] | None = None
        self.ids: list[str] = []
        self.low: Bound | None = None  # the least and greatest id held, in (length, string) order
        self.high: Bound | None = None
        self.bounded = True  # False once an id that is not a string was held (the store's callers give strings)
        self.lines: list[str] = []  # the record's JSON, keys sorted
        self.orders: list[Order] = []  # its key order (see the module's docstring)
        self.created = array("d")
        self.updated = array("d")
        self.deleted = array("d")  # NaN: live
        self.seqs = array("q")  # the change number of its last change
        self.gens = array("q")  # the deletes-tracking generation it was last saved in
        # While every row came in a whole new batch and none changed since: the batches (else None).
        self.runs: list[Run] | None = []
        self.held = 0  # characters of lines held
        self.file: LineFile | None = None  # spilled: every row is there (id, line, order), the columns empty
        self.order_codes: dict[Order, str] = {}  # spilled: a key order tuple's code in the file

    def spill(self, redact: LineRedactor | None) -> None:
        """Move every row to a file (the table is pristine, unindexed: its columns are its runs)."""
        self.file = LineFile()
        ids, lines, orders = self.ids, self.lines, self.orders
        self.ids, self.lines, self.orders = [], [], []
        for column in (self.created, self.updated, self.deleted, self.seqs, self.gens):
            del column[:]
        self.held = 0
        for start in range(0, len(ids), SPILL_ROWS):  # in slices: the file's text is never made whole
            end = start + SPILL_ROWS
            self.write(ids[start:end], lines[start:end], orders[start:end], redact)

    def write(self, ids: list[str], lines: list[str], orders: list[Order], redact: LineRedactor | None) -> None:
        """A batch of rows to the spill file: a line of their ids (a JSON list), a line of their orders'
        codes (one `#n` code when the batch shares one order, else a JSON list of codes: `#n` for a key
        order, the record's JSON for an exact one), then their lines."""
        assert self.file is not None
        if redact is not None:
            clean = redact(lines)
            if clean is not lines:
                ids = redacted_ids(ids, lines, clean)
                # An exact order is the record's JSON too: it holds the same secret as its line.
                orders = [o if old == new or not isinstance(o, bytes) else _exact(json.loads(new))
                          for o, old, new in zip(orders, lines, clean, strict=True)]
                lines = clean
        codes = self.order_codes
        if orders and orders.count(orders[0]) == len(orders):
            shared = codes.get(orders[0]) or self._code(orders[0])
            code_line = shared if shared.startswith("#") else encode_line([shared] * len(orders))
        else:
            code_line = encode_line([codes.get(o) or self._code(o) for o in orders])
        self.file.write([encode_line(ids), code_line, *lines])

    def add_columns(self, k: int, now: float, seq: int, gen: int) -> None:
        """The columns of a batch of `k` rows added whole: one time, consecutive change numbers, live."""
        times = array("d", (now,)) * k
        self.created.extend(times)
        self.updated.extend(times)
        self.deleted.extend(array("d", (_LIVE,)) * k)
        self.seqs.extend(range(seq, seq + k))
        self.gens.extend(array("q", (gen,)) * k)

    def _code(self, order: Order) -> str:
        if isinstance(order, bytes):
            return _exact_text(order)
        code = self.order_codes[order] = f"#{len(self.order_codes)}"
        return code

    def restore(self) -> None:
        """Read a spilled table back into memory (something needs its rows)."""
        file, runs = self.file, self.runs
        if file is None:
            return
        assert runs is not None
        orders_of = {code: order for order, code in self.order_codes.items()}
        flat = file.lines()
        for ids_line in flat:
            ids: list[str] = json.loads(ids_line)
            code_line = next(flat)
            codes: list[str] = [code_line] * len(ids) if code_line.startswith("#") else json.loads(code_line)
            self.ids.extend(ids)
            self.lines.extend(itertools.islice(flat, len(ids)))
            self.orders.extend(orders_of[code] if code.startswith("#") else code.encode("utf-8", "surrogatepass")
                               for code in codes)
        for run in runs:
            self.add_columns(*run)
        self.held = sum(map(len, self.lines))
        self.file, self.order_codes = None, {}
        file.close()

    @property
    def index(self) -> dict[str, int]:
        """id -> row, built at the first lookup and kept up to date from then on."""
        if self.file is not None:
            self.restore()
        if self._index is None:
            self._index = dict(zip(self.ids, range(len(self.ids)), strict=True))
        return self._index

    def beyond(self, ids: list[str]) -> bool:
        """Whether every id of the batch sorts after, or every one before, every id held (then none is held);
        the held range then takes the batch in."""
        if not self.bounded or set(map(type, ids)) != {str}:
            self.bounded = False
            return False
        low, high = _bounds(ids)
        if self.high is None or self.low is None:
            self.low, self.high = low, high
        elif low > self.high:
            self.high = high
        elif high < self.low:
            self.low = low
        else:
            return False
        return True

    def add(self, rid: str, line: str, order: Order, now: float, seq: int, gen: int, deleted: float = _LIVE) -> None:
        self.index[rid] = len(self.lines)
        self.runs = None
        self.ids.append(rid)
        if type(rid) is not str:
            self.bounded = False
        elif self.bounded:
            key = (len(rid), rid)
            if self.low is None or key < self.low:
                self.low = key
            if self.high is None or key > self.high:
                self.high = key
        self.lines.append(line)
        self.orders.append(order)
        self.created.append(now)
        self.updated.append(now)
        self.deleted.append(deleted)
        self.seqs.append(seq)
        self.gens.append(gen)

    def is_live(self, n: int) -> bool:
        return math.isnan(self.deleted[n])

    def data(self, n: int) -> dict[str, Any]:
        """The record as saved, keys in the order they were saved in (reads and merges keep it)."""
        order = self.orders[n]
        if isinstance(order, bytes):
            exact: dict[str, Any] = json.loads(_exact_text(order))
            return exact
        data: dict[str, Any] = json.loads(self.lines[n])
        if tuple(data) == order:
            return data
        return {k: data[k] for k in order}

    def public(self, n: int) -> dict[str, Any]:
        deleted = None if self.is_live(n) else self.deleted[n]
        return public_record(self.data(n), self.created[n], self.updated[n], deleted, self.seqs[n])


class MemoryStore:
    def __init__(self, now: Callable[[], float], *, spill_text: int | None = HELD_TEXT,
                 redact: LineRedactor | None = None) -> None:
        self._now = now
        self._spill_text = spill_text  # characters of lines a table holds before it spills (None: never)
        self._redact = redact  # what known secrets a spill replaces
        self._models: dict[str, _Table] = {}
        self._seq = itertools.count(1)
        self._tracking: dict[str, int] = {}
        self._generation = itertools.count(1)
        self._orders: dict[tuple[str, ...], tuple[str, ...]] = {}

    def _table(self, model: str) -> _Table:
        table = self._models.get(model)
        if table is None:
            table = self._models[model] = _Table()
        return table

    def _rows(self, model: str, *, changing: bool = True) -> _Table:
        """The model's table with every row in memory (`changing`: and no longer pristine)."""
        table = self._table(model)
        table.restore()
        if changing:
            table.runs = None
        return table

    def _order(self, row: dict[str, Any], line: str) -> Order:
        # A `{` past the first character may be a nested object (or only a brace in a string): then the
        # record's own compact JSON is its order, exact at any depth. Otherwise the top-level keys are.
        if line.find("{", 1) != -1:
            return _exact(row)
        keys = tuple(row)
        return self._orders.setdefault(keys, keys)

    def _orders_of(self, rows: list[dict[str, Any]], lines: list[str]) -> list[Order]:
        """`_order` of each row, at C speed when no line may hold a nested object."""
        if "".join(lines).count("{") == len(lines):  # each line's own opening brace, and no other
            keys = list(map(tuple, rows))
            if keys and keys.count(keys[0]) == len(keys):  # one key order for the batch (a model's dump): one lookup
                return [self._orders.setdefault(keys[0], keys[0])] * len(keys)
            return list(map(self._orders.setdefault, keys, keys))
        return list(map(self._order, rows, lines))

    def _add_new(self, table: _Table, ids: list[str], rows: list[dict[str, Any]], lines: list[str], now: float,
                 gen: int) -> list[str] | None:
        """Add a batch of ids none of which the table holds yet, column by column; None if some are held."""
        k = len(ids)
        if table.beyond(ids):
            if table.file is not None:  # spilled: the batch follows the rows to the file
                seq = next(self._seq)
                self._seq = itertools.count(seq + k)
                table.write(ids, lines, self._orders_of(rows, lines), self._redact)
                assert table.runs is not None
                table.runs.append((k, now, seq, gen))
                return ids
            first = len(table.lines)
            if table._index is not None:
                table._index.update(zip(ids, range(first, first + k), strict=True))
        else:
            index = table.index  # (a spilled table is read back here)
            first = len(table.lines)
            # One probe per id: each id gets the next row unless it is held already; a held one keeps its
            # row, and then the batch is undone for the row-by-row path.
            rows_of = list(map(index.setdefault, ids, range(first, first + k)))
            if any(map(operator.ne, rows_of, range(first, first + k))):
                for rid, n, fresh in zip(ids, rows_of, range(first, first + k), strict=True):
                    if n == fresh:
                        del index[rid]
                return None
            if table.bounded:  # the batch straddles the held range: widen it by the batch's ends
                low, high = _bounds(ids)
                assert table.low is not None and table.high is not None
                table.low, table.high = min(table.low, low), max(table.high, high)
        table.ids.extend(ids)
        seq = next(self._seq)
        # The batch's change numbers are consecutive: take the rest of them from the counter too.
        self._seq = itertools.count(seq + k)
        table.lines.extend(lines)
        table.orders.extend(self._orders_of(rows, lines))
        table.add_columns(k, now, seq, gen)
        if table.runs is not None:
            table.runs.append((k, now, seq, gen))
            cap = self._spill_text
            if cap is not None:
                table.held += sum(map(len, lines))
                if table.held > cap and table._index is None and table.bounded:
                    table.spill(self._redact)
        return ids

    def save(self, model: str, rows: list[dict[str, Any]]) -> SaveOutcome:
        table = self._table(model)
        gen = self._tracking.get(model, 0)
        lines = record_lines(rows)
        out = SaveOutcome(lines=lines)
        now = self._now()
        ids = list(map(_ID, rows))
        if ids and len(set(ids)) == len(ids):
            new = self._add_new(table, ids, rows, lines, now, gen)
            if new is not None:  # the common case: every id new
                out.added = new
                return out
        table = self._rows(model)
        seq, order, index, add = self._seq, self._order, table.index, table.add
        added, updated, unchanged = out.added.append, out.updated.append, out.unchanged.append
        for row, line in zip(rows, lines, strict=True):
            rid = row["id"]
            n = index.get(rid)
            if n is None:
                add(rid, line, order(row, line), now, next(seq), gen)
                added(rid)
                continue
            keys = order(row, line)
            if not table.is_live(n):  # a save revives a deleted record as added
                table.lines[n], table.orders[n] = line, keys
                table.created[n] = table.updated[n] = now
                table.deleted[n], table.seqs[n], table.gens[n] = _LIVE, next(seq), gen
                added(rid)
                continue
            if table.lines[n] != line or table.orders[n] != keys:
                table.lines[n], table.orders[n] = line, keys
                table.updated[n], table.seqs[n] = now, next(seq)
                updated(rid)
            else:
                unchanged(rid)
            table.gens[n] = gen
        return out

    def update(self, model: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        table = self._rows(model)
        merged: list[dict[str, Any]] = []
        now = self._now()
        for row in rows:
            n = table.index.get(row["id"])
            if n is None or not table.is_live(n):
                continue
            data = deep_merge(table.data(n), row)
            line = encode_line(data)
            table.lines[n], table.orders[n] = line, self._order(data, line)
            table.updated[n], table.seqs[n] = now, next(self._seq)
            merged.append(data)
        return merged

    def delete(self, model: str, rows: list[dict[str, Any]]) -> list[str]:
        table = self._rows(model)
        deleted: list[str] = []
        now = self._now()
        for row in rows:
            rid = row["id"]
            n = table.index.get(rid)
            if n is None:
                # A tombstone, so a later read of the change stream still sees the delete.
                line = encode_line(row)
                table.add(rid, line, self._order(row, line), now, next(self._seq), 0, deleted=now)
                continue
            if table.is_live(n):
                table.deleted[n] = table.updated[n] = now
                table.seqs[n] = next(self._seq)
                deleted.append(rid)
        return deleted

    def track_deletes_start(self, model: str) -> None:
        self._tracking[model] = next(self._generation)

    def track_deletes_end(self, model: str) -> list[str]:
        if model not in self._tracking:
            raise track_error(model)
        gen = self._tracking.pop(model)
        now = self._now()
        table = self._table(model)
        if table.runs is not None and all(run[3] == gen for run in table.runs):
            return []  # every row was saved in this window (and none deleted: the table is pristine)
        table = self._rows(model)
        gone: list[str] = []
        # In change order (oldest first), as the SQLite store returns them.
        stale = sorted((table.seqs[n], rid, n) for n, rid in enumerate(table.ids)
                       if table.is_live(n) and table.gens[n] != gen)
        for _, rid, n in stale:
            table.deleted[n] = table.updated[n] = now
            table.seqs[n] = next(self._seq)
            gone.append(rid)
        return gone

    def list(self, model: str, *, modified_after: float | None = None, cursor: str | None = None,
             limit: int = 100) -> tuple[builtins.list[dict[str, Any]], str | None]:
        """A page of the change stream, oldest change first; `cursor` continues after the last one read."""
        after = int(cursor) if cursor else 0
        table = self._rows(model, changing=False)
        seqs, updated = table.seqs, table.updated
        rows = sorted((n for n in range(len(table.ids))
                       if seqs[n] > after and (modified_after is None or updated[n] >= modified_after)),
                      key=seqs.__getitem__)
        page = rows[:limit]
        next_cursor = str(seqs[page[-1]]) if len(rows) > limit else None
        return [table.public(n) for n in page], next_cursor

    def get_by_ids(self, model: str, ids: builtins.list[str]) -> dict[str, dict[str, Any]]:
        table = self._rows(model, changing=False)
        return {rid: table.public(table.index[rid]) for rid in ids if rid in table.index}
