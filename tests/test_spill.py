"""Held record lines moved to disk (`harness.records.spill`): a spilled log or store table reads, lays out,
compares and redacts exactly as one held in memory, writes no known secret, and a replay behind a snapshot
spills and still matches the snapshot a run held in memory wrote."""

from __future__ import annotations

import functools
import itertools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.records import spill
from harness.records.lines import RecordLines, id_order, in_id_order
from harness.records.log import Keeping, RecordLog
from harness.records.memory import MemoryStore
from harness.records.spill import LineFile, SpilledLines
from harness.secrets.redact import redact_lines
from harness.secrets.scrubber import Scrubber
from harness.snapshots import files

SECRET = "sk-spill-0123456789abcdef"

ids = st.one_of(st.sampled_from(["1", "2", "10", "007", "7", "a", "é", 'q"\n']), st.text(max_size=3))
values = st.one_of(st.integers(-5, 5), st.text(max_size=4), st.sampled_from(["line\nbreak", "é", SECRET]),
                   st.dictionaries(st.sampled_from(["x", "y"]), st.integers(0, 2), max_size=2))
row = st.tuples(ids, st.dictionaries(st.sampled_from(["b", "a", "n"]), values, max_size=3)).map(
    lambda t: {"id": t[0], **t[1]})
batches = st.lists(st.lists(row, max_size=5), max_size=6)


def _doc(records: RecordLines) -> dict[str, Any]:
    return {"format": 1, "records": {"Item": records}, "requests": []}


@settings(max_examples=100, deadline=None)
@given(batches, st.integers(0, 300), st.booleans())
def test_a_spilled_log_reads_lays_out_and_compares_as_one_held_in_memory(
        saved: list[list[dict[str, Any]]], cap: int, ascending: bool) -> None:
    if ascending:  # the shape a sync paging by id gives: each id once, in id order (then read from the file)
        seen = {r["id"]: r for batch in saved for r in batch}
        order = sorted(seen, key=id_order)
        flat = [seen[rid] for rid in order]
        saved = [flat[n:n + 3] for n in range(0, len(flat), 3)]
    held = RecordLog(keeping=Keeping(encoded=True, spill_text=None))
    spilled = RecordLog(keeping=Keeping(encoded=True, spill_text=cap))
    for batch in saved:
        held.extend(batch)
        spilled.extend(batch)
    assert len(spilled) == len(held) and bool(spilled) is bool(held)
    assert list(spilled) == list(held) and spilled.head(2) == held.head(2)
    assert spilled == held
    if spilled.spilled:
        assert spilled._lines == [] and "spilled" in repr(spilled)
    mine, theirs = spilled.last_saved(), held.last_saved()
    if ascending and spilled.spilled:
        assert isinstance(mine, SpilledLines)
    assert list(mine.lines()) == list(theirs.lines()) and list(mine) == list(theirs) and len(mine) == len(theirs)
    assert mine.to_dict() == theirs.to_dict()
    assert all(rid in mine and mine[rid] == theirs[rid] for rid in theirs)
    text = files.dump_snapshot(_doc(theirs))
    assert files.dump_snapshot(_doc(mine)) == text and files.compare(_doc(mine), text).same


@settings(max_examples=50, deadline=None)
@given(batches, st.integers(0, 200))
def test_a_spilled_log_is_rewritten_for_a_late_secret_as_a_held_one(saved: list[list[dict[str, Any]]],
                                                                    cap: int) -> None:
    logs = [RecordLog(keeping=Keeping(encoded=True, spill_text=limit)) for limit in (None, cap)]
    for log in logs:
        for batch in saved:
            log.extend(batch)
        log.rewrite(lambda rows: json.loads(json.dumps(rows).replace(SECRET, "<key>")),
                    needed=lambda text: SECRET in text)
    assert list(logs[1]) == list(logs[0])
    assert logs[1].last_saved().to_dict() == logs[0].last_saved().to_dict()
    assert not any(SECRET in json.dumps(r) for r in logs[1])


def test_a_log_spills_past_its_cap_and_writes_no_known_secret_to_its_file() -> None:
    scrubber = Scrubber({"api_key": SECRET})
    log = RecordLog(keeping=Keeping(encoded=True, spill_text=200,
                                    redact=functools.partial(redact_lines, scrubber)))
    log.extend([{"id": str(n), "echo": SECRET, "n": n} for n in range(1, 4)])
    assert log.spilled == 0  # under the cap: held
    log.extend([{"id": str(n), "echo": "x" * 30, "n": n} for n in range(4, 10)])
    assert log.spilled == 9 and log._lines == []
    log.extend([{"id": "10", "echo": f"a{SECRET}b"}])
    file = log._file
    assert file is not None and file._fh is not None
    file._fh.flush()
    raw = Path(f"/proc/self/fd/{file._fh.fileno()}")
    if raw.exists():  # Linux: the file has no name left on disk
        assert os.readlink(raw).endswith("(deleted)")
    file._fh.seek(0)
    data = file._fh.read()
    file._fh.seek(0, 2)
    assert SECRET.encode() not in data and data.count(b"\n") == 10
    records = log.last_saved()
    assert isinstance(records, SpilledLines) and log[0]["echo"] != SECRET
    log.extend([{"id": "11"}])  # taken after: not in the records already handed out
    assert len(records) == 10 and list(records)[-1] == "10" and len(log.last_saved()) == 11


