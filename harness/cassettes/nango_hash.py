"""Nango's request identity and its SHA-1 hash, as Nango's recorder and its test replayer compute them.

The identity is `{method, endpoint, params, headers, data?}` serialized as `JSON.stringify` does (keys in
that order, no whitespace): the method lower-cased, the endpoint without a leading slash or query string,
the query pairs sorted by name, the request headers minus transport and auth headers (a `nango-proxy-`
prefix stripped, first of each name kept, JSON and form content types dropped), and the body as sent
(longer than 1,000 characters: `sha1:<hex>` of it). See `reference/nango-mock-format.md` §1.3.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

FILTER_HEADERS = frozenset({
    "authorization", "user-agent", "nango-proxy-user-agent", "accept-encoding", "retries", "host",
    "connection-id", "provider-config-key", "nango-is-sync", "nango-is-script", "nango-is-dry-run",
    "nango-activity-log-id", "content-length", "accept", "base-url-override", "retry-on",
    "forward-headers-on-redirect",
    # Not in Nango's list: httpx adds it to every request, Nango's client never sees it.
    "connection",
})
MAX_DATA_CHARS = 1000


def _js_key(text: str) -> bytes:
    # JavaScript compares strings by UTF-16 code units.
    return text.encode("utf-16-be")


def _js_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def identity_params(pairs: Iterable[tuple[str, Any]]) -> list[list[str]]:
    # Array.prototype.sort is stable, so repeated names keep their order.
    return sorted(([str(k), _js_string(v)] for k, v in pairs), key=lambda kv: _js_key(kv[0]))


def _js_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def identity_headers(headers: Iterable[tuple[str, str]]) -> list[list[str]]:
    seen: set[str] = set()
    kept: list[list[str]] = []
    for name, value in headers:
        if name.lower().startswith("nango-proxy-"):
            name = name[len("nango-proxy-"):]
        low = name.lower()
        if low in seen:
            continue
        seen.add(low)
        if low in FILTER_HEADERS:
            continue
        if low == "content-type" and (value in ("application/json", "undefined")
                                      or value.startswith("application/x-www-form-urlencoded")):
            continue
        kept.append([name, str(value)])
    return sorted(kept, key=lambda kv: _js_key(kv[0]))


def identity_data(body: Any) -> str | None:
    """The body's identity: as sent when a string, `JSON.stringify` otherwise; long ones as their SHA-1."""
    if body is None or body == "" or body is False or body == 0:
        return None
    if isinstance(body, bytes):
        import base64

        text = base64.b64encode(body).decode("ascii")
    elif isinstance(body, str):
        text = body
    else:
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if _js_length(text) > MAX_DATA_CHARS:
        return "sha1:" + hashlib.sha1(text.encode("utf-8")).hexdigest()
    return text


def identity(method: str, endpoint: str, params: Iterable[tuple[str, Any]],
             headers: Iterable[tuple[str, str]], data: Any) -> dict[str, Any]:
    ident: dict[str, Any] = {"method": (method or "get").lower(), "endpoint": endpoint.lstrip("/").split("?")[0],
                             "params": identity_params(params), "headers": identity_headers(headers)}
    value = identity_data(data)
    if value is not None:
        ident["data"] = value
    return ident


def identity_hash(ident: dict[str, Any]) -> str:
    text = json.dumps(ident, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()
