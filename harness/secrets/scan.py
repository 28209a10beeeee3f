"""The final scan: before a cassette or a snapshot is written, look for every known secret in every
encoding; a hit refuses the write with one line naming the file, the place and how to allow the value.

The scan is independent of the scrubbing that came before it (a scrubbing bug is still caught). Besides the
spellings of `encodings.py` it reads percent-encoded strings decoded (any mix of hex case), UTF-16/32
bodies decoded (at every alignment), and the file's text as it will be written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from ..errors import SecretLeakError
from .encodings import PERCENT, wide_views

if TYPE_CHECKING:
    from .scrubber import Scrubber

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Leak:
    path: Path_
    secret: str
    encoding: str


def _hits(text: str, scrubber: Scrubber) -> Iterator[tuple[str, str]]:
    for _, _, name, encoding in scrubber.find(text):
        yield name, encoding
    for rx in scrubber.patterns:
        if rx.search(text):
            yield f"pattern {rx.pattern!r}", "pattern"
    if "%" in text:
        decoded = unquote_plus(text)
        if decoded != text:
            for _, _, name, _ in scrubber.find(decoded):
                yield name, PERCENT
    if "\0" in text:
        yield from _wide(text.encode("utf-8"), scrubber)


def _wide(data: bytes, scrubber: Scrubber) -> Iterator[tuple[str, str]]:
    for codec, view in wide_views(data):
        for _, _, name, _ in scrubber.find(view):
            yield name, codec


def _json_path(text: str, scrubber: Scrubber) -> Path_ | None:
    """Where inside a JSON text a secret sits (`data[3].token`), or None when it is not JSON."""
    if text[:1] not in ("{", "[") and text.lstrip()[:1] not in ("{", "["):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    for leak in _walk(data, scrubber, (), refine=False):
        return leak.path
    return None


def _walk(value: Any, scrubber: Scrubber, path: Path_, *, refine: bool) -> Iterator[Leak]:
    if isinstance(value, str):
        found = list(_hits(value, scrubber))
        if not found:
            return
        inner = _json_path(value, scrubber) if refine else None
        for name, encoding in found:
            yield Leak((*path, "$", *inner) if inner else path, name, encoding)
    elif isinstance(value, bytes):
        found = list(_wide(value, scrubber))
        found += list(_hits(value.decode("latin-1"), scrubber))
        for name, encoding in found:
            yield Leak(path, name, encoding)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                for leak in _walk(key, scrubber, path, refine=False):
                    yield Leak((*path, key), leak.secret, leak.encoding)
            yield from _walk(item, scrubber, (*path, key if isinstance(key, (str, int)) else str(key)),
                             refine=refine)
    elif isinstance(value, (list, tuple)):
        for n, item in enumerate(value):
            yield from _walk(item, scrubber, (*path, n), refine=refine)


def find_leaks(value: Any, scrubber: Scrubber) -> list[Leak]:
    """Every known secret left anywhere in `value` (nested dicts, lists, strings, bytes), with its place."""
    if not scrubber.has_values():
        return []
    scrubber.compile()
    return list(_walk(value, scrubber, (), refine=True))


def _json_pointer(parts: Path_) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "$"


def cassette_place(path: Path_) -> str:
    """`interaction #2 response header Link`, `interaction #0 request body at $.note`, `harness: ...`."""
    if not path:
        return "the file"
    if path[0] == "harness":
        return f"harness: {_json_pointer(path[1:])}"
    if path[0] != "interactions" or len(path) < 3:
        return _json_pointer(path)
    n, side, rest = path[1], path[2], path[3:]
    head = f"interaction #{n} {side}" if side in ("request", "response") else f"interaction #{n}"
    if side not in ("request", "response"):
        return f"{head} {_json_pointer(path[2:])}"
    if not rest:
        return head
    what = rest[0]
    if what == "headers" and len(rest) >= 2:
        return f"{head} header {rest[1]}"
    if what == "uri":
        return f"{head} URL"
    if what == "body":
        inner = list(rest[1:])
        if inner[:1] == ["string"]:
            inner = inner[1:]
        if inner[:1] == ["$"] and len(inner) > 1:
            return f"{head} body at {document_place(tuple(inner[1:]))}"
        return f"{head} body"
    return f"{head} {_json_pointer(rest)}"


def document_place(path: Path_) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else ("" if p == "$" else f".{p}") for p in path)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def refusal(path: Path, leaks: list[Leak], place: str) -> SecretLeakError:
    first = leaks[0]
    others = {(leak.path, leak.secret) for leak in leaks} - {(first.path, first.secret)}
    more = f" (and {len(others)} more place(s))" if others else ""
    if first.encoding == "pattern":
        hint = "a value matched a pattern of [tool.harness.scrub] that the scrubbing could not replace there"
        return SecretLeakError(f"not writing {_shown(path)}: {place} matches {first.secret}{more}",
                               hint=hint + "; report it as a bug")
    return SecretLeakError(
        f"not writing {_shown(path)}: {place} holds the secret `{first.secret}` ({first.encoding}){more}",
        hint=f'if that value is not a secret, add "{first.secret}" to allow = [...] in [tool.harness.scrub]; '
             "if it is, add a scrub rule there (headers, params, keys, patterns) or report it as a bug")


def checked_pieces(path: Path, pieces: Iterable[tuple[Path_, Any, Callable[[Any], str]]],
                   scrubber: Scrubber) -> Iterator[str]:
    """Refuse (SecretLeakError, exit 3) a cassette that still holds a known secret anywhere, as it is written
    piece by piece: each `(place, data, dump)` is scanned as data
    (leak paths under `place`), then dumped and its text scanned, and only then yielded. Once a leak is
    found nothing more is dumped, but the remaining data is still scanned, so the refusal counts every place."""
    leaks: list[Leak] = []
    for place, data, dump in pieces:
        leaks += [Leak((*place, *leak.path), leak.secret, leak.encoding) for leak in find_leaks(data, scrubber)]
        if leaks:
            continue
        text = dump(data)
        _check_text(path, text, scrubber)
        yield text
    if leaks:
        raise refusal(path, leaks, cassette_place(leaks[0].path))


def _check_text(path: Path, text: str, scrubber: Scrubber) -> None:
    """The written text itself, as it is (its strings were all scanned, decoded, just before)."""
    found = [Leak((), name, encoding) for _, _, name, encoding in scrubber.find(text)]
    if found:
        raise refusal(path, found, "the file's text")


def check_document(path: Path, text: str, scrubber: Scrubber) -> None:
    """Refuse a JSON document (a snapshot) that still holds a known secret; the place is a JSON path."""
    try:
        data: Any = json.loads(text)
    except ValueError:
        data = None
    leaks = find_leaks(data, scrubber) if data is not None else find_leaks(text, scrubber)
    if leaks:
        raise refusal(path, leaks, document_place(leaks[0].path))
    _check_text(path, text, scrubber)


def leak_names(value: Any, scrubber: Scrubber) -> list[str]:
    """Names of the secrets still present anywhere in `value` (`find_leaks` gives the places)."""
    return sorted({leak.secret for leak in find_leaks(value, scrubber)})
