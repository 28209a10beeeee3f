"""Bounded memory for big runs (issue 12 point 8): a result's record logs keep a head in memory and spill the
rest to an unlinked temporary file, scrubbed, read back whole when asked for, streamed by `--json`."""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.pipeline import RunRequest, execute
from harness.records.log import Keeping, RecordLog
from harness.result import RunResult
from tests.fakes.server_base import FakeServer, Reply, Seen

API_KEY = "rl-api-key-7d1f0c9e55aa"
PER_PAGE = 500
PAGES = 5

SYNC = '''
from pydantic import BaseModel
from harness import sync

class Item(BaseModel):
    id: str
    name: str
    echo: str

@sync(models=[Item])
async def items(nango):
    async for page in nango.paginate("/items", paginate={"type": "link", "link_rel_in_response_header": "next",
                                                        "response_path": "items"}):
        await nango.batch_save(page, Item)
'''
PYPROJECT = """\
[tool.harness]
functions = "functions"
cassettes = "cassettes"
[tool.harness.providers.pages]
base_url = "${connectionConfig.base}"
"""


def _rows(n: int, start: int = 0) -> list[dict[str, object]]:
    return [{"id": str(i), "v": i} for i in range(start, start + n)]


# -- the log itself ----------------------------------------------------------------------------------


def test_a_log_holds_its_head_in_memory_and_spills_the_rest_in_call_order(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    log = RecordLog(keeping=Keeping(in_memory=3))
    log.extend(_rows(2))
    assert log.spilled == 0
    log.extend(_rows(2, 2))  # crosses the limit: one row stays in memory, one spills
    log.append({"id": "4", "v": 4})
    log.extend([])
    assert (len(log), log.spilled, bool(log)) == (5, 2, True)
    assert list(log) == _rows(5) and log == _rows(5) and log != _rows(4)
    assert log.head(2) == _rows(2) and log.head(4) == _rows(4)
    assert log[:3] == _rows(3) and log[4] == {"id": "4", "v": 4} and log[-1] == {"id": "4", "v": 4}
    assert repr(log) == "RecordLog(3 in memory + 2 spilled)"
    # The spill file has no name: nothing for a crash to leave behind, nothing in anyone's folder.
    assert os.listdir(tmp_path) == []
    # Reading it back leaves it appendable in order.
    log.extend(_rows(1, 5))
    assert list(log) == _rows(6)


def test_a_log_without_a_limit_never_spills() -> None:
    log = RecordLog(keeping=Keeping(in_memory=None))
    log.extend(_rows(5000))
    assert log.spilled == 0 and len(log) == 5000
    with pytest.raises(IndexError):
        RecordLog(keeping=Keeping(in_memory=1), rows=_rows(3))[2] = {"id": "x"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 7), max_size=8), st.integers(0, 10))
def test_a_log_reads_back_exactly_what_was_written(sizes: list[int], limit: int) -> None:
    log, want, n = RecordLog(keeping=Keeping(in_memory=limit)), [], 0
    for size in sizes:
        rows = _rows(size, n)
        n += size
        log.extend(rows)
        want += rows
    assert list(log) == want and len(log) == len(want) and log.spilled == max(0, len(want) - limit)
    for i in range(len(want)):
        assert log[i] == want[i] and log.head(i) == want[:i]


def test_the_spill_is_scrubbed_before_it_is_written_and_rewritten_for_late_secrets() -> None:
    seen: list[int] = []

    def scrub(rows: list[dict[str, object]]) -> list[dict[str, object]]:
        seen.append(len(rows))
        return [{**r, "v": "<scrubbed>"} if r["v"] == "s3cret" else r for r in rows]

    log = RecordLog(keeping=Keeping(in_memory=1, scrub=scrub))
    log.extend([{"id": "0", "v": "s3cret"}, {"id": "1", "v": "s3cret"}, {"id": "2", "v": "late"}])
    assert seen == [2]  # only what spills goes through the scrub (the store scrubs its own copy)
    assert list(log)[1:] == [{"id": "1", "v": "<scrubbed>"}, {"id": "2", "v": "late"}]
    log.rewrite(lambda rows: [{**r, "v": "<late>"} if r["v"] in ("late", "s3cret") else r for r in rows],
                needed=lambda text: "late" in text or "s3cret" in text)
    assert list(log) == [{"id": "0", "v": "<late>"}, {"id": "1", "v": "<scrubbed>"}, {"id": "2", "v": "<late>"}]


