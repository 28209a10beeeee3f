"""Configuration errors at compile time (provider entries in `[tool.harness.providers]`), validation as
documented (undeclared keys at every depth), and the draft-07 copy of a schema that keeps property names."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import Result
from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness.packaging.manifest import schema_of
from harness.providers.catalog import shipped
from harness.providers.entries import entry_problems
from harness.validation import check_value, prepare_records

from .conftest import PYPROJECT, files_under

NESTED = """
from pydantic import BaseModel, ConfigDict
from harness import action

class Call(BaseModel):
    url: str

class Loose(BaseModel):
    model_config = ConfigDict(extra="allow")
    note: str = ""

class Calls(BaseModel):
    calls: list[Call]
    loose: Loose | None = None

@action(input=Calls)
async def batch(nango, input):
    return {"calls": len(input.calls)}
"""


class Leaf(BaseModel):
    url: str


class Branch(BaseModel):
    leaves: list[Leaf]
    named: dict[str, Leaf] = {}
    child: Branch | None = None


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")
    inner: Leaf | None = None


class Record(BaseModel):
    id: str
    branch: Branch


def test_undeclared_keys_are_errors_at_every_depth() -> None:
    data = {"leaves": [{"url": "a", "bogus": 1}], "named": {"x": {"url": "b", "deep": 2}},
            "child": {"leaves": [], "child": {"leaves": [{"url": "c", "deeper": 3}]}}}
    _, issues = check_value(data, Branch, "input", strict=True)
    assert sorted(i.path for i in issues) == ["child.child.leaves.0.deeper", "leaves.0.bogus", "named.x.deep"]
    assert {i.message for i in issues} == {"Extra inputs are not permitted"}
    # extra="allow" holds for that model only; the model below it still forbids its own undeclared keys.
    _, issues = check_value({"free": 1, "inner": {"url": "u", "nope": 1}}, Open, "input", strict=True)
    assert [i.path for i in issues] == ["inner.nope"]
    # Lenient runs (and metadata, checked with forbid_extra=False) accept them, as documented.
    assert check_value(data, Branch, "input", strict=False)[1] == []
    assert check_value(data, Branch, "metadata", strict=True, forbid_extra=False)[1] == []


class Reshaped(BaseModel):
    """Drops a legacy key before validation: that key is the model's business, not an undeclared one."""

    url: str

    @model_validator(mode="before")
    @classmethod
    def drop_legacy(cls, data: Any) -> Any:
        return {k: v for k, v in data.items() if k != "legacy"} if isinstance(data, dict) else data


class HoldsReshaped(BaseModel):
    inner: Reshaped
    plain: Leaf | None = None


def test_a_model_that_reshapes_its_input_keeps_the_keys_it_handles() -> None:
    assert check_value({"url": "u", "legacy": 1}, Reshaped, "input", strict=True)[1] == []
    _, issues = check_value({"inner": {"url": "u", "legacy": 1}, "plain": {"url": "p", "bogus": 2}}, HoldsReshaped,
                            "input", strict=True)
    assert [i.path for i in issues] == ["plain.bogus"]


def test_nested_undeclared_keys_in_records_are_reported_per_record() -> None:
    rows = [{"id": "1", "branch": {"leaves": [{"url": "a"}]}},
            {"id": "2", "branch": {"leaves": [{"url": "a", "bogus": True}]}}]
    kept, issues = prepare_records(rows, Record, "Record", strict=True)
    assert [r["id"] for r in kept] == ["1"]
    assert [(i.record_id, i.path) for i in issues] == [("2", "branch.leaves.0.bogus")]


def test_a_nested_undeclared_input_key_fails_the_run(make_project: Callable[..., Path],
                                                     cli: Callable[..., Result]) -> None:
    root = make_project({"gh/actions/batch.py": NESTED},
                        connections="connections:\n  c1: {provider: github, integration: gh}\n")
    res = cli(root, "dryrun", "batch", "c1", "--live", "--json", "--input",
              '{"calls": [{"url": "https://x", "bogus": 1}], "loose": {"note": "n", "any": 2}}')
    assert res.exit_code == 1, res.output
    doc = json.loads(res.stdout)
    assert doc["status"] == "failed" and doc["error"]["type"] == "invalid_data"
    assert [(i["path"], i["message"]) for i in doc["issues"]] == [("calls.0.bogus", "Extra inputs are not permitted")]
    res = cli(root, "dryrun", "batch", "c1", "--live", "--json", "--input", '{"calls": [{"url": "https://x"}]}')
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["output"] == {"calls": 1}


def test_the_draft7_copy_keeps_properties_named_like_keywords() -> None:
    class Tricky(BaseModel):
        prefixItems: int = Field(ge=0)  # a property named like a keyword: the point of the test
        pair: tuple[int, str]
        ref: str = Field(alias="$ref", default="x")
        leaf: Leaf | None = None
        defaults: dict[str, list[int]] = Field(default={"prefixItems": [1]})

    schema = schema_of(Tricky)
    assert schema is not None
    draft7 = schema.json_schema_draft7
    jsonschema.Draft7Validator.check_schema(draft7)
    props = draft7["properties"]
    assert props["prefixItems"]["type"] == "integer" and "items" not in props
    assert props["pair"]["items"] == [{"type": "integer"}, {"type": "string"}]
    assert "$ref" in props and props["defaults"]["default"] == {"prefixItems": [1]}
    assert "definitions" in draft7 and props["leaf"]["anyOf"][0] == {"$ref": "#/definitions/Leaf"}
    errors = sorted(e.message for e in jsonschema.Draft7Validator(draft7).iter_errors(
        {"prefixItems": "no", "pair": [1, 2], "leaf": {"url": 3}}))
    assert "'no' is not of type 'integer'" in errors and "2 is not of type 'string'" in errors


