"""`paginate()`: Nango's cursor, link, offset and page strategies, with its stop rules, plus a guard.

The effective settings are the provider's defaults with the call's `paginate` dict over them. Stop rules:
cursor and offset stop on an empty page without yielding it; link yields every page, empty ones included,
and stops when there is no next link; offset also stops on a page shorter than `limit`. Beyond Nango: a
cursor or link seen before (a cycle, not only a repeat) ends the loop with a warning, and `max_pages` ends it
cleanly.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..errors import UsageError

TYPES = ("cursor", "link", "offset", "page")
Fetch = Callable[[str, dict[str, Any], Any, str | None], Awaitable[httpx.Response]]


# lodash's path syntax: `a.b`, `a[0].b`, `a["b.c"]`, `a['b']`.
_PATH_PART = re.compile(r"""\[(["'])(?P<quoted>.*?)\1\]|\[(?P<index>[^\]]*)\]|(?P<plain>[^.\[\]]+)""")


def path_parts(path: str) -> list[str]:
    """The keys of a lodash-style path, as Nango reads `response_path` and the other paths."""
    return [m.group("quoted") if m.group("quoted") is not None else m.group("index") if m.group("index") is not None
            else m.group("plain") for m in _PATH_PART.finditer(path)]


def get_path(data: Any, path: str | None) -> Any:
    """lodash `get`: a dotted or bracketed path into dicts and lists (negative list indexes count from the
    end)."""
    if not path:
        return data
    if isinstance(data, dict) and path in data:
        return data[path]  # lodash tries the whole path as one key first (`@odata.nextLink`)
    cur = data
    for part in path_parts(path):
        if isinstance(cur, dict):
            cur = cur.get(part)
        elif isinstance(cur, list):
            try:
                cur = cur[int(part)]
            except (ValueError, IndexError):
                return None
        else:
            return None
    return cur


def _set_path(bag: dict[str, Any], path: str, value: Any) -> None:
    parts = path_parts(path)
    cur = bag
    for part in parts[:-1]:
        nxt = cur.get(part)
        if not isinstance(nxt, dict):
            nxt = cur[part] = {}
        cur = nxt
    cur[parts[-1]] = value


def settings(provider_defaults: dict[str, Any], call: dict[str, Any] | None) -> dict[str, Any]:
    merged = {**provider_defaults, **(call or {})}
    # Nango ignores a provider template's `in_body`: only the call decides (else: the method does).
    merged["in_body"] = (call or {}).get("in_body")
    kind = merged.get("type")
    if not kind:
        raise UsageError("paginate() has no pagination settings for this provider",
                         hint="pass paginate={'type': 'cursor'|'link'|'offset'|'page', ...}")
    if kind not in TYPES:
        raise UsageError(f"paginate type {kind!r} is not one of {', '.join(TYPES)}")
    need = {
        "cursor": ["cursor_name_in_request", "cursor_path_in_response"],
        "offset": ["offset_name_in_request"],
        "page": ["page_name_in_request"],
        "link": [],
    }[kind]
    missing = [k for k in need if not merged.get(k)]
    if kind == "link" and not (merged.get("link_rel_in_response_header") or merged.get("link_path_in_response_body")):
        missing.append("link_rel_in_response_header or link_path_in_response_body")
    if kind == "cursor" and merged.get("limit") and not merged.get("limit_name_in_request"):
        missing.append("limit_name_in_request")
    if missing:
        raise UsageError(f"paginate type {kind!r} needs {', '.join(missing)}")
    return merged


def _page_items(response: httpx.Response, path: str | None) -> Any:
    try:
        data = response.json()
    except ValueError:
        return None
    return get_path(data, path)


async def _call_on_page(hook: Any, next_param: Any, response: httpx.Response) -> None:
    if hook is None:
        return
    out = hook({"next_page_param": next_param, "response": response})
    if inspect.isawaitable(out):
        await out


async def paginate(fetch: Fetch, endpoint: str, method: str, params: dict[str, Any], body: Any,
                   conf: dict[str, Any], *, max_pages: int | None, warn: Callable[[str], None],
                   on_cap: Callable[[str], None]) -> AsyncIterator[list[Any]]:
    """Yield pages (lists). `fetch(endpoint, params, body, base_url_override)` sends one request."""
    kind = conf["type"]
    in_body = conf.get("in_body")
    if in_body is None:
        in_body = method.upper() in ("POST", "PUT", "PATCH")
    bag: dict[str, Any] = dict(body if in_body and isinstance(body, dict) else params)
    limit = conf.get("limit")
    if limit and conf.get("limit_name_in_request"):
        _set_path(bag, conf["limit_name_in_request"], limit)
    response_path = conf.get("response_path")
    hook = conf.get("on_page")
    seen: set[str] = set()
    pages = 0
    base_override: str | None = None
    offset = int(conf.get("offset_start_value") or 0)
    page_number = int(conf.get("page_start_value", 1) or 0)

    def capped() -> bool:
        if max_pages is not None and pages >= max_pages:
            on_cap(f"stopped after {pages} page(s) (--max-pages)")
            return True
        return False

    def request_args() -> tuple[dict[str, Any], Any]:
        return (params, bag) if in_body else (bag, body)

    while True:
        if kind == "offset":
            _set_path(bag, conf["offset_name_in_request"], offset if in_body else str(offset))
        elif kind == "page":
            _set_path(bag, conf["page_name_in_request"], page_number)
        req_params, req_body = request_args()
        response = await fetch(endpoint, req_params, req_body, base_override)
        items = _page_items(response, response_path)
        pages += 1
        if kind == "link":
            page = items if isinstance(items, list) else ([] if items is None else [items])
            yield page
            nxt = None
            rel = conf.get("link_rel_in_response_header")
            if rel:
                nxt = response.links.get(rel, {}).get("url")
            if not nxt and conf.get("link_path_in_response_body"):
                try:
                    found = get_path(response.json(), conf["link_path_in_response_body"])
                except ValueError:
                    found = None
                nxt = found if isinstance(found, str) and found else None
            await _call_on_page(hook, nxt, response)
            if not nxt:
                return
            if nxt in seen or nxt == endpoint:
                warn(f"paginate stopped: next link {nxt} was already visited (a pagination cycle)")
                return
            seen.add(nxt)
            if capped():
                return
            parts = urlsplit(nxt)
            if parts.scheme and parts.netloc:
                base_override = f"{parts.scheme}://{parts.netloc}"
                endpoint = parts.path + (f"?{parts.query}" if parts.query else "")
            else:
                endpoint = nxt
            # The next link carries its own query; Nango drops the call's params after the first page.
            params = {}
            if not in_body:
                bag = {}
            continue
        if not isinstance(items, list) or not items:
            return
        yield items
        if kind == "cursor":
            cursor = get_path(response.json(), conf["cursor_path_in_response"])
            if isinstance(cursor, str):
                cursor = cursor.strip() or None
            elif not isinstance(cursor, (int, float)) or isinstance(cursor, bool):
                cursor = None
            await _call_on_page(hook, cursor, response)
            if cursor is None:
                return
            token = str(cursor)
            if token in seen:
                warn(f"paginate stopped: cursor {token!r} was already used (a pagination cycle)")
                return
            seen.add(token)
            if capped():
                return
            _set_path(bag, conf["cursor_name_in_request"], cursor)
        elif kind == "offset":
            if limit and len(items) < int(limit):
                return
            await _call_on_page(hook, offset, response)
            if capped():
                return
            step = 1 if conf.get("offset_calculation_method") == "per-page" else len(items)
            offset += step
        else:  # page
            if limit and len(items) < int(limit):
                return
            await _call_on_page(hook, page_number, response)
            if capped():
                return
            page_number += 1
