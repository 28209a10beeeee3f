"""Every shape of cassette vcrpy reads, turned into the fields of one harness `Interaction`.

harness writes vcrpy's format (version 1, YAML); these are the variants other writers left behind:

- Python tags (`!!python/unicode`, `!!python/str`, `!!python/tuple`, a `BytesIO` or iterator request body):
  read with vcrpy's own safe cassette loader (`vcr.serializers.yamlserializer`), which builds those and
  refuses every tag that would run code; it is imported only for a file that has such tags;
- headers as a list of pairs (`[[name, value]]`, `!!python/tuple [name, [values]]`: tornado, old
  cassettes) besides vcrpy's mapping of lists;
- vcrpy's old httpx format: `status_code`, `content` and `http_version` instead of `status` and `body`;
- a request `body:` that is a mapping or a list (vcrpy's aiohttp stub stores a `json=` body so): the
  JSON text the client sent, compact;
- bodies stored decoded under a stale `Content-Encoding` (requests and the old httpx stub do that):
  a body that is really compressed (`!!binary` gzip or deflate) is decoded here, within the cassette size
  limit, and a header that no longer describes the body is dropped. `Content-Length` and
  `Transfer-Encoding` are always dropped, as harness's recorder does: httpx sets the true length;
- `.json` cassettes (vcrpy's JSON serializer) and pre-1.0 cassettes (a bare list of interactions, the
  request as protocol/host/port/path), converted by vcrpy's migration (`vcr.migration`) in memory.

Anything else is a `CassetteError` naming the interaction and the field.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Iterator
from typing import Any

from ..errors import CassetteError
from .limits import check_yaml_graph, max_bytes
from .yaml_build import CassetteLoader

_DROPPED = frozenset({"content-length", "transfer-encoding"})
_SETTLED = _DROPPED | {"content-encoding"}
_SCALARS = (str, int, float)


class HarnessLoader(CassetteLoader):
    """YAML 1.1's safe types through libyaml (built as `yaml_build` does); what harness writes needs no more."""


def has_python_tags(text: str) -> bool:
    # One `!` is found at memchr speed; the longer needle costs six times more, so only look for it then.
    return "!" in text and "!!python/" in text


def loader_for(text: str) -> type[Any]:
    """The safe loader a cassette's text needs: vcrpy's when it carries Python tags, else libyaml's."""
    if not has_python_tags(text):
        return HarnessLoader
    from vcr.serializers import yamlserializer

    loader: type[Any] = yamlserializer._CassetteLoader
    return loader


def is_pre_1_0(data: Any) -> bool:
    """vcrpy before 1.0 wrote a bare list of interactions (vcrpy's own test for it)."""
    return isinstance(data, list) and bool(data) and isinstance(data[0], dict) and "request" in data[0]


def migrate(text: str, json_format: bool, where: str) -> str:
    """A pre-1.0 cassette's text converted by vcrpy's migration, in memory (the file is not touched)."""
    from vcr import migration

    if not json_format:
        # vcrpy's migration loads the text without bounds: measure it first.
        check_yaml_graph(text, where)
    out = io.StringIO()
    try:
        migrated = (migration.migrate_json if json_format else migration.migrate_yml)(io.StringIO(text), out)
    except Exception as exc:  # vcrpy's code: any failure means it could not convert this file
        raise CassetteError(f"{where}: a pre-1.0 vcrpy cassette that vcrpy's migration cannot convert "
                            f"({type(exc).__name__}: {str(exc)[:120]})",
                            hint="re-record it, or fix it by hand to vcrpy's version 1 format") from None
    if not migrated:
        raise CassetteError(f"{where}: not a cassette (vcrpy's migration does not recognise it)")
    return out.getvalue()


class Budget:
    """Bytes that decoding compressed bodies may still produce, for the whole cassette."""

    def __init__(self) -> None:
        self.left = max_bytes()


def _bad(where: str, what: str) -> CassetteError:
    return CassetteError(f"{where}: {what}", hint="fix the cassette or re-record it with --record")


def _text(value: Any, where: str, what: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _SCALARS):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise _bad(where, f"{what} must be text, not {_kind(value)}")


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if value is None:
        return "empty"
    return f"a {type(value).__name__}"


def header_lists(raw: Any, where: str, what: str) -> dict[str, list[str]]:
    """Headers as vcrpy keeps them (name -> values) from a mapping or a list of (name, value(s)) pairs."""
    if raw is None:
        return {}
    if isinstance(raw, dict):
        pairs: Any = raw.items()
    elif isinstance(raw, (list, tuple)):
        pairs = []
        for item in raw:
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise _bad(where, f"{what}: a list of headers must hold [name, value] pairs")
            pairs.append(item)
    else:
        raise _bad(where, f"{what} must be a mapping of names to values, not {_kind(raw)}")
    out: dict[str, list[str]] = {}
    for name, values in pairs:
        key = name if type(name) is str else _text(name, where, f"{what}: a header name")
        if type(values) is list:
            texts = values
            for v in values:
                if type(v) is not str:
                    texts = [v if type(v) is str else _text(v, where, f"{what} {key}") for v in values]
                    break
        elif type(values) is tuple:
            texts = [v if type(v) is str else _text(v, where, f"{what} {key}") for v in values]
        elif values is None:
            texts = []
        else:
            texts = [_text(values, where, f"{what} {key}")]
        if key in out:
            out[key] = out[key] + texts  # a list of pairs may repeat a name
        else:
            out[key] = texts
    return out


