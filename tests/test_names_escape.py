"""Names from any input never become paths outside their folder: exit 2, and nothing written anywhere."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from harness.errors import UsageError
from harness.project import load_project

# `../`, absolute paths, NUL, dots, separators, a newline, and an over-long name.
BAD = ["../x", "../../x", "/tmp/harness-escape", "a\x00b", "..", ".", ".hidden", "a/b", "a\\b", "x.",
       "ok\n", "C:x", "a" * 200]


def snapshot(*roots: Path) -> dict[str, bytes]:
    """Every file under the roots (the project and its parent), with its content."""
    out: dict[str, bytes] = {}
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                out[str(path)] = path.read_bytes()
    return out


@pytest.fixture
def guarded(example: Path) -> Callable[[Result], None]:
    """Asserts a refused command exited 2 with one line and changed no file in or around the project."""
    before = snapshot(example.parent)

    def check(res: Result) -> None:
        assert res.exit_code == 2, (res.exit_code, res.output)
        assert "Traceback" not in res.output
        assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr
        assert snapshot(example.parent) == before
        assert not Path("/tmp/harness-escape").exists()

    return check


@pytest.mark.parametrize("bad", BAD)
def test_new_refuses_bad_names(example: Path, cli: Callable[..., Result], guarded: Callable[[Result], None],
                               bad: str) -> None:
    guarded(cli(example, "new", "sync", bad, "things"))
    guarded(cli(example, "new", "action", "github", bad))


@pytest.mark.parametrize("bad", BAD)
def test_clone_and_init_refuse_bad_template_names(example: Path, cli: Callable[..., Result],
                                                  guarded: Callable[[Result], None], bad: str) -> None:
    guarded(cli(example, "clone", bad))
    fresh = example.parent / "fresh"
    guarded(cli(example, "init", str(fresh), "--template", bad))
    assert not fresh.exists()


@pytest.mark.parametrize("bad", ["../../x", "/tmp/harness-escape", "a\x00b", "..", ".hidden", "x/../../y"])
def test_dryrun_scenario_names(example: Path, cli: Callable[..., Result], guarded: Callable[[Result], None],
                               bad: str) -> None:
    guarded(cli(example, "dryrun", "issues", "demo", "--scenario", bad, "--record"))
    guarded(cli(example, "dryrun", "issues", "demo", "--scenario", bad))


@pytest.mark.parametrize("bad", ["../../x", "/etc", "a\x00b", "..", "*", "[a-z]*", "x/../.."])
def test_cassettes_commands_never_glob_or_climb(example: Path, cli: Callable[..., Result],
                                                guarded: Callable[[Result], None], bad: str) -> None:
    guarded(cli(example, "cassettes", "show", "issues", "--scenario", bad))
    guarded(cli(example, "cassettes", "prune", bad))
    guarded(cli(example, "cassettes", "prune", f"github/{bad}"))


@pytest.mark.parametrize("part", ["integration", "function", "scenario"])
@pytest.mark.parametrize("bad", BAD)
def test_cassette_path_checks_every_part(example: Path, part: str, bad: str) -> None:
    project = load_project(example)
    names = {"integration": "github", "function": "issues", "scenario": "default"}
    names[part] = bad
    with pytest.raises(UsageError, match=f"bad {part} name"):
        project.cassette_path(names["integration"], names["function"], names["scenario"])


def test_cassette_path_stays_under_cassettes_even_through_a_symlink(example: Path, tmp_path: Path) -> None:
    project = load_project(example)
    assert project.cassette_path("github", "issues", "refresh", 2).name == "refresh.run2.yaml"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    os.symlink(outside, example / "cassettes" / "evil")
    with pytest.raises(UsageError, match="outside"):
        project.cassette_path("evil", "issues", "default")
    with pytest.raises(UsageError, match="run number"):
        project.cassette_path("github", "issues", "default", 0)


def test_new_refuses_to_write_through_a_symlinked_integration(example: Path, tmp_path: Path,
                                                              cli: Callable[..., Result]) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    os.symlink(outside, example / "functions" / "evil")
    res = cli(example, "new", "sync", "evil", "things")
    assert res.exit_code == 2 and "outside" in res.stderr
    assert list(outside.rglob("*")) == []


@pytest.mark.parametrize("folder", ['x"); import os #', "two words", "new\nline"])
def test_generate_tests_refuses_cassette_folders_that_are_not_names(example: Path, cli: Callable[..., Result],
                                                                   folder: str) -> None:
    source = example / "cassettes" / "github" / "issues" / "default.yaml"
    odd = example / "cassettes" / "github" / folder
    odd.mkdir()
    (odd / "default.yaml").write_bytes(source.read_bytes())
    res = cli(example, "generate-tests")
    assert res.exit_code == 2, res.output
    assert "bad function name" in res.stderr
    assert not (example / "tests").exists()


def test_generate_tests_turns_names_into_identifiers(example: Path, cli: Callable[..., Result]) -> None:
    source = example / "cassettes" / "github" / "issues" / "default.yaml"
    (source.parent / "smoke-test.yaml").write_bytes(source.read_bytes())
    res = cli(example, "generate-tests", "issues", "--scenario", "smoke-test")
    assert res.exit_code == 0, res.output
    text = (example / "tests" / "harness" / "test_github_issues.py").read_text()
    assert "def test_issues_smoke_test(harness_scenario):" in text
    compile(text, "generated.py", "exec")


def test_records_list_refuses_a_cursor_that_is_not_ascii_digits(example: Path, cli: Callable[..., Result]) -> None:
    (example / ".harness").mkdir()
    from harness.records.sqlite import SqliteStore

    SqliteStore(example / ".harness" / "records.sqlite", "demo", "github", lambda: 0.0).close()
    for cursor in ("\u00b2", "\u0663", "1" * 40, "-1"):
        res = cli(example, "records", "list", "demo", "--model", "Issue", "--cursor", cursor)
        assert res.exit_code == 2 and "not a cursor" in res.stderr, (cursor, res.output)


def test_a_symlink_out_of_the_project_is_shown_where_it_lies(example: Path) -> None:
    # Resolved, a dangling symlink (or one pointing out) is outside the project: `dryrun`'s "no recording at
    # ...; running live" notice showed the absolute path, when every path on stderr is project-relative.
    link = example / "cassettes/github/issues/gone.yaml"
    link.symlink_to("/nonexistent/gone.yaml")
    project = load_project(example)
    assert project.relative(link) == "cassettes/github/issues/gone.yaml"
    assert project.relative(Path("/nonexistent/gone.yaml")) == "/nonexistent/gone.yaml"
