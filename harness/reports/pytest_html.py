"""`pytest --harness-html PATH`: the session's test report, and a run report for every scenario.

The pytest plugin (`harness.pytest_plugin`) calls `add_option` and `configure`; a scenario item leaves its
`Outcome` (`harness_ran`) and its snapshot comparison (`harness_comparison`) on itself, and the
`HtmlReport` plugin registered here turns them into the scenario's entry when the item's report is made:
in the process that ran it, which under pytest-xdist is a worker. The worker writes the scenario's run report
(`<PATH stem>-runs/<integration>--<function>--<scenario>.html`) and sends the entry (a JSON string, the
diff capped) to the controller in `report.user_properties`; the controller takes it out again before any
other plugin sees the report (so junitxml does not write it), collects every verdict and writes PATH when
the session finishes.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

if TYPE_CHECKING:
    from ..pipeline import Outcome
    from ..snapshots.files import Comparison
    from .test_report import TestReport

_PROP = "harness_html_scenario"
_XDIST_HEADER = re.compile(r"\[gw\d+\] .* -- Python \S+ .*")
_WORKER_KEY = "harness_html"


def add_option(group: Any) -> None:
    group.addoption("--harness-html", dest="harness_html", default=None, metavar="PATH",
                    help="Write a self-contained HTML report of the session to PATH, with a run report per "
                         "scenario in PATH's folder (<name>-runs/).")


def _target(config: pytest.Config) -> Path | None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        given = workerinput.get(_WORKER_KEY)
        return Path(given) if given else None
    value = config.getoption("harness_html", None)
    if not value:
        return None
    path = (config.invocation_params.dir / str(value)).resolve()
    if path.is_dir():
        raise pytest.UsageError(f"harness: --harness-html {value}: is a folder; give a file name such as "
                                "report.html")
    if path.parent.exists() and not path.parent.is_dir():
        raise pytest.UsageError(f"harness: --harness-html {value}: {path.parent} is not a folder")
    return path


def configure(config: pytest.Config) -> None:
    """Register the report plugin when `--harness-html` was given (in the controller and in each worker),
    else the one hook that drops what scenario items leave for it."""
    path = _target(config)
    plugin = HtmlReport(config, path) if path is not None else _Forget()
    config.pluginmanager.register(plugin, "harness-html-report")


def _forget(item: pytest.Item) -> None:
    # A scenario's run and comparison can hold 100,000s of records: not kept past the item's report.
    for name in ("harness_ran", "harness_comparison"):
        if getattr(item, name, None) is not None:
            setattr(item, name, None)


class _Forget:
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report: pytest.TestReport = yield
        if report.when == "call":
            _forget(item)
        return report


def runs_folder(path: Path) -> Path:
    return path.with_name(f"{path.stem}-runs")


def _failure_text(report: pytest.TestReport) -> str | None:
    text = report.longreprtext or None
    if text and _XDIST_HEADER.match(text):
        text = text.split("\n", 1)[1] if "\n" in text else None  # "[gw1] linux -- Python 3.11.7 /path"
    return text


def _skip_reason(report: pytest.TestReport) -> str | None:
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        reason = str(report.longrepr[2])
        return reason.removeprefix("Skipped: ")
    return report.longreprtext or None


def _snapshot_state(cmp: Comparison | None, snapshot: Path, update: bool) -> str:
    if cmp is None:
        return "not compared"
    if cmp.same:
        return "same"
    if cmp.stored is None:
        return "written" if snapshot.is_file() else "missing"
    return "updated" if update else "changed"


def scenario_entry(item: Any, ran: Outcome | None, cmp: Comparison | None, runs_dir: Path,
                   report_href: str) -> dict[str, Any]:
    """What the test report shows of one scenario item (JSON data); writes its run report."""
    from .diffdoc import snapshot_diff
    from .run_report import write_run_report

    sc = item.scenario
    update = bool(getattr(item.config.option, "update_snapshots", False))
    cassette_rel = ran.result.cassette if ran is not None and ran.result.cassette else str(sc.cassette)
    snapshot_rel = cassette_rel[: -len(sc.cassette.suffix)] + sc.snapshot.name[len(sc.cassette.stem):]
    state = _snapshot_state(cmp, sc.snapshot, update)
    data: dict[str, Any] = {
        "integration": sc.integration, "function": sc.function, "name": sc.name,
        "cassette": cassette_rel, "snapshot": snapshot_rel, "snapshot_state": state,
    }
    if state in ("changed", "missing"):
        data["accept"] = f"harness test --update --function {sc.integration}/{sc.function} --scenario {sc.name}"
    if ran is not None:
        result = ran.result
        data.update(status=result.status, counts=result.counts(), requests=len(result.requests),
                    error=result.error.to_json() if result.error else None)
        write_run_report(runs_dir / report_href.rsplit("/", 1)[-1], [*ran.previous, ran.result],
                         title=f"{sc.id} · {result.status}")
        data["run_report"] = report_href
    if cmp is not None and not cmp.same and cmp.stored is not None and cmp.current is not None:
        data["diff"] = snapshot_diff(cmp.stored, cmp.current)
    return data


class HtmlReport:
    """The `--harness-html` plugin object (one per process)."""

    def __init__(self, config: pytest.Config, path: Path) -> None:
        from .test_report import TestReport

        self.config = config
        self.path = path
        self.controller = not hasattr(config, "workerinput")
        root = getattr(config.option, "harness_project", None) or str(config.rootpath)
        self.report: TestReport = TestReport(list(config.invocation_params.args), root)
        self.problems: list[str] = []
        self.written = False

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        # xdist: the workers write the scenarios' run reports where the controller says.
        node.workerinput[_WORKER_KEY] = str(self.path)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report: pytest.TestReport = yield
        if report.when != "call" or not hasattr(item, "scenario"):
            return report
        ran = getattr(item, "harness_ran", None)
        cmp = getattr(item, "harness_comparison", None)
        sc = item.scenario
        name = f"{sc.integration}--{sc.function}--{sc.name}.html"
        runs_dir = runs_folder(self.path)
        try:
            data = scenario_entry(item, ran, cmp, runs_dir, quote(f"{runs_dir.name}/{name}"))
        except Exception as exc:  # a report problem must not change the test's verdict
            data = {"integration": sc.integration, "function": sc.function, "name": sc.name,
                    "report_error": f"{type(exc).__name__}: {exc}"}
        finally:
            _forget(item)
        # A list of its own: item.user_properties is shared with the teardown report.
        report.user_properties = [*report.user_properties, (_PROP, json.dumps(data, default=str))]
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not self.controller:
            return
        mine = [v for k, v in report.user_properties if k == _PROP]
        if mine:
            report.user_properties = [(k, v) for k, v in report.user_properties if k != _PROP]
        text = _skip_reason(report) if report.outcome == "skipped" else _failure_text(report)
        self.report.record(report.nodeid, report.when, report.outcome, duration_s=report.duration, text=text,
                           xfail=hasattr(report, "wasxfail"))
        for value in mine:
            data = json.loads(str(value))
            if data.get("report_error"):
                self.problems.append(f"{report.nodeid}: {data['report_error']}")
            self.report.add_scenario(report.nodeid, data)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.controller:
            return
        from ..atomic import write_atomic
        from .test_report import render_test_page

        doc = self.report.to_json(int(exitstatus))
        try:
            write_atomic(self.path, render_test_page(doc))
            self.written = True
        except OSError as exc:
            self.problems.append(f"cannot write {self.path}: {exc.strerror or exc}")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.controller:
            return
        shown = os.path.relpath(self.path, self.config.invocation_params.dir)
        if self.written:
            terminalreporter.write_line(f"harness: wrote the HTML report {shown}")
        for problem in self.problems:
            terminalreporter.write_line(f"harness: HTML report: {problem}", yellow=True)
