"""The one scenario verdict: does a recorded scenario still pass, and what gates CI.

`judge` replays a scenario (every run of a multi-run one) through the pipeline and decides, in one place,
every gating question: a replay miss, unplayed interactions, a mismatch with an imported `expected:`
section, and the snapshot (missing, stale, matching; written when updating, or when missing outside strict
mode). `unused_snapshots` decides the project-level one: snapshots no cassette owns. The pytest plugin,
`harness dev`, `harness test` (pytest) and deploy's gate (pytest under CI) all use these, so they agree.

Strict mode (CI, `--harness-strict`) turns a missing snapshot, an unused snapshot and unplayed
interactions into failures; outside it they are warnings and a missing snapshot is written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .pipeline import Outcome, RunRequest, execute
from .project import Project
from .scenarios import Scenario, orphan_snapshots
from .snapshots.diff import describe_differences
from .snapshots.document import SnapshotSettings, run_summary, snapshot_document
from .snapshots.expected import expected_differences
from .snapshots.files import Comparison, SnapshotFileError, compare_file
from .unset import UNSET


def ci_from_env() -> bool:
    """Whether this runs under CI (`harness.ci.under_ci`)."""
    from .ci import under_ci

    return under_ci()


@dataclass(frozen=True)
class Policy:
    strict: bool = False  # CI gating
    update: bool = False  # accept changes: write new and changed snapshots
    update_new_only: bool = False  # write only snapshots that do not exist yet
    block_network: bool | None = None  # default: when strict
    # Outside strict mode a missing snapshot is written (pytest's local habit); an agent's test run never
    # writes behind its back, so there it is a failure instead.
    write_missing: bool = True

    @classmethod
    def from_env(cls, *, strict: bool = False, update: bool = False, update_new_only: bool = False) -> Policy:
        return cls(strict=strict or ci_from_env(), update=update, update_new_only=update_new_only)


def snapshot_settings(project: Project) -> SnapshotSettings:
    """The project's `[tool.harness.snapshot]` settings (absolute project paths are stripped from values)."""
    prefixes = [str(project.root.resolve()) + os.sep, str(project.root) + os.sep]
    return SnapshotSettings.from_table(project.settings.get("snapshot"), strip_prefixes=prefixes)


@dataclass
class Finding:
    """One thing the verdict found about a scenario, structured so each face words it its own way."""

    kind: str  # replay_miss | unplayed | unplayed_earlier | expected | missing_snapshot | stale_snapshot | wrote
    message: str  # one line, without the scenario id
    failing: bool = True  # False: a warning (or a note, for `wrote`)
    diff: list[str] = field(default_factory=list)  # record-level lines (stale snapshot, expected mismatch)
    command: str | None = None  # the re-record command (replay miss, unplayed interactions)

    def text(self, scenario: Scenario, policy: Policy) -> str:
        """The finding as the pytest plugin and `harness dev` print it."""
        head = f"{scenario.id}: {self.message}"
        if self.kind == "replay_miss":
            return f"{head}\n  fix: re-record with `{self.command}`"
        if self.kind == "unplayed":
            return f"{head}; re-record with `{self.command}` or remove them from the cassette"
        if self.kind == "expected":
            return f"{head}:\n" + "\n".join(self.diff)
        if self.kind == "missing_snapshot":
            return f"{head}; write it with {fix_command(scenario)} and commit it"
        if self.kind == "stale_snapshot":
            return (f"{head}:\n" + "\n".join(self.diff)
                    + f"\n  if the change is intended, accept it with {fix_command(scenario)}")
        return head


