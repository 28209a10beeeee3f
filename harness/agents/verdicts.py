"""Scenario verdicts without pytest: replay each selected scenario and compare it with its snapshot.

The same judgement the pytest plugin's scenario items make (`ScenarioItem.runtest`): a replay miss fails
with the re-record command; an imported `expected:` section must match; the run's snapshot document is
compared with `<scenario>.snapshot.json` and a difference is reported record by record; unplayed
interactions are a failure in strict mode and a warning otherwise. Unlike a local pytest run, a missing
snapshot is not written unless `update` (an agent asked to test should not change files behind its back).

Stand-in: the engine is getting one scenario-verdict module shared by every face; `scenario_verdicts` is
the one entry point here, so it can be swapped for that module's without touching its callers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import HarnessError
from ..project import Project
from ..testing import Scenario


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


def _verdict(project: Project, sc: Scenario, *, update: bool, strict: bool) -> dict[str, Any]:
    from ..atomic import write_atomic
    from ..snapshots.diff import describe_differences
    from ..snapshots.document import SnapshotSettings, run_summary, snapshot_document
    from ..snapshots.expected import expected_differences
    from ..snapshots.format import compare
    from ..testing import run_scenario

    out: dict[str, Any] = {"id": sc.id, "integration": sc.integration, "function": sc.function,
                           "scenario": sc.name, "cassette": project.relative(sc.cassette),
                           "snapshot": project.relative(sc.snapshot), "status": "passed",
                           "failures": [], "warnings": [], "diff": []}
    failures: list[str] = out["failures"]
    warnings: list[str] = out["warnings"]
    try:
        ran = run_scenario(project, sc.function, sc.name, integration=sc.integration)
    except HarnessError as exc:
        out.update(status="error", failures=[str(exc)])
        return out
    result = ran.result
    rerecord = (f"harness dryrun {sc.integration}/{sc.function} {result.connection_id} --scenario {sc.name} "
                "--record")
    if result.error is not None and result.error.type == "replay_miss":
        out.update(status="failed", failures=[result.error.message], fix=rerecord)
        return out
    if result.unplayed:
        message = (f"{len(result.unplayed)} recorded interaction(s) never played: "
                   + ", ".join(f"{u.get('method', '?')} {u.get('uri', '?')}" for u in result.unplayed[:5]))
        (failures if strict else warnings).append(message)
    prefixes = [str(project.root.resolve()) + os.sep, str(project.root) + os.sep]
    settings = SnapshotSettings.from_table(project.settings.get("snapshot"), strip_prefixes=prefixes)
    doc = snapshot_document(result, settings)
    if ran.previous:
        doc["previous_runs"] = [run_summary(r) for r in ran.previous]
        if any(r.unplayed for r in ran.previous):
            (failures if strict else warnings).append("recorded interactions of the earlier runs were never played")
    if "expected" in ran.context:
        lines = expected_differences(ran.context["expected"], doc)
        if lines:
            failures.append(f"the run does not match `expected:` in {out['cassette']}")
            out["diff"].extend(lines)
    try:
        text: str | None = sc.snapshot.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = None
    cmp = compare(doc, text, settings.apply, out["snapshot"])
    if update and not cmp.same:
        write_atomic(sc.snapshot, cmp.text)
        out["written"] = True
    elif text is None:
        failures.append(f"no snapshot: {out['snapshot']} does not exist")
        out["fix"] = "run_tests with update=true (or `harness test --update`) writes it"
    elif not cmp.same:
        assert cmp.stored is not None and cmp.current is not None
        failures.append(f"the run differs from {out['snapshot']}")
        out["diff"].extend(describe_differences(cmp.stored, cmp.current)
                           or ["  values differ only in type (e.g. 1 vs 1.0)"])
        out["fix"] = f"if the change is intended: run_tests with update=true (or `{_update_command(sc)}`)"
    if failures:
        out["status"] = "failed"
    return out


def scenario_verdicts(project: Project, selection: Selection | None = None, *, update: bool = False,
                      strict: bool = False) -> list[dict[str, Any]]:
    """One verdict per selected scenario: `{id, status: passed|failed|error, failures, warnings, diff, fix?}`."""
    from ..testing import find_scenarios

    wanted = selection or Selection()
    return [_verdict(project, sc, update=update, strict=strict) for sc in find_scenarios(project)
            if wanted.wants(sc)]
