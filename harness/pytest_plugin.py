"""The pytest plugin (entry point `pytest11: harness`): scenario tests with no code, fixtures, CI gating.

This file only wires options, items, fixtures and hooks; the engine decides: `harness.pipeline` runs,
`harness.verdict` judges each scenario and the unused snapshots.

Scenario items: one test per cassette of the project found at pytest's rootdir (`[tool.harness]` in its
`pyproject.toml`; `--harness-project DIR` overrides), with ids such as
`github/issues[default]`. They are added once per session by `pytest_collection_modifyitems` (not by
walking files, so running `pytest tests/` still gets them and nothing is collected twice): all of them
when every command-line path is a directory (`pytest`, `pytest tests`), else only those whose cassette
lies under a given path (`pytest cassettes/github`). Each replays its scenario with time frozen at the
recording, compares the whole-run snapshot beside the cassette (`<scenario>.snapshot.json`), checks an
imported `expected:` section, and reports unplayed interactions.

Strict mode (`--harness-strict`, or `CI` set to anything but `0`/`false`/empty) turns a scenario without a
snapshot, an unused snapshot and an unplayed interaction into failures, keeps syrupy's unused-snapshot
failure on, and blocks sockets during scenario items. `--snapshot-update` (syrupy's option) writes and
deletes snapshot files instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .fuzz import FuzzReport
    from .invariants import Report
    from .project import Project
    from .result import RunResult
    from .scenarios import Scenario
    from .snapshots.document import SnapshotSettings
    from .verdict import Policy


class HarnessWarning(UserWarning):
    """A scenario finding that only fails the run in strict mode."""


@dataclass
class _State:
    project: Project | None
    policy: Policy
    scenarios: str  # all | some | none
    under: list[Path] = field(default_factory=list)
    problem: str | None = None
    written: list[str] = field(default_factory=list)
    _settings: SnapshotSettings | None = None

    @property
    def settings(self) -> SnapshotSettings:
        if self._settings is None:
            from .verdict import snapshot_settings

            assert self.project is not None
            self._settings = snapshot_settings(self.project)
        return self._settings


_STATE = pytest.StashKey[_State]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "harness: scenario tests of integration functions")
    group.addoption("--harness-project", default=None, metavar="DIR",
                    help="The functions project (default: pytest's rootdir when it is one).")
    group.addoption("--harness-integration", action="append", default=[], metavar="NAME",
                    help="Only scenario tests of this integration (repeatable).")
    group.addoption("--harness-function", action="append", default=[], metavar="NAME",
                    help="Only scenario tests of this function (repeatable; NAME or INTEGRATION/NAME).")
    group.addoption("--harness-scenario", action="append", default=[], metavar="NAME",
                    help="Only scenario tests of this scenario name (repeatable).")
    group.addoption("--harness-strict", action="store_true", default=False,
                    help="CI gating (also on when $CI is set): missing or unused snapshots and unplayed "
                         "interactions fail; sockets are blocked during scenario tests.")
    group.addoption("--harness-no-scenarios", action="store_true", default=False,
                    help="Do not add the scenario tests (hand-written tests only).")
    from .reports.pytest_html import add_option  # --harness-html (harness.reports)

    add_option(group)


def _find_project(config: pytest.Config) -> tuple[Project | None, str | None]:
    """The project this session is about: `--harness-project`, else the rootdir when its pyproject.toml has
    `[tool.harness]`; None anywhere else (the plugin then does nothing)."""
    from .errors import HarnessError
    from .project import load_project

    given = config.getoption("harness_project")
    root = Path(given) if given else config.rootpath
    if not given:
        pyproject = root / "pyproject.toml"
        try:
            has_table = pyproject.is_file() and "[tool.harness" in pyproject.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            has_table = False
        if not has_table:
            return None, None
    try:
        return load_project(root), None
    except HarnessError as exc:
        return None, str(exc)


def _scope(config: pytest.Config, project: Project) -> tuple[str, list[Path]]:
    """Which scenarios this run is about, from the command-line paths (see the module docstring)."""
    if config.getoption("harness_no_scenarios"):
        return "none", []
    base = config.invocation_params.dir
    paths = [(base / str(arg).split("::")[0]).resolve() for arg in config.args]
    if not paths or all(p.is_dir() for p in paths):
        cassettes = project.cassettes_dir.resolve()
        inside = [p for p in paths if p == cassettes or cassettes in p.parents]
        # `pytest cassettes/github` narrows; `pytest` or `pytest tests` takes every scenario.
        return ("some", inside) if inside and len(inside) == len(paths) else ("all", [])
    cassettes = project.cassettes_dir.resolve()
    inside = [p for p in paths if p == cassettes or cassettes in p.parents]
    return ("some", inside) if inside else ("none", [])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "harness_scenario: a scenario test added by the harness plugin")
    project, problem = _find_project(config)
    if project is None and problem is None:
        return  # not a harness project: nothing else happens
    from .errors import HarnessError
    from .verdict import Policy

    new_only = bool(getattr(config.option, "update_new_snapshots_only", False))
    policy = Policy.from_env(strict=bool(config.getoption("harness_strict")), update_new_only=new_only,
                             update=bool(getattr(config.option, "update_snapshots", False)) or new_only)
    scope, under = _scope(config, project) if project is not None else ("none", [])
    state = _State(project, policy, scope, under, problem)
    config.stash[_STATE] = state
    config.pluginmanager.register(_Reporter(state), "harness-reporter")
    try:
        if problem:
            raise HarnessError(problem)
        state.settings  # noqa: B018  (a bad [tool.harness.snapshot] is reported before collection)
    except HarnessError as exc:
        raise pytest.UsageError(f"harness: {exc}") from None
    if policy.strict and getattr(config.option, "warn_unused_snapshots", False):
        # In a harness project's CI an unused snapshot is a failure, whatever the local habit says (only
        # here: anywhere else the plugin has returned above and touches nothing).
        config.option.warn_unused_snapshots = False
    from .reports.pytest_html import configure as configure_html_report

    configure_html_report(config)


def _wanted(config: pytest.Config, scenario: Scenario) -> bool:
    integrations = config.getoption("harness_integration")
    functions = config.getoption("harness_function")
    names = config.getoption("harness_scenario")
    if integrations and scenario.integration not in integrations:
        return False
    if functions and not any(f in (scenario.function, f"{scenario.integration}/{scenario.function}")
                             for f in functions):
        return False
    return not (names and scenario.name not in names)


def _scenario_at(project: Project, path: Path) -> Scenario | None:
    """The scenario whose cassette (run 1) is `path`, if it is one."""
    from .cassettes.locations import is_cassette_file
    from .scenarios import LATER_RUN, Scenario

    if not is_cassette_file(path) or LATER_RUN.search(path.stem):
        return None
    try:
        rel = path.resolve().relative_to(project.cassettes_dir.resolve())
    except ValueError:
        return None
    if len(rel.parts) != 3:
        return None
    return Scenario(rel.parts[0], rel.parts[1], path.stem, path)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    state = parent.config.stash.get(_STATE, None)
    if state is None or state.project is None or state.scenarios == "none":
        return None
    scenario = _scenario_at(state.project, file_path)
    if scenario is None or not _wanted(parent.config, scenario):
        return None
    return CassetteFile.from_parent(parent, path=file_path, scenario=scenario)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash.get(_STATE, None)
    if state is None or state.project is None or state.scenarios == "none":
        return
    from .scenarios import find_scenarios, orphan_snapshots

    # Scenarios whose cassette pytest did not walk (`pytest`, `pytest tests`) join as if it had.
    present = {item.scenario.cassette.resolve() for item in items if isinstance(item, ScenarioItem)}
    scenarios = find_scenarios(state.project, state.under if state.scenarios == "some" else None)
    added: list[pytest.Item] = []
    for sc in scenarios:
        if _wanted(config, sc) and sc.cassette.resolve() not in present:
            added.extend(CassetteFile.from_parent(session, path=sc.cassette, scenario=sc).collect())
    if state.scenarios == "all" and orphan_snapshots(state.project):
        # A failing (or, when updating, deleting) item of its own, so the summary counts it; a `-k` or `-m`
        # selection deselects it like any other item, so a filtered update deletes nothing.
        added.append(UnusedSnapshotsItem.from_parent(session, name="unused-snapshots",
                                                     nodeid=f"{state.project.relative(state.project.cassettes_dir)}"
                                                            "::unused-snapshots"))
    items.extend(added)
    # Reported like a collected file, so "collected N items" and `--collect-only` count them.
    config.hook.pytest_collectreport(report=pytest.CollectReport("harness", "passed", None, [*added]))


class ScenarioFailure(Exception):
    """A scenario item's failure: the message is the whole report (no traceback)."""


