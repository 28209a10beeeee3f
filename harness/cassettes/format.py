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

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..atomic import write_atomic
from ..errors import CassetteError, SecretLeakError
from ..http.scrub import Scrubber

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

    def to_vcr(self) -> dict[str, Any]:
        return {
            "request": {"body": self.request_body, "headers": self.request_headers, "method": self.method,
                        "uri": self.uri},
            "response": {"body": {"string": self.response_body}, "headers": self.response_headers,
                         "status": {"code": self.status, "message": self.reason}},
        }

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
            return cls(
                method=str(req["method"]).upper(), uri=str(req["uri"]),
                request_headers=_header_lists(req.get("headers") or {}),
                request_body=req_body, status=int(code), reason=str(reason or ""),
                response_headers=_header_lists(resp.get("headers") or {}),
                response_body=content if isinstance(content, (str, bytes)) else str(content),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CassetteError(f"{where}: not a valid interaction ({type(exc).__name__}: {exc})",
                                hint="re-record the scenario with --record") from None


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
    return yaml.dump(cassette.to_data(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096,
                     default_flow_style=False)


def clean_response_headers(headers: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: v for k, v in headers.items() if k.lower() not in _DROPPED_RESPONSE_HEADERS}


def write_cassette(path: Path, cassette: Cassette, scrubber: Scrubber) -> None:
    """Scan for known secrets, then write atomically; a cassette holding a secret is never written."""
    data = cassette.to_data()
    leaked = scrubber.leaks(data)
    text = dump_cassette(cassette)
    leaked = sorted(set(leaked) | set(scrubber.leaks(text)))
    if leaked:
        raise SecretLeakError(f"not writing {path}: it would still contain secret(s) {', '.join(leaked)}",
                              hint="add a scrub rule in [tool.harness.scrub] or report this as a bug")
    write_atomic(path, text)
