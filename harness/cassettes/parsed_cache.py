"""The parsed-cassette cache: a derived copy of a cassette's parse under `.harness/cache/cassettes/`, so that
replaying an unchanged cassette never parses its YAML.

The YAML stays the reviewed source; the cache is only ever a faster way to read the same bytes. A cache
file holds one cassette's parse as plain data (`marshal`: strings, numbers, lists, dicts; no code, no
classes) behind a one-line JSON header naming the cache format, the loader (a hash of the source of the
modules that turn a cassette's bytes into its parse, so another harness version or a local edit of the
loader never reads an old parse), the SHA-256 of the cassette's bytes it was made from, and the payload's
layout with the SHA-256 of each of its blobs (below). A stale copy (the cassette changed), a corrupt one
(torn, truncated, edited) or a foreign one (another loader or cache format) fails one of those checks before
anything is unmarshalled, and the cassette is parsed again and the copy rewritten.

The payload is the context, then the interactions in chunks (`CHUNK_BYTES` of response bodies or
`CHUNK_ROWS` rows), each chunk's request parts and response parts in blobs of their own, each blob's
offset, length and SHA-256 in the header. A replay reads a chunk when it first plays one of its
interactions (`harness.cassettes.lazy`), checking the blob's digest again, so a big cassette's parse is
never in memory whole.
A cache that cannot be written (read-only folder, full disk) is skipped without a word: it is an
optimisation, never a requirement.

One file per cassette (named by a hash of its resolved path), so the folder holds at most one file per
cassette, whatever the number of edits. Cassettes under `MIN_BYTES` are not cached: parsing them costs
less than reading and checking the copy.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import marshal
import os
import stat
import weakref
from pathlib import Path
from typing import Any

from ..atomic import write_atomic
from ..errors import CassetteError

# Bump when what the loader produces from the same bytes changes (fields, normalisation, `pretty` handling,
# the file's layout).
CACHE_FORMAT = 2
MIN_BYTES = 256 * 1024
_MAGIC = b"harness-parsed-cassette\n"

Row = tuple[Any, ...]  # an interaction's fields, in `Interaction`'s order


def source_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def stream_digest(fh: io.BufferedReader) -> str:
    """`source_digest` of the rest of an open file, read a megabyte at a time (a cache hit then never holds the
    file's bytes, as big as the cassette, beside its parse)."""
    return hashlib.file_digest(fh, "sha256").hexdigest()


def cache_file(cache_dir: Path, path: Path) -> Path:
    name = hashlib.sha256(str(path.resolve()).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return cache_dir / "cassettes" / f"{name}.marshal"


def loader_key(files: list[str]) -> str:
    """A hash of the loader's source files (their bytes; an unreadable one counts by name only)."""
    h = hashlib.sha256(str(CACHE_FORMAT).encode())
    for name in files:
        h.update(name.encode("utf-8", "surrogatepass"))
        with contextlib.suppress(OSError):
            h.update(Path(name).read_bytes())
    return h.hexdigest()


# A chunk: rows up to this many response-body characters, or this many rows.
CHUNK_BYTES = 1 << 20
CHUNK_ROWS = 256


class CacheChanged(CassetteError):
    """A cache file whose chunk no longer hashes to its header's digest while a replay reads it."""


def _chunks(rows: list[Row]) -> list[list[Row]]:
    out: list[list[Row]] = []
    chunk: list[Row] = []
    size = 0
    for row in rows:
        chunk.append(row)
        body = row[7]
        size += len(body) if isinstance(body, (str, bytes)) else 0
        if size >= CHUNK_BYTES or len(chunk) >= CHUNK_ROWS:
            out.append(chunk)
            chunk, size = [], 0
    if chunk:
        out.append(chunk)
    return out


def _stamp(fd: int) -> tuple[int, int, int, int]:
    """What changes when a file's bytes do: any write moves its ctime, which no user can set back."""
    st = os.fstat(fd)
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


class CachedParse:
    """A verified cache file, held open: the cassette's context, and its rows a chunk at a time. The whole
    payload was hashed when it was opened; a blob is hashed again as it is read only if the file has been
    written since (its ctime moved: another process writing it in place)."""

    def __init__(self, fh: io.BufferedReader, where: Path, base: int, blobs: list[tuple[int, int, str]],
                 starts: list[int], count: int, stamp: tuple[int, int, int, int]) -> None:
        self._fd, self.where, self._base, self._blobs, self._stamp = fh.fileno(), where, base, blobs, stamp
        self.starts, self.count = starts, count
        self._finalizer = weakref.finalize(self, fh.close)
        context = self._blob(0)
        if not isinstance(context, dict):
            raise CacheChanged(f"{where}: not a parsed-cassette cache")
        self.context: dict[str, Any] = context

    def _blob(self, n: int) -> Any:
        offset, length, digest = self._blobs[n]
        if not self._finalizer.alive:
            raise CacheChanged(f"{self.where}: read after the replay let go of it")
        try:
            data = os.pread(self._fd, length, self._base + offset)
            written = _stamp(self._fd) != self._stamp
        except OSError as exc:
            raise CacheChanged(f"{self.where}: cannot read it: {exc.strerror or exc}") from None
        if len(data) != length or (written and hashlib.sha256(data).hexdigest() != digest):
            raise CacheChanged(f"{self.where}: the parsed-cassette cache changed while it was read",
                               hint="run again: the cassette is then parsed anew")
        try:
            return marshal.loads(data)
        except (ValueError, EOFError, TypeError):
            raise CacheChanged(f"{self.where}: a parsed-cassette cache chunk does not load",
                               hint="delete .harness/cache and run again") from None

    def requests(self, chunk: int) -> list[tuple[Any, ...]]:
        """Each row's request part: method, uri, request headers, request body, extra."""
        rows: list[tuple[Any, ...]] = self._blob(1 + 2 * chunk)
        return rows

    def responses(self, chunk: int) -> list[tuple[Any, ...]]:
        """Each row's response part: status, reason, response headers, response body."""
        rows: list[tuple[Any, ...]] = self._blob(2 + 2 * chunk)
        return rows

    def close(self) -> None:
        self._finalizer()


def _layout_digest(count: Any, starts: Any, blobs: Any) -> str:
    """The digest of the header's layout fields (the blobs' digests do not cover the header)."""
    return hashlib.sha256(json.dumps([count, starts, blobs], separators=(",", ":")).encode()).hexdigest()


def _header(loader: str, digest: str, blobs: list[tuple[int, int, str]], starts: list[int],
            count: int) -> dict[str, Any]:
    return {"format": CACHE_FORMAT, "loader": loader, "source_sha256": digest,
            "count": count, "starts": starts, "blobs": [list(b) for b in blobs],
            "layout_sha256": _layout_digest(count, starts, [list(b) for b in blobs])}


def _valid_layout(header: dict[str, Any], size: int) -> bool:
    blobs, starts, count = header.get("blobs"), header.get("starts"), header.get("count")
    if not (isinstance(blobs, list) and isinstance(starts, list) and isinstance(count, int)):
        return False
    if len(blobs) != 1 + 2 * len(starts) or starts[:1] not in ([], [0]) or (count > 0) != bool(starts):
        return False
    if not all(isinstance(n, int) for n in starts) or starts != sorted(set(starts)) or (starts and starts[-1] >= count):
        return False
    at = 0
    for blob in blobs:
        if not (isinstance(blob, list) and len(blob) == 3 and blob[0] == at and isinstance(blob[1], int)
                and blob[1] >= 0 and isinstance(blob[2], str)):
            return False
        at += blob[1]
    return at == size


def _blobs_match(fh: io.BufferedReader, blobs: list[tuple[int, int, str]]) -> bool:
    """Whether each blob, read in order from the file's position a megabyte at a time, hashes to its digest
    (the layout, checked before, makes them the whole rest of the file)."""
    for _, length, digest in blobs:
        h, left = hashlib.sha256(), length
        while left:
            piece = fh.read(min(left, 1 << 20))
            if not piece:
                return False
            h.update(piece)
            left -= len(piece)
        if h.hexdigest() != digest:
            return False
    return True


def read(cache_dir: Path, path: Path, loader: str, digest: str) -> CachedParse | None:
    """The cached parse of `path` whose bytes hash to `digest`, open, or None (missing, stale, corrupt,
    foreign). Every blob is hashed (a megabyte at a time) before any of it is unmarshalled."""
    file = cache_file(cache_dir, path)
    try:
        # No wait on a FIFO or a device put in its place: only a regular file is a cache.
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    fh = os.fdopen(fd, "rb")
    try:
        if fh.readline() != _MAGIC:
            return None
        try:
            header = json.loads(fh.readline())
        except ValueError:
            return None
        if not isinstance(header, dict) or header.get("format") != CACHE_FORMAT or header.get("loader") != loader \
                or header.get("source_sha256") != digest:
            return None
        base = fh.tell()
        stamp = _stamp(fh.fileno())
        size = stamp[1] - base
        if not _valid_layout(header, size) or header.get("layout_sha256") != _layout_digest(
                header["count"], header["starts"], header["blobs"]):
            return None
        blobs = [(int(o), int(n), str(d)) for o, n, d in header["blobs"]]
        if not _blobs_match(fh, blobs):
            return None
        if _stamp(fh.fileno()) != stamp:
            return None  # written while it was hashed
        parse = CachedParse(fh, file, base, blobs, [int(n) for n in header["starts"]], int(header["count"]),
                            stamp)
    except (OSError, CacheChanged):
        fh.close()
        return None
    except BaseException:
        fh.close()
        raise
    return parse


def write(cache_dir: Path, path: Path, loader: str, digest: str, context: dict[str, Any], rows: list[Row]) -> None:
    """Store the parse in chunks; best effort (a value marshal cannot hold, or an unwritable folder, skips it)."""
    try:
        parts = [marshal.dumps(context)]
        starts: list[int] = []
        first = 0
        for chunk in _chunks(rows):
            starts.append(first)
            first += len(chunk)
            parts.append(marshal.dumps([(r[0], r[1], r[2], r[3], r[8]) for r in chunk]))
            parts.append(marshal.dumps([(r[4], r[5], r[6], r[7]) for r in chunk]))
    except ValueError:
        return
    blobs: list[tuple[int, int, str]] = []
    at = 0
    for part in parts:
        blobs.append((at, len(part), hashlib.sha256(part).hexdigest()))
        at += len(part)
    header = json.dumps(_header(loader, digest, blobs, starts, len(rows)), separators=(",", ":"))
    with contextlib.suppress(OSError):
        write_atomic(cache_file(cache_dir, path), b"".join([_MAGIC, header.encode("ascii"), b"\n", *parts]))
