"""The snapshot document, its file layout and the record-level diff, without pytest sessions."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel

from harness.errors import ConfigError
from harness.result import Exchange, RunResult
from harness.snapshots.diff import describe_differences
from harness.snapshots.document import SnapshotSettings, snapshot_document
from harness.snapshots.files import compare, dump_snapshot, parse_snapshot
from tests import early
from tests.conftest import REPO


def sync_result(order: list[int]) -> RunResult:
    result = RunResult(function="issues", integration="github", function_type="sync", connection_id="demo",
                       mode="replay", scenario="default")
    changes = result.model("Issue")
    changes.saved = [{"title": f"t{n}", "id": str(n)} for n in order]
    changes.deleted = [{"id": "5"}]
    changes.added_count = len(order)
    result.checkpoints = [{"since": "a"}, {"since": "b"}]
    result.final_checkpoint = {"since": "b"}
    result.requests = [Exchange("GET", "https://api.x.com/items?page=2&q=1", 200, 3.2, "replay")]
    return result


def test_records_are_sorted_by_id_whatever_the_call_order() -> None:
    a = dump_snapshot(snapshot_document(sync_result([10, 9, 100, 2])))
    b = dump_snapshot(snapshot_document(sync_result([2, 100, 10, 9])))
    assert a == b
    doc = json.loads(a)
    assert list(doc["records"]["Issue"]) == ["2", "9", "10", "100"]  # numeric ids in numeric order
    assert doc["records"]["Issue"]["9"] == {"id": "9", "title": "t9"}
    assert doc["deletes"] == {"Issue": ["5"]}
    assert doc["requests"] == [{"method": "GET", "path": "/items?page=2&q=1", "status": 200}]
    assert '      "9": {"id": "9", "title": "t9"},\n' in a  # one record per line, for git diffs


# Its two interpreters start ahead, on the other core (tests/early.py); the test compares what they wrote.
@early.ahead("test_the_file_is_the_same_under_any_hash_seed")
def _hash_seeds(ctx: early.Context) -> tuple[list[int], list[tuple[str, str]]]:
    code = ("from tests.test_snapshots import sync_result; from harness.snapshots import *; "
            "import sys; sys.stdout.write(dump_snapshot(snapshot_document(sync_result([3, 1, 2]))))")
    # Two interpreters with hash seeds of their own (a seed is chosen at start-up), started together.
    # In the repository's root, where `tests` is importable whatever folder pytest was started from.
    procs = [ctx.popen([sys.executable, "-c", code], env={**ctx.env, "PYTHONHASHSEED": seed}, cwd=REPO,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for seed in ("1", "2")]
    done = [p.communicate(timeout=120) for p in procs]
    return [p.returncode for p in procs], done


def test_the_file_is_the_same_under_any_hash_seed() -> None:
    # Two interpreters with hash seeds of their own, and this one (seeded at random, or by the developer's
    # PYTHONHASHSEED).
    returncodes, done = _hash_seeds.result()
    assert returncodes == [0, 0], [err for _, err in done]
    here = dump_snapshot(snapshot_document(sync_result([3, 1, 2])))
    assert {out for out, _ in done} == {here}


class Out(BaseModel):
    id: str
    at: datetime


def test_pydantic_values_and_datetimes_serialize_cleanly() -> None:
    result = RunResult(function="make", integration="x", function_type="action", connection_id="c", mode="replay")
    result.output = {"model": Out(id="1", at=datetime(2026, 1, 2, tzinfo=UTC)), "tags": ("a", "b")}
    result.has_output = True
    text = dump_snapshot(snapshot_document(result))
    assert json.loads(text)["output"] == {"model": {"id": "1", "at": "2026-01-02T00:00:00Z"}, "tags": ["a", "b"]}
    assert "Out(" not in text


def test_compare_is_canonical_and_type_strict() -> None:
    doc = snapshot_document(sync_result([1, 2]))
    text = dump_snapshot(doc)
    assert compare(doc, text).same
    reformatted = json.dumps(json.loads(text), indent=4, sort_keys=True)
    assert compare(doc, reformatted).same  # layout does not matter
    changed = json.loads(text)
    changed["checkpoints"]["saved"][0] = {"since": "a", "n": 1}
    doc["checkpoints"]["saved"][0] = {"since": "a", "n": 1.0}
    cmp = compare(doc, json.dumps(changed))
    assert not cmp.same  # 1 and 1.0 are different JSON
    assert cmp.stored is not None and cmp.current is not None


def test_diff_names_records_checkpoints_and_requests() -> None:
    old = json.loads(dump_snapshot(snapshot_document(sync_result(list(range(1, 30))))))
    new_result = sync_result([n for n in range(1, 30) if n != 4] + [40])
    new_result.models["Issue"].saved[0]["title"] = "changed"
    new_result.checkpoints.append({"since": "c"})
    new_result.requests[0].status = 500
    lines = describe_differences(old, json.loads(dump_snapshot(snapshot_document(new_result))))
    text = "\n".join(lines)
    assert "records.Issue: 1 added, 1 removed, 1 changed (snapshot 29, run 29)" in text
    assert '~ 1: title: "t1" -> "changed"' in text
    assert '- 4 {"id": "4", "title": "t4"}' in text and '+ 40 {"id": "40", "title": "t40"}' in text
    assert "checkpoints.saved: 2 before, 3 in the run" in text and '+ #2: {"since": "c"}' in text
    assert "~ #0: GET /items?page=2&q=1 200 -> GET /items?page=2&q=1 500" in text


def test_diff_is_capped() -> None:
    old = json.loads(dump_snapshot(snapshot_document(sync_result(list(range(1000))))))
    new = json.loads(dump_snapshot(snapshot_document(sync_result(list(range(1000, 2000))))))
    lines = describe_differences(old, new)
    assert len(lines) < 30 and any("... and 1990 more" in line for line in lines)


def test_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"unknown key\(s\) excludes"):
        SnapshotSettings.from_table({"excludes": []})
    with pytest.raises(ConfigError, match="exclude must be a list of paths"):
        SnapshotSettings.from_table({"exclude": "records"})
    settings = SnapshotSettings.from_table({"exclude": ["requests.*.status", "checkpoints.saved.0"]})
    doc = settings.apply(snapshot_document(sync_result([1])))
    assert doc["requests"] == [{"method": "GET", "path": "/items?page=2&q=1"}]
    assert doc["checkpoints"]["saved"] == [None, {"since": "b"}]


def test_a_broken_snapshot_file_is_a_one_line_error() -> None:
    with pytest.raises(Exception, match=r"x.json:1: not valid JSON .*--snapshot-update"):
        parse_snapshot("{nope", "x.json")
