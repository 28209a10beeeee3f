"""`CassetteLoader` builds what PyYAML's safe loader builds, from any text: the same data (types, key order,
repeated keys, merges, dates, binary, sets, tagged values, deep nesting) or the same error."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.cassettes.format import Cassette, Interaction, load_cassette, write_cassette
from harness.cassettes.limits import may_alias
from harness.cassettes.yaml_build import CassetteLoader
from harness.secrets.scrubber import Scrubber


def outcome(text: str | bytes, loader: type[Any]) -> tuple[str, Any]:
    try:
        return "data", yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None)
        mark = getattr(exc, "problem_mark", None)
        return "error", (type(exc).__name__, problem, mark.line if mark is not None else None)


def same(text: str) -> Any:
    want = outcome(text, yaml.CSafeLoader)
    assert outcome(text, CassetteLoader) == want
    assert outcome(text.encode("utf-8", "surrogatepass"), CassetteLoader) == want  # as load_cassette passes it
    if want[0] == "data":
        assert repr(outcome(text, CassetteLoader)[1]) == repr(want[1])  # key order and types too
    return want[1]


DOCUMENTS = [
    "",
    "a: 1\nb: [x, 'y', \"z\", 2.5, true, null, ~, 0x1F, 1e3, .inf, -.nan]\n",
    "a: 1\nb: 2\na: 3\n",  # a repeated key: the first one's place, the last one's value
    "base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n",  # merge
    "m:\n  <<: [{a: 1}, {b: 2}]\n  c: 3\n",
    "=: value\nother: 1\n",  # the `=` value key
    "when: 2026-01-12T10:00:00Z\nday: 2026-01-12\n",
    "blob: !!binary aGVsbG8=\n",
    "s: !!set {a, b}\no: !!omap [{a: 1}, {b: 2}]\np: !!pairs [{a: 1}, {a: 2}]\n",
    "n: !!str 123\nf: !!float 1\ni: !!int '7'\nb: !!bool yes\n",
    "? [a, b]\n: unhashable\n",
    "? {a: 1}\n: unhashable\n",
    "1: int key\n2.5: float key\ntrue: bool key\n~: null key\n2026-01-01: date key\n",
    "x: !custom 1\n",
    "x: !!python/object:os.system ls\n",
    "!!str {a: 1}\n",
    "!!map [1, 2]\n",
    "- !!seq {a: 1}\n",
    "a: |\n  line one\n  line two\nb: >-\n  folded\n  text\n",
    "k: 'it''s'\nq: \"tab\\there \\u00e9 \\U0001F600\"\n",
    "a: '1'\nb: \"true\"\nc: 'null'\nd: |\n  2\ne: >\n  ~\n",  # quoted and block scalars are text
    "empty: {}\nlist: []\nnested: [[[]], {a: {b: {}}}]\n",
    "- a\n- b: 1\n  c: 2\n- [1, 2]\n",
    "a: b: c\n",  # a syntax error
    "a: [1, 2\n",
    "--- 1\n--- 2\n",  # two documents: the loaders take one
    "\ufeffa: 1\n",
    "x: &a 1\ny: *a\n",
    "yes: no\non: off\n",
    "'<<': 1\n",  # a quoted `<<` is text, not a merge
    "<<: 1\n",  # a merge of a scalar: an error
    "a: 0o17\nb: 017\nc: 1_000\nd: +1\ne: -0\nf: 0b101\ng: 190:20:30\n",
    "x: -.inf\ny: .NaN\nz: 1.\nw: .5\n",
    "x: 'café 日本 \U0001f600'\n",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_documents_build_as_pyyaml_builds_them(text: str) -> None:
    same(text)


def test_a_document_nested_a_thousand_levels_deep_needs_no_recursion() -> None:
    deep = "a: " + "[" * 900 + "1" + "]" * 900 + "\n"
    assert same(deep)["a"]
    mapping = "".join("  " * n + f"k{n}:\n" for n in range(600)) + "  " * 600 + "v\n"
    assert same(mapping)


def test_repeated_keys_and_nested_containers_keep_pyyaml_s_order() -> None:
    data = same("z: 1\na: {q: 1, b: [1, {c: 2}]}\nz: [9]\nm: 2\n")
    assert list(data) == ["z", "a", "m"] and data["z"] == [9]


scalars = st.one_of(st.text(max_size=12), st.integers(), st.floats(allow_nan=False), st.booleans(), st.none(),
                    st.dates(), st.datetimes(timezones=st.just(datetime.UTC)), st.binary(max_size=8))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(st.one_of(st.text(max_size=6),
                                                                                    st.integers()),
                                                                          inner, max_size=4)), max_leaves=20)


@given(values, st.booleans(), st.sampled_from([None, "'", '"', "|"]))
@settings(max_examples=150, deadline=None)
def test_whatever_pyyaml_dumps_builds_the_same(value: Any, flow: bool, style: str | None) -> None:
    same(yaml.safe_dump({"v": value, "w": [value, {"again": value}]}, default_flow_style=flow,
                        default_style=style, allow_unicode=True))


def test_it_refuses_to_be_extended_in_ways_its_shortcuts_would_ignore() -> None:
    with pytest.raises(TypeError, match="path resolvers"):
        class WithPaths(CassetteLoader):
            yaml_path_resolvers = {("a",): "x"}  # noqa: RUF012
    with pytest.raises(TypeError, match=r"builds tag:yaml\.org,2002:str"):
        class WithStr(CassetteLoader):
            yaml_constructors = {**CassetteLoader.yaml_constructors,  # noqa: RUF012
                                 "tag:yaml.org,2002:str": lambda loader, node: node.value.upper()}


def test_harness_writes_no_aliases_for_values_shared_in_memory(tmp_path: Path) -> None:
    shared = {"content-type": ["application/json"]}
    items = [Interaction("GET", f"https://h/items?page={n}", {}, None, 200, "OK", shared, "{}") for n in range(3)]
    path = tmp_path / "c.yaml"
    write_cassette(path, Cassette(items, {"function": "f"}), Scrubber({}))
    text = path.read_text(encoding="utf-8")
    assert "&id" not in text and "*id" not in text
    assert not may_alias(text)  # so it loads on the fast path
    again = load_cassette(path)
    assert [i.response_headers for i in again.interactions] == [shared] * 3
    assert again.interactions[0].response_headers is not again.interactions[1].response_headers