class CassetteFile(pytest.File):
    """A scenario's cassette as pytest sees it: one file, one item (`pytest cassettes/.../default.yaml`)."""

    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario

    def collect(self) -> list[pytest.Item]:
        return [ScenarioItem.from_parent(self, name=self.scenario.id, scenario=self.scenario)]


class UnusedSnapshotsItem(pytest.Item):
    """Snapshots no cassette owns: fails under CI, warns locally, deletes them with --snapshot-update."""

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, "harness: unused snapshots"

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return str(excinfo.value) if isinstance(excinfo.value, ScenarioFailure) else str(super().repr_failure(excinfo))

    def runtest(self) -> None:
        from .verdict import unused_snapshots

        state = self.config.stash[_STATE]
        assert state.project is not None
        cleanup = not getattr(self.config.option, "no_cleanup", False)
        unused = unused_snapshots(state.project, state.policy, cleanup=cleanup)
        lines = unused.lines(state.project, state.policy)
        if unused.failing(state.policy):
            raise ScenarioFailure("\n".join(lines))
        self.user_properties.extend(("harness_written", line) for line in lines)
        for line in lines:
            if not unused.deleted:
                warnings.warn(HarnessWarning(line), stacklevel=1)


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.add_marker("harness_scenario")
        self.extra_keyword_matches.update({scenario.integration, scenario.function, scenario.name})

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.scenario.id

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailure):
            return str(excinfo.value)
        from .errors import HarnessError

        if isinstance(excinfo.value, HarnessError):
            return f"{self.scenario.id}: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def runtest(self) -> None:
        from .verdict import judge

        state = self.config.stash[_STATE]
        assert state.project is not None
        verdict = judge(state.project, self.scenario, state.policy, state.settings)
        # Read by the HTML report (harness.reports.pytest_html), which forgets them after the item's report.
        self.harness_ran = verdict.outcome
        self.harness_comparison = verdict.comparison
        self.user_properties.extend(("harness_written", rel) for rel in verdict.written)
        for message in verdict.warnings:
            warnings.warn(HarnessWarning(message), stacklevel=1)
        if verdict.failures:
            raise ScenarioFailure("\n".join(verdict.failures))


