"""Requests are built as Nango builds them: query merging, JS formatting, JSON.stringify bodies."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from harness.cassettes.matching import differences, request_key
from harness.http.request import build_url, js_string, json_body


def test_query_merging_and_js_formatting() -> None:
    url = build_url("https://graph.microsoft.com/v1.0/", "/users/delta?$select=id",
                    {"top": 10, "flag": True, "off": False, "ratio": 2.0, "ids": ["a", "b", 3], "skip": None})
    assert url == ("https://graph.microsoft.com/v1.0/users/delta?%24select=id&top=10&flag=true&off=false"
                   "&ratio=2&ids=a%2Cb%2C3")
    # A next-page URL replaces the base; params given again win over the endpoint's own.
    assert build_url("https://api.github.com", "https://api.github.com/x?page=2&per_page=5", {"page": 3}) == \
        "https://api.github.com/x?per_page=5&page=3"
    assert js_string(1e21) == "1e+21" and js_string(0.5) == "0.5" and js_string(-3.0) == "-3"


def test_json_body_is_json_stringify() -> None:
    body = {"b": 1, "a": [1.5, True, None], "ü": "é"}
    assert json_body(body) == '{"b":1,"a":[1.5,true,null],"ü":"é"}'.encode()


@given(st.dictionaries(st.text(min_size=1, max_size=5), st.one_of(st.integers(), st.text(max_size=5),
                                                                  st.booleans(), st.none()), max_size=6))
def test_matching_ignores_key_order_and_host(body: dict[str, object]) -> None:
    reordered = dict(reversed(list(body.items())))
    a = request_key("post", "https://a.example/x?b=2&a=1", json.dumps(body))
    b = request_key("POST", "http://127.0.0.1:9/x?a=1&b=2", json.dumps(reordered))
    assert a == b and differences(a, b) == []


def test_differences_name_what_changed() -> None:
    a = request_key("GET", "https://h/x?page=2&q=1", None)
    b = request_key("GET", "https://h/y?page=3", None)
    assert differences(a, b) == ["path /x != recorded /y", "query page=2 != recorded 3",
                                 "query q=1 != recorded (absent)"]