def test_every_shipped_provider_entry_passes_the_entry_checks() -> None:
    assert {name: entry_problems(name, entry) for name, entry in shipped().items() if entry_problems(name, entry)} == {}


BAD_PROVIDERS = [
    ('[tool.harness.providers.acme.paginate]\ntype = "cursr"\n',
     r"\[tool.harness.providers.acme\] paginate.type: 'cursr' is not one of cursor, link, offset, page "
     r"\(did you mean cursor\?\)"),
    ('[tool.harness.providers.acme.paginate]\ntype = "cursor"\ncursor_path_in_respons = "a"\n',
     r"paginate: unknown key 'cursor_path_in_respons' \(did you mean cursor_path_in_response\?\)"),
    ('[tool.harness.providers.acme]\nbse_url = "https://x"\n', r"unknown key 'bse_url' \(did you mean base_url\?\)"),
    ('[tool.harness.providers.acme]\nbase_url = "https://${connectionConfig.t.acme.io"\n',
     r"base_url: a placeholder is not closed"),
    ('[tool.harness.providers.acme]\nheaders = {x-key = "${api key}"}\n', r"headers.x-key: placeholder \$\{api key\}"),
    ('[tool.harness.providers.acme]\nalias = "githb"\n', r"alias: unknown provider 'githb' \(did you mean github\?\)"),
    ('[tool.harness.providers.acme.retry]\nerror_code = ["4xx", "fivehundred"]\n',
     r"retry.error_code: 'fivehundred' is not a status"),
    ('[tool.harness.providers.acme.paginate]\ntype = "offset"\nlimit = "100"\n', r"paginate.limit: must be a whole"),
    ('[tool.harness.providers.github]\ntoken_expiration_buffer = -1\n', r"token_expiration_buffer: must be a number"),
]


@pytest.mark.parametrize(("toml", "message"), BAD_PROVIDERS, ids=[str(i) for i in range(len(BAD_PROVIDERS))])
def test_a_broken_provider_entry_fails_compile_and_start_up_naming_the_key(
        make_project: Callable[..., Path], cli: Callable[..., Result], toml: str, message: str) -> None:
    root = make_project({"gh/actions/batch.py": NESTED}, pyproject=PYPROJECT + "\n" + toml)
    before = files_under(root)
    for args in (("compile",), ("list",), ("dryrun", "batch", "c1")):
        res = cli(root, *args)
        assert res.exit_code == 2, (args, res.output)
        lines = [line for line in res.stderr.splitlines() if line.startswith("error: ")]
        assert len(lines) == 1 and lines[0].startswith("error: pyproject.toml: "), res.stderr
        assert re.search(message, lines[0]), lines[0]
    assert files_under(root) == before


# -- pyproject.toml read again for every run ------------------------------------------------------------------
def test_a_pyproject_edited_within_the_second_to_the_same_size_is_read_anew(tmp_path: Path) -> None:
    from harness.project import load_project

    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.harness]\nfunctions = "fns_a"\n')
    before = pyproject.stat()
    assert load_project(tmp_path).functions_dir == tmp_path / "fns_a"
    pyproject.write_text('[tool.harness]\nfunctions = "fns_b"\n')  # same size
    os.utime(pyproject, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same time
    assert load_project(tmp_path).functions_dir == tmp_path / "fns_b"


def test_a_loaded_projects_settings_are_its_own(tmp_path: Path) -> None:
    from harness.project import load_project

    (tmp_path / "pyproject.toml").write_text('[tool.harness.snapshot]\nexclude = ["updated_at"]\n')
    first = load_project(tmp_path)
    first.settings["snapshot"]["exclude"].append("id")  # a caller changing what it was given
    assert load_project(tmp_path).settings["snapshot"] == {"exclude": ["updated_at"]}


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_a_pyproject_with_any_line_ends_loads(tmp_path: Path, newline: str) -> None:
    from harness.project import load_project

    text = newline.join(["[project]", 'name = "x"', "[tool.harness]", 'cassettes = "tapes"', ""])
    (tmp_path / "pyproject.toml").write_bytes(text.encode())
    assert load_project(tmp_path).cassettes_dir == tmp_path / "tapes"


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux's /proc/self/mem")
def test_a_pyproject_that_cannot_be_read_is_a_config_error_naming_why(tmp_path: Path) -> None:
    from harness.errors import ConfigError
    from harness.project import load_project

    (tmp_path / "pyproject.toml").symlink_to("/proc/self/mem")  # a regular file whose read fails (EIO)
    with pytest.raises(ConfigError, match="cannot read it: Input/output error") as caught:
        load_project(tmp_path)
    assert caught.value.hint == "check that the file can be read"
