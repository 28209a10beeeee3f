"""The snapshot file: a JSON document laid out for review, and its canonical form for comparison.

Layout: one top-level key per line group; every record, update, checkpoint, metadata write, finding and
request sits on a line of its own (compact JSON, keys sorted), so a changed record is a one-line change in
`git diff`. Comparison never looks at the layout: both sides are reduced to canonical compact JSON with
sorted keys (C-speed `json`), so a hand-reformatted snapshot still matches, and only a mismatch pays for
the readable diff.
"""

from __future__ import annotations

import itertools
import json
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic_core import to_jsonable_python

from ..errors import HarnessError
from ..heap import collector_paused
from ..records.lines import RecordLines, encode_line, record_lines

if TYPE_CHECKING:
    from ..secrets.scrubber import Scrubber

# How many levels of each top-level key are spread over lines before values go compact on one line.
_EXPAND = {"records": 2, "updates": 2, "deletes": 2, "checkpoints": 2, "metadata": 2, "counts": 1,
           "issues": 1, "requests": 1, "error": 1, "output": 99}


class SnapshotFileError(HarnessError):
    """A snapshot file that cannot be read as JSON, read at all, or written."""


def _default(value: Any) -> Any:
    if isinstance(value, RecordLines):
        return value.to_dict()
    # pydantic-core turns models, datetimes, enums, UUIDs, tuples and sets into JSON data.
    return to_jsonable_python(value, serialize_unknown=True)


# One encoder each, built once: `json.dumps` with options builds a new encoder per call.
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_default)
_KEY = json.JSONEncoder(ensure_ascii=False)
# Pieces of the layout are handed on (compared, scanned, written) at about this many characters.
_PIECE = 1 << 20


def to_json(value: Any) -> Any:
    """`value` as plain JSON data (what reading the written snapshot back gives)."""
    return json.loads(_CANONICAL.encode(value))


def _compact(value: Any) -> str:
    if isinstance(value, RecordLines):
        value = value.to_dict()
    return encode_line(value)


def _json_key(key: Any) -> str:
    """A dict key as JSON spells it (json turns int, float, bool and None keys into strings)."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool) or key is None:
        return {True: "true", False: "false", None: "null"}[key]
    return str(key)


def _pieces(texts: Iterator[str]) -> Iterator[str]:
    """`texts` joined by `,\\n` in pieces of about `_PIECE` characters."""
    chunk: list[str] = []
    size = 0
    for text in texts:
        chunk.append(text)
        size += len(text)
        if size >= _PIECE:
            yield ",\n".join(chunk)
            chunk, size = [], 0
    if chunk:
        yield ",\n".join(chunk)


def _item_lines(value: dict[Any, Any] | list[Any] | RecordLines, inner: str) -> Iterator[str]:
    """Every item of `value` compact on its own line (what `_write` does at depth 1), in pieces."""
    if isinstance(value, RecordLines):
        # Laid out by the records' holder (a spilled log reads them from its file as they were written).
        yield from _pieces(value.keyed(inner))
        return
    if isinstance(value, dict) and all(type(k) is str for k in value):
        pairs: Iterator[tuple[str, str]] = zip(value, record_lines(value.values()), strict=True)
    elif isinstance(value, dict):
        pairs = ((_json_key(k), _compact(v)) for k, v in value.items())
    else:
        lines = record_lines(value)
        for start in range(0, len(lines), 4096):
            yield ",\n".join([inner + line for line in lines[start:start + 4096]])
        return
    yield from _pieces(f"{inner}{encode_basestring(key)}: {line}" for key, line in pairs)


def _write(value: Any, indent: str, depth: int) -> Iterator[str]:
    """`value` at the current position (no leading indent), expanding `depth` more levels, in pieces."""
    if depth <= 0 or not isinstance(value, (dict, list, RecordLines)) or not value:
        yield _compact(value)
        return
    inner = indent + "  "
    is_map = not isinstance(value, list)
    if depth == 1:
        yield "{\n" if is_map else "[\n"
        first = True
        for piece in _item_lines(value, inner):
            yield piece if first else ",\n" + piece
            first = False
        yield "\n" + indent + ("}" if is_map else "]")
        return
    if isinstance(value, RecordLines):
        value = value.to_dict()
    yield "{\n" if is_map else "[\n"
    items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
    for n, (key, item) in enumerate(items):
        yield f"{inner}{_KEY.encode(key)}: " if is_map else inner
        yield from _write(item, inner, depth - 1)
        yield ",\n" if n < len(items) - 1 else "\n"
    yield indent + ("}" if is_map else "]")


def snapshot_pieces(doc: dict[str, Any]) -> Iterator[str]:
    """The snapshot file's text (`dump_snapshot`) in pieces of about a megabyte or less."""
    yield "{\n"
    for n, (key, value) in enumerate(doc.items()):
        yield f"  {json.dumps(key)}: "
        yield from _write(value, "  ", _EXPAND.get(key, 0))
        yield ",\n" if n < len(doc) - 1 else "\n"
    yield "}\n"


