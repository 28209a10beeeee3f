"""Crash leftovers: a run killed with SIGKILL at a chosen step (`$HARNESS_TEST_KILL_AT`) leaves nothing torn,
and whatever it left is removed (or recovered, or reported) by the next run. No timing: the process kills
itself at the named point.

The tests that only run processes in folders of their own do that work ahead, on the other core
(tests/early.py): each test's body is its work function, just above it, asserts included (they fail the
test when it collects the work); the test itself only collects it."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness import atomic, scratch
from harness.atomic import sweep_folder, write_atomic
from harness.crashpoints import ENV
from tests import cli_process, early
from tests.fakes.github_server import FakeGitHub

from .conftest import GH_CONNECTIONS, copy_example, write_small_project
from .test_sync_semantics import FULL


def harness(project: Path, *args: str, kill_at: str | None = None, env: dict[str, str] | None = None,
            interpreter: bool = False, ctx: early.Context | None = None) -> subprocess.CompletedProcess[str]:
    """`harness ...` in its own process, optionally killed at a crash point: forked from a warm copy
    (tests/cli_process.py), or with `interpreter` a new `python -m harness`, as a user starts it. With `ctx`
    (work done ahead), in that work's environment and folder, its processes owned by it."""
    full = {**(os.environ if ctx is None else ctx.env), **(env or {})}
    full.pop(ENV, None)
    full.pop("CI", None)
    if kill_at:
        full[ENV] = kill_at
    argv = ["--project", str(project), *args]
    cwd = Path.cwd() if ctx is None else ctx.cwd
    if not interpreter:
        if ctx is None:
            return cli_process.run(argv, env=full)
        return ctx.forked(cli_process.HarnessProcess(argv, cwd=cwd, env=full))
    command = [sys.executable, "-m", "harness", *argv]
    if ctx is None:
        return subprocess.run(command, env=full, capture_output=True, text=True, timeout=180, check=False)
    return ctx.run(command, env=full, cwd=cwd, capture_output=True, text=True, timeout=180)


def killed(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stderr)


