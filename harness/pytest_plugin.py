"""The pytest plugin (entry point `pytest11: harness`): scenario tests with no code, fixtures, CI gating.

Scenario items: one test per cassette of the project found at pytest's rootdir (`[tool.harness]` in its
`pyproject.toml`, or a `functions/` folder; `--harness-project DIR` overrides), with ids such as
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

import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .project import Project
    from .result import RunResult
    from .snapshots.document import SnapshotSettings
    from .testing import Scenario


class HarnessWarning(UserWarning):
    """A scenario finding that only fails the run in strict mode."""


@dataclass
class _State:
    project: Project | None
    strict: bool
    update: bool
    scenarios: str  # all | some | none
    under: list[Path] = field(default_factory=list)
    problem: str | None = None
    orphans: list[Path] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    _settings: SnapshotSettings | None = None

    @property
    def settings(self) -> SnapshotSettings:
        if self._settings is None:
            from .snapshots.document import SnapshotSettings

            prefixes = []
            if self.project is not None:
                prefixes = [str(self.project.root.resolve()) + os.sep, str(self.project.root) + os.sep]
            table = self.project.settings.get("snapshot") if self.project else None
            self._settings = SnapshotSettings.from_table(table, strip_prefixes=prefixes)
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


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _find_project(config: pytest.Config) -> tuple[Project | None, str | None]:
    from .errors import HarnessError
    from .project import load_project

    given = config.getoption("harness_project") or os.environ.get("HARNESS_PROJECT")
    root = Path(given) if given else config.rootpath
    if not given:
        pyproject = root / "pyproject.toml"
        has_table = pyproject.is_file() and "[tool.harness" in pyproject.read_text(encoding="utf-8")
        if not has_table and not (root / "functions").is_dir():
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
    strict = bool(config.getoption("harness_strict")) or _ci()
    update = bool(getattr(config.option, "update_snapshots", False))
    scope, under = _scope(config, project) if project is not None else ("none", [])
    state = _State(project, strict, update, scope, under, problem)
    config.stash[_STATE] = state
    from .errors import HarnessError

    try:
        if problem:
            raise HarnessError(problem)
        if project is not None:
            state.settings  # noqa: B018  (a bad [tool.harness.snapshot] is reported before collection)
    except HarnessError as exc:
        raise pytest.UsageError(f"harness: {exc}") from None
    if strict and getattr(config.option, "warn_unused_snapshots", False):
        # In CI an unused snapshot is a failure, whatever the local habit says.
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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash[_STATE]
    if state.project is None or state.scenarios == "none":
        return
    from .testing import find_scenarios

    scenarios = find_scenarios(state.project, state.under if state.scenarios == "some" else None)
    added = [ScenarioItem.from_parent(session, name=sc.id, nodeid=sc.id, path=sc.cassette, scenario=sc)
             for sc in scenarios if _wanted(config, sc)]
    items.extend(added)
    # Reported like a collected file, so "collected N items" and `--collect-only` count them.
    config.hook.pytest_collectreport(report=pytest.CollectReport("harness", "passed", None, [*added]))


class ScenarioFailure(Exception):
    """A scenario item's failure: the message is the whole report (no traceback)."""


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

    def _rel(self, path: Path) -> str:
        state = self.config.stash[_STATE]
        return state.project.relative(path) if state.project else str(path)

    def _fix(self, flag: str = "--snapshot-update") -> str:
        return (f"`pytest {flag} --harness-function {self.scenario.integration}/{self.scenario.function} "
                f"--harness-scenario {self.scenario.name}` (or `harness test --update`)")

    def runtest(self) -> None:
        from .atomic import write_atomic
        from .snapshots.diff import describe_differences
        from .snapshots.document import run_summary, snapshot_document
        from .snapshots.expected import expected_differences
        from .snapshots.format import compare
        from .testing import run_scenario

        state = self.config.stash[_STATE]
        assert state.project is not None
        sc = self.scenario
        ran = run_scenario(state.project, sc.function, sc.name, integration=sc.integration,
                           block_network=state.strict)
        self.harness_ran = ran  # read by the HTML report (harness.reports.pytest_html)
        result = ran.result
        failures: list[str] = []
        if result.error is not None and result.error.type == "replay_miss":
            raise ScenarioFailure(f"{sc.id}: {result.error.message}\n  fix: re-record with "
                                  f"`harness dryrun {sc.integration}/{sc.function} {result.connection_id} "
                                  f"--scenario {sc.name} --record`")
        if result.unplayed:
            shown = ", ".join(f"{u.get('method', '?')} {u.get('uri', u.get('path', '?'))}"
                              for u in result.unplayed[:5])
            message = (f"{sc.id}: {len(result.unplayed)} recorded interaction(s) never played in "
                       f"{self._rel(sc.cassette)}: {shown}; re-record with `harness dryrun "
                       f"{sc.integration}/{sc.function} {result.connection_id} --scenario {sc.name} --record` "
                       "or remove them from the cassette")
            if state.strict:
                failures.append(message)
            else:
                warnings.warn(HarnessWarning(message), stacklevel=1)
        doc = snapshot_document(result, state.settings)
        if ran.previous:
            doc["previous_runs"] = [run_summary(r) for r in ran.previous]
            unplayed_before = [u for r in ran.previous for u in r.unplayed]
            if unplayed_before:
                message = (f"{sc.id}: {len(unplayed_before)} recorded interaction(s) of the earlier runs were "
                           "never played; re-record the scenario's runs in order with --record --run N")
                if state.strict:
                    failures.append(message)
                else:
                    warnings.warn(HarnessWarning(message), stacklevel=1)
        if "expected" in ran.context:
            lines = expected_differences(ran.context["expected"], doc)
            if lines:
                failures.append(f"{sc.id}: the run does not match `expected:` in {self._rel(sc.cassette)}:\n"
                                + "\n".join(lines))
        path = sc.snapshot
        try:
            text: str | None = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = None
        cmp = compare(doc, text, state.settings.apply, self._rel(path))
        self.harness_comparison = cmp  # read by the HTML report
        same, mine = cmp.same, cmp.text
        if state.update:
            if not same:
                write_atomic(path, mine)
                state.written.append(self._rel(path))
        elif text is None:
            if state.strict:
                failures.append(f"{sc.id}: no snapshot: {self._rel(path)} does not exist; write it with "
                                f"{self._fix()} and commit it")
            else:
                write_atomic(path, mine)
                state.written.append(self._rel(path))
                warnings.warn(HarnessWarning(f"{sc.id}: wrote a new snapshot {self._rel(path)} (review and "
                                             "commit it; under CI a missing snapshot fails)"), stacklevel=1)
        elif not same:
            assert cmp.stored is not None and cmp.current is not None
            lines = (describe_differences(cmp.stored, cmp.current)
                     or ["  values differ only in type (e.g. 1 vs 1.0)"])
            failures.append(f"{sc.id}: the run differs from {self._rel(path)}:\n" + "\n".join(lines)
                            + f"\n  if the change is intended, accept it with {self._fix()}")
        if failures:
            raise ScenarioFailure("\n".join(failures))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = config.stash.get(_STATE, None)
    if state is None or state.project is None or state.scenarios != "all" or hasattr(config, "workerinput"):
        return
    from .testing import orphan_snapshots

    # A snapshot beside no cassette is unused whatever was selected: the decision needs no test to run,
    # so it is the same under xdist (taken once, in the controller) as serially.
    state.orphans = orphan_snapshots(state.project)
    if not state.orphans:
        return
    if state.update and not getattr(config.option, "no_cleanup_snapshots", False):
        for path in state.orphans:
            path.unlink(missing_ok=True)
        return
    if state.strict and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None or state.project is None:
        return
    project = state.project
    if state.written:
        terminalreporter.write_sep("-", "harness snapshots")
        for rel in state.written:
            terminalreporter.write_line(f"wrote {rel}")
    if state.orphans:
        terminalreporter.write_sep("-", "harness: unused snapshots")
        for path in state.orphans:
            rel = project.relative(path)
            if state.update and not getattr(config.option, "no_cleanup_snapshots", False):
                terminalreporter.write_line(f"deleted {rel} (its cassette no longer exists)")
                continue
            verdict = "error" if state.strict else "warning"
            terminalreporter.write_line(f"{verdict}: unused snapshot {rel}: its cassette no longer exists; "
                                        "delete it with `pytest --snapshot-update` (or `harness test --update`)")


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
    from .project import load_project
    from .session import DryRun, execute

    def run(function: str, connection: str, *, project: Any = None, **options: Any) -> RunResult:
        proj = load_project(project) if project is not None else None
        return execute(DryRun(function=function, connection_id=connection, project=proj, **options))

    return run


