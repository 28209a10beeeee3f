"""The page shell every report shares: one HTML file with its CSS, scripts and JSON data inline.

`render_page` fills `assets/page.html`. The data goes in a `<script type="application/json">` element,
escaped so that no value can end the element or open a comment (`<`, `>`, `&` and the JavaScript line
separators become `\\uXXXX` escapes, which `JSON.parse` reads back as the same characters). A
Content-Security-Policy in the page forbids every fetch, so a report cannot reach the network even by
mistake. Also here: the two small generic pages a server UI needs (an index of linked tables, a records
browser).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from functools import cache
from importlib.resources import files
from typing import Any

from .. import __version__

Nav = Sequence[tuple[str, str]]  # (label, href) links shown above the title

_SCRIPTS = {
    "run": ("common.js", "records.js", "run.js"),
    "tests": ("common.js", "tests.js"),
    "records": ("common.js", "records.js", "browse.js"),
    "index": ("common.js", "index.js"),
}
_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_UNSAFE_RE = re.compile("[<>&\u2028\u2029]")
_SLOT = re.compile(r"\{\{(\w+)\}\}")


@cache
def asset(name: str) -> str:
    """One bundled file of `harness/reports/assets` (package data)."""
    text = (files("harness.reports") / "assets" / name).read_text(encoding="utf-8")
    if name.endswith(".js") and "</script" in text.lower():
        raise AssertionError(f"assets/{name} must not contain '</script' (it is inlined in a <script>)")
    return text


def _default(value: Any) -> Any:
    # Only for values that are not JSON data (a datetime in a dict record): imported when needed.
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value, serialize_unknown=True)


def _finite(value: Any) -> Any:
    """NaN and the infinities are not JSON (`JSON.parse` refuses them): they are shown as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def embed_json(data: Any) -> str:
    """`data` as JSON that is safe inside a `<script>` element (and still valid JSON)."""
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_default, allow_nan=False)
    except ValueError:  # a NaN somewhere: rare, so only then pay for the walk
        text = json.dumps(_finite(json.loads(json.dumps(data, default=_default))), ensure_ascii=False,
                          separators=(",", ":"))
    return _UNSAFE_RE.sub(lambda m: _UNSAFE[m.group(0)], text)


def nav_html(nav: Nav | None) -> str:
    if not nav:
        return ""
    links = " / ".join(f'<a href="{html.escape(href)}">{html.escape(label)}</a>' for label, href in nav)
    return f'<nav class="crumbs">{links}</nav>'


def render_page(kind: str, title: str, data: Any, body: str, nav: Nav | None = None) -> str:
    """The complete page: `body` is trusted HTML (already escaped); `data` is embedded as JSON."""
    values = {
        "kind": kind,
        "title": html.escape(title),
        "nav": nav_html(nav),
        "generator": f"harness {html.escape(__version__)}",
        "css": asset("report.css"),
        "body": body,
        "data": embed_json(data),
        "js": "\n".join(asset(name) for name in _SCRIPTS[kind]),
    }
    return _SLOT.sub(lambda m: values[m.group(1)], asset("page.html"))


def render_records_page(title: str, models: Mapping[str, Sequence[Mapping[str, Any]]], nav: Nav | None = None) -> str:
    """A records browser: one sortable, filterable, virtualized table per model (read-only)."""
    counts = "".join(f"<li>{html.escape(m)}: <b>{len(r)}</b></li>" for m, r in models.items())
    body = f'<section class="card"><h2>Records</h2><ul class="inline">{counts}</ul></section><div id="records"></div>'
    data = {"report": "records", "models": {m: list(r) for m, r in models.items()}}
    return render_page("records", title, data, body, nav)


def render_index_page(title: str, sections: Sequence[Mapping[str, Any]], nav: Nav | None = None) -> str:
    """Linked tables: each section is `{"heading", "columns": [...], "rows": [{"cells": [...], "href"}]}`.

    The first cell of a row links to its `href`. A filter box narrows every table (when scripts run).
    """
    parts = []
    for section in sections:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in section.get("columns", []))
        rows = []
        for row in section.get("rows", []):
            cells = [html.escape(str(c)) for c in row.get("cells", [])]
            if cells and row.get("href"):
                cells[0] = f'<a href="{html.escape(str(row["href"]))}">{cells[0]}</a>'
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        parts.append(f'<section class="card"><h2>{html.escape(str(section.get("heading", "")))}</h2>'
                     f'<table class="grid index"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
                     "</table></section>")
    return render_page("index", title, {"report": "index"}, "".join(parts), nav)
