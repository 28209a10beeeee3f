"""compile, package and deploy: the manifest against its schema, the checks, byte-identical bundles, the
test gate, the plan, destructive changes, and delivery to a folder and to a local HTTP receiver."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

from harness.cli import main
from harness.packaging.manifest import manifest_json_schema
from tests.fakes.receiver import Receiver

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "harness" / "packaging" / "manifest.schema.json"
Invoke = Callable[..., Result]


@pytest.fixture
def invoke() -> Invoke:
    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_compile_writes_a_manifest_valid_against_its_schema(example: Path, invoke: Invoke) -> None:
    res = invoke("--project", str(example), "compile")
    assert res.exit_code == 0, res.output
    manifest = json.loads((example / ".harness" / "manifest.json").read_text())
    shipped = json.loads(SCHEMA_FILE.read_text())
    assert shipped == manifest_json_schema(), "regenerate: python -m harness.packaging.manifest"
    jsonschema.Draft202012Validator(shipped).validate(manifest)
    github = manifest["integrations"]["github"]
    assert github["syncs"] == ["issues"] and github["actions"] == ["create-issue"]
    issues = github["functions"]["issues"]
    assert issues["frequency"] == "every hour" and issues["frequency_seconds"] == 3600
    assert issues["helpers"] == ["functions/github/models.py"]
    issue_schema = issues["models"]["Issue"]
    assert issue_schema["json_schema"]["$schema"].endswith("2020-12/schema")
    assert issue_schema["json_schema_draft7"]["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(issue_schema["json_schema_draft7"])
    jsonschema.Draft7Validator(issue_schema["json_schema_draft7"]).validate(
        {"id": "1", "number": 1, "title": "t", "state": "open", "author": "a", "updated_at": "x"})
    assert issues["checkpoint"]["name"] == "IssueCursor" and issues["metadata"]["name"] == "RepoMetadata"
    assert github["functions"]["create-issue"]["input"]["json_schema"]["required"] == ["title"]
    # auto_start with required metadata is a warning, not an error
    assert "auto_start" in res.stderr and manifest["warnings"]
    # a broken manifest does not validate: the schema is not vacuous
    del manifest["integrations"]["github"]["functions"]["issues"]["content_hash"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(shipped).validate(manifest)


def test_draft7_copy_rewrites_defs_and_refs(make_project: Callable[..., Path], invoke: Invoke) -> None:
    root = make_project({"gh/actions/nested.py": """
        from pydantic import BaseModel
        from harness import action

        class Label(BaseModel):
            name: str

        class In(BaseModel):
            labels: list[Label]
            pair: tuple[int, str]

        @action(input=In, output=In)
        async def nested(nango, input: In) -> In:
            return input
    """})
    assert invoke("--project", str(root), "compile").exit_code == 0
    entry = json.loads((root / ".harness" / "manifest.json").read_text())["integrations"]["gh"]["functions"]["nested"]
    d7 = entry["input"]["json_schema_draft7"]
    assert "$defs" not in json.dumps(d7) and d7["definitions"]["Label"]["required"] == ["name"]
    assert d7["properties"]["labels"]["items"]["$ref"] == "#/definitions/Label"
    assert isinstance(d7["properties"]["pair"]["items"], list)
    validator = jsonschema.Draft7Validator(d7)
    assert validator.is_valid({"labels": [{"name": "x"}], "pair": [1, "a"]})
    assert not validator.is_valid({"labels": [{}], "pair": [1, "a"]})


def test_compile_refuses_duplicate_models_and_undeclared_metadata(make_project: Callable[..., Path],
                                                                  invoke: Invoke) -> None:
    model = "from pydantic import BaseModel\nfrom harness import sync\n\nclass Thing(BaseModel):\n    id: str\n\n"
    root = make_project({
        "gh/syncs/one.py": model + "@sync(models=[Thing])\nasync def one(nango):\n    await nango.get_metadata()\n",
        "gh/syncs/two.py": model + "@sync(models=[Thing])\nasync def two(nango):\n    pass\n",
    })
    res = invoke("--project", str(root), "compile")
    assert res.exit_code == 2
    assert "one.py:9: gh/one reads connection metadata (get_metadata) but declares no metadata model" in res.stderr
    assert "model 'Thing' of gh/two is already the model of gh/one" in res.stderr
    assert not (root / ".harness" / "manifest.json").exists()


def test_two_packages_of_one_tree_are_byte_identical(example: Path, invoke: Invoke, tmp_path: Path) -> None:
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    assert invoke("--project", str(example), "package", "-o", str(a)).exit_code == 0
    (example / "functions" / "github" / "syncs" / "issues.py").touch()  # a new mtime changes nothing
    assert invoke("--project", str(example), "package", "-o", str(b)).exit_code == 0
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as zf:
        names = zf.namelist()
        assert names == sorted(names)
        assert names == ["functions/github/actions/create_issue.py", "functions/github/models.py",
                         "functions/github/on_events/check_access.py", "functions/github/syncs/issues.py",
                         "manifest.json"]
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.external_attr >> 16 for i in zf.infolist()} == {0o100644}
    helper = example / "functions" / "github" / "models.py"
    helper.write_text(helper.read_text() + "\n# a change in a helper changes the bundle\n")
    assert invoke("--project", str(example), "package", "-o", str(b)).exit_code == 0
    assert a.read_bytes() != b.read_bytes()


def test_static_checks_refuse_foreign_imports_and_import_time_side_effects(
        make_project: Callable[..., Path], invoke: Invoke) -> None:
    root = make_project({"gh/actions/bad.py": """
        import json
        import yaml
        from pathlib import Path
        from harness import action

        CONFIG = Path("config.json").read_text()
        print("loading")

        @action()
        async def bad(nango, input=None):
            return open("x").read()

        if __name__ == "__main__":
            print(bad)
    """})
    res = invoke("--project", str(root), "package")
    assert res.exit_code == 2
    assert "functions/gh/actions/bad.py:3: import of 'yaml' is not allowed" in res.stderr
    assert "bad.py:7: call to Path().read_text() runs when the module is imported" in res.stderr
    assert "bad.py:8: top-level call to print() runs when the module is imported" in res.stderr
    assert "bad.py:12" not in res.stderr  # inside the function: runs under the runtime, allowed
    assert "bad.py:15" not in res.stderr  # a main guard never runs on import
    assert not (root / ".harness" / "bundle.zip").exists()
    # the allow-list lets a package the runtime has through
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.harness.package]\nallow_imports = ["yaml"]\n')
    res = invoke("--project", str(root), "package")
    assert "yaml" not in res.stderr and "read_text" in res.stderr


# -- deploy ----------------------------------------------------------------------------------------------
def _with_tests(root: Path, body: str) -> Path:
    _write(root, "tests/test_gate.py", body)
    return root


@pytest.mark.slow
def test_deploy_is_refused_when_the_tests_fail(example: Path, invoke: Invoke, tmp_path: Path) -> None:
    """Slow: deploy's test gate runs pytest as a subprocess."""
    _with_tests(example, "def test_broken():\n    assert 1 == 2\n")
    res = invoke("--project", str(example), "deploy", "--to", str(tmp_path / "target"), "--yes")
    assert res.exit_code == 1
    assert "deploy refused: the tests failed" in res.stderr and "1 failed" in res.stderr
    assert not (tmp_path / "target").exists() and not (example / ".harness" / "deployed.json").exists()