@pytest.fixture
def harness_project(request: pytest.FixtureRequest) -> Project:
    """The functions project the session found (or the one around the current folder)."""
    return _project(request.config, None)


@pytest.fixture
def harness_scenario(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                     ) -> Callable[..., RunResult]:
    """Replay a recorded scenario with overrides, time frozen at its recording:

    `harness_scenario("github/issues", "default", checkpoint={...}, metadata=..., input=...,
    interactions=[{"method": "GET", "path": "/x", "status": 200, "json": [...]}], faults=["503@2"],
    project=DIR)`.
    """
    from .testing import run_scenario

    def run(function: str, scenario: str = "default", *, project: Any = None, freeze: bool = True,
            block_network: bool = True, **overrides: Any) -> RunResult:
        proj = _project(request.config, project)
        scratch = tmp_path_factory.mktemp("scenario") if overrides.get("interactions") else None
        return run_scenario(proj, function, scenario, freeze=freeze, block_network=block_network,
                            scratch=scratch, **overrides).result

    return run


@pytest.fixture
def harness_live(request: pytest.FixtureRequest) -> Callable[..., RunResult]:
    """Run a function live against a fake: `harness_live("issues", "demo", base_url=fake.url)` or
    `transport=httpx.MockTransport(...)`; other keywords are `DryRun` fields (input, metadata, checkpoint,
    allow_writes, mode="record", scenario, ...)."""
    from .session import DryRun, execute
    from .testing import RedirectTransport

    def run(function: str, connection: str, *, base_url: str | None = None, transport: Any = None,
            project: Any = None, **options: Any) -> RunResult:
        proj = _project(request.config, project)
        network = transport
        if base_url is not None:
            network = RedirectTransport(base_url, inner=transport)
        options.setdefault("mode", "live")
        return execute(DryRun(function=function, connection_id=connection, project=proj, network=network,
                              **options))

    return run


