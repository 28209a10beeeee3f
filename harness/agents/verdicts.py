"""Scenario verdicts for agents (`run_tests` of `harness mcp --dev`): `harness.verdict.judge`, worded as data.

The judgement is the engine's one verdict, the same the pytest plugin, `harness dev`, `harness test` and
deploy's gate use; this module only selects scenarios and turns each `Finding` into the fields an agent
reads (failures, warnings, the record-level diff, the fix). Unlike a local pytest run, a missing snapshot is
not written unless `update` (an agent asked to test should not change files behind its back).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import HarnessError
from ..project import Project
from ..scenarios import Scenario, find_scenarios
from ..verdict import Policy, judge, snapshot_settings


@dataclass(frozen=True)
class Selection:
    """Which scenarios: empty tuples select everything (`function` may be NAME or INTEGRATION/NAME)."""

    integrations: Sequence[str] = ()
    functions: Sequence[str] = ()
    scenarios: Sequence[str] = ()

    def wants(self, sc: Scenario) -> bool:
        if self.integrations and sc.integration not in self.integrations:
            return False
        if self.functions and not any(f in (sc.function, f"{sc.integration}/{sc.function}")
                                      for f in self.functions):
            return False
        return not (self.scenarios and sc.name not in self.scenarios)


def _update_command(sc: Scenario) -> str:
    return (f"pytest --snapshot-update --harness-function {sc.integration}/{sc.function} "
            f"--harness-scenario {sc.name}")


_FIXES = {"missing_snapshot": "run_tests with update=true (or `harness test --update`) writes it"}


def _verdict(project: Project, sc: Scenario, policy: Policy) -> dict[str, Any]:
    out: dict[str, Any] = {"id": sc.id, "integration": sc.integration, "function": sc.function,
                           "scenario": sc.name, "cassette": project.relative(sc.cassette),
                           "snapshot": project.relative(sc.snapshot), "status": "passed",
                           "failures": [], "warnings": [], "diff": []}
    try:
        verdict = judge(project, sc, policy, snapshot_settings(project))
    except HarnessError as exc:
        out.update(status="error", failures=[str(exc)])
        return out
    for finding in verdict.findings:
        if finding.kind == "wrote":
            continue
        (out["failures"] if finding.failing else out["warnings"]).append(finding.message)
        out["diff"].extend(finding.diff)
        if finding.failing and finding.kind == "replay_miss":
            out["fix"] = finding.command
        elif finding.failing and finding.kind == "stale_snapshot":
            out["fix"] = f"if the change is intended: run_tests with update=true (or `{_update_command(sc)}`)"
        elif finding.failing and finding.kind in _FIXES:
            out["fix"] = _FIXES[finding.kind]
    if verdict.written:
        out["written"] = True
    if not verdict.passed:
        out["status"] = "failed"
    return out


def scenario_verdicts(project: Project, selection: Selection | None = None, *, update: bool = False,
                      strict: bool = False) -> list[dict[str, Any]]:
    """One verdict per selected scenario: `{id, status: passed|failed|error, failures, warnings, diff, fix?}`."""
    wanted = selection or Selection()
    policy = Policy(strict=strict, update=update, write_missing=False, block_network=False)
    return [_verdict(project, sc, policy) for sc in find_scenarios(project) if wanted.wants(sc)]
