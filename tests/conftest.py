"""Shared fixtures: throw-away copies of the example project, the fake GitHub server, a blocked network."""

from __future__ import annotations

import functools
import gc
import importlib.metadata
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import hypothesis  # noqa: F401  # imported before the rest: see gc.disable() below
import pytest
from click.testing import CliRunner, Result

# Collection (pytest rewriting the asserts of ~80 test modules, the imports of harness and its dependencies)
# makes millions of short-lived objects and few cycles: the garbage collector's passes over the growing heap
# took ~1 s of a first run's collection. It is off from here until collection ends (pytest_collection below).
gc.disable()
# hypothesis was imported above, while the heap is small: its import runs its plugins' set-up, and trio's
# registers a PRNG with `register_random`, which collects and walks the whole heap (`gc.collect()`,
# `gc.get_referrers`): 0.3-0.5 s when a test module first imported it, late in collection.

from harness.cli import main  # noqa: E402
from tests import early  # noqa: E402
from tests.fakes.github_server import FakeGitHub  # noqa: E402
from tests.fakes.routing import RoutingTransport  # noqa: E402

pytest_plugins = ["pytester"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true",
                     help="Also run the tests marked slow (several processes or servers each; on under $CI).")


def pytest_configure(config: pytest.Config) -> None:
    _COLLECTING_ONLY.append(bool(config.option.collectonly))
    # A serial session starts tests/warmup.py on the other core, to fill while pytest collects the caches a
    # fresh clone's first run would otherwise fill on this one (under xdist the workers use both cores).
    if os.environ.get("PYTEST_XDIST_WORKER") or getattr(config.option, "numprocesses", None):
        return
    files: set[Path] = set()
    for arg in config.args:
        path = Path(config.invocation_params.dir, arg.split("::")[0])
        files.update(path.rglob("test_*.py") if path.is_dir() else [path] if path.name.startswith("test_") else [])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    # Left to finish on its own (seconds): killed at the session's end it could leave a temporary file behind.
    subprocess.Popen([sys.executable, "-m", "tests.warmup", *map(str, sorted(files))], env=env,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The slow tests (each says why in its docstring) run in CI, with --slow, or when -m selects them; a
    # developer's `pytest` skips them and stays fast.
    if config.getoption("--slow") or _ci() or config.getoption("markexpr"):
        return
    skip = pytest.mark.skip(reason="slow: run with --slow (CI runs it)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


_COLLECTING_ONLY: list[bool] = []


def _start_fork_server() -> None:
    if "tests.cli_process" in sys.modules and not any(_COLLECTING_ONLY):
        sys.modules["tests.cli_process"].start_server()  # once: later calls find it running


def pytest_collectreport(report: pytest.CollectReport) -> None:
    # The fork server of tests/cli_process.py starts as soon as a collected module has imported that module:
    # it imports harness (a second; on a fresh clone's first run, compiling it) on the other core while
    # collection goes on, instead of while the first tests that fork a process wait for it.
    _start_fork_server()


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session) -> Generator[None, object, object]:
    try:
        return (yield)
    finally:
        gc.enable()  # whatever collection did (under xdist its controller collects nothing)


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.enable()
    if not session.items or session.config.getoption("collectonly"):
        return
    # What collection built (every module, item and fixture definition) lives to the end of the session: kept
    # out of the garbage collector's passes, which walked it again and again; and fewer, larger young-generation
    # passes (the suite allocates fast). Cyclic garbage is still collected; the GC took ~4 s of a plain run.
    # Frozen without a collection first: that pass over the 400,000 objects took 0.3 s to free some 16,000
    # (collection's few cycles), which stay frozen instead, a few megabytes.
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    # What takes seconds to start starts now, on the other core, while the first tests run: the fork server
    # (if collection did not start it), and in a serial session that will use them, the browser of the report
    # tests and (on a machine's first run) the npm install of the Node SDK test.
    _start_fork_server()
    for name in ("test_reports_browser", "test_serve_node"):
        module = sys.modules.get(f"tests.{name}")
        if module is not None and not os.environ.get("PYTEST_XDIST_WORKER") and any(
                item.nodeid.startswith(f"tests/{name}.py") and not item.get_closest_marker("skip")
                for item in session.items):
            module.start_early()
    # The processes that tests only start and collect (tests/early.py) start ahead, one at a time, on the other
    # core; under xdist both cores are busy with tests, and each test starts its own.
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        early.queue(session.items, unset=("GITHUB_TOKEN", "HARNESS_PROJECT", "CI"))  # what _clean_env removes


def pytest_sessionfinish(session: pytest.Session) -> None:
    early.finish()  # nothing started ahead outlives the session (a test that failed first left its work)


REPO = Path(__file__).resolve().parents[1]
# A connection to the fake GitHub server: tests set GH_URL and GH_TOKEN for live runs.
GH_CONNECTIONS = """
connections:
  c1:
    provider: github
    integration: gh
    base_url: ${GH_URL:-http://127.0.0.1:9}
    credentials: {type: OAUTH2, access_token: "${GH_TOKEN}"}
"""
# The example's `demo` connection pointed at the fake GitHub server (GH_URL, GH_TOKEN), for live runs of it.
LIVE_DEMO_CONNECTIONS = """\
connections:
  demo:
    integration: github
    provider: github
    base_url: ${GH_URL}
    credentials: {type: OAUTH2, access_token: "${GH_TOKEN}"}
    metadata: {owner: octocat, repo: hello-world}
"""
PYPROJECT = """\
[tool.harness]
functions = "functions"
cassettes = "cassettes"
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own token or project must never leak into a test run.
    for name in ("GITHUB_TOKEN", "HARNESS_PROJECT", "CI"):
        monkeypatch.delenv(name, raising=False)


@functools.cache
def _example_tree() -> tuple[tuple[str, bytes | None], ...]:
    """The bundled example's folders (None) and files (their bytes), read once for the session."""
    tree: list[tuple[str, bytes | None]] = []
    for folder in ("functions", "cassettes", "fixtures"):
        tree.append((folder, None))
        for path in sorted((REPO / folder).rglob("*")):
            if "__pycache__" in path.parts:
                continue
            tree.append((str(path.relative_to(REPO)), None if path.is_dir() else path.read_bytes()))
    return tuple(tree)


def copy_example(root: Path) -> Path:
    """A copy of the bundled example project (functions, cassettes, fixtures, its pyproject.toml) at `root`.

    Its files are written from the bytes read once per session (0.5 ms a copy here, where `shutil.copytree`
    took 2 ms: the suite makes some 400 copies). The files are new: their times are now, not the checkout's."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, data in _example_tree():
        if data is None:
            (root / rel).mkdir()
        else:
            (root / rel).write_bytes(data)
    (root / "pyproject.toml").write_text(PYPROJECT)
    return root


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of the bundled example project (functions, cassettes, fixtures)."""
    return copy_example(tmp_path / "example")


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """Write a small project: `make_project({"github/syncs/x.py": "..."}, connections="...")`."""

    def make(files: dict[str, str], connections: str | None = None, pyproject: str = PYPROJECT) -> Path:
        return write_small_project(tmp_path / "proj", files, connections, pyproject)

    return make


def write_small_project(root: Path, files: dict[str, str], connections: str | None = None,
                        pyproject: str = PYPROJECT) -> Path:
    """What `make_project` writes, at `root` (for work that runs outside a test's fixtures: tests/early.py)."""
    for rel, text in files.items():
        path = root / "functions" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    (root / "fixtures").mkdir(parents=True, exist_ok=True)
    (root / "cassettes").mkdir(exist_ok=True)
    if connections is not None:
        (root / "fixtures" / "connections.yaml").write_text(textwrap.dedent(connections))
    (root / "pyproject.toml").write_text(pyproject)
    return root


class _ReadOnce(importlib.metadata.PathDistribution):
    """An installed distribution whose files are read and parsed once per session (see `pytester` below)."""

    @functools.cache  # noqa: B019  # one per installed distribution, kept for the session
    def read_text(self, filename: str) -> str | None:
        return super().read_text(filename)

    @functools.cached_property
    def metadata(self) -> importlib.metadata.PackageMetadata:
        return super().metadata

    @functools.cached_property
    def entry_points(self) -> importlib.metadata.EntryPoints:
        return super().entry_points

    @functools.cached_property
    def files(self) -> list[importlib.metadata.PackagePath] | None:
        return super().files


_READ_ONCE: dict[str, _ReadOnce] = {}
_DISTRIBUTIONS = importlib.metadata.distributions


def _distributions(**kwargs: Any) -> Iterator[importlib.metadata.Distribution]:
    """`importlib.metadata.distributions()`, the same distributions found anew on each call (sys.path as it is
    then), each one's metadata, entry points and file list read from disk the first time only."""
    for dist in _DISTRIBUTIONS(**kwargs):
        where = getattr(dist, "_path", None)
        if type(dist) is not importlib.metadata.PathDistribution or where is None:
            yield dist
            continue
        key = str(where)
        if key not in _READ_ONCE:
            _READ_ONCE[key] = _ReadOnce(Path(where))
        yield _READ_ONCE[key]


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytest's `pytester`, with the installed packages' metadata read once for the whole session.

    Each in-process pytest session walks every installed distribution three times (pluggy loading the `pytest11`
    entry points, pytest marking those plugins' files for assertion rewriting, the `plugins:` header line),
    reading and parsing each one's METADATA, entry_points.txt and RECORD: 15-20 ms of a ~90 ms session here.
    Nothing is installed while the suite runs, so what they read is the same every time; the sessions still
    discover, load and register their plugins themselves."""
    monkeypatch.setattr(importlib.metadata, "distributions", _distributions)
    return pytester


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub(issues=12) as gh:
        gh.rate_limit_reset = 1767261600
        yield gh


@pytest.fixture
def github_routes(fake_github: FakeGitHub) -> RoutingTransport:
    """Sends https://api.github.com to the fake server over real sockets."""
    return RoutingTransport({"https://api.github.com": fake_github.base_url})


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test. The patch is the whole process's: the thread running
    other tests' work ahead meanwhile (tests/early.py), and only that one, connects as it would."""

    def guard(real: Callable[..., Any]) -> Callable[..., Any]:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            if early.on_worker():
                return real(*args, **kwargs)
            raise AssertionError(f"network access attempted: {args!r}")

        return refuse

    monkeypatch.setattr(socket.socket, "connect", guard(socket.socket.connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guard(socket.socket.connect_ex))
    monkeypatch.setattr(socket, "create_connection", guard(socket.create_connection))
    monkeypatch.setattr(socket, "getaddrinfo", guard(socket.getaddrinfo))


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run the CLI in-process as a user would: `cli(project, "dryrun", "issues", "demo")`."""

    def invoke(project: Path, *args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(main, ["--project", str(project), *args], env=env, catch_exceptions=False)

    return invoke


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