def leftovers(root: Path) -> list[str]:
    """Temporary files and folders of ours anywhere under `root`."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if (p.name.endswith(".tmp") and p.name.startswith("."))
                  or p.name.startswith(".incoming-") or scratch.tag_of(p.name) is not None)


# -- atomic writes and scratch stores ------------------------------------------------------------------------
@contextlib.contextmanager
def live(ctx: early.Context) -> Iterator[tuple[Path, dict[str, str]]]:
    """A project with a sync against a fake GitHub server of its own, and the variables that reach it."""
    root = write_small_project(ctx.folder / "proj", {"gh/syncs/full.py": FULL}, connections=GH_CONNECTIONS)
    with FakeGitHub(issues=12) as gh:
        gh.rate_limit_reset = 1767261600  # as the fake_github fixture's: not this process's clock
        yield root, {"GH_URL": gh.base_url, "GH_TOKEN": gh.token}


@early.ahead("test_a_recording_killed_before_its_rename_is_cleaned_by_the_next_one")
def _recording_killed(ctx: early.Context) -> None:
    with live(ctx) as (root, env):
        cassette = root / "cassettes" / "gh" / "full" / "default.yaml"
        # A new interpreter, as a user starts it, once; the other runs are forked (the same code, the same kill).
        killed(harness(root, "dryrun", "full", "c1", "--record", kill_at="atomic-write:default.yaml", env=env,
                       interpreter=True, ctx=ctx))
        assert not cassette.exists()  # never a torn cassette: none at all
        assert len(leftovers(root / "cassettes")) == 1
        assert harness(root, "dryrun", "full", "c1", "--record", env=env, ctx=ctx).returncode == 0
        assert leftovers(root) == []
        before = cassette.read_bytes()
        killed(harness(root, "dryrun", "full", "c1", "--record", kill_at="atomic-write:default.yaml", env=env,
                       ctx=ctx))
        assert cassette.read_bytes() == before  # the old one, whole
        # Any atomic write into that folder removes it (a snapshot written beside it, say).
        write_atomic(cassette.with_name("notes.txt"), "x")
        assert leftovers(root) == []


def test_a_recording_killed_before_its_rename_is_cleaned_by_the_next_one() -> None:
    _recording_killed.result()


@early.ahead("test_a_scratch_store_left_by_a_kill_is_removed_at_the_next_start")
def _scratch_store_killed(ctx: early.Context) -> None:
    with live(ctx) as (root, env):
        assert harness(root, "dryrun", "full", "c1", "--live", "--persist", env=env, ctx=ctx).returncode == 0
        killed(harness(root, "dryrun", "full", "c1", "--live", kill_at="store-scratch-ready", env=env, ctx=ctx))
        [left] = leftovers(root / ".harness")
        assert left.startswith("tmp/store-") and (root / ".harness" / left / "records.sqlite").is_file()
        assert harness(root, "dryrun", "full", "c1", "--live", env=env, ctx=ctx).returncode == 0
        assert leftovers(root) == [] and not (root / ".harness" / "tmp").exists()  # not even the empty folder
        killed(harness(root, "dryrun", "full", "c1", "--live", kill_at="store-scratch-ready", env=env, ctx=ctx))
        # The persisting run also sweeps.
        assert harness(root, "dryrun", "full", "c1", "--live", "--persist", env=env, ctx=ctx).returncode == 0
        assert leftovers(root) == []


def test_a_scratch_store_left_by_a_kill_is_removed_at_the_next_start() -> None:
    _scratch_store_killed.result()


# -- deploys -------------------------------------------------------------------------------------------------
def _consistent(target: Path) -> dict[str, object]:
    """The pointer names a release whose bundle is complete and is the one its hash says."""
    pointer = json.loads((target / "deployment.json").read_text())
    bundle = target / pointer["bundle"]
    assert hashlib.sha256(bundle.read_bytes()).hexdigest() == pointer["bundle_sha256"]
    assert json.loads((bundle.parent / "deployment.json").read_text()) == pointer
    return dict(pointer)


def _change(example: Path, n: int) -> None:
    sync = example / "functions" / "github" / "syncs" / "issues.py"
    sync.write_text(sync.read_text() + f"\n# change {n}\n")


KILL_POINTS = [
    ("deploy-bundle-written", False),          # the new release half made, in .incoming-*
    ("deploy-release-ready", False),           # the release complete, the pointer not switched
    ("atomic-write:deployment.json", False),   # the pointer's new text written, not renamed
    ("deploy-delivered", True),                # switched, but .harness/deployed.json not updated
]


def _deploy_killed(ctx: early.Context, point: str, switched: bool) -> None:
    example = copy_example(ctx.folder / "example")
    target = ctx.folder / "dist"
    first = harness(example, "deploy", "--to", str(target), "--skip-tests", ctx=ctx)
    assert first.returncode == 0, first.stderr
    assert _consistent(target)["deployment"] == 1
    _change(example, 2)
    killed(harness(example, "deploy", "--to", str(target), "--skip-tests", kill_at=point, ctx=ctx))
    pointer = _consistent(target)  # whatever the instant: the old deployment or the new, never a mix
    assert pointer["deployment"] == (2 if switched else 1)
    state = json.loads((example / ".harness" / "deployed.json").read_text())
    assert state["targets"][str(target)]["deployment"] == 1

    again = harness(example, "deploy", "--to", str(target), "--skip-tests", ctx=ctx)
    assert again.returncode == 0, again.stderr
    if switched:
        assert "holds deployment 2, which .harness/deployed.json does not record" in again.stderr
        assert "nothing to deploy" in again.stderr  # recovered: the target already has this content
    elif point != "atomic-write:deployment.json":
        assert "note: removed releases/" in again.stderr and "killed" in again.stderr
    pointer = _consistent(target)
    assert pointer["deployment"] == 2
    state = json.loads((example / ".harness" / "deployed.json").read_text())
    entry = state["targets"][str(target)]
    assert entry["deployment"] == 2 and entry["bundle_sha256"] == pointer["bundle_sha256"]
    assert entry["functions"]["github/issues"]["version"] == "2"
    assert leftovers(target) == [] and leftovers(example) == []
    assert sorted(p.name for p in (target / "releases").iterdir()) == [
        f"000001-{_release_sha(target, 1)}", f"000002-{str(pointer['bundle_sha256'])[:12]}"]


def _deploy_killed_at(point: str, switched: bool) -> early.Work[None]:
    """The work of one kill point, its parametrization's (`test_...[deploy-delivered-True]`)."""

    def work(ctx: early.Context) -> None:
        _deploy_killed(ctx, point, switched)

    test = "test_a_deploy_killed_at_any_step_is_whole_and_the_next_one_recovers"
    return early.ahead(f"{test}[{point}-{switched}]")(work)


