"""Load-time checks of definitions: each bad field is an error naming the file and the field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.definitions import ActionDefinition, SyncDefinition, parse_frequency
from harness.loader import load_catalog

HEADER = """
from pydantic import BaseModel
from harness import sync, action, on_event

class Good(BaseModel):
    id: str
    name: str

class NumericId(BaseModel):
    id: int

class NoId(BaseModel):
    name: str

class Nested(BaseModel):
    page: dict

"""


@pytest.mark.parametrize(("text", "expect"), [
    ("every hour", 3600), ("every 5 minutes", 300), ("1h", 3600), ("30m", 1800), ("every day", 86400),
    ("every 30 seconds", 30), ("every half hour", 1800), ("2 weeks", 1209600), ("every 1.5 hours", 5400),
])
def test_frequencies(text: str, expect: float) -> None:
    assert parse_frequency(text) == expect


@pytest.mark.parametrize(("body", "field", "message"), [
    ('@sync(models=[NumericId])\nasync def s(nango): ...', "models[0]", "`id` must be `str`"),
    ('@sync(models=[NoId])\nasync def s(nango): ...', "models[0]", "has no `id` field"),
    ('@sync(models=[])\nasync def s(nango): ...', "models", "needs at least one model"),
    ('@sync(models=[Good], frequency="every 10 seconds")\nasync def s(nango): ...', "frequency", "out of range"),
    ('@sync(models=[Good], frequency="every 40 days")\nasync def s(nango): ...', "frequency", "out of range"),
    ('@sync(models=[Good], frequency="sometimes")\nasync def s(nango): ...', "frequency", "cannot read"),
    ('@sync(models=[Good], checkpoint=Nested)\nasync def s(nango): ...', "checkpoint",
     "'page' of Nested is not a scalar"),
    ('@sync(models=[Good])\ndef s(nango): ...', "s", "must be an `async def`"),
    ('@on_event("post-connection-update")\nasync def e(nango): ...', "event", "unknown event"),
    ('@action(input=dict)\nasync def a(nango, i): ...', "input", "must be a pydantic model"),
    ('@action(name="Bad Name")\nasync def a(nango, i): ...', "name", "not a valid function name"),
    ('@sync(models=[Good], scopes="repo")\nasync def s(nango): ...', "scopes", "must be a list of strings"),
])
def test_bad_definitions_name_file_and_field(make_project: Callable[..., Path], body: str, field: str,
                                             message: str) -> None:
    folder = "on_events" if "on_event(" in body else "actions" if "@action" in body else "syncs"
    root = make_project({f"gh/{folder}/thing.py": HEADER + body})
    catalog = load_catalog(root / "functions")
    assert catalog.definitions == []
    [problem] = catalog.problems
    assert problem.file.endswith(f"gh/{folder}/thing.py")
    assert problem.message.startswith(f"{field}: ")
    assert message in problem.message
    assert problem.line is not None and problem.line > 10  # the decorator's line in the file


def test_duplicate_function_name_in_one_integration(make_project: Callable[..., Path]) -> None:
    root = make_project({
        "gh/syncs/one.py": HEADER + '@sync(models=[Good], name="same")\nasync def s(nango): ...',
        "gh/syncs/two.py": HEADER + '@sync(models=[Good], name="same")\nasync def s(nango): ...',
        "other/syncs/three.py": HEADER + '@sync(models=[Good], name="same")\nasync def s(nango): ...',
    })
    catalog = load_catalog(root / "functions")
    assert sorted(d.qualified_name for d in catalog.definitions) == ["gh/same", "other/same"]
    [problem] = catalog.problems
    assert "duplicate function name 'same' in integration 'gh'" in problem.message
    assert problem.file.endswith("two.py") and "one.py" in problem.message


def test_defaults_and_names(make_project: Callable[..., Path]) -> None:
    root = make_project({
        "gh/syncs/open_issues.py": HEADER + '@sync(models=[Good])\nasync def whatever(nango):\n    """Doc."""\n',
        "gh/actions/create_thing.py": HEADER + '@action(input=Good, output=Good, version="1.0.0")\n'
                                              'async def whatever(nango, input): ...',
    })
    catalog = load_catalog(root / "functions")
    assert catalog.problems == []
    sync_def = catalog.find("open-issues")
    assert isinstance(sync_def, SyncDefinition)
    assert (sync_def.name, sync_def.integration, sync_def.frequency, sync_def.auto_start, sync_def.description) == \
        ("open-issues", "gh", "every day", True, "Doc.")
    action_def = catalog.find("gh/create_thing")
    assert isinstance(action_def, ActionDefinition) and action_def.version == "1.0.0"


def test_errors_in_one_file_do_not_hide_others(make_project: Callable[..., Path]) -> None:
    root = make_project({
        "gh/syncs/good.py": HEADER + '@sync(models=[Good])\nasync def s(nango): ...',
        "gh/syncs/syntax.py": "x = (\n",
        "gh/syncs/imports.py": "import not_a_module_anywhere\n",
        "gh/syncs/raises.py": "\n\nraise RuntimeError('boom')\n",
        "gh/syncs/empty.py": "X = 1\n",
        "gh/actions/wrong_folder.py": HEADER + '@sync(models=[Good])\nasync def s(nango): ...',
    })
    catalog = load_catalog(root / "functions")
    assert [d.name for d in catalog.definitions] == ["good"]
    by_file = {Path(p.file).name: p for p in catalog.problems}
    assert set(by_file) == {"syntax.py", "imports.py", "raises.py", "empty.py", "wrong_folder.py"}
    assert by_file["syntax.py"].line == 1 and "SyntaxError" in by_file["syntax.py"].message
    assert by_file["imports.py"].line == 1 and "ModuleNotFoundError" in by_file["imports.py"].message
    assert by_file["raises.py"].line == 3 and "RuntimeError: boom" in by_file["raises.py"].message
    assert "no sync is defined" in by_file["empty.py"].message
    assert "move it to syncs/" in by_file["wrong_folder.py"].message


def test_helper_modules_import_relatively(make_project: Callable[..., Path]) -> None:
    root = make_project({
        "gh/helpers.py": "def shout(s):\n    return s.upper()\n",
        "gh/actions/hello.py": "from harness import action\nfrom ..helpers import shout\n\n"
                               "@action()\nasync def hello(nango, input):\n    return shout('hi')\n",
    })
    catalog = load_catalog(root / "functions")
    assert catalog.problems == [] and catalog.find("hello").name == "hello"


def test_a_definition_imported_by_another_function_file_is_listed_once(make_project: Callable[..., Path]) -> None:
    root = make_project({
        "gh/syncs/first.py": HEADER + '@sync(models=[Good])\nasync def first(nango): ...',
        "gh/syncs/second.py": HEADER + 'from .first import first\n\n@sync(models=[Good])\nasync def second(nango): ...',
    })
    catalog = load_catalog(root / "functions")
    assert catalog.problems == []
    assert sorted(d.name for d in catalog.definitions) == ["first", "second"]


def test_functions_reached_through_a_symlinked_folder_are_theirs(make_project: Callable[..., Path],
                                                                 tmp_path: Path) -> None:
    # The file the functions were compiled from is named by the link; the definitions still belong to it.
    root = make_project({"gh/syncs/one.py": HEADER + '@sync(models=[Good])\nasync def one(nango): ...'})
    link = tmp_path / "linked-functions"
    link.symlink_to(root / "functions", target_is_directory=True)
    catalog = load_catalog(link)
    assert catalog.problems == [] and [d.name for d in catalog.definitions] == ["one"]
