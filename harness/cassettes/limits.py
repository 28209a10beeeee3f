"""Bounded reading of a cassette file: what it may cost to turn one into plain data.

A cassette can come from anywhere (a colleague, a vcrpy project, a downloaded example, an attacker), so
reading one ends, in bounded time and memory, with plain data or a `CassetteError` naming the file:

- size: a cassette is a regular file of at most `max_bytes()` (256 MB; `HARNESS_CASSETTE_MAX_MB`
  changes it). Devices, FIFOs and folders are refused before a byte is read;
- YAML aliases: expanding them may add at most `MAX_ALIAS_NODES` nodes and `MAX_ALIAS_CHARS` characters
  to what the file itself holds (a "billion laughs" bomb is refused, not built), and an anchor that
  contains itself (`&m [*m]`) is refused;
- nesting: libyaml stops at 1,000 levels; aliases cannot get round that (`MAX_YAML_DEPTH` counts them
  expanded); the values harness itself reads are held to `MAX_VALUE_DEPTH` by `harness.cassettes.section_check`.

Finding aliases costs a scan for `&` (2 ms on a 40 MB file; 10 ms more when it has one): only a document that has
both an anchor and an alias is composed into nodes and measured before it is built, so an ordinary
cassette loads at libyaml's full speed. A document with aliases is built as a tree (each alias a copy),
so no two places in a cassette share one mutable object.
"""

from __future__ import annotations

import io
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from ..errors import CassetteError

MAX_MB_DEFAULT = 256
MAX_ALIAS_NODES = 100_000
MAX_ALIAS_CHARS = 10_000_000
MAX_YAML_DEPTH = 1_000
MAX_VALUE_DEPTH = 100
ENV_MAX_MB = "HARNESS_CASSETTE_MAX_MB"

# An anchor (`&name`) or an alias (`*name`) begins a token: it follows a blank, a flow indicator, a key or
# value indicator, a block entry or the BOM. Matching the literal first keeps the scan at memchr speed; a
# false hit (` &amp;` in an HTML body) only costs the measured path, a miss cannot happen.
_BEFORE = r"[\s\ufeff\[\]{},:?\-\"']"
_ANCHOR = re.compile(r"&(?<=" + _BEFORE + r"&)[^\s\[\]{},]")
_ALIAS = re.compile(r"\*(?<=" + _BEFORE + r"\*)[^\s\[\]{},]")

_PARSE_ERRORS = (yaml.YAMLError, ValueError, TypeError, AttributeError, KeyError, IndexError, OverflowError,
                 RecursionError, UnicodeError)


def max_bytes() -> int:
    raw = os.environ.get(ENV_MAX_MB)
    if not raw:
        return MAX_MB_DEFAULT * 1_000_000
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if not value > 0:
        raise CassetteError(f"{ENV_MAX_MB}={raw!r} is not a size in MB", hint="e.g. 512")
    return int(value * 1_000_000)


def read_text(path: Path) -> str:
    """The file's text: a regular file, at most `max_bytes()`, UTF-8 (a BOM is allowed)."""
    return decode_text(path, read_bytes(path))


def _limit(path: Path) -> int:
    try:
        return max_bytes()
    except CassetteError as exc:
        raise CassetteError(f"{path}: {exc.message}", hint=exc.hint) from None


