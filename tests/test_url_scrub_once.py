"""A request's URL is scrubbed and split once (`Scrubber.request_url`), through a fast path for the common
shape of URL: what it answers must be, for any URL, what `urllib` gives: the scrubbed text of the rules and
value pass as written with `urlsplit` / `parse_qsl` / `urlencode` / `urlunsplit`, the secrets learned on the
way, and the replay key `request_key` reads from that text. The reference below is that straightforward
version, written out here so that the fast one is held to it."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from harness.cassettes.format import Cassette, Interaction
from harness.cassettes.matching import parts_key, request_key
from harness.http.observe import URL_TEXT, url_text
from harness.http.replay import ReplayTransport
from harness.secrets.scrubber import Scrubber, is_placeholder, placeholder

SECRETS = {"access_token": "tok_SECRET_123", "credentials.password": "p@ss w0rd#1"}


def reference_rules(s: Scrubber, url: str) -> str:
    """Scrubber.url_rules (not followable), spelled with urllib alone."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc, query, changed = parts.netloc, parts.query, False
    if "@" in netloc and not s.allowed("userinfo"):
        userinfo, host = netloc.rsplit("@", 1)
        user, sep, password = userinfo.partition(":")
        secret = unquote_plus(password if sep else user)
        if s.values.get(secret) is None and not is_placeholder(secret):
            s.add_secret("userinfo", secret)
        name = s.values.get(secret, "userinfo")
        if not is_placeholder(userinfo):
            netloc, changed = f"{placeholder(name)}@{host}", True
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(k, s.learn(k.lower(), v, weak=True) if v and k.lower() in s.rule_params
                 and not s.allowed(k.lower(), v) else v) for k, v in pairs]
        query, changed = urlencode(kept, safe="<>:"), True
    if not changed:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def check(url: str, method: str = "GET") -> None:
    for secrets in (SECRETS, {}):  # with known values, and without (the value pass then has nothing to do)
        check_with(secrets, url, method)


def check_with(secrets: dict[str, str], url: str, method: str) -> None:
    fast, slow = Scrubber(secrets, params=["page_key"]), Scrubber(secrets, params=["page_key"])
    try:
        text = slow.text(reference_rules(slow, url))
    except UnicodeEncodeError:  # a lone surrogate: urlencode (or the matcher) cannot take it, both ways
        with pytest.raises(UnicodeEncodeError):
            fast.request_url(url)
        return
    try:
        want = request_key(method, text, None)
    except ValueError:
        with pytest.raises(ValueError):
            fast.request_url(url)
        assert fast.url(url) == text  # the kept answer
        assert fast.values == slow.values
        return
    scrubbed, (path, pairs) = fast.request_url(url)
    assert scrubbed == text
    assert fast.url(url) == text  # the kept answer
    assert fast.values == slow.values  # the same secrets learned
    assert parts_key(method, path, pairs, None) == want


PIECES = ["a", "Z", "0", "-", ".", "_", "~", ":", "<", ">", "=", "&", "?", "#", "/", "@", "%", "%41", "%zz",
          "%2B", "+", " ", "\t", "é", "[", "]", ";", ",", "*", "'", "tok_SECRET_123", "access_token=",
          "page_key=", "token", "<scrubbed:x>", "%3Cscrubbed%3Ax%3E", "\x00", "\x7f", "\ud800"]
urls = st.builds(lambda head, tail: head + "".join(tail),
                 st.sampled_from(["https://", "http://", "HTTPS://", "https:", "ftp://", "https://h",
                                  "https://api.example.com", "https://u:p@h", "https://[::1]:8",
                                  "https://h:99/x", "https://h/", "//h/x", "/x?", ""]),
                 st.lists(st.sampled_from(PIECES), max_size=12))