def test_a_log_saved_out_of_id_order_is_read_back_to_be_sorted() -> None:
    log = RecordLog(keeping=Keeping(encoded=True, spill_text=10))
    log.extend([{"id": "5"}, {"id": "6"}])
    log.extend([{"id": "2"}])
    assert log.spilled == 3
    records = log.last_saved()
    assert not isinstance(records, SpilledLines) and list(records) == ["2", "5", "6"] and log.spilled == 0


@pytest.mark.parametrize(("before", "ids", "expected"), [
    (None, [], True), (None, ["1", "2", "10"], True), ("9", ["10"], True), ("10", ["9"], False),
    (None, ["a", "a"], False), (None, ["007", "7"], True), (None, ["7", "007"], False), ("z", ["é"], True),
])
def test_in_id_order_is_strictly_ascending_in_id_order(before: str | None, ids: list[str], expected: bool) -> None:
    assert in_id_order(ids, before) is expected
    keys = ([] if before is None else [id_order(before)]) + list(map(id_order, ids))
    assert expected is all(a < b for a, b in itertools.pairwise(keys))


def test_a_line_file_reads_back_lines_across_its_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spill, "_BLOCK", 7)  # blocks cut inside lines and inside multi-byte characters
    file = LineFile()
    lines = ["", "é" * 5, "a", "ab\\n", "€€€", "x" * 20]
    file.write(lines[:3])
    file.write(iter(lines[3:]))
    assert list(file.lines()) == lines and file.first(2) == lines[:2] and file.count == 6
    reader = file.lines()
    next(reader)  # a reader left part-way: the next write still appends
    file.write(["z"])
    assert list(file.lines()) == [*lines, "z"]
    file.close()
    assert list(file.lines()) == [] and file.count == 0


# -- the store ---------------------------------------------------------------------------------------


def _store(cap: int | None, secret: str | None = None) -> MemoryStore:
    redact = functools.partial(redact_lines, Scrubber({"api_key": secret})) if secret else None
    return MemoryStore(lambda: 5.0, spill_text=cap, redact=redact)


def test_a_table_saved_in_id_order_spills_and_holds_no_row_in_memory() -> None:
    store = _store(100, SECRET)
    store.track_deletes_start("M")
    for start in range(0, 40, 10):
        out = store.save("M", [{"id": str(n), "echo": SECRET, "nest": {"a": n}} for n in range(start, start + 10)])
        assert len(out.added) == 10
    table = store._models["M"]
    # Four batches of ten, each written as a line of ids, a line of order codes and its ten lines.
    assert table.file is not None and table.file.count == 48 and table.runs is not None and len(table.runs) == 4
    assert table.lines == [] and table.ids == [] and len(table.seqs) == 0
    assert store.track_deletes_end("M") == [] and table.file is not None  # every row saved in the window
    raw = list(table.file.lines())
    assert not any(SECRET in text for text in raw)
    # A lookup reads the rows back (redacted, as the SQLite store holds them): then the store is as before.
    got = store.get_by_ids("M", ["3", "39"])
    assert table.file is None and got["3"]["echo"] != SECRET and got["39"]["nest"] == {"a": 39}
    assert got["3"]["_nango_metadata"]["cursor"] and len(table.ids) == 40
    assert store.save("M", [{"id": "3", "echo": "changed", "nest": {"a": 3}}]).updated == ["3"]


def test_a_spilled_table_ends_a_deletes_window_it_was_not_all_saved_in() -> None:
    store = _store(1)
    store.save("M", [{"id": "1"}, {"id": "2"}])
    store.track_deletes_start("M")
    store.save("M", [{"id": "3"}])
    assert store._models["M"].file is not None
    assert store.track_deletes_end("M") == ["1", "2"]
    page, _ = store.list("M")
    assert [(r["id"], r["_nango_metadata"]["last_action"]) for r in page] == [
        ("3", "ADDED"), ("1", "DELETED"), ("2", "DELETED")]


