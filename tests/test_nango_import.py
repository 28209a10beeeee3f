"""`harness import-nango`: every sample under ../shared/samples/nango converts, and a function written against
each sample's API replays the converted cassette and yields exactly what Nango's own test expects."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import vcr
from click.testing import Result

from harness.cassettes.format import load_cassette
from harness.cassettes.nango_hash import identity, identity_hash
from harness.cassettes.nango_import import import_nango
from harness.pipeline import RunRequest, run_request
from harness.project import load_project
from tests import early

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "nango"
if not SAMPLES.is_dir():
    SAMPLES = Path("/work/shared/samples/nango")

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="Nango samples not available")

MODELS = """
from pydantic import BaseModel, ConfigDict

class Open(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str

class Task(Open): pass
class User(Open): pass
"""

# One function per sample, written against that provider's API as the Nango function was.
FUNCTIONS = {
    "asana/models.py": MODELS,
    "asana/syncs/users.py": """
        from harness import sync
        from ..models import User

        @sync(models=[User])
        async def users(nango):
            spaces = (await nango.get("/api/1.0/workspaces", params={"opt_fields": "gid,name"})).json()["data"]
            for space in spaces:
                resp = await nango.get(f"/api/1.0/workspaces/{space['gid']}/users",
                                       params={"limit": 100, "opt_fields": "name,email,photo"})
                await nango.batch_save([{"id": u["gid"], "name": u["name"], "email": u["email"]}
                                        for u in resp.json()["data"]], User)
    """,
    "asana/syncs/tasks.py": """
        from harness import sync
        from ..models import Task

        FIELDS = ("gid,name,resource_type,resource_subtype,modified_at,created_at,completed,assignee,due_on,"
                  "due_at,workspace")

        def record(t):
            out = {"id": t["gid"], "gid": t["gid"], "name": t["name"], "resource_type": t["resource_type"],
                   "resource_subtype": t["resource_subtype"], "modified_at": t["modified_at"],
                   "created_at": t["created_at"], "completed": t["completed"]}
            if t.get("assignee"):
                out["assignee_gid"] = t["assignee"]["gid"]
                out["assignee_name"] = t["assignee"]["name"]
            if t.get("due_on"):
                out["due_on"] = t["due_on"]
            out["workspace_gid"] = t["workspace"]["gid"]
            out["workspace_name"] = t["workspace"]["name"]
            return out

        @sync(models=[Task])
        async def tasks(nango):
            spaces = (await nango.get("/api/1.0/workspaces", params={"opt_fields": "gid,name"})).json()["data"]
            for space in spaces:
                projects = (await nango.get(f"/api/1.0/workspaces/{space['gid']}/projects",
                                            params={"limit": 100, "opt_fields": "gid,name"})).json()["data"]
                for project in projects:
                    page = (await nango.get("/api/1.0/tasks", params={"limit": 100, "opt_fields": FIELDS,
                                                                      "project": project["gid"]})).json()
                    await nango.batch_save([record(t) for t in page["data"]], Task)
    """,
    "asana/actions/create_task.py": """
        from harness import action

        @action()
        async def create_task(nango, input):
            body = {"data": {k: input[k] for k in ("name", "workspace", "notes", "due_on", "completed") if k in input}}
            task = (await nango.post("/api/1.0/tasks", json=body)).json()["data"]
            return {"id": task["gid"], "name": task["name"], "workspace_id": task["workspace"]["gid"],
                    "project_ids": [p["gid"] for p in task["projects"]], "notes": task["notes"],
                    "due_on": task["due_on"], "completed": task["completed"]}
    """,
    "github/actions/get_issue.py": """
        from harness import action

        NOT_EXPOSED = {"closed_at", "active_lock_reason", "performed_via_github_app", "author_association",
                       "pinned_comment", "timeline_url", "state_reason", "reactions",
                       "issue_dependencies_summary", "sub_issues_summary"}

        @action()
        async def get_issue(nango, input):
            resp = await nango.get(f"/repos/{input['owner']}/{input['repo']}/issues/{input['issue_number']}")
            return {k: v for k, v in resp.json().items() if k not in NOT_EXPOSED}
    """,
    "smartsheet/models.py": MODELS,
    "smartsheet/syncs/users.py": """
        from harness import sync
        from ..models import User

        @sync(models=[User])
        async def users(nango):
            page = (await nango.get("/2.0/users", params={"page": 1, "pageSize": 100})).json()
            await nango.batch_save([{"id": str(u["id"]), "firstName": u.get("firstName", ""),
                                     "lastName": u.get("lastName", ""), "email": u["email"]}
                                    for u in page["data"]], User)
    """,
    "smartsheet/actions/create_user.py": """
        from harness import action

        @action()
        async def create_user(nango, input):
            body = {"admin": False, "licensedSheetCreator": False, **input}
            user = (await nango.post("/2.0/users", json=body)).json()["result"]
            return {"id": str(user["id"]), "firstName": user["firstName"], "lastName": user["lastName"],
                    "email": user["email"]}
    """,
    "smartsheet/actions/delete_user.py": """
        from harness import action

        @action()
        async def delete_user(nango, input):
            await nango.delete(f"/2.0/users/{input['id']}")
            return {"success": True}
    """,
}

CONVERTED = [("asana", "users"), ("asana", "tasks"), ("asana", "create-task"), ("github", "get-issue"),
             ("smartsheet", "users"), ("smartsheet", "create-user"), ("smartsheet", "delete-user")]


@pytest.fixture
def nango_project(make_project: Callable[..., Path], cli: Callable[..., Result]) -> Path:
    root = make_project(FUNCTIONS)
    res = cli(root, "import-nango", str(SAMPLES))
    assert res.exit_code == 0, res.output
    return root


def test_every_sample_converts(nango_project: Path) -> None:
    found = sorted((p.parent.parent.name, p.parent.name) for p in (nango_project / "cassettes").rglob("nango.yaml"))
    assert found == sorted(CONVERTED)


@pytest.mark.parametrize(("integration", "function"), CONVERTED)
def test_converted_cassette_replays_to_nangos_expected_result(nango_project: Path, integration: str, function: str,
                                                             no_network: None) -> None:
    path = nango_project / "cassettes" / integration / function / "nango.yaml"
    expected = load_cassette(path).context["expected"]
    result = run_request(RunRequest(f"{integration}/{function}", "nango", scenario="nango", mode="replay",
                            fail_unplayed=True, project=load_project(nango_project)))
    assert result.ok, result.error
    assert result.unplayed == []
    assert expected, "the cassette must say what Nango's test expects"
    for model, records in expected.get("records", {}).items():
        assert records, f"{model}: the samples all save records"
        assert result.records(model) == records
    for model, deleted in expected.get("deletes", {}).items():
        got = [r["id"] for r in result.models[model].deleted] if model in result.models else []
        assert got == [r["id"] for r in deleted]
    if "output" in expected:
        assert result.output == expected["output"]


def test_expected_results_come_from_the_samples(nango_project: Path) -> None:
    tasks = load_cassette(nango_project / "cassettes/asana/tasks/nango.yaml").context
    unified = json.loads((SAMPLES / "unified/asana-tasks.test.json").read_text())
    assert tasks["expected"]["records"] == unified["nango"]["batchSave"]
    assert tasks["expected"]["deletes"] == {"Task": []}
    assert tasks["type"] == "sync"
    create = load_cassette(nango_project / "cassettes/smartsheet/create-user/nango.yaml").context
    legacy = SAMPLES / "legacy/smartsheet/mocks/create-user"
    assert create["input"] == json.loads((legacy / "input.json").read_text())
    assert create["expected"] == {"output": json.loads((legacy / "output.json").read_text())}
    assert create["type"] == "action"


def test_recorded_hashes_are_reproduced(nango_project: Path) -> None:
    """Nango's request-identity hash, recomputed from each entry's request, equals the recorded one."""
    checked = 0
    for path in sorted((SAMPLES / "unified").glob("*.test.json")):
        for method, endpoints in json.loads(path.read_text())["api"].items():
            for endpoint, entries in endpoints.items():
                for entry in entries if isinstance(entries, list) else [entries]:
                    req = entry.get("request") or {}
                    if path.name == "asana-users.test.json" and endpoint == "/api/1.0/workspaces":
                        continue  # hand-edited: its `request` lost the params its hash was computed with
                    ident = identity(method, endpoint, list((req.get("params") or {}).items()),
                                     list((req.get("headers") or {}).items()), req.get("data"))
                    assert identity_hash(ident) == entry["hash"], (path.name, endpoint)
                    checked += 1
    assert checked == 16
    stored = load_cassette(nango_project / "cassettes/asana/tasks/nango.yaml").interactions
    assert all(len(i.extra["nango_hash"]) == 40 for i in stored)


def test_a_request_matches_by_nango_hash_when_the_recorded_request_lost_its_params(nango_project: Path,
                                                                                  no_network: None) -> None:
    # asana-users' /workspaces entry records no params, but its hash is that of `opt_fields=gid,name`,
    # which the function sends: Nango matches it by hash, and so does the replay.
    cassette = load_cassette(nango_project / "cassettes/asana/users/nango.yaml")
    assert "?" not in cassette.interactions[0].uri
    result = run_request(RunRequest("asana/users", "nango", scenario="nango", project=load_project(nango_project)))
    assert result.ok, result.error
    assert result.requests[0].url.endswith("/api/1.0/workspaces?opt_fields=gid%2Cname")


def test_vcrpy_reads_converted_cassettes(nango_project: Path) -> None:
    # vcrpy patches every thread's HTTP clients while inside: no work of tests/early.py meanwhile.
    with early.paused(), vcr.use_cassette(str(nango_project / "cassettes/asana/tasks/nango.yaml"),
                                          record_mode="none") as c:
        assert len(c.data) == 13


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def test_files_that_cannot_be_converted_are_reported_and_the_rest_converts(
        tmp_path: Path, make_project: Callable[..., Path], cli: Callable[..., Result]) -> None:
    catalog = tmp_path / "catalog"
    good = json.loads((SAMPLES / "unified/github-get-issue.test.json").read_text())
    _write(catalog / "github/tests/get-issue.test.json", json.dumps(good))
    _write(catalog / "github/tests/empty.test.json", "")
    _write(catalog / "github/tests/broken.test.json", "{not json")
    _write(catalog / "github/tests/list.test.json", "[]")
    _write(catalog / "github/tests/no-response.test.json", '{"api": {"get": {"/x": {"status": 200}}}}')
    _write(catalog / "jira/mocks/paginate/get/users/search.json", "[]")
    _write(catalog / f"jira/mocks/nango/get/proxy/users/list-users/{'a' * 40}.json",
           '{"status": 200, "data": []}')
    (catalog / "github-app").symlink_to(catalog / "github")
    root = make_project({})
    res = cli(root, "import-nango", str(catalog))
    assert res.exit_code == 3
    assert "github/get-issue: cassettes/github/get-issue/nango.yaml (1 interaction(s))" in res.stdout
    err = res.stderr
    assert "empty.test.json: the file is empty" in err
    assert "broken.test.json: not valid JSON" in err
    assert "list.test.json: not a Nango test file" in err
    assert "no-response.test.json: api.get['/x']: an entry needs a `response`" in err
    assert "paginate: the paginate/ folder is not read" in err
    assert "a request-hash file needs {method, endpoint, requestIdentity, response}; this one has keys data, status" \
        in err
    assert "skipped: " in err and "github-app: an alias of github; skipped" in err
    assert "1 converted, 5 not converted, 2 skipped" in err
    assert "error: 5 file(s) not converted (1 converted)" in err
    assert sorted(p.name for p in (root / "cassettes").rglob("*.yaml")) == ["nango.yaml"]


def test_import_of_a_missing_path_is_a_usage_error(make_project: Callable[..., Path],
                                                   cli: Callable[..., Result], tmp_path: Path) -> None:
    res = cli(make_project({}), "import-nango", str(tmp_path / "nope"))
    assert res.exit_code == 2
    assert "does not exist" in res.stderr


def test_one_file_with_an_explicit_integration(tmp_path: Path) -> None:
    report = import_nango(SAMPLES / "unified/asana-create-task.test.json", tmp_path, integration="asana",
                          scenario="from-nango", connection_id="prod")
    assert [(c.integration, c.function) for c in report.converted] == [("asana", "create-task")]
    ctx = load_cassette(tmp_path / "asana/create-task/from-nango.yaml").context
    assert ctx["connection"]["connection_id"] == "prod"
    assert ctx["input"]["name"] == "Combo test notes due completed"



def _unified(api: dict[str, Any], **extra: Any) -> str:
    return json.dumps({"api": api, **extra})


@pytest.mark.parametrize("args", [["--scenario", "../../x"], ["--integration", "../../x"],
                                  ["--scenario", "a/b"], ["--integration", ".hidden"]])
def test_names_from_options_never_become_paths(args: list[str], tmp_path: Path, make_project: Callable[..., Path],
                                               cli: Callable[..., Result]) -> None:
    root = make_project({})
    before = sorted(p for p in tmp_path.rglob("*"))
    res = cli(root, "import-nango", str(SAMPLES / "unified/github-get-issue.test.json"), *args)
    assert res.exit_code == 2, res.output
    assert "bad scenario name" in res.stderr or "bad integration name" in res.stderr
    assert sorted(p for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("bad", ["github/tests/...test.json", "..-get-issue.test.json", "github/tests/.x.test.json"])
def test_a_recording_whose_name_parses_to_a_bad_name_stops_the_import(
        bad: str, tmp_path: Path, make_project: Callable[..., Path], cli: Callable[..., Result]) -> None:
    catalog = tmp_path / "catalog"
    good = (SAMPLES / "unified/github-get-issue.test.json").read_text()
    _write(catalog / "github/tests/get-issue.test.json", good)
    _write(catalog / bad, good)
    root = make_project({})
    res = cli(root, "import-nango", str(catalog))
    assert res.exit_code == 2, res.output
    assert "bad integration name" in res.stderr or "bad function name" in res.stderr
    assert list((root / "cassettes").rglob("*")) == []  # nothing written, the good file neither
    assert not (tmp_path / "github").exists()


def test_only_skipped_folders_is_a_success(tmp_path: Path, make_project: Callable[..., Path],
                                           cli: Callable[..., Result]) -> None:
    catalog = tmp_path / "catalog"
    _write(catalog / "github/tests/get-issue.test.json", (SAMPLES / "unified/github-get-issue.test.json").read_text())
    (catalog / "github/tests/odd.test.json").mkdir()
    (catalog / "jira/mocks/nango/get/proxy/x/f/weird.json").mkdir(parents=True)
    _write(catalog / "jira/mocks/paginate/get/x.json", "[]")
    (catalog / "github-alias").symlink_to(catalog / "github")
    root = make_project({})
    res = cli(root, "import-nango", str(catalog))
    assert res.exit_code == 0, res.output
    err = res.stderr
    assert "odd.test.json: a directory named *.test.json, not a recording; skipped" in err
    assert "weird.json: a directory named *.json, not a recording; skipped" in err
    assert "github-alias: an alias of github; skipped" in err
    assert "1 converted, 0 not converted, 4 skipped" in err


def test_each_recording_is_scrubbed_on_its_own_and_only_cookie_values(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    link = '<https://secure.splitwise.com/api/v3.0/get_expenses?offset=20>; rel="next"'
    cookie = "sid=abcdef123456; Domain=.splitwise.com; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Secure; HttpOnly"
    _write(catalog / "splitwise/tests/a.test.json", _unified({"get": {"/api/v3.0/get_expenses": {
        "response": {"expenses": [], "secure": True, "echo": "abcdef123456"},
        "headers": {"set-cookie": cookie, "link": link, "x-request-id": "req-secure-123"}}}}))
    # Another file holding the same value: it learned nothing from the first one.
    _write(catalog / "splitwise/tests/b.test.json", _unified({"get": {"/api/v3.0/get_user": {
        "response": {"note": "abcdef123456 Secure Path=/ HttpOnly"}}}}))
    report = import_nango(catalog, tmp_path / "out")
    assert not report.problems, report.problems
    a = load_cassette(tmp_path / "out/splitwise/a/nango.yaml").interactions[0]
    assert a.response_headers["set-cookie"] == [
        "sid=<scrubbed:cookie.sid>; Domain=.splitwise.com; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Secure; "
        "HttpOnly"]
    assert a.response_headers["link"] == [link]  # unrelated headers are never rewritten
    assert a.response_headers["x-request-id"] == ["req-secure-123"]
    assert json.loads(a.response_body) == {"expenses": [], "secure": True, "echo": "<scrubbed:cookie.sid>"}
    b = load_cassette(tmp_path / "out/splitwise/b/nango.yaml").interactions[0]
    assert json.loads(b.response_body) == {"note": "abcdef123456 Secure Path=/ HttpOnly"}


JIRA = """
from harness import action

@action()
async def create_issue(nango, input):
    r = await nango.post("/rest/api/3/issue", json={"fields": {"project": {"key": input["project"]},
                                                                "summary": input["summary"]},
                                                     "token": "kept-as-data", "password": "data-too"})
    return r.json()
"""


def test_data_fields_named_key_token_password_survive_import_and_replay(
        tmp_path: Path, make_project: Callable[..., Path], cli: Callable[..., Result], no_network: None) -> None:
    body = {"fields": {"project": {"key": "KAN"}, "summary": "Hello"}, "token": "kept-as-data",
            "password": "data-too"}
    catalog = tmp_path / "catalog"
    _write(catalog / "jira/tests/create-issue.test.json", _unified(
        {"post": {"/rest/api/3/issue": {"request": {"data": body}, "response": {"id": "10000", "key": "KAN-1"}}}},
        input={"project": "KAN", "summary": "Hello"}, output={"id": "10000", "key": "KAN-1"}))
    root = make_project({"jira/actions/create_issue.py": JIRA})
    res = cli(root, "import-nango", str(catalog))
    assert res.exit_code == 0, res.output
    stored = load_cassette(root / "cassettes/jira/create-issue/nango.yaml").interactions[0]
    assert json.loads(stored.request_body or "") == body
    replay = cli(root, "dryrun", "jira/create-issue", "nango", "--scenario", "nango", "--strict", "--json")
    assert replay.exit_code == 0, replay.output
    assert json.loads(replay.stdout)["output"] == {"id": "10000", "key": "KAN-1"}


def test_progress_shows_only_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    from harness.cli.import_nango import _progress

    with _progress() as progress:
        assert progress is None  # pytest's stderr is no terminal
    screen = io.StringIO()
    screen.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stderr", screen)
    seen: list[tuple[int, int]] = []
    with _progress() as progress:
        assert progress is not None
        report = import_nango(SAMPLES, tmp_path / "out",
                              progress=lambda done, total: (seen.append((done, total)), progress(done, total)))
    assert report.converted and seen and seen[-1][0] == seen[-1][1]


def test_problems_inside_the_project_are_shown_relative_to_it(make_project: Callable[..., Path],
                                                               cli: Callable[..., Result]) -> None:
    root = make_project({})
    catalog = root / "nango"
    _write(catalog / "github/tests/get-issue.test.json", (SAMPLES / "unified/github-get-issue.test.json").read_text())
    (catalog / "github/tests/latin1.test.json").write_bytes(b'{"api": "\xe9"}')
    res = cli(root, "import-nango", str(catalog))
    assert res.exit_code == 3, res.output
    assert "not converted: nango/github/tests/latin1.test.json: cannot read it" in res.stderr
    assert str(root) not in res.stderr


@pytest.mark.parametrize("blocked", ["cassettes/github", "cassettes/jira/list-users"])
def test_a_file_where_a_cassette_folder_belongs_stops_the_import_before_any_write(
        blocked: str, tmp_path: Path, make_project: Callable[..., Path], cli: Callable[..., Result]) -> None:
    # One unified file and one legacy integration: either's folder blocked, neither is written (it was an
    # internal error, exit 70, after the files before it were in).
    catalog = tmp_path / "catalog"
    _write(catalog / "github/tests/get-issue.test.json", (SAMPLES / "unified/github-get-issue.test.json").read_text())
    _write(catalog / f"jira/mocks/nango/get/proxy/users/list-users/{'a' * 40}.json",
           json.dumps({"method": "get", "endpoint": "users", "requestIdentity": {}, "response": []}))
    root = make_project({})
    (root / blocked).parent.mkdir(parents=True, exist_ok=True)
    (root / blocked).write_text("not a folder")
    res = cli(root, "import-nango", str(catalog))
    assert res.exit_code == 2, res.output
    [line] = res.stderr.splitlines()
    assert line.startswith(f"error: cannot write the cassettes: {blocked} is not a folder (move that file"), line
    assert [str(p.relative_to(root)) for p in (root / "cassettes").rglob("*") if p.is_file()] == [blocked]
