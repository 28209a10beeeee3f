"""The test report: every test of a pytest session with its verdict, and for each scenario its snapshot
comparison (the record-level diff side by side, the checkpoint differences, the command that accepts the
change) and a link to the scenario's run report.

`TestReport` collects what the session reported (pytest-free: the plugin glue in `pytest_html` feeds it
`record(...)` calls and the scenario data its workers computed); `to_json()` is the page's data, and
`render_test_page(doc)` renders it: verdicts and failure texts as plain HTML, the diffs by the page's script.
"""

from __future__ import annotations

import html
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .page import Nav, render_page

TEST_REPORT = "tests"
VERDICTS = ("failed", "error", "xpassed", "passed", "skipped", "xfailed")
_FIRST = {"failed": 0, "error": 0, "xpassed": 0}


@dataclass
class TestEntry:
    """One test (a pytest node id), over its setup, call and teardown phases."""

    nodeid: str
    order: int
    verdict: str = "passed"
    duration_ms: float = 0.0
    messages: list[str] = field(default_factory=list)
    scenario: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.nodeid, "verdict": self.verdict,
                               "duration_ms": round(self.duration_ms, 3)}
        if self.messages:
            out["message"] = "\n\n".join(self.messages)
        if self.scenario is not None:
            out["scenario"] = self.scenario
        return out


class TestReport:
    """The verdicts of one session, in the order the tests were reported (failures shown first)."""

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, command: Sequence[str] = (), root: str | None = None) -> None:
        self.command = list(command)
        self.root = root
        self.started = time.time()
        self.entries: dict[str, TestEntry] = {}

    def entry(self, nodeid: str) -> TestEntry:
        if nodeid not in self.entries:
            self.entries[nodeid] = TestEntry(nodeid, len(self.entries))
        return self.entries[nodeid]

    def record(self, nodeid: str, when: str, outcome: str, *, duration_s: float = 0.0, text: str | None = None,
               xfail: bool = False) -> None:
        """One phase's report (pytest's `TestReport` fields): `when` setup|call|teardown, `outcome`
        passed|failed|skipped; `xfail` when the test was marked to fail."""
        entry = self.entry(nodeid)
        entry.duration_ms += duration_s * 1000
        if outcome == "failed":
            entry.verdict = "failed" if when == "call" else "error"
        elif outcome == "skipped" and entry.verdict == "passed":
            entry.verdict = "xfailed" if xfail else "skipped"
        elif outcome == "passed" and when == "call" and xfail:
            entry.verdict = "xpassed"
        if text and (outcome != "passed" or xfail):
            entry.messages.append(f"[{when}] {text}" if outcome == "failed" and when != "call" else text)

    def add_scenario(self, nodeid: str, data: dict[str, Any]) -> None:
        self.entry(nodeid).scenario = data

    def to_json(self, exitstatus: int | None = None) -> dict[str, Any]:
        entries = sorted(self.entries.values(), key=lambda e: (_FIRST.get(e.verdict, 1), e.order))
        counts = {v: 0 for v in VERDICTS}
        for e in entries:
            counts[e.verdict] = counts.get(e.verdict, 0) + 1
        return {
            "report": TEST_REPORT,
            "format": 1,
            "command": self.command,
            "root": self.root,
            "started": datetime.fromtimestamp(self.started, UTC).isoformat(timespec="seconds"),
            "duration_ms": round((time.time() - self.started) * 1000, 1),
            "exitstatus": exitstatus,
            "counts": {k: v for k, v in counts.items() if v},
            "tests": [e.to_json() for e in entries],
        }


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _scenario_html(sc: Mapping[str, Any]) -> str:
    parts = [f'<dl class="facts small"><div><dt>snapshot</dt><dd data-fact="snapshot">{_e(sc.get("snapshot_state"))}'
             f'</dd></div><div><dt>run</dt><dd>{_e(sc.get("status"))}</dd></div>'
             f'<div><dt>file</dt><dd><code>{_e(sc.get("snapshot"))}</code></dd></div></dl>']
    if sc.get("accept"):
        parts.append(f'<p class="accept">Accept the change: <code class="cmd">{_e(sc["accept"])}</code></p>')
    return "".join(parts)


def _test_html(n: int, test: Mapping[str, Any]) -> str:
    verdict = _e(test.get("verdict"))
    sc = test.get("scenario")
    link = ""
    if sc and sc.get("run_report"):
        link = f' <a class="run-link" href="{_e(sc["run_report"])}">run report</a>'
    duration = f'{float(test.get("duration_ms") or 0):.0f} ms'
    body = []
    if test.get("message") and sc and sc.get("diff"):
        # The diff below shows the same as the text, better; the text stays one click away.
        body.append(f'<details class="failure-text"><summary>pytest\'s failure text</summary>'
                    f'<pre class="message">{_e(test["message"])}</pre></details>')
    elif test.get("message"):
        body.append(f'<pre class="message">{_e(test["message"])}</pre>')
    if sc:
        body.append(_scenario_html(sc))
        if sc.get("diff"):
            body.append(f'<div class="diff" data-index="{n}"><p class="muted">The record-level diff needs '
                        "JavaScript.</p></div>")
    open_ = " open" if verdict in ("failed", "error", "xpassed") else ""
    kind = "scenario" if sc else "test"
    return (f'<details class="test verdict-{verdict}" id="t-{n}" data-index="{n}" data-verdict="{verdict}" '
            f'data-kind="{kind}" data-id="{_e(test.get("id"))}"{open_}><summary><span class="badge {verdict}">'
            f'{verdict}</span> <span class="test-id">{_e(test.get("id"))}</span> <span class="muted">{duration}'
            f'</span>{link}</summary>{"".join(body)}</details>')


def render_test_page(doc: Mapping[str, Any], title: str | None = None, nav: Nav | None = None) -> str:
    """The page for a `TestReport.to_json()` document."""
    counts: Mapping[str, int] = doc.get("counts") or {}
    tests: Sequence[Mapping[str, Any]] = doc.get("tests") or []
    scenarios = sum(1 for t in tests if t.get("scenario"))
    badges = " ".join(f'<span class="badge {k}" data-count="{k}">{v} {k}</span>' for k, v in counts.items())
    command = " ".join(doc.get("command") or [])
    total_s = float(doc.get("duration_ms") or 0) / 1000
    summary = (f'<section class="card summary" id="session"><h2>{len(tests)} tests, {scenarios} scenarios</h2>'
               f'<p class="counts">{badges or "no tests"}</p><dl class="facts">'
               f'<div><dt>command</dt><dd><code>pytest {_e(command)}</code></dd></div>'
               f'<div><dt>project</dt><dd>{_e(doc.get("root") or "-")}</dd></div>'
               f'<div><dt>started</dt><dd>{_e(doc.get("started"))}</dd></div>'
               f'<div><dt>duration</dt><dd>{total_s:.1f} s</dd></div>'
               f'<div><dt>exit status</dt><dd data-fact="exitstatus">{_e(doc.get("exitstatus"))}</dd></div></dl>'
               '</section>')
    listing = "".join(_test_html(n, t) for n, t in enumerate(tests))
    body = f'{summary}<div id="test-tools"></div><section id="tests">{listing}</section>'
    failed = counts.get("failed", 0) + counts.get("error", 0)
    if title is None:
        title = f"tests · {failed} failed" if failed else "tests · all passed"
    return render_page("tests", title, doc, body, nav)
