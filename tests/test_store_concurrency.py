"""The SQLite records store under real concurrency: several processes write one connection while another
pages through it; cursors are unique and every record is read exactly once; a lock that outlasts the
busy timeout is a store error (exit 5), never the function's error."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from harness.cli import main
from harness.errors import EXIT_STORE, StoreError
from harness.pipeline import RunRequest as DryRun
from harness.pipeline import run_request as execute
from harness.project import load_project
from harness.records.sqlite import SqliteStore
from tests import cli_process
from tests.fakes.github_server import FakeGitHub

from .conftest import GH_CONNECTIONS
from .test_sync_semantics import FULL

BATCHES = 20
BATCH = 25


def _writer(path: str, writer: int, ready: Any, start: Any) -> None:
    store = SqliteStore(Path(path), "c1", "gh", time.time)
    ready.put(writer)  # every writer has opened the store before any writes: the case that duplicated seq
    start.wait()
    try:
        for b in range(BATCHES):
            store.save("Rec", [{"id": f"w{writer}-{b}-{k}", "n": k} for k in range(BATCH)])
    finally:
        store.close()


def _read_all(store: SqliteStore, expected: int, limit: int, deadline: float) -> list[str]:
    """Pages with `limit` from the start, following the cursor, until `expected` records were read."""
    seen: list[str] = []
    cursor: str | None = None
    while len(seen) < expected:
        assert time.monotonic() < deadline, f"the reader saw {len(seen)} of {expected} records"
        rows, _ = store.list("Rec", cursor=cursor, limit=limit)
        if rows:
            seen += [r["id"] for r in rows]
            cursor = rows[-1]["_nango_metadata"]["cursor"]
        else:
            time.sleep(0.005)  # the writers have not committed more yet
    return seen


@pytest.mark.parametrize("writers", [2, 4])
def test_processes_writing_one_connection_and_a_reader_paging_meanwhile(tmp_path: Path, writers: int) -> None:
    path = tmp_path / ".harness" / "records.sqlite"
    SqliteStore(path, "c1", "gh", time.time).close()
    ctx = cli_process.CONTEXT  # each writer a process of its own, forked from a warm copy
    start, ready = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(str(path), w, ready, start)) for w in range(writers)]
    for p in procs:
        p.start()
    expected = writers * BATCHES * BATCH
    reader = SqliteStore(path, "c1", "gh", time.time)
    try:
        assert sorted(ready.get(timeout=120) for _ in procs) == list(range(writers))
        start.set()
        seen = _read_all(reader, expected, limit=7, deadline=time.monotonic() + 120)
    finally:
        for p in procs:
            p.join(60)
        reader.close()
    assert [p.exitcode for p in procs] == [0] * writers
    assert len(seen) == expected and len(set(seen)) == expected  # every record read exactly once
    assert set(seen) == {f"w{w}-{b}-{k}" for w in range(writers) for b in range(BATCHES) for k in range(BATCH)}
    db = sqlite3.connect(path)
    total, distinct, top = db.execute("SELECT COUNT(*), COUNT(DISTINCT seq), MAX(seq) FROM records").fetchone()
    assert total == distinct == top == expected  # unique, and no gap
    if writers == 2:
        # `harness records list --limit 7` paging by cursor, as a user pages: nothing skipped, nothing twice.
        (tmp_path / "functions").mkdir()
        listed: list[str] = []
        cursor: list[str] = []
        while True:
            res = CliRunner().invoke(main, ["--project", str(tmp_path), "records", "list", "c1", "--model", "Rec",
                                            "--integration", "gh", "--limit", "7", "--json", *cursor])
            assert res.exit_code == 0, res.output
            page = json.loads(res.stdout)
            listed += [r["id"] for r in page["records"]]
            if not page["next_cursor"]:
                break
            cursor = ["--cursor", page["next_cursor"]]
        assert sorted(listed) == sorted(seen) and len(listed) == expected
    # Each writer's batches carry increasing cursors in the order it saved them.
    for w in range(writers):
        spans = [db.execute("SELECT MIN(seq), MAX(seq) FROM records WHERE id LIKE ?", (f"w{w}-{b}-%",)).fetchone()
                 for b in range(BATCHES)]
        assert all(spans[b][1] < spans[b + 1][0] for b in range(BATCHES - 1)), spans


def test_a_store_with_duplicate_cursors_is_renumbered_once(tmp_path: Path) -> None:
    """A store written by the earlier version (each process counting on its own) gets unique cursors."""
    path = tmp_path / "records.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE records (connection TEXT NOT NULL, integration TEXT NOT NULL, model TEXT NOT NULL,
            id TEXT NOT NULL, data TEXT NOT NULL, hash TEXT NOT NULL, created_at REAL NOT NULL,
            updated_at REAL NOT NULL, deleted_at REAL, seq INTEGER NOT NULL, generation INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (connection, integration, model, id)) WITHOUT ROWID;
        CREATE TABLE checkpoints (connection TEXT NOT NULL, integration TEXT NOT NULL, key TEXT NOT NULL,
            data TEXT, PRIMARY KEY (connection, integration, key));
    """)
    rows = [("c1", "gh", "Rec", f"r{i}", json.dumps({"id": f"r{i}"}), "h", 1.0, 1.0, None, 1 + i // 2, 0)
            for i in range(20)]  # every seq twice
    db.executemany("INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.commit()
    db.close()
    store = SqliteStore(path, "c1", "gh", lambda: 2.0)
    seen: list[str] = []
    cursor = None
    while True:
        page, cursor = store.list("Rec", cursor=cursor, limit=3)
        seen += [r["id"] for r in page]
        if cursor is None:
            break
    assert sorted(seen) == sorted(f"r{i}" for i in range(20))
    store.save("Rec", [{"id": "new"}])
    assert store.list("Rec", cursor="20", limit=5)[0][0]["id"] == "new"
    store.close()


def test_a_lock_held_past_the_timeout_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite"
    store = SqliteStore(path, "c1", "gh", lambda: 1.0, timeout=0.05)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match=r"stayed locked by another process for 0\.05 s") as caught:
            store.save("Rec", [{"id": "1"}])
        assert caught.value.exit_code == EXIT_STORE == 5
        assert store.list("Rec")[0] == []  # readers are not blocked (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # A function may swallow the error; closing raises it again, so the run cannot end as a success.
    with pytest.raises(StoreError, match="stayed locked"):
        store.close()


GREEDY = """
from pydantic import BaseModel
from harness import sync

class Issue(BaseModel):
    id: str

@sync(models=[Issue], frequency="every hour")
async def greedy(nango):
    try:
        await nango.batch_save([{"id": "1"}], "Issue")
    except Exception as exc:
        nango.log(f"ignored: {exc}")
"""


def test_a_locked_store_fails_the_run_as_a_store_error_even_when_the_function_swallows_it(
        make_project: Callable[..., Path], fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project({"gh/syncs/greedy.py": GREEDY, "gh/syncs/full.py": FULL}, connections=GH_CONNECTIONS)
    monkeypatch.setenv("GH_URL", fake_github.base_url)
    monkeypatch.setenv("GH_TOKEN", fake_github.token)
    path = root / ".harness" / "records.sqlite"
    store = SqliteStore(path, "c1", "gh", time.time, timeout=0.05)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        req = DryRun(function="greedy", connection_id="c1", mode="live", project=load_project(root), store=store)
        result = execute(req)
        assert "ignored: the records store" in json.dumps(result.logs)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with pytest.raises(StoreError, match="stayed locked"):
        store.close()


def test_cli_a_locked_store_is_exit_5_with_its_own_message(make_project: Callable[..., Path],
                                                           fake_github: FakeGitHub, cli: Callable[..., Result]) -> None:
    root = make_project({"gh/syncs/full.py": FULL}, connections=GH_CONNECTIONS)
    env = {"GH_URL": fake_github.base_url, "GH_TOKEN": fake_github.token, "HARNESS_STORE_TIMEOUT": "0.05"}
    assert cli(root, "dryrun", "full", "c1", "--live", "--persist", env=env).exit_code == 0
    holder = sqlite3.connect(root / ".harness" / "records.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        res = cli(root, "dryrun", "full", "c1", "--live", "--persist", env=env)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert res.exit_code == 5, res.output
    assert "error: the records store" in res.stderr and "stayed locked by another process" in res.stderr
    assert "HARNESS_STORE_TIMEOUT" in res.stderr and "script_internal_error" not in res.output
    bad = cli(root, "dryrun", "full", "c1", "--live", "--persist", env={**env, "HARNESS_STORE_TIMEOUT": "soon"})
    assert bad.exit_code == 5 and "is not a number of seconds" in bad.stderr


def test_four_persist_runs_at_once_all_succeed_with_unique_cursors(make_project: Callable[..., Path],
                                                                  fake_github: FakeGitHub) -> None:
    root = make_project({"gh/syncs/full.py": FULL}, connections=GH_CONNECTIONS)
    env = {**os.environ, "GH_URL": fake_github.base_url, "GH_TOKEN": fake_github.token}
    env.pop("HARNESS_TEST_KILL_AT", None)
    args = ["--project", str(root), "dryrun", "full", "c1", "--live", "--persist", "--json"]
    procs = [cli_process.HarnessProcess(args, env=env) for _ in range(4)]  # four processes at once
    try:
        done = [p.result(timeout=120) for p in procs]
    finally:
        for p in procs:
            p.close()
    assert [d.returncode for d in done] == [0, 0, 0, 0], [d.stderr for d in done]
    for d in done:
        assert json.loads(d.stdout)["status"] == "success"
    db = sqlite3.connect(root / ".harness" / "records.sqlite")
    total, distinct = db.execute("SELECT COUNT(*), COUNT(DISTINCT seq) FROM records").fetchone()
    assert total == 12 and distinct == 12
    assert stat.S_IMODE((root / ".harness" / "records.sqlite").stat().st_mode) == 0o600


def test_the_store_is_private_and_an_existing_one_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / ".harness" / "records.sqlite"
    old = os.umask(0o022)
    try:
        store = SqliteStore(path, "c1", "gh", lambda: 1.0)
        store.save("Rec", [{"id": "1"}])
        store.close()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        os.chmod(path, 0o644)
        SqliteStore(path, "c1", "gh", lambda: 1.0).close()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_a_damaged_store_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="failed \\(opening it\\)") as caught:
        SqliteStore(path, "c1", "gh", lambda: 1.0)
    assert "move it away" in str(caught.value)


def _opener(path: str, start: Any, out: Any) -> None:
    start.wait()
    try:
        store = SqliteStore(Path(path), "c1", "gh", time.time, timeout=10)
        store.save("M", [{"id": str(os.getpid())}])
        store.close()
        out.put("ok")
    except StoreError as exc:
        out.put(exc.message)


def test_processes_opening_a_new_store_at_once_all_get_in() -> None:
    # Opening a new file at once, SQLite refuses some of them at once ("database is locked", without its
    # busy wait: switching to WAL, or upgrading a read lock while another waits): 6% of rounds of four
    # failed that way. The store waits for those itself.
    import multiprocessing
    import tempfile

    ctx = multiprocessing.get_context("fork")
    for _ in range(8):
        folder = tempfile.mkdtemp(prefix="harness-open-")
        path = os.path.join(folder, "records.sqlite")
        start, out = ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=_opener, args=(path, start, out)) for _ in range(6)]
        for proc in procs:
            proc.start()
        start.set()
        results = [out.get(timeout=60) for _ in procs]
        for proc in procs:
            proc.join(timeout=60)
        assert results == ["ok"] * 6
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 6