def _request_body(body: Any, where: str) -> str | None:
    if body is None or isinstance(body, str):
        return body
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    if isinstance(body, (dict, list, tuple)):
        from .section_check import plain

        value = plain(body, f"{where}: request body")
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(body, io.BytesIO):
        return body.getvalue().decode("utf-8", "replace")
    if isinstance(body, Iterator):  # vcrpy's loader rebuilds an iterator body (its chunks) as an iterator
        return "".join(_text(chunk, where, "a request body chunk") for chunk in body)
    return _text(body, where, "request body")


def _status(resp: dict[str, Any], where: str) -> tuple[int, str]:
    if "status" in resp:
        status = resp["status"]
        if isinstance(status, dict):
            code, reason = status.get("code"), status.get("message")
        else:
            code, reason = status, None
    elif "status_code" in resp:  # vcrpy's old httpx format
        code, reason = resp["status_code"], None
    else:
        raise _bad(where, "the response has no status")
    if isinstance(code, str) and code.strip().isdigit():
        code = int(code)
    if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 999:
        raise _bad(where, f"the response status must be an HTTP status code (100-999), not {code!r:.40}")
    return code, "" if reason is None else _text(reason, where, "the response status message")


def _response_body(resp: dict[str, Any], where: str) -> str | bytes:
    if "body" in resp:
        body = resp["body"]
        content = body.get("string", "") if isinstance(body, dict) else body
    else:
        content = resp.get("content", "")  # vcrpy's old httpx format
    if content is None:
        return ""
    if isinstance(content, (str, bytes)):
        return content
    if isinstance(content, (dict, list)):
        raise _bad(where, f"the response body must be text or bytes, not {_kind(content)}")
    return _text(content, where, "the response body")


def _decompress(data: bytes, encoding: str, budget: Budget, where: str) -> bytes | None:
    """`data` decoded, or None when it is not encoded that way (the header is stale)."""
    if encoding in ("gzip", "x-gzip", "deflate"):
        wbits = (zlib.MAX_WBITS | 16) if encoding != "deflate" else zlib.MAX_WBITS
        for bits in ((wbits, -zlib.MAX_WBITS) if encoding == "deflate" else (wbits,)):
            engine = zlib.decompressobj(bits)
            try:
                out = engine.decompress(data, budget.left + 1)
            except zlib.error:
                continue
            if len(out) > budget.left or engine.unconsumed_tail:
                raise _bad(where, f"its {encoding} body decompresses to more than the cassette size limit "
                                  f"({max_bytes() / 1e6:g} MB)")
            if not engine.eof:
                continue
            budget.left -= len(out)
            return out
        return None
    return None


def settle_encoding(headers: dict[str, list[str]], body: str | bytes, budget: Budget, where: str
                    ) -> tuple[dict[str, list[str]], str | bytes]:
    """Drop length headers; decode a really compressed body; drop an encoding that the body does not have."""
    found = [k for k in headers if k.lower() in _SETTLED]
    if not found:
        return headers, body
    headers = dict(headers)
    encodings: list[str] = []
    for key in found:
        values = headers.pop(key)
        if key.lower() == "content-encoding":
            encodings += [e.strip().lower() for v in values for e in v.split(",") if e.strip()]
    encodings = [e for e in encodings if e != "identity"]
    if not encodings or isinstance(body, str):
        return headers, body  # a text body is stored decoded whatever the header said
    data = body
    for encoding in reversed(encodings):
        decoded = _decompress(data, encoding, budget, where)
        if decoded is None:
            if encoding in ("gzip", "x-gzip", "deflate"):
                return headers, body  # stored decoded already: the header was stale
            headers["Content-Encoding"] = [", ".join(encodings)]  # br, zstd...: as httpx would see it live
            return headers, body
        data = decoded
    try:
        return headers, data.decode("utf-8")
    except UnicodeDecodeError:
        return headers, data


def interaction_fields(data: Any, where: str, budget: Budget) -> dict[str, Any]:
    """The fields of one interaction, from any vcrpy variant; `extra` is the interaction's `harness:` map."""
    if not isinstance(data, dict):
        raise _bad(where, f"an interaction must be a mapping with request and response, not {_kind(data)}")
    req, resp = data.get("request"), data.get("response")
    if not isinstance(req, dict) or not isinstance(resp, dict):
        missing = "request" if not isinstance(req, dict) else "response"
        raise _bad(where, f"its {missing} must be a mapping")
    method, uri = req.get("method"), req.get("uri")
    if not isinstance(method, str) or not method.strip() or not method.isascii():
        raise _bad(where, f"the request method must be a word like GET, not {method!r:.40}")
    if not isinstance(uri, str) or not uri:
        raise _bad(where, f"the request uri must be a URL, not {uri!r:.60}")
    status, reason = _status(resp, where)
    headers, body = settle_encoding(header_lists(resp.get("headers"), where, "response headers"),
                                    _response_body(resp, where), budget, where)
    extra = data.get("harness") or {}
    if type(extra) is not dict:
        raise _bad(where, "the interaction's `harness:` section must be a mapping")
    if extra and not all(type(k) is str and type(v) is str for k, v in extra.items()):
        from .section_check import plain  # anything beyond `pretty: compact` / `nango_hash: ...`

        extra = plain(extra, f"{where}: harness")
    return {"method": method.strip().upper(), "uri": uri,
            "request_headers": header_lists(req.get("headers"), where, "request headers"),
            "request_body": _request_body(req.get("body"), where), "status": status, "reason": reason,
            "response_headers": headers, "response_body": body, "extra": extra}