@pytest.mark.parametrize("op", ["update", "delete", "inside", "list"])
def test_each_operation_that_needs_rows_reads_a_spilled_table_back(op: str) -> None:
    stores = {cap: _store(cap) for cap in (None, 1)}
    results: dict[int | None, Any] = {}
    for cap, store in stores.items():
        store.save("M", [{"id": str(n), "v": n} for n in range(10, 20)])
        store.save("M", [{"id": str(n), "v": n} for n in range(20, 30)])
        do: Callable[[], Any] = {
            "update": lambda s=store: s.update("M", [{"id": "15", "v": -1}]),
            "delete": lambda s=store: s.delete("M", [{"id": "15"}, {"id": "99"}]),
            "inside": lambda s=store: s.save("M", [{"id": "12", "v": 12}, {"id": "9"}]).unchanged,
            "list": lambda s=store: s.list("M", limit=3),
        }[op]
        results[cap] = (do(), store.list("M", limit=100))
        assert store._models["M"].file is None
    assert results[1] == results[None]


# -- a replay behind a snapshot ------------------------------------------------------------------------


SYNC = '''
from pydantic import BaseModel
from harness import sync

class Item(BaseModel):
    id: str
    name: str

@sync(models=[Item])
async def items(nango):
    for page in range(1, 31):
        await nango.batch_save([Item(id=f"{page * 100 + n}", name=f"item {page} {n}") for n in range(20)], Item)
'''


def _replay_project(make_project: Any) -> Path:
    from harness.cassettes.format import Cassette, write_cassette

    root: Path = make_project({"shop/syncs/items.py": SYNC})
    context = {"function": "items", "integration": "shop", "type": "sync", "scenario": "default",
               "connection": {"connection_id": "c1", "provider": "shop", "integration": "shop",
                              "base_url": "https://api.example.com", "credentials": {"type": "NONE"}}}
    write_cassette(root / "cassettes/shop/items/default.yaml", Cassette([], context), Scrubber({}))
    return root


def test_a_replay_spill_that_cannot_be_written_is_a_store_error(make_project: Any, cli: Callable[..., Any],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    root = _replay_project(make_project)
    monkeypatch.setattr(spill, "HELD_TEXT", 500)
    monkeypatch.setattr(tempfile, "tempdir", str(root / "no-such"))  # what TMPDIR sets at start
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    out = cli(root, "dryrun", "items", "c1", "--replay")
    assert out.exit_code == 5, out.output
    assert "cannot spill records to a temporary file" in out.stderr and "TMPDIR" in out.stderr
    assert "Traceback" not in out.output and "script_internal_error" not in out.output
    assert len(out.stderr.strip().splitlines()) == 1
    assert sorted(p.relative_to(root) for p in root.rglob("*") if ".harness" not in p.parts) == [
        b for b in before if ".harness" not in b.parts]


def test_a_replay_that_spills_matches_the_snapshot_a_held_run_wrote(make_project: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.pipeline import RunRequest, execute
    from harness.project import load_project
    from harness.snapshots.document import snapshot_document

    root = _replay_project(make_project)
    project = load_project(root)
    texts = {}
    held = spill.HELD_TEXT
    for cap in (held, 2_000):
        monkeypatch.setattr(spill, "HELD_TEXT", cap)
        result = execute(RunRequest(function="items", mode="replay", project=project, records_in_memory=None,
                                    records_as_lines=True, connection_id="c1")).result
        assert result.ok, result.error
        log = result.models["Item"].saved
        assert (log.spilled > 0) is (cap == 2_000) and len(log) == 600
        assert result.counts()["Item"]["added"] == 600
        doc = snapshot_document(result)
        assert isinstance(doc["records"]["Item"], SpilledLines) is (cap == 2_000)
        texts[cap] = files.dump_snapshot(doc)
        path = root / f"snap-{cap}.json"
        path.write_text(texts[held])  # the held run's snapshot, compared with as a stream
        assert files.compare_file(doc, path).same
    assert len(set(texts.values())) == 1


def test_a_spill_file_left_to_the_collector_is_closed_without_a_resource_warning() -> None:
    import gc
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        file = LineFile()
        file.write(["a"])
        logs = [RecordLog([{"id": str(n)} for n in range(5)], keeping=Keeping(in_memory=1)),
                RecordLog([{"id": str(n)} for n in range(5)], keeping=Keeping(encoded=True, spill_text=1))]
        assert all(log.spilled for log in logs)
        del file, logs
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_a_lone_surrogate_a_json_body_can_hold_is_kept_through_a_spill() -> None:
    rows = [{"id": "1", "n": {"s": "a\ud800"}}, {"id": "2", "s": "\udfff", "b": 1}]
    store, held = _store(1), _store(None)
    log = RecordLog(keeping=Keeping(encoded=True, spill_text=1))
    for s in (store, held):
        assert s.save("M", rows[:1]).added == ["1"]
        assert s.save("M", rows[1:]).added == ["2"]
    log.extend(rows)
    assert store._models["M"].file is not None and log.spilled == 2
    assert list(log) == rows and log.last_saved().to_dict() == {r["id"]: r for r in rows}
    assert store.get_by_ids("M", ["1", "2"]) == held.get_by_ids("M", ["1", "2"])
    assert store.save("M", [{"id": "1", "n": {"s": "a\ud800"}}]).unchanged == ["1"]
