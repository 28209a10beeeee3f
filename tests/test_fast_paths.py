"""The fast paths give the very bytes and records of the slow ones: the snapshot layout written with the C
encoder called directly, and a batch of model instances dumped in one call."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import BaseModel, Field

from harness.records import lines
from harness.snapshots import files
from harness.snapshots.document import id_order
from harness.validation import prepare_records

DOC: dict[str, Any] = {
    "format": 1,
    "records": {"Item": {"1": {"id": "1", "name": "é \"quoted\" \u2028", "price": 1.5, "tags": ["a", {"b": None}]},
                         "2": {"id": "2", "at": dt.datetime(2026, 1, 2, 3, 4, 5), "n": float("inf")},
                         "10": {}},
                "Other": {"x": {"id": "x", "nested": {"deep": [1, 2, [3]]}}}},
    "deletes": {"Item": ["3", "4"]},
    "metadata": {"writes": [], "final": {1: "int key", "k": "v"}},
    "requests": [{"method": "GET", "path": "/a?b=c", "status": 200}],
    "output": {"a": [1, {"b": 2}]},
}


def test_the_fast_layout_is_the_slow_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = files.dump_snapshot(DOC)
    monkeypatch.setattr(lines, "_c_encoder", lambda: None)
    assert files.dump_snapshot(DOC) == fast
    assert '"10": {}' in fast and '"at": "2026-01-02T03:04:05"' in fast


def test_a_cycle_falls_back_to_the_encoder_s_own_error() -> None:
    loop: dict[str, Any] = {"id": "1"}
    loop["self"] = loop
    with pytest.raises(ValueError, match="Circular reference"):
        files.dump_snapshot({"records": {"Item": {"1": loop}}})


@pytest.mark.parametrize("rid", ["0", "007", "12", "١٢", "²", "", "a1", "1a"])
def test_id_order_reads_digits_as_the_regex_did(rid: str) -> None:
    import re

    numeric = re.fullmatch(r"\d+", rid) is not None
    assert (id_order(rid)[0] == 0) == numeric


class Item(BaseModel):
    id: str
    name: str = Field(alias="Name")
    price: float = 0.0
    when: dt.date | None = None


class Special(Item):
    extra: int = 1


def test_a_batch_of_instances_dumps_as_each_one_does() -> None:
    batch = [Item(id="1", Name="a"), Item(id="2", Name="b", price=2, when=dt.date(2026, 1, 1))]
    rows, issues = prepare_records(batch, Item, "Item", strict=True)
    assert issues == []
    assert rows == [{"id": "1", "Name": "a"}, {"id": "2", "Name": "b", "price": 2.0, "when": "2026-01-01"}]
    mixed = [Item(id="1", Name="a"), Special(id="2", Name="b")]
    rows, issues = prepare_records(mixed, Special, "Special", strict=False)
    assert rows[1] == {"id": "2", "Name": "b"}  # unset fields stay out, a subclass dumps its own fields
    assert rows == [b.model_dump(mode="json", by_alias=True, exclude_unset=True) for b in mixed]


def _doc(**records: Any) -> dict[str, Any]:
    return {"format": 1, "records": {"Item": records}, "metadata": {"writes": [], "final": None}}


@pytest.mark.parametrize(("stored", "run", "same"), [
    ({"1": {"id": "1", "price": 1.0}}, {"1": {"id": "1", "price": 1}}, False),  # equal under ==, not in type
    ({"1": {"id": "1", "ok": True}}, {"1": {"id": "1", "ok": 1}}, False),
    ({"1": {"id": "1", "price": float("nan")}}, {"1": {"id": "1", "price": float("nan")}}, True),
    ({"1": {"id": "1", "name": "a"}}, {"1": {"id": "1", "name": "b"}}, False),
    ({"1": {"id": "1", "name": "a"}}, {"1": {"id": "1", "name": "a"}}, True),
])
def test_a_same_layout_file_is_compared_by_value_and_type(stored: dict[str, Any], run: dict[str, Any],
                                                           same: bool) -> None:
    text = files.dump_snapshot(_doc(**stored))
    cmp = files.compare(_doc(**run), text + " ")  # not byte-identical: the slow path, same line count
    assert cmp.same is same
    if not same:
        assert cmp.current is not None and cmp.stored is not None


def test_a_reformatted_or_odd_keyed_document_still_compares() -> None:
    import json

    doc = _doc(**{"1": {"id": "1", "name": "a"}})
    assert files.compare(doc, json.dumps(doc, indent=4)).same
    odd = {**doc, "metadata": {"writes": [], "final": {1: "int key"}}}
    # An int key is laid out as JSON spells it (a string); the stored file holds another value there.
    stored = files.dump_snapshot(odd)
    assert '"1": "int key"' in stored
    stored = stored.replace('"1": "int key"', '"1": "other"')
    cmp = files.compare(odd, stored)
    assert not cmp.same and cmp.current is not None and cmp.current["metadata"]["final"] == {"1": "int key"}


def test_a_url_scrubbed_twice_gives_one_answer_and_learns_in_between() -> None:
    from harness.secrets.scrubber import Scrubber

    s = Scrubber({})
    url = "https://api.example.com/x?api_key=Zq8Xk2Lm9Rt4Vb7Nc1Wd&page=2"
    first = s.url(url)
    assert "Zq8Xk2Lm9Rt4Vb7Nc1Wd" not in first and s.url(url) == first
    s.add_secret("token", "page2secretvalue123")
    other = "https://api.example.com/x?next=page2secretvalue123"
    assert "page2secretvalue123" not in s.url(other)
    # A value learned after the first answer changes the next one.
    before = s.url("https://api.example.com/y?q=hiddenvalue4567890")
    s.add_secret("token", "hiddenvalue4567890")
    assert s.url("https://api.example.com/y?q=hiddenvalue4567890") != before


class Strictly(BaseModel):
    model_config = {"revalidate_instances": "always"}
    id: str
    price: float


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
def test_instances_are_trusted_as_pydantic_trusts_them_unless_the_model_asks_for_revalidation() -> None:
    # pydantic's default (`revalidate_instances="never"`): an instance was validated when it was built.
    built = [Item(id="1", Name="a", price=2), Item(id="2", Name="b")]
    rows, issues = prepare_records(built, Item, "Item", strict=True)
    assert issues == [] and rows == [{"id": "1", "Name": "a", "price": 2.0}, {"id": "2", "Name": "b"}]
    unchecked = Item.model_construct(id="3", Name=None)
    rows, issues = prepare_records([unchecked], Item, "Item", strict=True)
    assert issues == [] and rows == [{"id": "3", "Name": None}]  # as pydantic would: construct skips validation
    # A model that asks for revalidation has every instance's JSON dump checked, construct() included.
    bad = Strictly.model_construct(id="4", price="cheap")
    rows, issues = prepare_records([Strictly(id="5", price=1), bad], Strictly, "Strictly", strict=True)
    assert [(i.record_id, i.path, i.severity) for i in issues] == [("4", "price", "error")]
    assert rows == [{"id": "5", "price": 1.0}]
    # A duplicate id in a trusted batch still gets its warning and the first occurrence wins.
    rows, issues = prepare_records([Item(id="6", Name="x"), Item(id="6", Name="y")], Item, "Item", strict=True)
    assert rows == [{"id": "6", "Name": "x"}] and [i.kind for i in issues] == ["duplicate"]
