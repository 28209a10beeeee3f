"""The parsed-cassette cache: a derived copy of a cassette's parse under `.harness/cache/cassettes/`, so that
replaying an unchanged cassette never parses its YAML.

The YAML stays the reviewed source; the cache is only ever a faster way to read the same bytes. A cache
file holds one cassette's parse as plain data (`marshal`: strings, numbers, lists, dicts; no code, no
classes) behind a one-line JSON header naming the cache format, the loader (a hash of the source of the
modules that turn a cassette's bytes into its parse, so another harness version or a local edit of the
loader never reads an old parse), the SHA-256 of the cassette's bytes it was made from and the SHA-256 of
the payload. A stale copy (the cassette changed), a corrupt one (torn, truncated, edited) or a foreign one
(another loader or cache format) fails one
of those checks before anything is unmarshalled, and the cassette is parsed again and the copy rewritten.
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
from pathlib import Path
from typing import Any

from ..atomic import write_atomic

# Bump when what the loader produces from the same bytes changes (fields, normalisation, `pretty` handling).
CACHE_FORMAT = 1
MIN_BYTES = 256 * 1024
_MAGIC = b"harness-parsed-cassette\n"

Parsed = tuple[dict[str, Any], list[tuple[Any, ...]]]


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


def _header(loader: str, digest: str, payload_digest: str) -> dict[str, Any]:
    return {"format": CACHE_FORMAT, "loader": loader, "source_sha256": digest, "payload_sha256": payload_digest}


def read(cache_dir: Path, path: Path, loader: str, digest: str) -> Parsed | None:
    """The cached parse of `path` whose bytes hash to `digest`, or None (missing, stale, corrupt, foreign)."""
    try:
        blob = cache_file(cache_dir, path).read_bytes()
    except OSError:
        return None
    if not blob.startswith(_MAGIC):
        return None
    end = blob.find(b"\n", len(_MAGIC))
    if end < 0:
        return None
    try:
        header = json.loads(blob[len(_MAGIC):end])
    except ValueError:
        return None
    payload = memoryview(blob)[end + 1:]
    if not isinstance(header, dict) or header.get("format") != CACHE_FORMAT or header.get("loader") != loader \
            or header.get("source_sha256") != digest:
        return None
    if header.get("payload_sha256") != hashlib.sha256(payload).hexdigest():
        return None
    try:
        data = marshal.loads(payload)
    except (ValueError, EOFError, TypeError):
        return None
    if not (isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], dict) and isinstance(data[1], list)):
        return None
    return data[0], data[1]


def write(cache_dir: Path, path: Path, loader: str, digest: str, parsed: Parsed) -> None:
    """Store the parse; best effort (a value marshal cannot hold, or an unwritable folder, skips it)."""
    try:
        payload = marshal.dumps(parsed)
    except ValueError:
        return
    header = json.dumps(_header(loader, digest, hashlib.sha256(payload).hexdigest()), separators=(",", ":"))
    with contextlib.suppress(OSError):
        write_atomic(cache_file(cache_dir, path), _MAGIC + header.encode("ascii") + b"\n" + payload)