def test_a_store_refused_at_once_waits_and_then_says_how_long_it_waited(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []
    real = SqliteStore._setup

    def refused_twice(self: SqliteStore) -> None:
        calls.append(time.monotonic())
        if len(calls) <= 2:
            raise sqlite3.OperationalError("database is locked")
        real(self)

    monkeypatch.setattr(SqliteStore, "_setup", refused_twice)
    store = SqliteStore(tmp_path / "a.sqlite", "c1", "gh", time.time, timeout=5)
    assert len(calls) == 3 and store.failure is None  # a refusal that passed is not the run's failure
    store.close()

    def always_refused(self: SqliteStore) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(SqliteStore, "_setup", always_refused)
    started = time.monotonic()
    # 0.1 s: still some six tries with growing pauses (2 ms doubling) before it gives up.
    with pytest.raises(StoreError, match=r"stayed locked by another process for 0.1 s \(opening it\)"):
        SqliteStore(tmp_path / "b.sqlite", "c1", "gh", time.time, timeout=0.1)
    assert time.monotonic() - started >= 0.1  # it did wait as long as it says (a lower bound: never flaky)

    def damaged(self: SqliteStore) -> None:
        raise sqlite3.DatabaseError("file is not a database")

    monkeypatch.setattr(SqliteStore, "_setup", damaged)  # not a lock: no waiting, the error as it is
    with pytest.raises(StoreError, match="failed \\(opening it\\): file is not a database"):
        SqliteStore(tmp_path / "c.sqlite", "c1", "gh", time.time, timeout=5)
