"""The HTML reports without a browser: what the pages hold, the commands that write them, bad paths, and the
test report's data under pytest (serially and under xdist). The pages in a real browser: test_reports_browser.py."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

import harness.pipeline
import harness.verdict  # noqa: F401  (one harness and one pydantic for the in-process pytester runs)
from harness.pipeline import RunRequest, execute
from harness.project import load_project
from harness.reports import render_index_page, render_records_page, render_run_page, render_test_page
from harness.reports.diffdoc import snapshot_diff
from harness.reports.page import embed_json
from harness.reports.run_report import run_document
from harness.result import RunResult
from tests import cli_process, early
from tests.fakes.github_server import FakeGitHub

from .conftest import GH_CONNECTIONS, REPO, copy_example
from .test_invariants_fuzz import GOOD

_DATA = re.compile(r'<script type="application/json" id="harness-data">(.*?)</script>', re.S)
HOSTILE = '</script><script>window.pwned = 1</script><!-- \u2028 & "quotes" Ünïcödé 🚀'


def page_data(text: str) -> Any:
    """The JSON a report page embeds (what its script reads)."""
    found = _DATA.findall(text)
    assert len(found) == 1, "exactly one data element"
    return json.loads(found[0])


# Scenario items are collected from their cassette files: their node ids start with the cassette.
ISSUES_ID = "cassettes/github/issues/default.yaml::github/issues[default]"
CREATE_ID = "cassettes/github/create-issue/default.yaml::github/create-issue[default]"
WEBHOOK_ID = "cassettes/github/issues/webhook.yaml::github/issues[webhook]"
CHECK_ACCESS_ID = "cassettes/github/check-access/default.yaml::github/check-access[default]"


def demo_result(project: Path, **options: Any) -> RunResult:
    return execute(RunRequest(function="issues", connection_id="demo", project=load_project(project),
                              **options)).result


# -- the page ---------------------------------------------------------------------------------------------


def test_embedded_json_cannot_end_the_script_element_and_reads_back_the_same() -> None:
    value = {"title": HOSTILE, "nested": [HOSTILE, {"k</script>": "<!--"}], "n": 1.5, "none": None}
    text = embed_json(value)
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == value
    # NaN is not JSON: it is shown as a string rather than breaking the page.
    assert json.loads(embed_json({"x": float("nan"), "y": [float("inf")]})) == {"x": "nan", "y": ["inf"]}


def test_the_run_page_is_self_contained_and_holds_the_runs_json(example: Path) -> None:
    result = demo_result(example)
    result.models["Issue"].saved[0]["title"] = HOSTILE
    page = render_run_page([run_document(result)])
    assert page_data(page)["runs"][0]["result"] == json.loads(json.dumps(result.to_json()))
    assert page.count("</script>") == 2  # the data element and the script: nothing a record says
    # No network: no external reference, and a policy that forbids fetching anything.
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "default-src 'none'" in page
    # The summary is in the HTML itself (progressive enhancement): counts per model, facts, status.
    assert '<tr data-model="Issue"><th scope="row">Issue</th><td class="num" data-count="added">12</td>' in page
    assert '<dd data-fact="connection">demo</dd>' in page and '<dd data-fact="mode">replay</dd>' in page
    with pytest.raises(ValueError, match="at least one run"):
        render_run_page([])


def test_timeline_data_requests_start_times_retries_faults_and_checkpoint_positions(example: Path) -> None:
    doc = demo_result(example, faults=["503@2"]).to_json()
    statuses = [(r["status"], r.get("attempt", 0), r.get("fault")) for r in doc["requests"]]
    assert statuses == [(200, 0, None), (503, 0, "503@2"), (200, 1, None), (200, 0, None)]
    starts = [r["at_ms"] for r in doc["requests"]]
    assert starts == sorted(starts) and starts[0] >= 0
    # A checkpoint after every page: after request 1, after the retried page 2 (request 3), after page 3.
    assert doc["checkpoints"]["after_requests"] == [1, 3, 4]
    assert "at_ms" not in demo_result(example).to_json(timings=False)["requests"][0]


def test_other_pages_for_a_server_ui() -> None:
    page = render_records_page("records of demo", {"Issue": [{"id": "1", "title": HOSTILE}]},
                               nav=[("home", "/ui"), ("demo", "/ui/connections/demo")])
    assert page_data(page) == {"report": "records", "models": {"Issue": [{"id": "1", "title": HOSTILE}]}}
    assert '<a href="/ui/connections/demo">demo</a>' in page
    page = render_index_page("connections", [{"heading": "Connections", "columns": ["id", "provider"],
                                              "rows": [{"cells": ["demo<b>", "github"], "href": "/ui/c/demo"}]}])
    assert '<td><a href="/ui/c/demo">demo&lt;b&gt;</a></td><td>github</td>' in page


# -- the record-level diff --------------------------------------------------------------------------------


def test_snapshot_diff_keeps_both_versions_and_the_changed_paths() -> None:
    stored = {"status": "success", "records": {"Issue": {"1": {"id": "1", "t": "a", "o": {"x": 1}},
                                                         "2": {"id": "2", "t": "b"}}},
              "checkpoints": {"initial": None, "saved": [{"s": 1}, {"s": 2}], "final": {"s": 2}},
              "requests": [{"path": "/a"}, {"path": "/b"}], "deletes": {"Issue": ["9"]}}
    current = {"status": "failed", "records": {"Issue": {"1": {"id": "1", "t": "A", "o": {"x": 1, "y": 2}},
                                                         "3": {"id": "3", "t": "c"}}},
               "checkpoints": {"initial": None, "saved": [{"s": 1}], "final": {"s": 1}},
               "requests": [{"path": "/a"}, {"path": "/c"}], "deletes": {}}
    diff = snapshot_diff(stored, current)
    assert diff["fields"][0] == {"key": "status", "old": "success", "new": "failed"}
    assert diff["fields"][1] == {"key": "requests", "more": 0, "stored": 2, "run": 2, "items": [
        {"which": "requests #2", "index": 1, "old": {"path": "/b"}, "new": {"path": "/c"}}]}
    (model,) = diff["models"]
    assert model["counts"] == {"added": 1, "removed": 1, "changed": 1}
    assert model["changed"] == [{"id": "1", "old": stored["records"]["Issue"]["1"],
                                 "new": current["records"]["Issue"]["1"], "paths": ["o.y", "t"]}]
    assert model["added"] == [{"id": "3", "new": {"id": "3", "t": "c"}}]
    assert model["removed"] == [{"id": "2", "old": {"id": "2", "t": "b"}}]
    assert diff["deletes"] == [{"model": "Issue", "more": [], "fewer": ["9"], "counts": {"more": 0, "fewer": 1}}]
    assert diff["checkpoints"]["changes"] == [{"which": "final", "old": {"s": 2}, "new": {"s": 1}},
                                              {"which": "saved #2", "index": 1, "old": {"s": 2}}]
    # Capped: a huge change still makes a small page, with the number left out.
    big_old = {"records": {"M": {str(n): {"id": str(n), "v": 0} for n in range(1000)}}}
    big_new = {"records": {"M": {str(n): {"id": str(n), "v": 1} for n in range(1000)}}}
    capped = snapshot_diff(big_old, big_new, limit=5)["models"][0]
    assert capped["counts"]["changed"] == 1000 and [r["id"] for r in capped["changed"]] == ["0", "1", "2", "3", "4"]


# -- the commands -----------------------------------------------------------------------------------------


def test_dryrun_html_is_the_same_document_as_json(cli: Callable[..., Result], example: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "run.html"  # a folder that does not exist yet
    res = cli(example, "dryrun", "issues", "demo", "--json", "--html", str(out), "--fault", "429@2")
    assert res.exit_code == 0, res.output
    printed = json.loads(res.stdout)
    assert page_data(out.read_text())["runs"] == [{"label": "github/issues", "result": printed}]
    assert f"wrote {out}" in res.stderr


def test_a_multi_run_scenario_puts_every_run_on_the_page(cli: Callable[..., Result], example: Path,
                                                         tmp_path: Path) -> None:
    source = example / "cassettes/github/issues/default.yaml"
    shutil.copy(source, example / "cassettes/github/issues/twice.yaml")
    shutil.copy(source, example / "cassettes/github/issues/twice.run2.yaml")
    out = tmp_path / "twice.html"
    res = cli(example, "dryrun", "issues", "demo", "--scenario", "twice", "--run", "2", "--html", str(out))
    assert res.exit_code == 0, res.output
    runs = page_data(out.read_text())["runs"]
    assert [r["label"] for r in runs] == ["run 1", "run 2"]
    # Run 2 replays the same answers on the store run 1 left: nothing new.
    assert [r["result"]["totals"]["added"] for r in runs] == [12, 0]


def test_a_failed_run_still_writes_its_report_with_the_error(cli: Callable[..., Result], example: Path,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "failed.html"
    res = cli(example, "dryrun", "issues", "demo", "--html", str(out), "--fault", "404@1")
    assert res.exit_code == 1
    page = out.read_text()
    assert page_data(page)["runs"][0]["result"]["error"]["type"] == "script_http_error"
    assert '<div class="error-box" role="alert"><b>script_http_error</b> (HTTP 404)' in page


def test_bad_html_paths_are_refused_before_running(cli: Callable[..., Result], example: Path,
                                                   tmp_path: Path) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    for target, message in ((tmp_path, "is a folder (give a file name such as report.html)"),
                            (a_file / "run.html", f"{a_file} is not a folder")):
        res = cli(example, "dryrun", "issues", "demo", "--html", str(target), "--record")
        assert res.exit_code == 2
        assert res.stderr.startswith("error: --html ") and message in res.stderr
        assert "Traceback" not in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["example", "file.txt"]


def test_event_writes_one_report_for_every_function(cli: Callable[..., Result], make_project: Callable[..., Path],
                                                    tmp_path: Path) -> None:
    event = """\
        from harness import on_event

        @on_event("post-connection-creation")
        async def {name}(nango) -> None:
            nango.log("{name} ran")
        """
    root = make_project({"gh/on_events/first.py": event.format(name="first"),
                         "gh/on_events/second.py": event.format(name="second")},
                        connections="connections:\n  c1: {provider: github, integration: gh, "
                                    "credentials: {type: NONE}}\n")
    out = tmp_path / "events.html"
    res = cli(root, "event", "post-connection-creation", "c1", "--live", "--html", str(out))
    assert res.exit_code == 0, res.output
    runs = page_data(out.read_text())["runs"]
    assert [(r["label"], r["result"]["logs"][0]["message"]) for r in runs] == [
        ("gh/first", "first ran"), ("gh/second", "second ran")]
    assert res.stderr.count("wrote") == 1


SYNC = GOOD + """