@pytest.mark.slow
def test_deploy_plan_versions_and_destructive_changes(example: Path, invoke: Invoke, tmp_path: Path) -> None:
    """Slow: deploy's test gate runs pytest as a subprocess."""
    _with_tests(example, "def test_ok():\n    assert True\n")
    target = tmp_path / "target"
    res = invoke("--project", str(example), "deploy", "--to", str(target))  # CliRunner: not a terminal
    assert res.exit_code == 0, res.output
    assert "tests: passed" in res.stdout and "+ github/issues" in res.stdout and "summary: 3 to add" in res.stdout
    doc = json.loads((target / "deployment.json").read_text())
    assert doc["versions"] == {"github/check-access": "1", "github/create-issue": "1", "github/issues": "1"}
    # The pointer names its release's bundle (releases/<deployment>-<sha12>/bundle.zip).
    with zipfile.ZipFile(target / doc["bundle"]) as zf:
        assert "manifest.json" in zf.namelist()
    state = json.loads((example / ".harness" / "deployed.json").read_text())
    assert state["targets"][str(target)]["deployment"] == 1

    # nothing changed: nothing delivered
    res = invoke("--project", str(example), "deploy", "--to", str(target), "--skip-tests")
    assert res.exit_code == 0 and "nothing to deploy" in res.stderr and "= github/issues" in res.stdout

    # a change bumps the changed function's version only; --skip-tests is in the plan
    sync = example / "functions" / "github" / "syncs" / "issues.py"
    sync.write_text(sync.read_text().replace("per_page\": 5", "per_page\": 6"))
    res = invoke("--project", str(example), "deploy", "--to", str(target), "--skip-tests", "--json")
    assert res.exit_code == 0, res.output
    plan = json.loads(res.stdout)
    assert plan["tests"] == "skipped" and plan["deployment"] == 2
    kinds = {c["key"]: (c["kind"], c["new_version"]) for c in plan["functions"]}
    assert kinds == {"github/check-access": ("unchanged", "1"), "github/create-issue": ("unchanged", "1"),
                     "github/issues": ("changed", "2")}
    assert json.loads((target / "deployment.json").read_text())["versions"]["github/issues"] == "2"

    # removing a function (and its model) needs --allow-destructive
    sync.unlink()
    res = invoke("--project", str(example), "deploy", "--to", str(target), "--skip-tests")
    assert res.exit_code == 2
    assert "- github/issues" in res.stdout and "-github/Issue" in res.stdout
    assert "deploy refused: the plan removes github/issues, github/Issue" in res.stderr
    assert json.loads((target / "deployment.json").read_text())["deployment"] == 2
    res = invoke("--project", str(example), "deploy", "--to", str(target), "--skip-tests", "--allow-destructive")
    assert res.exit_code == 0, res.output
    assert json.loads((target / "deployment.json").read_text())["versions"] == {"github/check-access": "1",
                                                                               "github/create-issue": "1"}


