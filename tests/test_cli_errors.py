"""Each bad input gives a one-line error with its documented exit code, no traceback, and writes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.fakes.github_server import FakeGitHub

from .conftest import GH_CONNECTIONS as CONNECTIONS
from .conftest import files_under

SYNC = """
from pydantic import BaseModel
from harness import sync

class Ticket(BaseModel):
    id: str
    title: str
    number: int

@sync(models=[Ticket], frequency="every hour")
async def tickets(nango):
    meta = await nango.get_metadata() or {}
    rows = (await nango.get("/repos/o/r/issues", params={"per_page": 3})).json()
    records = [{"id": str(r["id"]), "title": r["title"], "number": r["number"]} for r in rows]
    if meta.get("break") == "no-id":
        del records[1]["id"]
    if meta.get("break") == "bad-field":
        records[0]["number"] = "one"
        records[2]["title"] = None
    await nango.batch_save(records, "Ticket")
"""


@pytest.fixture
def proj(make_project: Callable[..., Path]) -> Path:
    return make_project({"gh/syncs/tickets.py": SYNC}, connections=CONNECTIONS)


@pytest.fixture
def live_env(fake_github: FakeGitHub) -> dict[str, str]:
    return {"GH_URL": fake_github.base_url, "GH_TOKEN": fake_github.token}


def one_line_error(res: Result) -> str:
    assert "Traceback" not in res.output and "Traceback" not in res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, res.stderr
    return errors[0]


def test_invalid_input_json(proj: Path, cli: Callable[..., Result]) -> None:
    before = files_under(proj)
    res = cli(proj, "dryrun", "tickets", "c1", "--input", "{not json")
    assert res.exit_code == 2
    assert "--input: not valid JSON" in one_line_error(res)
    res = cli(proj, "dryrun", "tickets", "c1", "--metadata", "@missing.json")
    assert res.exit_code == 2
    assert "--metadata: file missing.json does not exist" in one_line_error(res)
    assert files_under(proj) == before


def test_unknown_function(proj: Path, cli: Callable[..., Result]) -> None:
    res = cli(proj, "dryrun", "tikets", "c1")
    assert res.exit_code == 2
    line = one_line_error(res)
    assert "unknown function 'tikets'" in line and "did you mean tickets?" in line


def test_unknown_connection(proj: Path, cli: Callable[..., Result]) -> None:
    res = cli(proj, "dryrun", "tickets", "c2")
    assert res.exit_code == 2
    line = one_line_error(res)
    assert "unknown connection 'c2' in " in line and "known connections: c1" in line


def test_function_file_with_syntax_error(make_project: Callable[..., Path], cli: Callable[..., Result]) -> None:
    root = make_project({"gh/syncs/tickets.py": SYNC, "gh/actions/broken.py": "async def broken(:\n    pass\n"},
                        connections=CONNECTIONS)
    res = cli(root, "dryrun", "broken", "c1")
    assert res.exit_code == 2
    line = one_line_error(res)
    assert "broken.py:1" in line and "SyntaxError" in line
    # The broken file does not hide the others.
    listed = cli(root, "list", "--json")
    assert listed.exit_code == 2
    doc = json.loads(listed.stdout)
    assert [f["name"] for f in doc["functions"]] == ["tickets"]
    assert doc["problems"][0]["line"] == 1 and doc["problems"][0]["file"].endswith("broken.py")


def test_record_without_id_fails_and_records_nothing(proj: Path, cli: Callable[..., Result],
                                                     live_env: dict[str, str]) -> None:
    before = files_under(proj)
    res = cli(proj, "dryrun", "tickets", "c1", "--record", "--metadata", '{"break": "no-id"}', env=live_env)
    assert res.exit_code == 1
    assert "record, model Ticket, record #1, field id: record has no id" in res.output
    assert "nothing recorded" in res.output
    assert files_under(proj) == before


def test_every_record_failing_its_model_is_reported(proj: Path, cli: Callable[..., Result],
                                                    live_env: dict[str, str]) -> None:
    before = files_under(proj)
    res = cli(proj, "dryrun", "tickets", "c1", "--record", "--json", "--metadata", '{"break": "bad-field"}',
              env=live_env)
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert doc["status"] == "invalid"
    found = {(i["record_id"], i["path"]) for i in doc["issues"] if i["severity"] == "error"}
    assert found == {("1001", "number"), ("1003", "title")}
    assert doc["error"]["type"] == "invalid_data"
    assert files_under(proj) == before
    # --lenient keeps going with warnings (and then records).
    res = cli(proj, "dryrun", "tickets", "c1", "--record", "--lenient", "--metadata", '{"break": "bad-field"}',
              env=live_env)
    assert res.exit_code == 0, res.output
    assert "warning: record, model Ticket, id '1001', field number" in res.output


def test_unrecorded_request_in_replay(proj: Path, cli: Callable[..., Result], live_env: dict[str, str],
                                      request: pytest.FixtureRequest) -> None:
    res = cli(proj, "dryrun", "tickets", "c1", "--record", env=live_env)
    assert res.exit_code == 0, res.output
    request.getfixturevalue("no_network")
    cassette = proj / "cassettes/gh/tickets/default.yaml"
    text = cassette.read_text()
    cassette.write_text(text.replace("per_page=3", "per_page=4"))
    before = files_under(proj)
    res = cli(proj, "dryrun", "tickets", "c1")
    assert res.exit_code == 3
    assert "no recorded response for GET /repos/o/r/issues?per_page=3" in res.output
    assert "query per_page=3 != recorded 4" in res.output
    assert files_under(proj) == before


def test_cassette_that_is_not_yaml(proj: Path, cli: Callable[..., Result]) -> None:
    cassette = proj / "cassettes/gh/tickets/default.yaml"
    cassette.parent.mkdir(parents=True)
    cassette.write_text("interactions: [\n  - {request: \n")
    before = files_under(proj)
    res = cli(proj, "dryrun", "tickets", "c1")
    assert res.exit_code == 3
    line = one_line_error(res)
    assert "default.yaml" in line and "not valid YAML" in line
    assert files_under(proj) == before


def test_live_run_without_credentials(proj: Path, cli: Callable[..., Result]) -> None:
    res = cli(proj, "dryrun", "tickets", "c1", "--live")
    assert res.exit_code == 2
    assert "needs environment variable(s) GH_TOKEN" in one_line_error(res)


def test_live_write_needs_allow_writes(make_project: Callable[..., Path], cli: Callable[..., Result],
                                       live_env: dict[str, str], fake_github: FakeGitHub) -> None:
    root = make_project({"gh/actions/open_issue.py": """
        from harness import action

        @action()
        async def open_issue(nango, input):
            return (await nango.post("/repos/o/r/issues", json={"title": "x"})).json()["number"]
        """}, connections=CONNECTIONS)
    res = cli(root, "dryrun", "open-issue", "c1", "--live", env=live_env)
    assert res.exit_code == 2
    assert "blocked" in res.output and "--allow-writes" in res.output
    assert not [r for r in fake_github.requests if r.method == "POST"]
    res = cli(root, "dryrun", "open-issue", "c1", "--live", "--allow-writes", "--json", env=live_env)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["output"] == 13


def test_bad_option_values(proj: Path, cli: Callable[..., Result]) -> None:
    res = cli(proj, "dryrun", "tickets", "c1", "--max-pages", "0")
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    res = cli(proj, "dryrun", "tickets", "c1", "--scenario", "../x")
    assert res.exit_code == 2
    assert "bad scenario name" in one_line_error(res)