@good.on_webhook
async def good_webhook(nango, payload):
    await nango.batch_save([{"id": str(payload["id"]), "title": payload["title"]}], "Issue")
"""


def test_check_and_webhook_write_reports(cli: Callable[..., Result], make_project: Callable[..., Path],
                                         fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    monkeypatch.setenv("GH_URL", fake_github.base_url)
    monkeypatch.setenv("GH_TOKEN", fake_github.token)
    root = make_project({"gh/syncs/good.py": SYNC}, connections=GH_CONNECTIONS)
    res = cli(root, "check", "good", "c1", "--html", str(tmp_path / "check.html"), "--points", "2")
    assert res.exit_code == 0, res.output
    data = page_data((tmp_path / "check.html").read_text())
    assert data["checks"]["ok"] is True
    assert [f["check"] for f in data["checks"]["findings"]] == ["resume", "resume", "idempotent"]
    # Every run the checks made, labelled by what it was.
    assert [r["label"] for r in data["runs"]] == [
        "1: uninterrupted", "2: interrupted after checkpoint 1", '3: from checkpoint {"page": 1}',
        "4: interrupted after checkpoint 2", '5: from checkpoint {"page": 2}', '6: from checkpoint {"page": 4}']
    assert data["runs"][1]["result"]["capped"] == "interrupted after checkpoint 1"
    res = cli(root, "webhook", "good", "c1", "--payload", '{"id": 7, "title": "from a hook"}', "--live",
              "--html", str(tmp_path / "webhook.html"))
    assert res.exit_code == 0, res.output
    (run,) = page_data((tmp_path / "webhook.html").read_text())["runs"]
    assert run["result"]["type"] == "webhook"
    assert run["result"]["records"]["Issue"]["saved"] == [{"id": "7", "title": "from a hook"}]
    # Live runs with a real token: the pages hold the scrubbed document, never the credential.
    for page in ("check.html", "webhook.html"):
        assert fake_github.token not in (tmp_path / page).read_text()


# -- the test report under pytest -------------------------------------------------------------------------

PYPROJECT = """\
[tool.harness]
functions = "functions"
cassettes = "cassettes"