text = st.lists(st.sampled_from(PIECES), max_size=4).map("".join)
# Built as a URL is: a host, a path, then name=value pairs (so that the plain shapes are reached often).
structured = st.builds(lambda host, path, pairs, tail: host + path + ("?" + "&".join(pairs) if pairs else "") + tail,
                       st.sampled_from(["https://api.example.com", "http://127.0.0.1:9", "https://u@h"]),
                       st.sampled_from(["", "/", "/items", "/a%2Fb/c", "//x"]),
                       st.lists(st.builds(lambda k, sep, v: k + sep + v, text, st.sampled_from(["=", "", "=="]),
                                          text), max_size=4),
                       st.sampled_from(["", "", "#", "#f"]))


@given(urls | structured)
@settings(max_examples=400, deadline=None)  # with the @example cases above; more per run adds time, not shapes
@example("https://api.example.com/items?page=3")
@example("https://u:p@h/x?access_token=abc&q=tok_SECRET_123&page=2")
@example("https://h/x?a=b=c&d")
@example("https://h/x?a=b=c")
@example("https://h/x?a=1&&b=2#frag")
@example("https://h/x?page_key=abcdefgh123&page=2")
@example("https://h/x?access_token=<scrubbed:access_token>")
@example("https://h//x?a=1")
@example("https://h/p%20q?a=%41&b=+")
def test_request_url_is_urllib_scrubbing(url: str) -> None:
    check(url)


def test_the_common_shapes_take_the_fast_path_and_answer_alike() -> None:
    for url in ("https://api.example.com/items?page=2&per_page=100", "https://api.example.com/items",
                "https://api.example.com", "http://127.0.0.1:8080/a/b?since=2026-01-12T10:00:00Z",
                "https://h/x?access_token=tok_other_456&page=1", "https://h/x?q=a%20b&r=c+d"):
        check(url)
    s = Scrubber(SECRETS)
    assert s.request_url("https://h/x?access_token=tok_other_456&page=1")[0] == \
        "https://h/x?access_token=<scrubbed:access_token>&page=1"
    assert "tok_other_456" in s.values  # learned by rule, as the recorder learns it


def test_a_value_found_inside_the_url_gives_the_parts_of_the_new_text() -> None:
    s = Scrubber(SECRETS)
    assert s.request_url("https://h/items/tok_SECRET_123?x=tok_SECRET_123") == (
        "https://h/items/<scrubbed:access_token>?x=<scrubbed:access_token>", ("/items/<scrubbed:access_token>",
                                                                              (("x", "<scrubbed:access_token>"),)))


def test_a_layer_that_changes_the_url_is_not_given_the_observer_s_copy() -> None:
    request = httpx.Request("GET", "https://h/a?x=1")
    request.extensions[URL_TEXT] = (request.url, "https://h/a?x=1")
    assert url_text(request) == "https://h/a?x=1"
    request.url = httpx.URL("https://h/b")
    assert url_text(request) == "https://h/b"


def test_a_replay_learns_from_each_new_set_of_request_headers() -> None:
    # Recorded: the second request carried a credential the function set itself, and echoed it in its query;
    # the recording has it scrubbed in both. The replay learns it from the headers when they change.
    def item(uri: str) -> Interaction:
        return Interaction("GET", uri, {}, None, 200, "OK", {"content-type": ["application/json"]}, "{}")

    cassette = Cassette([item("https://h/a?page=1"), item("https://h/b?q=%3Cscrubbed%3Aauthorization%3E"),
                         item("https://h/b?q=%3Cscrubbed%3Aauthorization%3E")])
    replay = ReplayTransport(cassette, Scrubber({}))

    async def run() -> list[int]:
        async with httpx.AsyncClient(transport=replay) as client:
            first = await client.get("https://h/a?page=1")
            secret = {"authorization": "Bearer tok_made_by_the_function_123"}
            second = await client.get("https://h/b?q=tok_made_by_the_function_123", headers=secret)
            third = await client.get("https://h/b?q=tok_made_by_the_function_123", headers=secret)
            return [first.status_code, second.status_code, third.status_code]

    assert asyncio.run(run()) == [200, 200, 200]
    assert replay.misses == [] and replay.index.unplayed() == []