def dump_snapshot(doc: dict[str, Any]) -> str:
    return "".join(snapshot_pieces(doc))


def canonical(doc: Any) -> str:
    """The form two snapshots are compared in: key order and whitespace do not matter, types do."""
    return _CANONICAL.encode(doc)


@dataclass
class Comparison:
    same: bool
    doc: dict[str, Any] = field(repr=False)  # the run's snapshot document
    stored: dict[str, Any] | None = None  # on the slow path: the parsed file, settings applied
    current: dict[str, Any] | None = None  # on the slow path: the run's document as plain JSON data
    _text: str | None = field(default=None, repr=False)
    exists: bool = True  # False: there is no stored snapshot

    @property
    def text(self) -> str:
        """The run's snapshot text (what --snapshot-update writes), laid out when first asked for."""
        if self._text is None:
            self._text = dump_snapshot(self.doc)
        return self._text


def compare(doc: dict[str, Any], text: str | None, apply: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
            where: str = "snapshot") -> Comparison:
    """Whether the stored `text` holds `doc`.

    Fast path: our own layout, byte for byte, checked piece by piece as it is laid out (the run's text is
    never built whole). Otherwise (a real change, a file edited by hand, settings that changed) the parsed
    file, with `apply` (the settings) run on it, is compared in canonical form, and both sides are kept for
    the diff.
    """
    if text is None:
        return Comparison(False, doc, exists=False)
    pos = 0
    for piece in snapshot_pieces(doc):
        if not text.startswith(piece, pos):
            break
        pos += len(piece)
    else:
        if pos == len(text):
            return Comparison(True, doc)
    return _compare_parsed(doc, text, apply, where)


def _compare_parsed(doc: dict[str, Any], text: str, apply: Callable[[dict[str, Any]], dict[str, Any]] | None,
                    where: str) -> Comparison:
    """The slow path, once the fast one has found the texts differ: the stored file parsed and compared."""
    with collector_paused():
        held = _held_as_lines(doc)
        if held:
            return _compare_lines(doc, held, text, apply, where)
        return _slow_compare(doc, dump_snapshot(doc), text, apply, where)


def _held_as_lines(doc: dict[str, Any]) -> dict[str, RecordLines]:
    records = doc.get("records")
    if not isinstance(records, dict):
        return {}
    return {m: v for m, v in records.items() if isinstance(v, RecordLines)}


def _compare_lines(doc: dict[str, Any], held: dict[str, RecordLines], text: str,
                   apply: Callable[[dict[str, Any]], dict[str, Any]] | None, where: str) -> Comparison:
    """The slow path of a run whose records are lines: the stored file is parsed once, each stored record
    encoded as a line and compared with the run's as text (exact, types included: `1` is not `1.0`), and
    the rest of the document in canonical form. The run's records are never decoded, except those that
    differ: for the diff, the run's side shares the stored records that are equal."""
    stored = parse_snapshot(text, where)
    if apply is not None:
        stored = apply(stored)
    stored_records = stored.get("records")
    if not isinstance(stored_records, dict):
        stored_records = {}
    rest_doc = {**doc, "records": {m: v for m, v in doc["records"].items() if m not in held}}
    rest_stored = {**stored, "records": {m: v for m, v in stored_records.items() if m not in held}}
    same = "records" in stored and canonical(rest_doc) == canonical(rest_stored)
    equal_records: dict[str, tuple[dict[str, Any], list[str], list[str], list[bool]]] = {}
    for model, lines in held.items():
        old = stored_records.get(model)
        if not isinstance(old, dict):
            old = {}
        ids = list(lines)
        mine = [line for _, line in lines.lines()]
        theirs = record_lines(map(old.get, ids))  # a missing id is null, never a record's line
        equal = list(map(operator.eq, theirs, mine))
        if len(old) != len(ids) or not all(equal):
            same = False
        equal_records[model] = (old, ids, mine, equal)
    if same:
        return Comparison(True, doc, stored)
    current: dict[str, Any] = json.loads(canonical(rest_doc))
    records = current.setdefault("records", {})
    for model, (old, ids, mine, equal) in equal_records.items():
        merged = dict(zip(ids, map(old.get, ids), strict=True))
        for n in itertools.compress(range(len(ids)), map(operator.not_, equal)):
            merged[ids[n]] = json.loads(mine[n])
        records[model] = merged
    return Comparison(False, doc, stored, current)


