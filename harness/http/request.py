"""Turning a context call (`endpoint`, `params`, `json`...) into the exact request Nango would send.

- the endpoint may carry a query string; it is merged with `params` (params win for a repeated name);
- list params are joined with commas, booleans and numbers print as JavaScript prints them, `None` is left out;
- a `json=` body is serialized as `JSON.stringify` does: key order kept, compact, non-ASCII as is;
- an absolute endpoint (a next-page URL) replaces the base URL; otherwise base and endpoint join with one `/`.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pydantic_core


def js_string(value: Any) -> str:
    """`String(value)` in JavaScript for the values a query parameter can hold."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, (list, tuple)):
        return ",".join("" if v is None else js_string(v) for v in value)
    return str(value)


def json_body(value: Any) -> bytes:
    """`JSON.stringify(value)` as bytes: insertion order, no spaces, UTF-8 without escapes."""
    return pydantic_core.to_json(value, by_alias=True)


def merge_query(endpoint: str, params: dict[str, Any] | str | None) -> tuple[str, list[tuple[str, str]]]:
    """Split the endpoint's own query string off and merge `params` into it."""
    path, _, query = endpoint.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    if isinstance(params, str):
        pairs.extend(parse_qsl(params.lstrip("?"), keep_blank_values=True))
    elif params:
        names = {k for k, v in params.items() if v is not None}
        pairs = [(k, v) for k, v in pairs if k not in names]
        pairs.extend((str(k), js_string(v)) for k, v in params.items() if v is not None)
    return path, pairs


def build_url(base_url: str, endpoint: str, params: dict[str, Any] | str | None) -> str:
    path, pairs = merge_query(endpoint, params)
    parts = urlsplit(path)
    if parts.scheme and parts.netloc:
        url = path
    else:
        base = base_url.rstrip("/")
        rel = path.lstrip("/")
        url = f"{base}/{rel}" if rel else base
    return f"{url}?{urlencode(pairs)}" if pairs else url