_DEPLOYS_KILLED = {(point, switched): _deploy_killed_at(point, switched) for point, switched in KILL_POINTS}


@pytest.mark.parametrize(("point", "switched"), KILL_POINTS)
def test_a_deploy_killed_at_any_step_is_whole_and_the_next_one_recovers(point: str, switched: bool) -> None:
    _DEPLOYS_KILLED[point, switched].result()


def _release_sha(target: Path, deployment: int) -> str:
    [name] = [p.name for p in (target / "releases").iterdir() if p.name.startswith(f"{deployment:06d}-")]
    return name.split("-", 1)[1]


@early.ahead("test_old_releases_are_pruned_and_the_layout_before_releases_is_taken_over")
def _old_releases(ctx: early.Context) -> None:
    example = copy_example(ctx.folder / "example")
    target = ctx.folder / "dist"
    target.mkdir()
    # What the previous version wrote: bundle.zip beside a deployment.json without "bundle".
    legacy = b"PK\x05\x06" + b"\0" * 18
    (target / "bundle.zip").write_bytes(legacy)
    (target / "deployment.json").write_text(json.dumps({"format": 1, "deployment": 4, "versions": {},
                                                        "bundle_sha256": hashlib.sha256(legacy).hexdigest()}))
    for n in range(5):
        _change(example, n)
        res = harness(example, "deploy", "--to", str(target), "--skip-tests", ctx=ctx)
        assert res.returncode == 0, res.stderr
    pointer = _consistent(target)
    assert pointer["deployment"] == 9  # after the 4 the folder already held
    assert not (target / "bundle.zip").exists()
    assert [p.name[:6] for p in sorted((target / "releases").iterdir())] == ["000007", "000008", "000009"]


def test_old_releases_are_pruned_and_the_layout_before_releases_is_taken_over() -> None:
    _old_releases.result()


@early.ahead("test_an_endpoint_deploy_killed_before_it_was_recorded_is_reported")
def _endpoint_deploy_killed(ctx: early.Context) -> None:
    from tests.fakes.receiver import Receiver

    example = copy_example(ctx.folder / "example")
    env = {"HARNESS_DEPLOY_KEY": "deploy-key-123456"}
    with Receiver() as receiver:
        killed(harness(example, "deploy", "--to", receiver.url, "--skip-tests", kill_at="deploy-delivered", env=env,
                       ctx=ctx))
        assert len(receiver.received) == 1
        again = harness(example, "deploy", "--to", receiver.url, "--skip-tests", env=env, ctx=ctx)
        assert again.returncode == 0, again.stderr
    assert "the previous deploy to" in again.stderr and "was interrupted before it was recorded" in again.stderr
    first, second = receiver.received
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]  # the receiver can drop it
    assert not (example / ".harness" / "deploy-pending.json").exists()


def test_an_endpoint_deploy_killed_before_it_was_recorded_is_reported() -> None:
    _endpoint_deploy_killed.result()


# -- permissions ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_atomic_writes_respect_the_umask(tmp_path: Path, umask: int, expected: int) -> None:
    old = os.umask(umask)
    try:
        write_atomic(tmp_path / "cassette.yaml", "x")
        write_atomic(tmp_path / "tokens.json", "{}", mode=0o600)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "cassette.yaml").stat().st_mode) == expected
    assert stat.S_IMODE((tmp_path / "tokens.json").stat().st_mode) == 0o600