[tool.pytest.ini_options]
filterwarnings = ["ignore::pytest.PytestAssertRewriteWarning"]
addopts = "-p no:hypothesispytest -p no:anyio -p no:cacheprovider"
"""
HAND_WRITTEN = """\
import pytest

def test_passes(harness_scenario):
    assert harness_scenario("github/issues").ok

def test_fails():
    assert 1 + 1 == 3, "arithmetic"

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass

@pytest.mark.xfail(reason="known bug")
def test_known_bug():
    assert False
"""


XDIST_VARIABLES = ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID")


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in XDIST_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return write_project(pytester.path)


def write_project(root: Path) -> Path:
    """The example with a hand-written test module and a sync whose output changed (see `project`)."""
    for folder in ("functions", "fixtures"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    # The sync's and the action's default scenarios only: these tests count and change those two.
    shutil.copytree(REPO / "cassettes", root / "cassettes",
                    ignore=shutil.ignore_patterns("__pycache__", "webhook.*", "check-access"))
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "tests").mkdir()
    (root / "tests" / "test_hand.py").write_text(HAND_WRITTEN)
    issues = root / "functions/github/syncs/issues.py"
    issues.write_text(issues.read_text().replace('title=row["title"]', 'title=row["title"].upper()'))
    return root


def _verdicts(doc: dict[str, Any]) -> dict[str, str]:
    return {t["id"]: t["verdict"] for t in doc["tests"]}


def runpytest(ctx: early.Context, root: Path, *args: str) -> pytest.RunResult:
    """`pytester.runpytest(*args)` in a process of its own, with what pytester gives an in-process run: the
    project as working folder and HOME, no PYTEST_ADDOPTS or TOX_ENV_DIR, PY_COLORS=0, a temporary root and
    --basetemp of its own; and, as the `project` fixture does, no xdist variables of an outer run."""
    env = {k: v for k, v in ctx.env.items() if k not in (*XDIST_VARIABLES, "TOX_ENV_DIR", "PYTEST_ADDOPTS")}
    temproot = ctx.folder / "temproot"
    temproot.mkdir(exist_ok=True)
    env.update(PYTEST_DEBUG_TEMPROOT=str(temproot), HOME=str(root), USERPROFILE=str(root), PY_COLORS="0")
    started = time.monotonic()
    done = ctx.run([sys.executable, "-m", "pytest", *args, f"--basetemp={ctx.folder / 'basetemp'}"], cwd=root,
                   env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    return pytest.RunResult(done.returncode, done.stdout.splitlines(), done.stderr.splitlines(),
                            time.monotonic() - started)


# The two inner pytest runs of the test below start ahead, on the other core (tests/early.py), in a project
# of their own; the test reads what they printed and wrote.
@early.ahead("test_the_test_report_is_the_same_serially_and_under_xdist")
def _serial_and_parallel(ctx: early.Context) -> tuple[Path, pytest.RunResult, pytest.RunResult]:
    project = write_project(ctx.folder / "project")
    serial = runpytest(ctx, project, "--harness-html", "out/serial.html", "--junitxml", "out/serial.xml")
    parallel = runpytest(ctx, project, "-p", "xdist", "-n", "2", "--harness-html", "out/parallel.html",
                         "--junitxml", "out/parallel.xml")
    return project, serial, parallel


def test_the_test_report_is_the_same_serially_and_under_xdist() -> None:
    project, serial, parallel = _serial_and_parallel.result()
    docs = []
    for res, name in ((serial, "serial"), (parallel, "parallel")):
        res.assert_outcomes(passed=2, failed=2, skipped=1, xfailed=1)
        assert f"harness: wrote the HTML report out/{name}.html" in res.stdout.str()
        page = (project / "out" / f"{name}.html").read_text()
        doc = page_data(page)
        docs.append(doc)
        # The scenario data travelled to the controller, and stayed out of the JUnit file.
        assert "harness_html" not in (project / "out" / f"{name}.xml").read_text()
        changed = next(t for t in doc["tests"] if t["id"] == ISSUES_ID)
        sc = changed["scenario"]
        assert sc["snapshot_state"] == "changed" and sc["status"] == "success"
        assert sc["accept"] == "harness test --update --function github/issues --scenario default"
        model = sc["diff"]["models"][0]
        assert model["counts"] == {"added": 0, "removed": 0, "changed": 12}
        assert model["changed"][0]["paths"] == ["title"] and model["changed"][0]["new"]["title"] == "ISSUE 1"
        run_page = project / "out" / sc["run_report"]
        assert sc["run_report"] == f"{name}-runs/github--issues--default.html"
        saved = page_data(run_page.read_text())["runs"][0]["result"]["records"]["Issue"]["saved"]
        assert saved[0]["title"] == "ISSUE 1"
        assert f'href="{sc["run_report"]}"' in page
        fails = next(t for t in doc["tests"] if t["id"].endswith("::test_fails"))
        assert "arithmetic" in fails["message"] and not fails["message"].startswith("[gw")
        assert next(t for t in doc["tests"] if t["id"].endswith("::test_skipped"))["message"] == "not today"
        # Failures first, then the rest in the order they ran.
        assert [t["verdict"] for t in doc["tests"]][:2] == ["failed", "failed"]
    assert _verdicts(docs[0]) == _verdicts(docs[1]) == {
        ISSUES_ID: "failed", CREATE_ID: "passed",
        "tests/test_hand.py::test_passes": "passed", "tests/test_hand.py::test_fails": "failed",
        "tests/test_hand.py::test_skipped": "skipped", "tests/test_hand.py::test_known_bug": "xfailed"}
    assert docs[0]["counts"] == {"failed": 2, "passed": 2, "skipped": 1, "xfailed": 1}


def test_the_test_report_after_accepting_and_with_bad_paths(pytester: pytest.Pytester, project: Path) -> None:
    (project / "tests" / "test_hand.py").unlink()
    res = pytester.runpytest("--snapshot-update", "--harness-html", "report.html")
    res.assert_outcomes(passed=2)
    doc = page_data((project / "report.html").read_text())
    states = {t["id"]: t["scenario"]["snapshot_state"] for t in doc["tests"]}
    assert states == {ISSUES_ID: "updated", CREATE_ID: "same"}
    res = pytester.runpytest("--harness-html", str(project))
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    assert "harness: --harness-html" in res.stderr.str() and "is a folder" in res.stderr.str()


@pytest.mark.parametrize("html", [False, True])
def test_scenario_items_do_not_keep_their_runs(pytester: pytest.Pytester, project: Path, html: bool) -> None:
    (project / "tests" / "test_hand.py").unlink()
    reprec = pytester.inline_run(*(["--harness-html", "r.html"] if html else []))
    reprec.assertoutcome(passed=1, failed=1)
    (call,) = reprec.getcalls("pytest_collection_finish")
    items = [i for i in call.session.items if hasattr(i, "scenario")]
    assert len(items) == 2
    assert all(i.harness_ran is None and i.harness_comparison is None for i in items)
    assert (project / "r.html").is_file() == html


def test_render_test_page_escapes_and_marks_verdicts() -> None:
    doc = {"report": "tests", "tests": [{"id": "t::x<y>", "verdict": "failed", "duration_ms": 3,
                                         "message": HOSTILE}], "counts": {"failed": 1}}
    page = render_test_page(doc)
    assert page.count("</script>") == 2
    assert "<title>tests · 1 failed</title>" in page
    assert 'data-verdict="failed"' in page and "t::x&lt;y&gt;" in page
    assert page_data(page) == doc


@early.ahead("test_harness_test_html_resolves_the_path_from_where_it_is_run")
def _test_html_elsewhere(ctx: early.Context) -> tuple[subprocess.CompletedProcess[str], Path]:
    example = copy_example(ctx.folder / "example")
    env = {k: v for k, v in ctx.env.items() if k not in ("CI", "HARNESS_PROJECT", "PYTEST_ADDOPTS")}
    (example / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    elsewhere = ctx.folder / "elsewhere"
    elsewhere.mkdir()
    # `harness test` in a process of its own (forked warm), in another folder; it starts pytest itself.
    # Started ahead, on the other core (tests/early.py).
    run = ctx.forked(cli_process.HarnessProcess(["--project", str(example), "test", "--html", "r.html", "-q"],
                                                cwd=elsewhere, env=env))
    return run, elsewhere


def test_harness_test_html_resolves_the_path_from_where_it_is_run() -> None:
    run, elsewhere = _test_html_elsewhere.result()
    assert run.returncode == 0, run.stdout + run.stderr
    assert _verdicts(page_data((elsewhere / "r.html").read_text())) == {
        CREATE_ID: "passed", ISSUES_ID: "passed", WEBHOOK_ID: "passed", CHECK_ACCESS_ID: "passed"}
    assert (elsewhere / "r-runs" / "github--issues--default.html").is_file()