class _Reporter:
    """Session hooks registered only in a harness project: what scenario items wrote, from any worker."""

    def __init__(self, state: _State) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # Snapshot writes travel in the report, so a run under xdist lists those its workers made.
        if report.when == "call":
            self.state.written.extend(str(value) for name, value in report.user_properties
                                      if name == "harness_written")

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        if self.state.written and not hasattr(config, "workerinput"):
            terminalreporter.write_sep("-", "harness snapshots")
            for line in self.state.written:
                terminalreporter.write_line(line if line.startswith(("deleted ", "warning: ")) else f"wrote {line}")


# -- fixtures for hand-written tests ---------------------------------------------------------------------


def _project(config: pytest.Config, given: Any) -> Project:
    from .project import load_project

    if given is not None:
        return load_project(Path(given))
    state = config.stash.get(_STATE, None)
    if state is not None and state.project is not None:
        return state.project
    return load_project()


@pytest.fixture
def harness_run() -> Callable[..., RunResult]:
    """`harness_run("issues", "demo", mode="replay", input=..., project=Path(...))` -> RunResult."""
    from .pipeline import RunRequest, run_request
    from .project import load_project

    def run(function: str, connection: str, *, project: Any = None, **options: Any) -> RunResult:
        proj = load_project(project) if project is not None else None
        return run_request(RunRequest(function=function, connection_id=connection, project=proj, **options))

    return run