def test_write_json_streams_spilled_logs_into_the_same_document() -> None:
    def result(limit: int | None) -> RunResult:
        r = RunResult(function="items", integration="pages", function_type="sync", connection_id="c1",
                      mode="live", keeping=Keeping(in_memory=limit))
        changes = r.model("Item")
        changes.saved.extend([{"id": str(i), "name": f"é{i}", "n": {"deep": [i, 1.5e-7]}} for i in range(7)])
        changes.deleted.extend([{"id": "3"}])
        r.model("Empty")
        return r

    small = result(None)
    text = io.StringIO()
    small.write_json(text)
    # Nothing spilled: the very text `json.dumps` writes.
    assert text.getvalue() == json.dumps(small.to_json(), indent=2, ensure_ascii=False) + "\n"
    big = result(2)
    assert big.models["Item"].saved.spilled == 5
    streamed = io.StringIO()
    big.write_json(streamed)
    assert json.loads(streamed.getvalue()) == big.to_json() == json.loads(text.getvalue())
    lines = streamed.getvalue().splitlines()
    assert '      "saved": [' in lines and '            "deep": [' in lines  # indented like the rest


# -- a big live sync through the CLI -------------------------------------------------------------------


class Pages(FakeServer):
    def __init__(self) -> None:
        super().__init__(self.handle)

    def handle(self, req: Seen) -> Reply:
        page = int(req.q("page") or 1)
        # The provider hands the credential back inside a record: the result and the spill must not hold it.
        items = [{"id": f"{(page - 1) * PER_PAGE + i:05d}", "name": f"Item {page}-{i}",
                  "echo": req.header("x-api-key") or ""} for i in range(PER_PAGE)]
        headers = {"link": f'<{self.base_url}/items?page={page + 1}>; rel="next"'} if page < PAGES else {}
        return Reply(200, {"items": items}, headers)


@pytest.fixture
def pages_project(make_project: Callable[..., Path]) -> Iterator[Path]:
    with Pages() as server:
        root = make_project({"pages/syncs/items.py": SYNC}, connections=f"""
            connections:
              c1:
                provider: pages
                integration: pages
                connection_config: {{base: "{server.base_url}"}}
                credentials: {{type: API_KEY, apiKey: "{API_KEY}"}}
            """, pyproject=PYPROJECT.replace('base_url = "${connectionConfig.base}"',
                                             'base_url = "${connectionConfig.base}"\n'
                                             '[tool.harness.providers.pages.headers]\n'
                                             '"x-api-key" = "${apiKey}"'))
        yield root


def test_a_big_live_sync_spills_and_json_still_prints_every_record(pages_project: Path,
                                                                   cli: Callable[..., Result]) -> None:
    out = cli(pages_project, "dryrun", "items", "c1", "--live", "--json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    saved = doc["records"]["Item"]["saved"]
    assert [r["id"] for r in saved] == [f"{i:05d}" for i in range(PER_PAGE * PAGES)]
    assert doc["counts"]["Item"]["added"] == PER_PAGE * PAGES
    assert API_KEY not in out.output and saved[-1]["echo"] != "" and saved[-1]["echo"] == saved[0]["echo"]
    plain = cli(pages_project, "dryrun", "items", "c1", "--live", "--show", "2")
    assert plain.exit_code == 0 and "Item saved (2500):" in plain.stdout and "2498 more" in plain.stdout


def test_the_spill_file_never_holds_a_known_secret(pages_project: Path) -> None:
    from harness.project import load_project

    result = execute(RunRequest(function="items", connection_id="c1", mode="live",
                                project=load_project(pages_project), records_in_memory=100)).result
    log = result.models["Item"].saved
    assert (len(log), log.spilled) == (2500, 2400)
    spill = log._spill  # the raw bytes on disk
    assert spill is not None
    spill.seek(0)
    raw = spill.read()
    spill.seek(0, 2)
    assert raw.count(b'"echo"') == 2400 and API_KEY.encode() not in raw
    assert all(API_KEY not in r["echo"] for r in log)
    assert result.records("Item")[1234]["id"] == "01234"


def test_show_secrets_never_reaches_the_spill_or_the_store(pages_project: Path) -> None:
    import sqlite3

    from harness.project import load_project
    from harness.secrets.redact import redaction_scope

    with redaction_scope(show=True):  # what `harness --show-secrets` opens
        result = execute(RunRequest(function="items", connection_id="c1", mode="live", persist=True,
                                    project=load_project(pages_project), records_in_memory=10)).result
    log = result.models["Item"].saved
    assert log[0]["echo"] == API_KEY  # shown, as asked, where it is printed from memory
    spill = log._spill
    assert spill is not None
    spill.seek(0)
    assert API_KEY.encode() not in spill.read()
    spill.seek(0, 2)
    db = sqlite3.connect(pages_project / ".harness" / "records.sqlite")
    try:
        assert not [row for (row,) in db.execute("SELECT data FROM records") if API_KEY in row]
        assert db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == PER_PAGE * PAGES
    finally:
        db.close()


def test_a_spill_that_cannot_be_written_is_a_store_error_not_the_functions(
        pages_project: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(pages_project / "no-such"))  # what TMPDIR sets at start
    out = cli(pages_project, "dryrun", "items", "c1", "--live")
    assert out.exit_code == 5, out.output
    assert "cannot spill records to a temporary file" in out.stderr and "TMPDIR" in out.stderr
    assert "Traceback" not in out.output and "script_internal_error" not in out.output
