"""The cassette file: vcrpy's YAML format plus a `harness:` section holding the scenario's context.

```yaml
harness: {format: 1, function: issues, integration: github, scenario: default, recorded_at: ...,
          connection: {...}, input: ..., metadata: ..., checkpoint: ...}
interactions:
- request: {method: GET, uri: https://..., headers: {Accept: [...]}, body: null}
  response: {status: {code: 200, message: OK}, headers: {...}, body: {string: '...'}}
version: 1
```

vcrpy reads these files as they are (it ignores the extra top-level key). Bodies are stored decoded, so
`Content-Encoding` and `Content-Length` are not kept. Reading uses libyaml's C loader within the bounds of
`limits` (size, aliases, nesting); `vcrpy_compat` reads the shapes other vcrpy writers left (Python tags,
old httpx format, `.json`, pre-1.0 files) and `context` checks the `harness:` section.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator, MutableSequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..atomic import write_atomic
from ..errors import CassetteError
from ..heap import collector_paused
from ..secrets.scrubber import Scrubber
from . import parsed_cache
from .lazy import LazyInteractions
from .limits import decode_text, open_cassette, parse_json, parse_yaml, read_open
from .section_check import check_context
from .vcrpy_compat import Budget, has_python_tags, interaction_fields, is_pre_1_0, loader_for, migrate

CASSETTE_FORMAT = 1
_DROPPED_RESPONSE_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}


@dataclass
class Interaction:
    method: str
    uri: str
    request_headers: dict[str, list[str]]
    request_body: str | None
    status: int
    reason: str
    response_headers: dict[str, list[str]]
    response_body: str | bytes
    # The interaction's own `harness:` map (vcrpy ignores keys beside request/response): `nango_hash`,
    # `pretty` (the stored response body is re-indented one-line JSON; the value names its spelling).
    extra: dict[str, Any] = field(default_factory=dict)

    def to_vcr(self) -> dict[str, Any]:
        body, extra = self.response_body, dict(self.extra)
        pretty = _pretty_json(body) if isinstance(body, str) else None
        if pretty is not None:
            body, extra["pretty"] = pretty
        else:
            extra.pop("pretty", None)
        data: dict[str, Any] = {
            "request": {"body": self.request_body, "headers": self.request_headers, "method": self.method,
                        "uri": self.uri},
            "response": {"body": {"string": body}, "headers": self.response_headers,
                         "status": {"code": self.status, "message": self.reason}},
        }
        if extra:
            data["harness"] = extra
        return data

    def header(self, name: str) -> str | None:
        for key, values in self.response_headers.items():
            if key.lower() == name.lower() and values:
                return values[0]
        return None

    @classmethod
    def from_vcr(cls, data: Any, where: str, budget: Budget | None = None) -> Interaction:
        """One interaction of any shape vcrpy writes (see `vcrpy_compat`); a bad one is a `CassetteError`."""
        fields = interaction_fields(data, where, budget or Budget())
        extra = fields["extra"]
        pretty = extra.get("pretty")
        if pretty:
            content = fields["response_body"]
            if isinstance(content, str):
                fields["response_body"] = _one_line(content, pretty, where)
            fields["extra"] = {k: v for k, v in extra.items() if k != "pretty"}
        return cls(**fields)


# Bodies shorter than this stay on one line: short ones are readable as they are.
PRETTY_MIN_CHARS = 200


# The one-line spellings a pretty body can be turned back into, byte for byte: JSON.stringify's and
# Python's json.dumps' (each with non-ASCII kept or escaped).
_ONE_LINE: dict[str, tuple[tuple[str, str], bool]] = {
    "compact": ((",", ":"), False), "compact-ascii": ((",", ":"), True),
    "spaced": ((", ", ": "), False), "spaced-ascii": ((", ", ": "), True),
}
# One encoder per spelling, made once (json.dumps makes one per call). A parsed body holds no cycles, so the
# encoder does not look for them: the text it writes is the same.
_ENCODERS = {name: json.JSONEncoder(ensure_ascii=ascii_only, separators=separators, check_circular=False)
             for name, (separators, ascii_only) in _ONE_LINE.items()}


def _one_line(text: str, style: Any, where: str) -> str:
    encoder = _ENCODERS.get(str(style), _ENCODERS["compact"])
    try:
        return encoder.encode(json.loads(text))
    except RecursionError:
        raise CassetteError(f"{where}: its response body (marked `pretty`) nests too deep to read",
                            hint="drop `pretty:` from the interaction's harness: map") from None
    except ValueError as exc:
        raise CassetteError(f"{where}: its response body is marked `pretty` but is not JSON ({exc})",
                            hint="drop `pretty:` from the interaction's harness: map, or re-record") from None


def _pretty_json(body: str) -> tuple[str, str] | None:
    """The body re-indented for review and the style that gives back the very same bytes, or None.

    That check is what makes the pretty form safe: number spellings, escapes, duplicate keys or any other
    formatting that a JSON round trip would change keep the body as recorded.
    """
    if len(body) < PRETTY_MIN_CHARS or body[:1] not in ("{", "[") or "\n" in body:
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    try:
        style = next((name for name, (separators, ascii_only) in _ONE_LINE.items()
                      if json.dumps(data, ensure_ascii=ascii_only, separators=separators) == body), None)
        if style is None:
            return None
        pretty = json.dumps(data, ensure_ascii=False, indent=2)
    except RecursionError:
        return None
    # A literal YAML block cannot hold these; the quoted one-line form would not be more readable.
    if any(ch in pretty for ch in ("\r", "\t", "\x85", "\u2028", "\u2029", "\ufeff")):
        return None
    return pretty, style


@dataclass
class Cassette:
    # A list; a cache hit's `LazyInteractions` (read a chunk at a time).
    interactions: MutableSequence[Interaction] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def close(self) -> None:
        """Let go of the cache file a cache hit reads its interactions from (nothing for a parsed one)."""
        if isinstance(self.interactions, LazyInteractions):
            self.interactions.close()

    def to_data(self) -> dict[str, Any]:
        return {"harness": {"format": CASSETTE_FORMAT, **self.context},
                "interactions": [i.to_vcr() for i in self.interactions], "version": 1}


def load_cassette(path: Path, cache_dir: Path | None = None) -> Cassette:
    """Read any cassette vcrpy reads (YAML or `.json`, any version), within the limits of `limits`.

    With `cache_dir` (the project's `.harness/cache`), a big cassette's parse is kept there and reused
    while the file's bytes are unchanged (`parsed_cache`): the YAML is then not parsed at all."""
    with collector_paused():  # a parsed cassette holds no cycles (see `harness.heap`)
        with open_cassette(path) as fh:
            if cache_dir is not None and os.fstat(fh.fileno()).st_size >= parsed_cache.MIN_BYTES:
                # A hit reads the file only to hash it, a megabyte at a time: holding its bytes beside the
                # parse was most of the peak memory of a replay (the file, the cache and the parse at once).
                try:
                    digest = parsed_cache.stream_digest(fh)
                except OSError as exc:
                    raise CassetteError(f"{path}: cannot read it: {exc.strerror or exc}") from None
                cached = parsed_cache.read(cache_dir, path, _loader_key(), digest)
                if cached is not None:
                    # Read a chunk at a time as the replay plays it (`harness.cassettes.lazy`).
                    return Cassette(interactions=LazyInteractions(cached, Interaction), context=cached.context,
                                    path=path)
                fh.seek(0)
            raw = read_open(fh, path)
        if cache_dir is None or len(raw) < parsed_cache.MIN_BYTES:
            return _load(path, decode_text(path, raw), raw)
        digest, loader = parsed_cache.source_digest(raw), _loader_key()  # of the very bytes parsed
        cassette = _load(path, decode_text(path, raw), raw)
        rows = [_row(i) for i in cassette.interactions]
        parsed_cache.write(cache_dir, path, loader, digest, cassette.context, rows)
        return cassette


def _row(i: Interaction) -> tuple[Any, ...]:
    return (i.method, i.uri, i.request_headers, i.request_body, i.status, i.reason, i.response_headers,
            i.response_body, i.extra)


@functools.cache
def _loader_key() -> str:
    """What turns a cassette's bytes into its parse: these modules' sources (see `parsed_cache`)."""
    names = (__name__, parsed_cache.__name__, *(f"{__package__}.{m}" for m in ("limits", "section_check",
                                                                            "vcrpy_compat", "yaml_build")))
    return parsed_cache.loader_key([str(getattr(sys.modules.get(n), "__file__", n)) for n in names])


def _parse(path: Path, text: str, json_format: bool, raw: bytes | None = None) -> Any:
    if json_format:
        return parse_json(text, str(path))
    return parse_yaml(text, str(path), loader_for(text), raw)


def _load(path: Path, text: str, raw: bytes | None = None) -> Cassette:
    """The cassette in `text` (`raw`: the same text as the file's UTF-8 bytes, which libyaml reads as they are)."""
    json_format = path.suffix.lower() == ".json"
    # vcrpy before 1.0 pickled its requests as Python objects: only its migration can read those.
    old_tags = not json_format and has_python_tags(text) and "!!python/object:vcr.request.Request" in text
    data = None if old_tags else _parse(path, text, json_format, raw)
    if old_tags or is_pre_1_0(data):
        data = _parse(path, migrate(text, json_format, str(path)), json_format)
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteError(f"{path}: not a cassette (expected `interactions:` and `version: 1`)",
                            hint="re-record it with --record")
    context = data.get("harness") or {}
    if not isinstance(context, dict):
        raise CassetteError(f"{path}: the `harness:` section must be a mapping")
    context = dict(context)
    fmt = context.pop("format", CASSETTE_FORMAT)
    if fmt != CASSETTE_FORMAT or isinstance(fmt, bool):
        raise CassetteError(f"{path}: cassette format {fmt!r:.40} is not supported (this harness reads "
                            f"{CASSETTE_FORMAT})")
    context = check_context(context, str(path))
    budget = Budget()
    interactions = [Interaction.from_vcr(item, f"{path}: interaction #{n}", budget)
                    for n, item in enumerate(data["interactions"])]
    return Cassette(interactions=interactions, context=context, path=path)


class _Dumper(yaml.CSafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        # Every value written out where it is: no `&id001` / `*id001` for objects shared in memory (a
        # reviewer reads each interaction on its own, and a file without aliases loads on libyaml's fast path).
        return True


def _str(dumper: _Dumper, value: str) -> yaml.ScalarNode:
    # Multi-line bodies stay readable in review as literal blocks.
    style = "|" if "\n" in value and not value.endswith((" ", "\t")) and "\r" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_cassette(cassette: Cassette) -> str:
    return dump_data(cassette.to_data())


def dump_data(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096,
                     default_flow_style=False)


def clean_response_headers(headers: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: v for k, v in headers.items() if k.lower() not in _DROPPED_RESPONSE_HEADERS}


def _pieces(cassette: Cassette) -> Iterator[tuple[tuple[str | int, ...], Any, Callable[[Any], str]]]:
    """The cassette as `dump_cassette` writes it, an interaction at a time (the same text: PyYAML writes a
    top-level mapping's block sequence unindented), so a big recording is never dumped whole in memory."""
    yield (), {"harness": {"format": CASSETTE_FORMAT, **cassette.context}}, dump_data
    if not cassette.interactions:
        yield (), {"interactions": []}, dump_data
    else:
        yield (), None, lambda _: "interactions:\n"
        for n, interaction in enumerate(cassette.interactions):
            yield ("interactions", n), interaction.to_vcr(), lambda item: dump_data([item])
    yield (), {"version": 1}, dump_data


def write_cassette(path: Path, cassette: Cassette, scrubber: Scrubber) -> None:
    """Scan for known secrets (every encoding, context included) while writing atomically, a piece at a
    time; a cassette holding a secret is never written (`SecretLeakError`, one line naming the place)."""
    from ..secrets.scan import checked_pieces

    write_atomic(path, checked_pieces(path, _pieces(cassette), scrubber))
