"""The memory and SQLite stores implement the same semantics; hypothesis drives both with the same calls."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.invariants import check_sync
from harness.pipeline import RunRequest, execute, prepare
from harness.project import load_project
from harness.records.memory import MemoryStore
from harness.records.sqlite import SqliteStore
from harness.records.store import RecordStore, TrackDeletesError
from tests.fakes.github_server import FakeGitHub
from tests.fakes.routing import RoutingTransport

# Numeric ids of several lengths as well: the memory store adds a batch without looking its ids up when they
# all sort after (or before) every id held in (length, string) order, and builds its id index only at the
# first lookup (a `get`, an update, a delete, a batch inside the held range).
ids = st.sampled_from(["a", "b", "c", "d", "9", "10", "100"])
# Content identity is the compact JSON as written, so key order counts (at the top and nested): some rows
# come with their keys reversed, or with a nested object.
record = st.tuples(st.fixed_dictionaries({"id": ids, "v": st.integers(0, 2)},
                                         optional={"n": st.fixed_dictionaries({"x": st.integers(0, 1),
                                                                               "y": st.integers(0, 1)})}),
                   st.booleans(), st.booleans()).map(
    lambda t: {k: (dict(reversed(v.items())) if t[2] and isinstance(v, dict) else v)
               for k, v in (reversed(t[0].items()) if t[1] else t[0].items())})
records = st.lists(record, max_size=4).map(lambda rows: list({r["id"]: r for r in rows}.values()))
ops = st.lists(st.one_of(
    st.tuples(st.just("save"), records), st.tuples(st.just("update"), records),
    st.tuples(st.just("delete"), records), st.tuples(st.just("start"), st.none()),
    st.tuples(st.just("end"), st.none()), st.tuples(st.just("get"), st.lists(ids, max_size=3))), max_size=12)


def apply(store: RecordStore, steps: list[tuple[str, Any]]) -> list[Any]:
    out: list[Any] = []
    for op, arg in steps:
        if op == "save":
            o = store.save("M", arg)
            out.append((o.added, o.updated, o.unchanged))
        elif op == "update":
            out.append(store.update("M", arg))
        elif op == "delete":
            out.append(store.delete("M", arg))
        elif op == "get":
            out.append(sorted((k, v["v"], v["_nango_metadata"]["last_action"])
                              for k, v in store.get_by_ids("M", arg).items()))
        elif op == "start":
            store.track_deletes_start("M")
        else:
            try:
                out.append(store.track_deletes_end("M"))
            except TrackDeletesError:
                out.append("no-start")
    page, _ = store.list("M", limit=100)
    out.append([(r["id"], r.get("v"), r.get("n"), r["_nango_metadata"]["last_action"]) for r in page])
    return out


@pytest.fixture(scope="module")
def store_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One SQLite file for every example below, each example in a connection of its own: the store scopes
    records, checkpoints and deletes tracking by connection, so each starts empty. A connection held open
    meanwhile keeps closing a store cheap (the last connection to close checkpoints the WAL and deletes it,
    10-30 ms each on this machine's disk); a new file per store is tested by the tests after this one."""
    path = tmp_path_factory.mktemp("stores") / "records.sqlite"
    SqliteStore(path, "setup", "i", lambda: 0.0).close()
    holder = sqlite3.connect(path)
    holder.execute("SELECT COUNT(*) FROM records").fetchone()  # open the file now (connecting is lazy)
    try:
        yield path
    finally:
        holder.close()


EXAMPLES = itertools.count()


@settings(max_examples=60, deadline=None)
@given(steps=ops)
def test_sqlite_matches_memory(store_file: Path, steps: list[tuple[str, Any]]) -> None:
    clock = itertools.count(1)
    memory = MemoryStore(lambda: float(next(clock)))
    clock2 = itertools.count(1)
    sqlite = SqliteStore(store_file, f"c{next(EXAMPLES)}", "i", lambda: float(next(clock2)))
    # And one that moves its rows to a spill file as soon as it can (`harness.records.spill`).
    clock3 = itertools.count(1)
    spilling = MemoryStore(lambda: float(next(clock3)), spill_text=0)
    try:
        expected = apply(sqlite, steps)
        assert apply(memory, steps) == expected
        assert apply(spilling, steps) == expected
    finally:
        sqlite.close()