@dataclass
class Verdict:
    scenario: Scenario
    policy: Policy
    findings: list[Finding] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # project-relative snapshot paths written
    outcome: Outcome | None = None
    # The snapshot as stored and as this run makes it (set when they differ), for reports.
    stored: dict[str, Any] | None = None
    current: dict[str, Any] | None = None
    comparison: Comparison | None = None

    @property
    def failures(self) -> list[str]:
        return [f.text(self.scenario, self.policy) for f in self.findings if f.failing]

    @property
    def warnings(self) -> list[str]:
        return [f.text(self.scenario, self.policy) for f in self.findings if not f.failing]

    @property
    def passed(self) -> bool:
        return not any(f.failing for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {"scenario": self.scenario.id, "passed": self.passed, "failures": self.failures,
                "warnings": self.warnings, "written": self.written}


def fix_command(scenario: Scenario, flag: str = "--snapshot-update") -> str:
    return (f"`pytest {flag} --harness-function {scenario.qualified_function} --harness-scenario "
            f"{scenario.name}` (or `harness test --update`)")


def rerecord_command(scenario: Scenario, connection_id: str) -> str:
    return f"harness dryrun {scenario.qualified_function} {connection_id} --scenario {scenario.name} --record"


def _write(project: Project, path: Path, text: str) -> None:
    """A snapshot is written after the final scan for the project's known secrets (refused if one is there)."""
    from .secrets.connection_secrets import project_scrubber
    from .snapshots.files import write_snapshot

    write_snapshot(path, text, project_scrubber(project), project.relative(path))


def judge(project: Project, scenario: Scenario, policy: Policy, settings: SnapshotSettings | None = None
          ) -> Verdict:
    """Replay `scenario` and decide whether it passes under `policy` (writing snapshots the policy allows)."""
    settings = settings or snapshot_settings(project)
    verdict = Verdict(scenario, policy)
    block = policy.strict if policy.block_network is None else policy.block_network
    outcome = execute(RunRequest(function=scenario.qualified_function, scenario=scenario.name, mode="replay",
                                 run=None, project=project, block_network=block,
                                 # The snapshot is built from every record: spilling them would only
                                 # add a write and a read. Held as their lines, they are shared with
                                 # the in-memory store and are the snapshot's lines already.
                                 records_in_memory=None, records_as_lines=True))
    verdict.outcome = outcome
    result = outcome.result
    sc, rel, found = scenario, project.relative, verdict.findings
    rerecord = rerecord_command(sc, result.connection_id)

    if result.error is not None and result.error.type == "replay_miss":
        found.append(Finding("replay_miss", result.error.message, command=rerecord))
        return verdict
    if result.unplayed:
        shown = ", ".join(f"{u.get('method', '?')} {u.get('uri', u.get('path', '?'))}" for u in result.unplayed[:5])
        found.append(Finding("unplayed", f"{len(result.unplayed)} recorded interaction(s) never played in "
                             f"{rel(sc.cassette)}: {shown}", failing=policy.strict, command=rerecord))
    unfired = [i for i in result.issues if i.kind == "fault"]
    if unfired:
        found.append(Finding("unfired_faults", f"{len(unfired)} injected fault(s) never fired: {unfired[0].message}",
                             failing=policy.strict))
    doc = snapshot_document(result, settings)
    if outcome.previous:
        doc["previous_runs"] = [run_summary(r) for r in outcome.previous]
        unplayed_before = [u for r in outcome.previous for u in r.unplayed]
        if unplayed_before:
            found.append(Finding("unplayed_earlier", f"{len(unplayed_before)} recorded interaction(s) of the "
                                 "earlier runs were never played; re-record the scenario's runs in order with "
                                 "--record --run N", failing=policy.strict))
    context = outcome.context
    if context is not None and context.expected is not UNSET:
        lines = expected_differences(context.expected, doc)
        if lines:
            found.append(Finding("expected", f"the run does not match `expected:` in {rel(sc.cassette)}", diff=lines))
    path = sc.snapshot
    try:
        cmp = compare_file(doc, path, settings.apply, rel(path))
    except SnapshotFileError:
        if not policy.update or policy.update_new_only:
            raise
        cmp = Comparison(False, doc)  # unreadable: --snapshot-update rewrites it, as the error says
    verdict.comparison = cmp
    if policy.update and (not cmp.exists or not policy.update_new_only):
        if not cmp.same:
            _write(project, path, cmp.text)
            verdict.written.append(rel(path))
    elif not cmp.exists:
        if policy.strict or not policy.write_missing:
            found.append(Finding("missing_snapshot", f"no snapshot: {rel(path)} does not exist"))
        else:
            _write(project, path, cmp.text)
            verdict.written.append(rel(path))
            found.append(Finding("wrote", f"wrote a new snapshot {rel(path)} (review and commit it; under CI a "
                                 "missing snapshot fails)", failing=False))
    elif not cmp.same:
        assert cmp.stored is not None and cmp.current is not None
        verdict.stored, verdict.current = cmp.stored, cmp.current
        lines = describe_differences(cmp.stored, cmp.current) or ["  values differ only in type (e.g. 1 vs 1.0)"]
        found.append(Finding("stale_snapshot", f"the run differs from {rel(path)}", diff=lines))
    return verdict


@dataclass
class UnusedSnapshots:
    """The project-level verdict on snapshots whose cassette no longer exists."""

    paths: list[Path]
    deleted: bool = False

    def failing(self, policy: Policy) -> bool:
        return bool(self.paths) and policy.strict and not self.deleted

    def lines(self, project: Project, policy: Policy) -> list[str]:
        out = []
        for path in self.paths:
            rel = project.relative(path)
            if self.deleted:
                out.append(f"deleted {rel} (its cassette no longer exists)")
            else:
                level = "error" if policy.strict else "warning"
                out.append(f"{level}: unused snapshot {rel}: its cassette no longer exists; delete it with "
                           "`pytest --snapshot-update` (or `harness test --update`)")
        return out


def unused_snapshots(project: Project, policy: Policy, *, cleanup: bool = True) -> UnusedSnapshots:
    """Snapshots no cassette owns; deleted when updating (and `cleanup`), else a failure in strict mode."""
    found = UnusedSnapshots(orphan_snapshots(project))
    if found.paths and policy.update and not policy.update_new_only and cleanup:
        for path in found.paths:
            path.unlink(missing_ok=True)
        found.deleted = True
    return found