def open_cassette(path: Path) -> io.BufferedReader:
    """The file open for reading: a regular file (a folder, a FIFO or a device is refused without reading it),
    at most `max_bytes()`."""
    limit = _limit(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just after.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise CassetteError(f"no recording at {path}", hint="record one with --record") from None
    except OSError as exc:
        raise CassetteError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CassetteError(f"{path}: not a regular file", hint="a cassette is a YAML or JSON file")
        if info.st_size > limit:
            raise CassetteError(f"{path}: {info.st_size / 1e6:.1f} MB is more than a cassette may hold "
                                f"({limit / 1e6:g} MB)", hint=f"split the scenario, or set {ENV_MAX_MB}")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_open(fh: io.BufferedReader, path: Path) -> bytes:
    """The rest of an `open_cassette` file's bytes, at most `max_bytes()` (it may grow while it is read)."""
    limit = _limit(path)
    try:
        raw = fh.read(limit + 1)
    except OSError as exc:
        raise CassetteError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    if len(raw) > limit:
        raise CassetteError(f"{path}: more than a cassette may hold ({limit / 1e6:g} MB)",
                            hint=f"split the scenario, or set {ENV_MAX_MB}")
    return raw


def read_bytes(path: Path) -> bytes:
    """The file's bytes: a regular file, at most `max_bytes()`."""
    with open_cassette(path) as fh:
        return read_open(fh, path)


def decode_text(path: Path, raw: bytes) -> str:
    """`raw` as UTF-8 text, or a `CassetteError` naming the line."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise CassetteError(f"{path}:{line}: not UTF-8 text (byte {exc.start})",
                            hint="cassettes are UTF-8; re-record it or convert the file") from None


def may_alias(text: str) -> bool:
    """Whether the text may hold both an anchor and an alias (only those can expand or loop)."""
    # `&` alone is found at memchr speed, the regular expression at a fifth of it: only run it then.
    return ("&" in text and (_ANCHOR.search(text) is not None or text.startswith("&"))
            and _ALIAS.search(text) is not None)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def check_graph(root: yaml.Node, where: str) -> None:
    """Refuse a composed document whose aliases loop, expand past the limits or nest too deep.

    One pass over the distinct nodes (iterative: alias chains are deeper than the stack): each node's
    expanded node count, characters and height, remembered by identity, so a bomb is measured, not built.
    """
    sizes: dict[int, tuple[int, int, int]] = {}
    open_nodes: set[int] = set()
    distinct_nodes = distinct_chars = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        kids = _children(node)
        if finished:
            count, chars, height = 1, len(node.value) if isinstance(node, yaml.ScalarNode) else 0, 0
            for kid in kids:
                k_count, k_chars, k_height = sizes[id(kid)]
                count, chars, height = count + k_count, chars + k_chars, max(height, k_height)
            sizes[key] = (count, chars, height + 1)
            open_nodes.discard(key)
            distinct_nodes += 1
            if isinstance(node, yaml.ScalarNode):
                distinct_chars += len(node.value)
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise CassetteError(f"{where}: an alias refers to the anchor that contains it (line {_line(node)})",
                                hint="YAML anchors must not contain themselves")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((kid, False) for kid in kids if id(kid) not in sizes)
    count, chars, height = sizes[id(root)]
    if max(count - distinct_nodes - MAX_ALIAS_NODES, chars - distinct_chars - MAX_ALIAS_CHARS,
           height - MAX_YAML_DEPTH) > 0:
        where += _culprit(root, sizes)
    if height > MAX_YAML_DEPTH:
        raise CassetteError(f"{where}: nests {height:,} levels deep once its aliases are expanded "
                            f"(at most {MAX_YAML_DEPTH:,})", hint="flatten the data")
    if count - distinct_nodes > MAX_ALIAS_NODES:
        raise CassetteError(f"{where}: its YAML aliases expand to {count:,} values, {count - distinct_nodes:,} more "
                            f"than the file holds (at most {MAX_ALIAS_NODES:,} more)",
                            hint="write the values out instead of repeating them with aliases")
    if chars - distinct_chars > MAX_ALIAS_CHARS:
        raise CassetteError(f"{where}: its YAML aliases expand to {chars:,} characters of text, "
                            f"{chars - distinct_chars:,} more than the file holds (at most {MAX_ALIAS_CHARS:,} more)",
                            hint="write the values out instead of repeating them with aliases")


def _culprit(root: yaml.Node, sizes: dict[int, tuple[int, int, int]]) -> str:
    """Where the largest expansion sits: `harness.KEY` or `interaction #N` first, else the top-level key."""
    if not isinstance(root, yaml.MappingNode):
        return ""
    inner: list[tuple[yaml.Node, str]] = []
    outer: list[tuple[yaml.Node, str]] = []
    for key, value in root.value:
        name = key.value if isinstance(key, yaml.ScalarNode) else "?"
        if name == "interactions" and isinstance(value, yaml.SequenceNode):
            inner += [(item, f"interaction #{n}") for n, item in enumerate(value.value)]
        elif name == "harness" and isinstance(value, yaml.MappingNode):
            inner += [(v, f"harness.{k.value if isinstance(k, yaml.ScalarNode) else '?'}") for k, v in value.value]
        else:
            outer.append((value, str(name)))
    for places in (inner, outer):
        if places:
            node, label = max(places, key=lambda place: sizes[id(place[0])])
            count, chars, height = sizes[id(node)]
            if count > MAX_ALIAS_NODES or chars > MAX_ALIAS_CHARS or height > MAX_YAML_DEPTH - 2:
                return f": {label}"
    return ""


def _line(node: yaml.Node) -> int:
    mark = getattr(node, "start_mark", None)
    return int(mark.line) + 1 if mark is not None else 0


def _yaml_error(exc: BaseException, where: str) -> CassetteError:
    if isinstance(exc, RecursionError):
        return CassetteError(f"{where}: nests too deep to read", hint="flatten the data")
    if isinstance(exc, yaml.YAMLError):
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0] or "syntax error"
        if "nesting depth" in problem:
            problem += f" (at most {MAX_YAML_DEPTH:,} levels)"
        return CassetteError(f"{where}{line}: not valid YAML ({problem})",
                             hint="fix the file or re-record it with --record")
    return CassetteError(f"{where}: not valid YAML ({type(exc).__name__}: {_short(exc)})",
                         hint="fix the file or re-record it with --record")


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text if len(text) <= 160 else text[:157] + "..."


def _unsharing(loader: type[Any]) -> type[Any]:
    """A loader that builds a new object at each use of an anchor (the document was measured first)."""

    class Unsharing(loader):  # type: ignore[misc]
        def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
            data = super().construct_object(node, deep)
            self.constructed_objects.pop(node, None)
            return data

    return Unsharing


_UNSHARING: dict[type[Any], type[Any]] = {}


def parse_yaml(text: str, where: str, loader: type[Any], raw: bytes | None = None) -> Any:
    """`text` as plain data through `loader` (a safe libyaml loader class), within the limits above. `raw`, the
    same text as UTF-8 bytes when the caller has them, is what libyaml reads then (a str is copied to UTF-8)."""
    try:
        if not may_alias(text):
            return yaml.load(text if raw is None else raw, Loader=loader)  # all safe loaders
        cls = _UNSHARING.get(loader) or _UNSHARING.setdefault(loader, _unsharing(loader))
        parser = cls(text)
        try:
            node = parser.get_single_node()
            if node is None:
                return None
            check_graph(node, where)
            return parser.construct_document(node)
        finally:
            parser.dispose()
    except CassetteError:
        raise
    except _PARSE_ERRORS as exc:
        raise _yaml_error(exc, where) from None


def check_yaml_graph(text: str, where: str) -> None:
    """Measure a YAML text's aliases without building it (for text handed to code that is not bounded)."""
    if not may_alias(text):
        return
    parser = yaml.CSafeLoader(text)
    try:
        node = parser.get_single_node()
        if node is not None:
            check_graph(node, where)
    except CassetteError:
        raise
    except _PARSE_ERRORS as exc:
        raise _yaml_error(exc, where) from None
    finally:
        parser.dispose()


def parse_json(text: str, where: str) -> Any:
    """A `.json` cassette (vcrpy's JSON serializer) as plain data; JSON has no aliases to bound."""
    import json

    try:
        return json.loads(text)
    except RecursionError:
        raise CassetteError(f"{where}: nests too deep to read", hint="flatten the data") from None
    except ValueError as exc:
        line = f":{exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else _short(exc)
        raise CassetteError(f"{where}{line}: not valid JSON ({message})",
                            hint="fix the file or re-record it with --record") from None