@pytest.fixture
def harness_project(request: pytest.FixtureRequest) -> Project:
    """The functions project the session found (or the one around the current folder)."""
    return _project(request.config, None)


@pytest.fixture
def harness_scenario(request: pytest.FixtureRequest) -> Callable[..., RunResult]:
    """Replay a recorded scenario with overrides, time frozen at its recording:

    `harness_scenario("github/issues", "default", checkpoint={...}, metadata=..., input=...,
    interactions=[{"method": "GET", "path": "/x", "status": 200, "json": [...]}], faults=["503@2"],
    project=DIR)`.
    """
    from .pipeline import RunRequest, run_request

    def run(function: str, scenario: str = "default", *, project: Any = None, freeze: bool = True,
            block_network: bool = True, **overrides: Any) -> RunResult:
        proj = _project(request.config, project)
        number = 1 if overrides.get("interactions") else None
        return run_request(RunRequest(function=function, scenario=scenario, mode="replay", run=number,
                                      project=proj, freeze=freeze, block_network=block_network, **overrides))

    return run


@pytest.fixture
def harness_live(request: pytest.FixtureRequest) -> Callable[..., RunResult]:
    """Run a function live against a fake: `harness_live("issues", "demo", base_url=fake.url)` or
    `transport=httpx.MockTransport(...)`; other keywords are `RunRequest` fields (input, metadata,
    checkpoint, allow_writes, mode="record", scenario, ...)."""
    from .pipeline import RunRequest, run_request

    def run(function: str, connection: str, *, base_url: str | None = None, transport: Any = None,
            project: Any = None, **options: Any) -> RunResult:
        proj = _project(request.config, project)
        options.setdefault("mode", "live")
        return run_request(RunRequest(function=function, connection_id=connection, project=proj, network=transport,
                                      redirect=base_url, **options))

    return run


@pytest.fixture
def harness_check(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Check a sync's invariants (resume from any checkpoint, idempotence) against a fake, opt-in:
    `report = harness_check("issues", "demo", base_url=fake.url); assert report.ok, report.to_json()`."""
    from .errors import UsageError
    from .invariants import check_request
    from .pipeline import RunRequest

    def check(function: str, connection: str, *, base_url: str | None = None, transport: Any = None,
              project: Any = None, points: list[int] | None = None, **options: Any) -> Report:
        proj = _project(request.config, project)
        options.setdefault("mode", "live")
        req = RunRequest(function=function, connection_id=connection, project=proj, network=transport,
                         redirect=base_url, **options)
        try:
            return check_request(req, points=points)
        except UsageError as exc:
            raise pytest.UsageError(f"harness_check: {exc}") from None

    return check


@pytest.fixture
def harness_fuzz(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Fuzz an action's input from its model, answering from a recorded scenario (closest request):
    `report = harness_fuzz("github/create-issue", examples=50); assert report.ok, report.failure`."""
    from .errors import UsageError
    from .fuzz import fuzz_request
    from .pipeline import RunRequest

    def fuzz(function: str, connection: str | None = None, *, scenario: str = "default", examples: int = 100,
             seed: int = 0, project: Any = None) -> FuzzReport:
        proj = _project(request.config, project)
        req = RunRequest(function=function, connection_id=connection or "", scenario=scenario, project=proj)
        try:
            return fuzz_request(req, examples=examples, seed=seed)
        except UsageError as exc:
            raise pytest.UsageError(f"harness_fuzz: {exc}") from None

    return fuzz


@pytest.fixture
def harness_snapshot(request: pytest.FixtureRequest) -> Iterator[Any]:
    """syrupy's `snapshot` with the harness extension: `assert result == harness_snapshot`."""
    from .snapshots.extension import HarnessSnapshotExtension

    snapshot = request.getfixturevalue("snapshot")
    state = request.config.stash.get(_STATE, None)
    settings = state.settings if state is not None and state.project is not None else None
    ext = HarnessSnapshotExtension.configured(settings) if settings is not None else HarnessSnapshotExtension
    yield snapshot.use_extension(ext)
