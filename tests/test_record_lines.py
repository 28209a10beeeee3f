"""Records held as their lines (issue 15, memory): the in-memory store and a snapshot run's result keep each
record as its compact JSON line, shared between them, and the snapshot is those lines sorted. The same
snapshot bytes, the same store semantics (key order included), the same reads, a third of the memory."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.cassettes.format import Cassette, write_cassette
from harness.pipeline import RunRequest, execute
from harness.project import load_project
from harness.records.lines import RecordLines, id_order, record_lines, sorted_ids
from harness.records.log import Keeping, RecordLog
from harness.records.memory import MemoryStore
from harness.secrets.scrubber import Scrubber
from harness.snapshots import files
from harness.snapshots.document import snapshot_document

# Numeric ids are 1-4 ASCII digits (what `from_regex(r"[0-9]{1,4}", fullmatch=True)` draws, at half its cost).
ids = st.one_of(st.text("0123456789", min_size=1, max_size=4), st.text(max_size=4),
                st.sampled_from(["007", "7", "70", "0", "00", "١٢", "²"]))


@settings(max_examples=200, deadline=None)
@given(st.lists(ids, max_size=30))
def test_sorted_ids_is_the_id_order(values: list[str]) -> None:
    assert sorted_ids(values) == sorted(values, key=id_order)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.text(max_size=6),
              st.floats(allow_nan=False)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=8)
rows = st.lists(st.tuples(st.sampled_from(["1", "2", "10", "a", "é"]),
                          st.dictionaries(st.text(max_size=5).filter(lambda k: k != "id"), json_values,
                                          max_size=4)),
                max_size=8).map(lambda pairs: [{"id": rid, **fields} for rid, fields in pairs])


@settings(max_examples=120, deadline=None)
@given(rows)
def test_records_as_lines_lay_out_the_very_bytes_of_records_as_dicts(saved: list[dict[str, Any]]) -> None:
    as_dicts = {"format": 1, "records": {"Item": {}}}
    keyed: dict[str, Any] = {}
    for row in saved:
        keyed[row["id"]] = row
    as_dicts["records"]["Item"] = {rid: keyed[rid] for rid in sorted(keyed, key=id_order)}
    log = RecordLog(keeping=Keeping(encoded=True))
    log.extend(saved)
    as_lines = {"format": 1, "records": {"Item": log.last_saved()}}
    text = files.dump_snapshot(as_dicts)
    assert files.dump_snapshot(as_lines) == text
    assert files.compare(as_lines, text).same
    assert json.loads(text)["records"]["Item"] == as_lines["records"]["Item"].to_dict()
    assert list(log) == json.loads(json.dumps(saved))  # read back as the JSON data it was


def test_an_encoded_log_reads_back_indexes_and_rewrites() -> None:
    log = RecordLog([{"id": "1", "name": "secret-abc"}, {"id": "2", "b": 1.5, "a": [1]}],
                    keeping=Keeping(encoded=True))
    assert log.encoded and len(log) == 2 and bool(log)
    assert log[1] == {"a": [1], "b": 1.5, "id": "2"} and log[:1] == [{"id": "1", "name": "secret-abc"}]
    assert log.head(1) == [{"id": "1", "name": "secret-abc"}] and repr(log) == "RecordLog(2 encoded)"
    log.rewrite(lambda batch: [{**r, "name": "<redacted>"} for r in batch], needed=lambda t: "secret-abc" in t)
    assert list(log) == [{"id": "1", "name": "<redacted>"}, {"a": [1], "b": 1.5, "id": "2"}]
    assert "secret-abc" not in "".join(log._lines)
    log[0] = {"id": "9", "x": 1}
    assert log.last_saved().to_dict() == {"2": {"a": [1], "b": 1.5, "id": "2"}, "9": {"id": "9", "x": 1}}


def test_the_store_keeps_lines_and_nangos_content_identity_key_order_included() -> None:
    clock = itertools.count(1)
    store = MemoryStore(lambda: float(next(clock)))
    first = store.save("M", [{"id": "a", "v": 1, "w": 2}, {"id": "b", "n": {"x": 1, "y": 2}}])
    assert first.added == ["a", "b"] and first.lines == record_lines([{"id": "a", "v": 1, "w": 2},
                                                                       {"id": "b", "n": {"x": 1, "y": 2}}])
    same = store.save("M", [{"id": "a", "v": 1, "w": 2}, {"id": "b", "n": {"x": 1, "y": 2}}])
    assert same.unchanged == ["a", "b"]
    # Nango hashes the compact JSON as written: other key orders, at the top or nested, are updates.
    reordered = store.save("M", [{"id": "a", "w": 2, "v": 1}, {"id": "b", "n": {"y": 2, "x": 1}}])
    assert reordered.updated == ["a", "b"]
    records = store.get_by_ids("M", ["a", "b"])
    assert list(records["a"]) == ["id", "w", "v", "_nango_metadata"]  # read back in the order it was saved
    assert list(records["b"]["n"]) == ["y", "x"]
    merged = store.update("M", [{"id": "a", "z": {"q": 1}}])
    assert merged == [{"id": "a", "w": 2, "v": 1, "z": {"q": 1}}]
    assert store.save("M", [{"id": "a", "w": 2, "v": 1, "z": {"q": 1}}]).unchanged == ["a"]
    assert store.delete("M", [{"id": "b"}, {"id": "gone"}]) == ["b"]
    page, _ = store.list("M")
    assert [(r["id"], r["_nango_metadata"]["last_action"]) for r in page] == [
        ("a", "UPDATED"), ("b", "DELETED"), ("gone", "DELETED")]


SYNC = '''
from pydantic import BaseModel
from harness import sync

class Item(BaseModel):
    id: str
    name: str
    tags: list[str]

@sync(models=[Item])
async def items(nango):
    for page in range(3):
        await nango.batch_save([Item(id=str(n), name=f"é {n}", tags=["x"] * (n % 3)) for n in range(page * 700,
                                                                                            page * 700 + 900)], Item)
'''


def test_a_snapshot_run_holds_lines_and_writes_what_a_dict_run_writes(make_project: Any) -> None:
    root: Path = make_project({"shop/syncs/items.py": SYNC})
    context = {"function": "items", "integration": "shop", "type": "sync", "scenario": "default",
               "connection": {"connection_id": "c1", "provider": "shop", "integration": "shop",
                              "base_url": "https://api.example.com", "credentials": {"type": "NONE"}}}
    write_cassette(root / "cassettes/shop/items/default.yaml", Cassette([], context), Scrubber({}))
    project = load_project(root)
    docs = {}
    for as_lines in (False, True):
        outcome = execute(RunRequest(function="items", mode="replay", project=project, records_in_memory=None,
                                     records_as_lines=as_lines, connection_id="c1"))
        result = outcome.result
        assert result.ok, result.error
        saved = result.models["Item"].saved
        assert saved.encoded is as_lines and len(saved) == 2_700
        doc = snapshot_document(result)
        assert isinstance(doc["records"]["Item"], RecordLines) is as_lines
        docs[as_lines] = files.dump_snapshot(doc)
        # Pages overlap by 200 ids: saved again with the same content, those are unchanged.
        assert result.counts()["Item"] == {"added": 2_300, "updated": 0, "deleted": 0, "unchanged": 400}
    assert docs[True] == docs[False]
    records = json.loads(docs[True])["records"]["Item"]
    assert len(records) == 2_300 and list(records)[:3] == ["0", "1", "2"] and records["2"]["tags"] == ["x", "x"]


def _big_doc(n: int = 30_000) -> dict[str, Any]:
    log = RecordLog([{"id": str(i), "name": f"név {i}", "v": i / 7} for i in range(n)], keeping=Keeping(encoded=True))
    return {"format": 1, "records": {"Item": log.last_saved()}, "requests": []}


def test_a_stored_snapshot_is_compared_as_a_stream_piece_by_piece(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "_PIECE", 1 << 14)  # pieces of 16 KB instead of a megabyte: the same paths
    doc = _big_doc(3_000)
    text = files.dump_snapshot(doc)
    assert len(text) > 8 * (1 << 14)  # several pieces
    path = tmp_path / "s.snapshot.json"
    cases = {"same": text, "longer": text + "\n",
             "one record": text.replace("név 2999\"", "név x\""), "early": text.replace("név 3\"", "név 4\"", 1),
             "crlf": text.replace("\n", "\r\n")}
    for name, stored in cases.items():
        path.write_bytes(stored.encode("utf-8"))
        cmp = files.compare_file(doc, path)
        # Universal newlines, as `read_text` reads it: a file checked out with CRLF still matches; whitespace
        # never counts (the slow path compares data).
        assert cmp.same is (name in ("same", "crlf", "longer")), name
        assert cmp.exists and cmp.text == text
        if name in ("one record", "early"):
            assert cmp.stored is not None and cmp.current is not None
    assert not files.compare_file(doc, tmp_path / "missing.json").exists
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(files.SnapshotFileError, match=r"s.snapshot.json:\d+: not valid JSON"):
        files.compare_file(doc, path, where="s.snapshot.json")


def test_a_snapshot_that_is_not_utf8_is_one_line_and_update_rewrites_it(example: Path,
                                                                         pytester: pytest.Pytester) -> None:
    snap = example / "cassettes/github/issues/default.snapshot.json"
    good = snap.read_bytes()
    snap.write_bytes(b"\xff\xfe{}")
    pytester.chdir()
    run = ("-p", "no:cacheprovider", "--rootdir", str(example), str(example), "-q", "-k", "issues")
    failed = pytester.runpytest_inprocess(*run)
    assert failed.ret == 1
    out = failed.stdout.str()
    assert "default.snapshot.json: not UTF-8 text (byte 0) (rewrite it with --snapshot-update)" in out
    assert "Traceback" not in out and "UnicodeDecodeError" not in out
    for broken in (b"\xff\xfe{}", b"{not json"):
        snap.write_bytes(broken)
        fixed = pytester.runpytest_inprocess(*run, "--snapshot-update")
        assert fixed.ret == 0, fixed.stdout.str()
        assert snap.read_bytes() == good


@settings(max_examples=200, deadline=None)
@given(st.lists(ids, max_size=30))
def test_the_last_save_of_each_id_in_id_order(saved_ids: list[str]) -> None:
    lines = [f"line {n}" for n in range(len(saved_ids))]
    last = {rid: line for rid, line in zip(saved_ids, lines, strict=True)}
    got = RecordLines.last_saved(saved_ids, lines)
    assert list(got.lines()) == [(rid, last[rid]) for rid in sorted(last, key=id_order)]
    assert list(got) == sorted(last, key=id_order) and len(got) == len(last)
    assert all(rid in got for rid in saved_ids) and "never saved" not in got


def _lines_doc(**records: Any) -> dict[str, Any]:
    log = RecordLog(list(records.values()), keeping=Keeping(encoded=True))
    return {"format": 1, "records": {"Item": log.last_saved()}, "metadata": {"writes": [], "final": None}}


@pytest.mark.parametrize(("stored", "run", "same", "diff"), [
    # Equal under ==, not in type: a difference (the verdict words it "values differ only in type").
    ({"1": {"id": "1", "price": 1.0}}, {"1": {"id": "1", "price": 1}}, False, None),
    ({"1": {"id": "1", "ok": True}}, {"1": {"id": "1", "ok": 1}}, False, None),
    ({"1": {"id": "1", "price": float("nan")}}, {"1": {"id": "1", "price": float("nan")}}, True, None),
    ({"1": {"id": "1", "n": "a"}, "2": {"id": "2"}}, {"1": {"id": "1", "n": "b"}, "2": {"id": "2"}}, False,
     "~ 1: n: \"a\" -> \"b\""),
    ({"1": {"id": "1"}}, {"1": {"id": "1"}, "2": {"id": "2"}}, False, "+ 2"),
    ({"1": {"id": "1"}, "2": {"id": "2"}}, {"1": {"id": "1"}}, False, "- 2"),
])
def test_records_as_lines_are_compared_by_value_and_type_on_the_slow_path(
        stored: dict[str, Any], run: dict[str, Any], same: bool, diff: str | None) -> None:
    from harness.snapshots.diff import describe_differences

    text = files.dump_snapshot({"format": 1, "records": {"Item": stored}, "metadata": {"writes": [], "final": None}})
    for stored_text in (text + " ", json.dumps(json.loads(text), indent=3)):  # same layout, and reformatted
        cmp = files.compare(_lines_doc(**run), stored_text)
        assert cmp.same is same
        if diff is not None:
            assert cmp.stored is not None and cmp.current is not None
            lines = describe_differences(cmp.stored, cmp.current)
            assert any(diff in line for line in lines), lines
            # Records equal on both sides are the same objects: the diff never walks them.
            mine, theirs = cmp.current["records"]["Item"], cmp.stored["records"]["Item"]
            for rid in set(mine) & set(theirs):
                assert (mine[rid] is theirs[rid]) is (json.dumps(stored[rid]) == json.dumps(run[rid]))


def test_a_stored_file_without_records_or_with_a_changed_rest_differs() -> None:
    doc = _lines_doc(**{"1": {"id": "1"}})
    text = files.dump_snapshot(doc)
    assert files.compare(doc, text + "\n").same
    no_records = json.loads(text)
    del no_records["records"]
    assert not files.compare(doc, json.dumps(no_records)).same
    other_rest = json.loads(text)
    other_rest["metadata"]["final"] = {"cursor": 2}
    cmp = files.compare(doc, json.dumps(other_rest))
    assert not cmp.same and cmp.current is not None and cmp.current["metadata"]["final"] is None


def test_a_folder_in_place_of_the_snapshot_is_one_line_read_or_written(example: Path,
                                                                        pytester: pytest.Pytester) -> None:
    snap = example / "cassettes/github/issues/default.snapshot.json"
    snap.unlink()
    snap.mkdir()
    pytester.chdir()
    run = ("-p", "no:cacheprovider", "--rootdir", str(example), str(example), "-q", "-k", "issues")
    cases: tuple[tuple[tuple[str, ...], str], ...] = (((), "cannot read it: Is a directory"),
                                                       (("--snapshot-update",), "cannot write it: Is a directory"))
    for extra, said in cases:
        result = pytester.runpytest_inprocess(*run, *extra)
        out = result.stdout.str()
        assert result.ret == 1 and f"cassettes/github/issues/default.snapshot.json: {said}" in out, out
        assert "Traceback" not in out and "IsADirectoryError" not in out
    assert snap.is_dir() and list(snap.iterdir()) == []  # nothing written into it, nothing left beside it
    assert sorted(p.name for p in snap.parent.iterdir()) == ["default.snapshot.json", "default.yaml",
                                                             "webhook.snapshot.json", "webhook.yaml"]


@settings(max_examples=150, deadline=None)
@given(old=st.dictionaries(st.sampled_from([str(i) for i in range(12)]),
                           st.fixed_dictionaries({"v": st.integers(0, 2)}), max_size=8),
       edits=st.lists(st.tuples(st.sampled_from([str(i) for i in range(12)]), st.integers(-1, 2)), max_size=4),
       shared=st.booleans())
def test_the_diff_of_records_in_the_same_order_reports_what_the_set_path_reports(
        old: dict[str, Any], edits: list[tuple[str, int]], shared: bool) -> None:
    # Two sides with the same ids in the same order are walked in step (no id hashed); reordering one side
    # forces the set operations: both must report the same thing. Values equal but not shared also count.
    from harness.snapshots.diff import describe_differences

    new = {k: (v if shared else dict(v)) for k, v in old.items()}
    for rid, value in edits:
        if value < 0:
            new.pop(rid, None)
        elif rid in new:
            new[rid] = {"v": value}
    ordered = describe_differences({"records": {"M": old}}, {"records": {"M": new}})
    shuffled = describe_differences({"records": {"M": old}}, {"records": {"M": dict(reversed(new.items()))}})
    assert ordered == shuffled
    changed = sorted((k for k in new if new[k] != old[k]), key=int)
    if changed:
        assert any(f"{len(changed)} changed" in line for line in ordered)
