"""Self-contained HTML reports: a run report (`--html` on runs) and a test report (`pytest --harness-html`).

Every page is one HTML file with its CSS, its JavaScript and its data inline: no network, no external asset,
it opens from disk. The data is JSON embedded in the page (for a run, `RunResult.to_json()` itself, format 1),
so a report never disagrees with `--json`. The server renders a readable summary (progressive enhancement);
the browser script adds the interactive parts (virtualized records table, waterfall, timeline, diffs).

The page functions take JSON documents, not engine objects, so any face can call them (`harness serve`'s
`/ui` included):

- `render_run_page(runs, checks=None, title=None, nav=None)`: runs are `{"label", "result"}` documents;
- `render_test_page(session)`: the document `TestReport.to_json()` makes;
- `render_records_page(title, models, nav=None)`: a records browser (model -> list of records);
- `render_index_page(title, sections, nav=None)`: linked tables (connections, syncs, runs).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .page import render_index_page, render_records_page
    from .run_report import render_run_page, run_document, write_run_report
    from .test_report import TestReport, render_test_page

# Imported when first used: the CLI imports `harness.reports.cli` on every start, and pays for nothing else.
_HOMES = {"render_index_page": "page", "render_records_page": "page", "render_run_page": "run_report",
          "run_document": "run_report", "write_run_report": "run_report", "TestReport": "test_report",
          "render_test_page": "test_report"}

__all__ = ["TestReport", "render_index_page", "render_records_page", "render_run_page", "render_test_page",
           "run_document", "write_run_report"]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