@pytest.fixture
def harness_check(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Check a sync's invariants (resume from any checkpoint, idempotence) against a fake, opt-in:
    `report = harness_check("issues", "demo", base_url=fake.url); assert report.ok, report.to_json()`."""
    from .definitions import SyncDefinition
    from .invariants import Report, check_sync
    from .session import DryRun, execute, prepare
    from .testing import RedirectTransport

    def check(function: str, connection: str, *, base_url: str | None = None, transport: Any = None,
              project: Any = None, points: list[int] | None = None, **options: Any) -> Report:
        proj = _project(request.config, project)
        network = RedirectTransport(base_url, inner=transport) if base_url is not None else transport
        options.setdefault("mode", "live")
        base = DryRun(function=function, connection_id=connection, project=proj, network=network, **options)
        prepared = prepare(base)
        definition = prepared.definition
        if not isinstance(definition, SyncDefinition):
            raise pytest.UsageError(f"harness_check: {definition.qualified_name} is not a sync")
        return check_sync(definition, lambda **kw: execute(DryRun(**{**vars(base), **kw}), prepared), points=points)

    return check


@pytest.fixture
def harness_fuzz(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Fuzz an action's input from its model, answering from a recorded scenario (closest request):
    `report = harness_fuzz("github/create-issue", examples=50); assert report.ok, report.failure`."""
    from .definitions import ActionDefinition
    from .fuzz import FuzzReport, fuzz_action
    from .session import LOOSE, DryRun, execute, prepare

    def fuzz(function: str, connection: str | None = None, *, scenario: str = "default", examples: int = 100,
             seed: int = 0, project: Any = None) -> FuzzReport:
        proj = _project(request.config, project)
        base = DryRun(function=function, connection_id=connection or "", mode=LOOSE, scenario=scenario, project=proj)
        prepared = prepare(base)
        definition = prepared.definition
        if not isinstance(definition, ActionDefinition):
            raise pytest.UsageError(f"harness_fuzz: {definition.qualified_name} is not an action")
        if not base.connection_id:
            from .cassettes.format import load_cassette

            stored = load_cassette(prepared.cassette_path).context.get("connection") or {}
            base.connection_id = str(stored.get("connection_id") or "")
        return fuzz_action(definition.qualified_name, definition.input,
                           lambda value: execute(DryRun(**{**vars(base), "input": value}), prepared),
                           examples=examples, seed=seed)

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