def compare_file(doc: dict[str, Any], path: Path, apply: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                 where: str = "snapshot") -> Comparison:
    """`compare` against the snapshot file at `path` (`exists` is False when there is none).

    The fast path reads the file a megabyte at a time against the layout's pieces, so neither text is held
    whole; only a difference reads the file whole, for the slow path.
    """
    try:
        with path.open(encoding="utf-8") as fh:
            buffered = ""
            for piece in snapshot_pieces(doc):
                while len(buffered) < len(piece):
                    more = fh.read(_PIECE)
                    if not more:
                        break
                    buffered += more
                if not buffered.startswith(piece):
                    break
                buffered = buffered[len(piece):]
            else:
                if not buffered and not fh.read(1):
                    return Comparison(True, doc)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Comparison(False, doc, exists=False)
    except UnicodeDecodeError as exc:
        raise SnapshotFileError(f"{where}: not UTF-8 text (byte {exc.start})",
                                hint="rewrite it with --snapshot-update") from None
    except OSError as exc:  # a folder in its place, no permission to read it...
        raise SnapshotFileError(f"{where}: cannot read it: {exc.strerror or exc}",
                                hint="a snapshot is a file harness writes; move this away and rewrite it with "
                                     "--snapshot-update") from None
    return _compare_parsed(doc, text, apply, where)  # the stream already found where they differ


def _slow_compare(doc: dict[str, Any], mine: str, text: str,
                  apply: Callable[[dict[str, Any]], dict[str, Any]] | None, where: str) -> Comparison:
    stored = parse_snapshot(text, where)
    if apply is not None:
        stored = apply(stored)
    if text.count("\n") == mine.count("\n"):
        # Our layout with values changed, most likely a real difference (the failing test a user waits
        # for): compared as data first, which costs no encoding. Data that differs under `==` differs in
        # canonical form too, NaN (never equal to itself) aside; data equal under `==` may still differ in
        # type (1 vs 1.0, true vs 1), so canonical form decides then.
        current = _plain(mine, doc)
        if stored != current and "NaN" not in text and "NaN" not in mine:
            return Comparison(False, doc, stored, current, mine)
        same = canonical(stored) == canonical(current)
        return Comparison(same, doc, stored, None if same else current, mine)
    current_text = canonical(doc)
    if canonical(stored) == current_text:
        return Comparison(True, doc, stored, None, mine)  # a reformatted file: the diff's plain data is not needed
    return Comparison(False, doc, stored, json.loads(current_text), mine)


def _plain(mine: str, doc: dict[str, Any]) -> dict[str, Any]:
    """The run's document as plain JSON data, read back from its layout (a key that is not a string makes
    the layout unreadable: then from canonical form)."""
    try:
        data: dict[str, Any] = json.loads(mine)
    except ValueError:
        data = json.loads(canonical(doc))
    return data


def parse_snapshot(text: str, where: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SnapshotFileError(f"{where}:{exc.lineno}: not valid JSON ({exc.msg})",
                                hint="fix it, or rewrite it with --snapshot-update") from None
    if not isinstance(data, dict):
        raise SnapshotFileError(f"{where}: not a harness snapshot (expected a JSON object)",
                                hint="rewrite it with --snapshot-update")
    return data


def load_snapshot(path: Path) -> dict[str, Any] | None:
    """The stored document, or None when there is no snapshot file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return parse_snapshot(text, str(path))


def write_snapshot(path: Path, text: str, scrubber: Scrubber, where: str | None = None) -> None:
    """Write a snapshot atomically after the final scan: one holding a known secret (in any encoding) is
    refused with the JSON path of the place (`SecretLeakError`, exit 3) and nothing is written. For a
    replay, `harness.secrets.connection_secrets.project_scrubber(project)` knows the secrets of the project's
    connections.
    """
    from ..atomic import write_atomic
    from ..secrets.scan import check_document

    check_document(path, text, scrubber)
    try:
        write_atomic(path, text)
    except OSError as exc:  # a folder in its place, a read-only cassettes folder...
        raise SnapshotFileError(f"{where or path}: cannot write it: {exc.strerror or exc}",
                                hint="check that the path is not a folder and that the folder is writable") from None