def test_sqlite_keeps_checkpoints_and_scopes_by_connection(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    one = SqliteStore(path, "c1", "gh", lambda: 1.0)
    one.save("Issue", [{"id": "1", "t": "x"}])
    one.set_checkpoint("sync:issues:base", {"since": "2026"})
    one.close()
    again = SqliteStore(path, "c1", "gh", lambda: 2.0)
    assert again.get_checkpoint("sync:issues:base") == {"since": "2026"}
    assert again.save("Issue", [{"id": "1", "t": "x"}]).unchanged == ["1"]
    again.close()
    other = SqliteStore(path, "c2", "gh", lambda: 3.0)
    assert other.save("Issue", [{"id": "1", "t": "x"}]).added == ["1"] and other.get_checkpoint("x") is None
    other.close()


def test_scratch_copy_leaves_the_store_untouched(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    real = SqliteStore(path, "c", "i", lambda: 1.0)
    real.save("M", [{"id": "1"}])
    real.close()
    scratch = SqliteStore.scratch_copy(path, "c", "i", lambda: 2.0)
    assert scratch.save("M", [{"id": "1"}, {"id": "2"}]).added == ["2"]
    scratch.close()
    assert not scratch.path.exists()
    real = SqliteStore(path, "c", "i", lambda: 3.0)
    assert [r["id"] for r in real.list("M")[0]] == ["1"]
    real.close()


def test_example_sync_resumes_from_any_checkpoint(example: Path, fake_github: FakeGitHub,
                                                  github_routes: RoutingTransport,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", fake_github.token)
    base = RunRequest("issues", "demo", mode="live", project=load_project(example), network=github_routes)
    prepared = prepare(base)
    report = check_sync(prepared.definition,  # type: ignore[arg-type]
                        lambda **kw: execute(RunRequest(**{**vars(base), **kw}), prepared).result)
    assert report.ok, report.to_json()
    assert sum(1 for f in report.findings if f.check == "resume") == 2


def test_ids_counting_up_or_down_are_added_without_building_the_id_index() -> None:
    # A replay saving each id once (pages of numeric ids, counting up or down) must not pay a hash table of
    # every id: the index is built only when a batch falls inside the held range or an id is looked up.
    store = MemoryStore(lambda: 0.0)
    assert store.save("M", [{"id": str(i)} for i in range(500, 1000)]).added[-1] == "999"
    assert store.save("M", [{"id": str(i)} for i in range(1000, 1200)]).added[0] == "1000"  # longer ids
    assert len(store.save("M", [{"id": str(i)} for i in range(80, 500)]).added) == 420  # counting down
    table = store._models["M"]
    assert table._index is None and table.low == (2, "80") and table.high == (4, "1199")
    # Inside the range: the index is built, and the held id is found (content changed: updated).
    outcome = store.save("M", [{"id": "700", "v": 1}, {"id": "79"}])
    assert table._index is not None and len(table._index) == 1121
    assert (outcome.added, outcome.updated) == (["79"], ["700"])
    # From then on the index is kept up to date by the batches beyond the range too.
    store.save("M", [{"id": str(i)} for i in range(1200, 1300)])
    assert table._index["1299"] == 1220 and store.get_by_ids("M", ["1250"])["1250"]["id"] == "1250"
    assert store.save("M", [{"id": "1299"}]).unchanged == ["1299"]


def test_ids_that_are_not_strings_still_save_and_are_found() -> None:
    # The context hands the store string ids; the store itself must not break on others (no order to keep).
    store = MemoryStore(lambda: 0.0)
    assert store.save("M", [{"id": 5}, {"id": 6}]).added == [5, 6]
    assert store.save("M", [{"id": "7"}]).added == ["7"]
    assert store.save("M", [{"id": 5, "v": 1}]).updated == [5]
    assert store._models["M"].bounded is False and store.get_by_ids("M", [5])[5]["v"] == 1
