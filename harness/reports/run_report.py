"""The run report: one or more runs (`RunResult.to_json()`, format 1) as a self-contained page.

The page shows, per run, a summary rendered here (function, connection, mode, status, duration, counts per
model, the error) and, when scripts run, the records per model (virtualized, sortable, filterable), the
request waterfall with retries and injected faults marked, checkpoints on a timeline against the requests,
the logs by level, the validation issues linked to their records, and the action's input and output.
Several runs share a page when one command makes them (the runs of a multi-run scenario, every function of
`harness event`, the runs of `harness check`, whose findings are shown too).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..atomic import write_atomic
from ..result import RunResult
from .page import Nav, render_page

RUN_REPORT = "run"


def run_document(result: RunResult, label: str | None = None) -> dict[str, Any]:
    """One run of a run report: its label and its `--json` document, unchanged."""
    doc = result.to_json()
    return {"label": label or f"{result.integration}/{result.function}", "result": doc}


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _duration(doc: Mapping[str, Any]) -> str:
    total = (doc.get("timings_ms") or {}).get("total")
    if not isinstance(total, (int, float)):
        return "-"
    return f"{total:.0f} ms" if total < 10_000 else f"{total / 1000:.1f} s"


def _counts_table(doc: Mapping[str, Any]) -> str:
    counts: Mapping[str, Mapping[str, int]] = doc.get("counts") or {}
    records: Mapping[str, Mapping[str, list[Any]]] = doc.get("records") or {}
    if not counts:
        return '<p class="muted">No records.</p>'
    kinds = ("added", "updated", "deleted", "unchanged")
    head = "".join(f"<th>{k}</th>" for k in kinds)
    rows = []
    for model, values in counts.items():
        cells = "".join(f'<td class="num" data-count="{k}">{int(values.get(k, 0))}</td>' for k in kinds)
        lists = records.get(model) or {}
        emitted = " / ".join(str(len(lists.get(k) or [])) for k in ("saved", "updated", "deleted"))
        rows.append(f'<tr data-model="{_e(model)}"><th scope="row">{_e(model)}</th>{cells}'
                    f'<td class="num" data-count="emitted">{emitted}</td></tr>')
    totals = doc.get("totals") or {}
    foot = "".join(f'<td class="num" data-count="{k}">{int(totals.get(k, 0))}</td>' for k in kinds)
    return (f'<table class="grid counts"><thead><tr><th>model</th>{head}<th title="records saved / updated / '
            f'deleted by the function">saved / updated / deleted</th></tr></thead><tbody>{"".join(rows)}</tbody>'
            f'<tfoot><tr data-model=""><th scope="row">total</th>{foot}<td></td></tr></tfoot></table>')


def _error_box(doc: Mapping[str, Any]) -> str:
    error = doc.get("error")
    if not error:
        return ""
    status = f" (HTTP {_e(error.get('status'))})" if error.get("status") is not None else ""
    return (f'<div class="error-box" role="alert"><b>{_e(error.get("type"))}</b>{status}: '
            f'<span class="message">{_e(error.get("message"))}</span></div>')


def _summary(index: int, run: Mapping[str, Any]) -> str:
    doc: Mapping[str, Any] = run.get("result") or {}
    facts = [
        ("function", f'{_e(doc.get("integration"))}/{_e(doc.get("function"))}'),
        ("type", _e(doc.get("type"))),
        ("connection", _e(doc.get("connection_id"))),
        ("mode", _e(doc.get("mode"))),
        ("scenario", _e(doc.get("scenario") or "-")),
        ("duration", _duration(doc)),
        ("requests", str(len(doc.get("requests") or []))),
        ("checkpoints saved", str(len((doc.get("checkpoints") or {}).get("saved") or []))),
        ("issues", str(len(doc.get("issues") or []))),
    ]
    cassette = (doc.get("cassette") or {}).get("path")
    if cassette:
        facts.append(("cassette", _e(cassette) + (" (written)" if (doc.get("cassette") or {}).get("written") else "")))
    if doc.get("capped"):
        facts.append(("capped", _e(doc.get("capped"))))
    dl = "".join(f'<div><dt>{k}</dt><dd data-fact="{k}">{v}</dd></div>' for k, v in facts)
    status = _e(doc.get("status"))
    return (f'<section class="run" id="run-{index}" data-run="{index}">'
            f'<div class="card summary"><h2><span class="label">{_e(run.get("label"))}</span> '
            f'<span class="badge status-{status}" data-fact="status">{status}</span></h2>'
            f'{_error_box(doc)}<dl class="facts">{dl}</dl>{_counts_table(doc)}</div>'
            f'<div class="details" id="run-{index}-details"></div></section>')


def _checks_box(checks: Mapping[str, Any]) -> str:
    rows = []
    for finding in checks.get("findings") or []:
        mark = "ok" if finding.get("ok") else "fail"
        rows.append(f'<tr class="{mark}"><td><span class="badge {mark}">{mark}</span></td>'
                    f'<td>{_e(finding.get("check"))}</td><td>{_e(finding.get("message"))}</td></tr>')
    verdict = "ok" if checks.get("ok") else "fail"
    return (f'<section class="card checks" id="checks"><h2>Invariant checks of {_e(checks.get("function"))} '
            f'<span class="badge {verdict}">{verdict}</span></h2><table class="grid"><thead><tr><th></th>'
            f'<th>check</th><th>finding</th></tr></thead><tbody>{"".join(rows)}</tbody></table></section>')


def render_run_page(runs: Sequence[Mapping[str, Any]], checks: Mapping[str, Any] | None = None,
                    title: str | None = None, nav: Nav | None = None) -> str:
    """The page for `runs` (`[{"label", "result": RunResult.to_json()}]`), the last one shown first."""
    if not runs:
        raise ValueError("a run report needs at least one run")
    first: Mapping[str, Any] = runs[-1].get("result") or {}
    title = title or f'{first.get("integration")}/{first.get("function")} · {first.get("status")}'
    body = (_checks_box(checks) if checks else "") + '<div id="run-tabs"></div>' + "".join(
        _summary(i, run) for i, run in enumerate(runs))
    data = {"report": RUN_REPORT, "runs": list(runs), "checks": checks}
    return render_page("run", title, data, body, nav)


def write_run_report(path: Path, runs: Sequence[RunResult | tuple[str, RunResult]],
                     checks: Mapping[str, Any] | None = None, title: str | None = None) -> None:
    """Write the report of `runs` (results, or `(label, result)` pairs) to `path`, atomically."""
    docs = []
    for n, item in enumerate(runs):
        label, result = item if isinstance(item, tuple) else (None, item)
        if label is None and len(runs) > 1 and all(not isinstance(r, tuple) for r in runs):
            same = len({(r.integration, r.function) for r in runs if isinstance(r, RunResult)}) == 1
            label = f"run {n + 1}" if same else None
        docs.append(run_document(result, label))
    write_atomic(path, render_run_page(docs, checks, title))
