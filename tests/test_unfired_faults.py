"""Faults that never fired (a path never requested, an N beyond the run) are reported: a warning in the
result, an error under --strict and CI. The helpers are tested here directly; the wiring into the run
(lead-owned runner/session) is tested by the xfail test at the end until it is merged."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import Result

from harness.errors import EXIT_USAGE
from harness.http.faults import FaultTransport, parse_fault, unfired_error, unfired_issues


def run(specs: list[str], paths: list[str]) -> FaultTransport:
    """Send GET requests for `paths` through a FaultTransport over a transport that answers 200."""
    faults = FaultTransport(httpx.MockTransport(lambda r: httpx.Response(200, json=[])),
                            [parse_fault(s) for s in specs])

    async def go() -> None:
        async with httpx.AsyncClient(transport=faults, base_url="https://api.example.com") as client:
            for path in paths:
                with contextlib.suppress(httpx.TransportError):  # an injected timeout or reset
                    await client.get(path)

    asyncio.run(go())
    return faults


# The six shapes of a fault that does nothing.
SILENT = [
    ("500@99", "never fired: the run made 3 request(s), so request #99 never came"),
    ("503x2@3", "fired 1 of 2 times: the run made 3 request(s), so request #4 never came"),
    ("timeout@/nope/*", "never fired: no request matched /nope/* (requested: /repos/o/r/issues"),
    ("429:retry-after=5@/repos/*/pulls", "never fired: no request matched /repos/*/pulls"),
    ("reset@4", "never fired: the run made 3 request(s), so request #4 never came"),
    ("500x5@/repos/o/r/issues", "fired 3 of 5 times: only 3 request(s) matched /repos/o/r/issues"),
]


@pytest.mark.parametrize(("spec", "message"), SILENT)
def test_each_silent_fault_is_a_warning_naming_why(spec: str, message: str) -> None:
    transport = run([spec], ["/repos/o/r/issues", "/repos/o/r/issues?page=2", "/repos/o/r/issues?page=3"])
    [issue] = unfired_issues(transport)
    assert issue.kind == "fault" and issue.severity == "warning"
    assert issue.message.startswith(f"fault {parse_fault(spec).spec()} ") and message in issue.message
    error = unfired_error(transport)
    assert error is not None and error.type == "unfired_faults" and error.exit_code == EXIT_USAGE
    assert error.payload["unfired"][0]["fault"] == parse_fault(spec).spec()


def test_faults_that_fired_say_nothing() -> None:
    transport = run(["500@1", "503x2@2", "timeout@/repos/*/pulls"], ["/a", "/b", "/c", "/repos/o/pulls"])
    assert transport.unfired() == [] and unfired_issues(transport) == [] and unfired_error(transport) is None


def test_all_silent_faults_at_once_and_through_wrapping_transports() -> None:
    transport = run([s for s, _ in SILENT], ["/repos/o/r/issues"] * 3)

    class Outer(httpx.AsyncBaseTransport):
        def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
            self.inner = inner

    issues = unfired_issues(Outer(Outer(transport)))
    assert len(issues) == 6
    error = unfired_error(transport)
    assert error is not None and "(and 5 more)" in error.message
    assert unfired_issues(None) == [] and unfired_issues(httpx.MockTransport(lambda r: httpx.Response(200))) == []


def test_a_run_with_no_request_says_so() -> None:
    [issue] = unfired_issues(run(["500@/x"], []))
    assert "(the run made no request)" in issue.message


def test_dryrun_reports_unfired_faults_and_strict_fails(example: Path, cli: Callable[..., Result]) -> None:
    res = cli(example, "dryrun", "issues", "demo", "--fault", "500@99", "--json")
    assert res.exit_code == 0, res.output
    [issue] = [i for i in json.loads(res.stdout)["issues"] if i["kind"] == "fault"]
    assert issue["severity"] == "warning" and "never fired" in issue["message"]
    strict = cli(example, "dryrun", "issues", "demo", "--fault", "500@99", "--strict", "--json")
    assert strict.exit_code == 2
    assert json.loads(strict.stdout)["error"]["type"] == "unfired_faults"
