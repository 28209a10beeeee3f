"""The snapshot file: a JSON document laid out for review, and its canonical form for comparison.

Layout: one top-level key per line group; every record, update, checkpoint, metadata write, finding and
request sits on a line of its own (compact JSON, keys sorted), so a changed record is a one-line change in
`git diff`. Comparison never looks at the layout: both sides are reduced to canonical compact JSON with
sorted keys (C-speed `json`), so a hand-reformatted snapshot still matches, and only a mismatch pays for
the readable diff.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic_core import to_jsonable_python

from ..errors import HarnessError

if TYPE_CHECKING:
    from ..secrets.scrubber import Scrubber

# How many levels of each top-level key are spread over lines before values go compact on one line.
_EXPAND = {"records": 2, "updates": 2, "deletes": 2, "checkpoints": 2, "metadata": 2, "counts": 1,
           "issues": 1, "requests": 1, "error": 1, "output": 99}


class SnapshotFileError(HarnessError):
    """A snapshot file that cannot be read as JSON."""


def _default(value: Any) -> Any:
    # pydantic-core turns models, datetimes, enums, UUIDs, tuples and sets into JSON data.
    return to_jsonable_python(value, serialize_unknown=True)


# One encoder each, built once: `json.dumps` with options builds a new encoder per call, which dominates
# the cost of writing 150,000 records one per line.
_COMPACT = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(", ", ": "), default=_default)
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_default)
_KEY = json.JSONEncoder(ensure_ascii=False)
_compact = _COMPACT.encode


def to_json(value: Any) -> Any:
    """`value` as plain JSON data (what reading the written snapshot back gives)."""
    return json.loads(_CANONICAL.encode(value))


@functools.cache
def _c_compact() -> Callable[[Any, int], Any] | None:
    """The C encoder behind `_compact`, called directly: `JSONEncoder.encode` builds a new one per call, which
    is most of the cost of writing 500,000 records one per line. None where the C accelerator is missing."""
    try:
        from json.encoder import c_make_encoder  # type: ignore[attr-defined]

        # No circular-reference markers: a cycle ends in RecursionError, and the caller falls back.
        encoder: Callable[[Any, int], Any] = c_make_encoder(None, _default, encode_basestring, None, ": ", ", ",
                                                            True, False, True)
        return encoder
    except (ImportError, TypeError):
        return None


def _compact_lines(value: dict[Any, Any] | list[Any], inner: str) -> str | None:
    """Every item of `value` compact on its own line (what `_write` does at depth 1), or None to do it item
    by item (no C encoder, a key that is not a string, a cycle)."""
    enc = _c_compact()
    if enc is None:
        return None
    join = "".join
    try:
        if isinstance(value, dict):
            if not all(type(k) is str for k in value):
                return None
            return ",\n".join([f"{inner}{encode_basestring(k)}: {join(enc(v, 0))}" for k, v in value.items()])
        return ",\n".join([inner + join(enc(v, 0)) for v in value])
    except RecursionError:
        return None


def _write(out: list[str], value: Any, indent: str, depth: int) -> None:
    """Append `value` at the current position (no leading indent), expanding `depth` more levels."""
    if depth <= 0 or not isinstance(value, (dict, list)) or not value:
        out.append(_compact(value))
        return
    inner = indent + "  "
    if depth == 1:
        lines = _compact_lines(value, inner)
        if lines is not None:
            close = "}" if isinstance(value, dict) else "]"
            out.append(("{\n" if close == "}" else "[\n") + lines + "\n" + indent + close)
            return
    if isinstance(value, dict):
        out.append("{\n")
        for n, (key, item) in enumerate(value.items()):
            out.append(f"{inner}{_KEY.encode(key)}: ")
            _write(out, item, inner, depth - 1)
            out.append(",\n" if n < len(value) - 1 else "\n")
        out.append(indent + "}")
    else:
        out.append("[\n")
        for n, item in enumerate(value):
            out.append(inner)
            _write(out, item, inner, depth - 1)
            out.append(",\n" if n < len(value) - 1 else "\n")
        out.append(indent + "]")


def dump_snapshot(doc: dict[str, Any]) -> str:
    out: list[str] = ["{\n"]
    for n, (key, value) in enumerate(doc.items()):
        out.append(f"  {json.dumps(key)}: ")
        _write(out, value, "  ", _EXPAND.get(key, 0))
        out.append(",\n" if n < len(doc) - 1 else "\n")
    out.append("}\n")
    return "".join(out)


def canonical(doc: Any) -> str:
    """The form two snapshots are compared in: key order and whitespace do not matter, types do."""
    return _CANONICAL.encode(doc)


@dataclass
class Comparison:
    same: bool
    text: str  # the run's snapshot text (what --snapshot-update writes)
    stored: dict[str, Any] | None = None  # on the slow path: the parsed file, settings applied
    current: dict[str, Any] | None = None  # on the slow path: the run's document as plain JSON data


def compare(doc: dict[str, Any], text: str | None, apply: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
            where: str = "snapshot") -> Comparison:
    """Whether the stored `text` holds `doc`.

    Fast path: our own layout, byte for byte. Otherwise (a real change, a file edited by hand, settings
    that changed) the parsed file, with `apply` (the settings) run on it, is compared in canonical form,
    and both sides are kept for the diff.
    """
    mine = dump_snapshot(doc)
    if text is None or mine == text:
        return Comparison(text is not None, mine)
    with collector_paused():
        return _slow_compare(doc, mine, text, apply, where)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a while (restored as it was)."""
    # Parsing a big snapshot allocates hundreds of thousands of containers while the run's records are
    # alive: the cyclic collector would re-walk that heap again and again (two thirds of a 150,000-record
    # mismatch). JSON data holds no cycles, so nothing is left for it to find afterwards.
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


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
            return Comparison(False, mine, stored, current)
        same = canonical(stored) == canonical(current)
        return Comparison(same, mine, stored, None if same else current)
    current_text = canonical(doc)
    if canonical(stored) == current_text:
        return Comparison(True, mine, stored)  # a reformatted file: the diff's plain data is not needed
    return Comparison(False, mine, stored, json.loads(current_text))


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


def write_snapshot(path: Path, text: str, scrubber: Scrubber) -> None:
    """Write a snapshot atomically after the final scan: one holding a known secret (in any encoding) is
    refused with the JSON path of the place (`SecretLeakError`, exit 3) and nothing is written. For a
    replay, `harness.secrets.connection_secrets.project_scrubber(project)` knows the secrets of the project's
    connections.
    """
    from ..atomic import write_atomic
    from ..secrets.scan import check_document

    check_document(path, text, scrubber)
    write_atomic(path, text)