def test_deploy_posts_to_an_http_endpoint_and_retries_after_503(example: Path, invoke: Invoke,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr("harness.packaging.deploy._sleep", waits.append)  # recorded, not slept
    with Receiver(statuses=[503]) as receiver:
        res = invoke("--project", str(example), "deploy", "--to", receiver.url, "--skip-tests")
        assert res.exit_code == 2 and "HARNESS_DEPLOY_KEY" in res.stderr and not receiver.received
        monkeypatch.setenv("HARNESS_DEPLOY_KEY", "deploy-key-123456")
        res = invoke("--project", str(example), "deploy", "--to", receiver.url, "--skip-tests")
        assert res.exit_code == 0, res.output
    assert len(receiver.received) == 2 and "retrying" in res.stderr and waits == [0.5]
    first, second = receiver.received
    assert first.body == second.body and first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert second.headers["authorization"] == "Bearer deploy-key-123456"
    body = json.loads(second.body)
    assert body["versions"] == {"github/check-access": "1", "github/create-issue": "1", "github/issues": "1"}
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(body["bundle"]))) as zf:
        assert json.loads(zf.read("manifest.json")) == body["manifest"]
    state = json.loads((example / ".harness" / "deployed.json").read_text())
    assert receiver.url in state["targets"]
    assert "deploy-key-123456" not in (example / ".harness" / "deployed.json").read_text()


def test_deploy_gives_up_after_the_retries(example: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_DEPLOY_KEY", "deploy-key-123456")
    monkeypatch.setattr("harness.packaging.deploy._sleep", lambda s: None)
    with Receiver(statuses=[503, 503, 503, 503]) as receiver:
        res = invoke("--project", str(example), "deploy", "--to", receiver.url, "--skip-tests")
    assert res.exit_code == 4 and "did not accept the deployment after 4 attempts" in res.stderr
    assert not (example / ".harness" / "deployed.json").exists()


@pytest.mark.slow
def test_deploy_is_refused_when_a_snapshot_is_stale(example: Path, invoke: Invoke, tmp_path: Path) -> None:
    """Slow: deploy's test gate runs pytest as a subprocess."""
    _with_tests(example, "def test_ok():\n    assert True\n")
    sync = example / "functions" / "github" / "syncs" / "issues.py"
    # A mapping change: every record's title changes, so the committed snapshot no longer matches.
    sync.write_text(sync.read_text().replace('title=row["title"]', 'title=row["title"].upper()'))
    res = invoke("--project", str(example), "deploy", "--to", str(tmp_path / "target"), "--yes")
    assert res.exit_code == 1
    assert "deploy refused: the tests failed" in res.stderr and "github/issues[default]" in res.stderr
    assert not (tmp_path / "target").exists()
