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
`Content-Encoding` and `Content-Length` are not kept. Reading uses libyaml's C loader.
"""

from __future__ import annotations

import gc
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..atomic import write_atomic
from ..errors import CassetteError
from ..secrets.scrubber import Scrubber

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
    def from_vcr(cls, data: Any, where: str) -> Interaction:
        try:
            req, resp = data["request"], data["response"]
            body = resp.get("body") or {}
            content = body.get("string", "") if isinstance(body, dict) else body
            status = resp["status"]
            code = status["code"] if isinstance(status, dict) else status
            reason = status.get("message", "") if isinstance(status, dict) else ""
            req_body = req.get("body")
            if isinstance(req_body, bytes):
                req_body = req_body.decode("utf-8", "replace")
            extra = data.get("harness") or {}
            if not isinstance(extra, dict):
                raise TypeError("the interaction's `harness:` section must be a mapping")
            if extra.get("pretty") and isinstance(content, str):
                content = _one_line(content, extra["pretty"])
            return cls(
                method=str(req["method"]).upper(), uri=str(req["uri"]),
                request_headers=_header_lists(req.get("headers") or {}),
                request_body=req_body, status=int(code), reason=str(reason or ""),
                response_headers=_header_lists(resp.get("headers") or {}),
                response_body=content if isinstance(content, (str, bytes)) else str(content),
                extra={k: v for k, v in extra.items() if k != "pretty"},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CassetteError(f"{where}: not a valid interaction ({type(exc).__name__}: {exc})",
                                hint="re-record the scenario with --record") from None


# Bodies shorter than this stay on one line: short ones are readable as they are.
PRETTY_MIN_CHARS = 200


# The one-line spellings a pretty body can be turned back into, byte for byte: JSON.stringify's and
# Python's json.dumps' (each with non-ASCII kept or escaped).
_ONE_LINE: dict[str, tuple[tuple[str, str], bool]] = {
    "compact": ((",", ":"), False), "compact-ascii": ((",", ":"), True),
    "spaced": ((", ", ": "), False), "spaced-ascii": ((", ", ": "), True),
}


def _one_line(text: str, style: Any) -> str:
    separators, ascii_only = _ONE_LINE.get(str(style), _ONE_LINE["compact"])
    return json.dumps(json.loads(text), ensure_ascii=ascii_only, separators=separators)


def _pretty_json(body: str) -> tuple[str, str] | None:
    """The body re-indented for review and the style that gives back the very same bytes, or None.

    That check is what makes the pretty form safe: number spellings, escapes, duplicate keys or any other
    formatting that a JSON round trip would change keep the body as recorded.
    """
    if len(body) < PRETTY_MIN_CHARS or body[:1] not in ("{", "[") or "\n" in body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    style = next((name for name, (separators, ascii_only) in _ONE_LINE.items()
                  if json.dumps(data, ensure_ascii=ascii_only, separators=separators) == body), None)
    if style is None:
        return None
    pretty = json.dumps(data, ensure_ascii=False, indent=2)
    # A literal YAML block cannot hold these; the quoted one-line form would not be more readable.
    if any(ch in pretty for ch in ("\r", "\t", "\x85", "\u2028", "\u2029", "\ufeff")):
        return None
    return pretty, style


def _header_lists(headers: dict[str, Any]) -> dict[str, list[str]]:
    return {str(k): [str(x) for x in v] if isinstance(v, list) else [str(v)] for k, v in headers.items()}


@dataclass
class Cassette:
    interactions: list[Interaction] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def to_data(self) -> dict[str, Any]:
        return {"harness": {"format": CASSETTE_FORMAT, **self.context},
                "interactions": [i.to_vcr() for i in self.interactions], "version": 1}


def load_cassette(path: Path) -> Cassette:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CassetteError(f"no recording at {path}", hint="record one with --record") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CassetteError(f"{path}: cannot read it: {exc}") from None
    # The cyclic GC would walk the growing document again and again (most of a big load's time); a
    # parsed cassette holds no cycles, so pausing it is safe.
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        return _load(path, text)
    finally:
        if gc_was_on:
            gc.enable()


def _load(path: Path, text: str) -> Cassette:
    try:
        data = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise CassetteError(f"{path}{line}: not valid YAML ({problem})",
                            hint="fix the file or re-record it with --record") from None
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteError(f"{path}: not a cassette (expected `interactions:` and `version: 1`)",
                            hint="re-record it with --record")
    context = data.get("harness") or {}
    if not isinstance(context, dict):
        raise CassetteError(f"{path}: the `harness:` section must be a mapping")
    fmt = context.pop("format", CASSETTE_FORMAT)
    if fmt != CASSETTE_FORMAT:
        raise CassetteError(f"{path}: cassette format {fmt!r} is not supported (this harness reads {CASSETTE_FORMAT})")
    interactions = [Interaction.from_vcr(item, f"{path}: interaction #{n}")
                    for n, item in enumerate(data["interactions"])]
    return Cassette(interactions=interactions, context=context, path=path)


class _Dumper(yaml.CSafeDumper):
    pass


def _str(dumper: _Dumper, value: str) -> yaml.ScalarNode:
    # Multi-line bodies stay readable in review as literal blocks.
    style = "|" if "\n" in value and not value.endswith((" ", "\t")) and "\r" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_cassette(cassette: Cassette) -> str:
    return dump_data(cassette.to_data())


def dump_data(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096,
                     default_flow_style=False)


def clean_response_headers(headers: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: v for k, v in headers.items() if k.lower() not in _DROPPED_RESPONSE_HEADERS}


def write_cassette(path: Path, cassette: Cassette, scrubber: Scrubber) -> None:
    """Scan for known secrets (every encoding, context included), then write atomically; a cassette
    holding a secret is never written (`SecretLeakError`, one line naming the place)."""
    from ..secrets.scan import check_cassette

    data = cassette.to_data()
    text = dump_data(data)
    check_cassette(path, data, text, scrubber)
    write_atomic(path, text)
