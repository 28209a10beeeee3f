"""init, new and clone: a fresh project passes its own pytest; every template clones and replays; skeletons
compile; nothing is overwritten."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from harness.cli import main
from harness.scaffold.template_catalog import TEMPLATES_DIR, load_catalog
from tests.conftest import files_under


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "my-functions"
    res = invoke("init", str(root))
    assert res.exit_code == 0, res.output
    return root


@pytest.mark.slow
def test_init_project_passes_its_own_pytest(project: Path) -> None:
    """Slow: runs pytest in the new project as a subprocess, as its user would."""
    assert {p.name for p in project.iterdir()} >= {"pyproject.toml", ".gitignore", "functions", "cassettes",
                                                   "fixtures", "tests", ".env.example"}
    ignored = (project / ".gitignore").read_text().splitlines()
    assert ".env" in ignored and ".harness/*" in ignored and "!.harness/deployed.json" in ignored
    assert 'dependencies = ["integration-harness[fuzz,dev]~=' in (project / "pyproject.toml").read_text()
    # Under CI gating: the template's snapshot must be there and match.
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, "CI": "1"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=project, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout  # the scenario test the plugin adds, and the hand-written one
    # the test really replays: a broken cassette fails it
    cassette = project / "cassettes" / "github" / "issues" / "default.yaml"
    cassette.write_text(cassette.read_text().replace("per_page=5", "per_page=6"))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=project, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1 and "1 failed" in proc.stdout


def test_init_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "notes.txt").write_text("mine")
    res = invoke("init", str(tmp_path / "x"))
    assert res.exit_code == 2 and "is not empty (notes.txt)" in res.stderr
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["notes.txt"]


def test_catalog_has_six_functions_across_four_providers() -> None:
    catalog = load_catalog()
    assert len(catalog.templates) >= 6
    assert len({t.function.split("/")[0] for t in catalog.templates.values()}) >= 4
    for t in catalog.templates.values():
        assert any(p.parts[0] == "cassettes" for p in t.files()), t.name


@pytest.mark.parametrize("name", sorted(load_catalog().templates))
def test_every_template_clones_and_replays(project: Path, name: str) -> None:
    template = load_catalog().get(name)
    res = invoke("--project", str(project), "clone", name)
    assert res.exit_code == 0, res.output
    connections = yaml.safe_load((project / "fixtures" / "connections.yaml").read_text())["connections"]
    assert template.connection in connections
    for cassette in (TEMPLATES_DIR / name / "cassettes").rglob("*.yaml"):
        scenario = cassette.name.removesuffix(".yaml")
        res = invoke("--project", str(project), "dryrun", template.function, template.connection, "--replay",
                     "--scenario", scenario, "--json")
        assert res.exit_code == 0, res.output
        assert '"status": "success"' in res.stdout and '"unplayed": []' in res.stdout
    # cloning again is a no-op; the project still compiles with everything in it
    again = invoke("--project", str(project), "clone", name)
    assert again.exit_code == 0 and "created" not in again.stdout
    assert invoke("--project", str(project), "compile").exit_code == 0


@pytest.mark.slow
def test_every_cloned_template_passes_pytest_under_ci(project: Path) -> None:
    """Slow: clones every template and runs pytest on them as a subprocess."""
    for name in load_catalog().templates:
        res = invoke("--project", str(project), "clone", name)
        assert res.exit_code == 0, res.output
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, "CI": "1"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=project, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{len(load_catalog().templates) + 1} passed" in proc.stdout


def test_clone_never_overwrites_and_lists(project: Path) -> None:
    target = project / "functions" / "github" / "syncs" / "issues.py"
    target.write_text(target.read_text() + "\n# my change\n")
    res = invoke("--project", str(project), "clone", "github-issues")
    assert res.exit_code == 2 and "would overwrite functions/github/syncs/issues.py" in res.stderr
    assert target.read_text().endswith("# my change\n")
    res = invoke("clone", "--list")
    assert res.exit_code == 0 and "slack-post-message" in res.stdout and "hubspot/contacts" in res.stdout
    res = invoke("--project", str(project), "clone", "slack-chanels")
    assert res.exit_code == 2 and "did you mean slack-channels?" in res.stderr


@pytest.mark.parametrize(("text", "message"), [
    ("connections: [\n  a: b\n", r"fixtures/connections.yaml:3: not valid YAML \(did not find expected ',' or ']'\)"),
    ("connections: [1, 2]\n", r"fixtures/connections.yaml: 'connections' must be a mapping of connection ids"),
])
def test_a_clone_into_a_broken_connections_file_is_one_line_and_writes_nothing(project: Path, text: str,
                                                                               message: str) -> None:
    connections = project / "fixtures" / "connections.yaml"
    connections.write_text(text)
    before = files_under(project)
    res = invoke("--project", str(project), "clone", "slack-channels")
    assert res.exit_code == 2, res.output
    [line] = res.stderr.splitlines()
    assert re.fullmatch(r"error: " + message + r" \(fix it, then clone again\)", line), line
    assert "<unicode string>" not in line and str(project) not in line
    assert files_under(project) == before and connections.read_text() == text


def test_new_writes_skeletons_that_compile_and_never_overwrites(project: Path) -> None:
    for args in (("sync", "github", "pull-requests"), ("action", "github", "close-issue"),
                 ("on-event", "github", "setup-hooks", "--event", "validate-connection")):
        res = invoke("--project", str(project), "new", *args)
        assert res.exit_code == 0, res.output
    assert (project / "functions/github/syncs/pull_requests.py").read_text().count("class PullRequest(") == 1
    res = invoke("--project", str(project), "list", "--json")
    assert res.exit_code == 0 and "close-issue" in res.stdout and "validate-connection" in res.stdout
    assert invoke("--project", str(project), "compile").exit_code == 0
    res = invoke("--project", str(project), "new", "sync", "github", "pull-requests")
    assert res.exit_code == 2 and "already exists" in res.stderr
    res = invoke("--project", str(project), "new", "action", "github", "Bad Name")
    assert res.exit_code == 2 and "bad function name 'Bad Name'" in res.stderr


def test_template_cassettes_are_what_the_recording_script_produces(tmp_path: Path) -> None:
    from tests.fakes.record_templates import record_templates

    written = record_templates(out=tmp_path)
    assert set(written) == set(load_catalog().templates)
    for name, path in written.items():
        fresh = yaml.safe_load(path.read_text())
        bundled = yaml.safe_load((TEMPLATES_DIR / path.relative_to(tmp_path)).read_text())
        for doc in (fresh, bundled):
            doc["harness"].pop("recorded_at")
        assert fresh == bundled, f"re-record {name}: python -m tests.fakes.record_templates"