def test_atomic_writes_keep_the_mode_of_the_file_they_replace(tmp_path: Path) -> None:
    path = tmp_path / "run.sh"
    path.write_text("old")
    os.chmod(path, 0o755)
    write_atomic(path, "new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o755 and path.read_text() == "new"
    write_atomic(path, "secret", mode=0o600)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_recorded_cassette_and_snapshot_can_be_committed(make_project: Callable[..., Path],
                                                           fake_github: FakeGitHub) -> None:
    # Here, not ahead: the umask is the process's, the session's tests' too.
    root = make_project({"gh/syncs/full.py": FULL}, connections=GH_CONNECTIONS)
    env = {"GH_URL": fake_github.base_url, "GH_TOKEN": fake_github.token}
    old = os.umask(0o022)
    try:
        assert harness(root, "dryrun", "full", "c1", "--record", env=env).returncode == 0
    finally:
        os.umask(old)
    cassette = root / "cassettes" / "gh" / "full" / "default.yaml"
    assert stat.S_IMODE(cassette.stat().st_mode) == 0o644


def test_atomic_write_never_follows_a_planted_temp_file(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep")
    target = tmp_path / "out.json"
    for _ in range(3):
        write_atomic(target, "data")
    assert victim.read_text() == "keep" and target.read_text() == "data"


# -- owner tags ----------------------------------------------------------------------------------------------
def test_owner_tags_tell_live_dead_and_reused_processes(tmp_path: Path) -> None:
    me = scratch.owner_tag()
    assert scratch.is_alive(me)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not scratch.is_alive(f"{child.pid}-1")
    if Path("/proc/self/stat").exists():
        start = me.split("-")[1]
        parent = os.getppid()
        assert not scratch.is_alive(f"{parent}-{int(start) + 10**9}")  # a live pid, another start: reused
    assert scratch.is_alive("not-a-tag")  # never remove what cannot be told


def test_sweep_removes_only_entries_whose_owner_is_gone(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    root = tmp_path / "tmp"
    root.mkdir()
    dead = root / f"store-{child.pid}-0-abcdef012345"
    dead.mkdir()
    mine = scratch.scratch_dir(tmp_path, "store")
    other = root / "something-else"
    other.mkdir()
    assert not dead.exists() and mine.is_dir() and other.is_dir()
    (tmp_path / f".x.json.~{child.pid}-0-abcdef012345.tmp").write_text("left")
    (tmp_path / ".y.json.~1-0-zz.tmp").write_text("not ours")
    removed = sweep_folder(tmp_path)
    assert [p.name for p in removed] == [f".x.json.~{child.pid}-0-abcdef012345.tmp"]
    with scratch.scratch(tmp_path, "work") as folder:
        assert folder.is_dir() and stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert not folder.exists()


def test_the_last_scratch_folder_out_removes_tmp_and_one_made_meanwhile_never_fails(tmp_path: Path) -> None:
    # `.harness/tmp/` goes with the last scratch folder in it; a process making one as another removes the
    # emptied `tmp/` makes `tmp/` again (threads here, racing on the same folders as processes do).
    import threading

    other = scratch.scratch_dir(tmp_path, "serve")
    with scratch.scratch(tmp_path, "store") as folder:
        assert folder.parent == other.parent == tmp_path / "tmp"
    assert (tmp_path / "tmp").is_dir()  # the other one is still there
    scratch.remove(tmp_path, other)
    assert not (tmp_path / "tmp").exists()
    failures: list[BaseException] = []

    def churn() -> None:
        try:
            for _ in range(300):
                with scratch.scratch(tmp_path, "work") as made:
                    (made / "x").write_text("x")
        except BaseException as exc:  # shown by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=churn) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == [] and not (tmp_path / "tmp").exists()


@early.ahead("test_sweep_project_removes_what_dead_runs_left_anywhere")
def _sweep_project(ctx: early.Context) -> None:
    with live(ctx) as (root, env):
        killed(harness(root, "dryrun", "full", "c1", "--record", kill_at="atomic-write:default.yaml", env=env,
                       ctx=ctx))
        assert len(leftovers(root)) == 1
        # The next live run starts by removing what the killed one left, then is killed in turn.
        killed(harness(root, "dryrun", "full", "c1", "--live", kill_at="store-scratch-ready", env=env, ctx=ctx))
        assert [Path(p).parts[:2] for p in leftovers(root)] == [(".harness", "tmp")]
        removed = atomic.sweep_project(root / ".harness", root / "cassettes", root / "functions")
        assert len(removed) == 1 and leftovers(root) == []


def test_sweep_project_removes_what_dead_runs_left_anywhere() -> None:
    _sweep_project.result()
