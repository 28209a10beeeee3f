"""Request identity for replay, the index that makes each lookup constant-time, and miss diagnostics.

A request matches a recorded one on: method, URL path, query as a multimap (order of distinct names does
not matter, order of repeated values does), and the canonical body (JSON re-serialized with sorted keys;
form bodies as sorted pairs). Host and headers never take part, so auth never does. The Nth identical request
gets the Nth recorded response.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, MutableSequence
from operator import itemgetter
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..errors import CassetteError
from ..heap import collector_paused
from .format import Interaction
from .lazy import LazyInteractions

Key = tuple[str, str, tuple[tuple[str, str], ...], str]


def canonical_body(body: str | bytes | None, content_type: str | None = None, *, ordered: bool = False) -> str:
    """The body as matching compares it: JSON re-serialized compactly (keys sorted, unless `ordered`: Nango's
    replayer refuses a body whose keys come in another order, so its recordings match that way), form
    fields sorted, anything else as text."""
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if not text:
        return ""
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            return json.dumps(json.loads(text), sort_keys=not ordered, separators=(",", ":"), ensure_ascii=False)
        except (ValueError, RecursionError):
            return text  # not JSON (or nested past what the parser takes): compared as text
    if content_type and "x-www-form-urlencoded" in content_type.lower():
        return "&".join(f"{k}={v}" for k, v in sorted(parse_qsl(text, keep_blank_values=True)))
    return text


def query_pairs(query: str) -> tuple[tuple[str, str], ...]:
    return _sorted_pairs(parse_qsl(query, keep_blank_values=True))


def _sorted_pairs(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    # Stable sort: distinct names compare in any order, repeated names keep their order.
    return tuple(sorted(pairs, key=itemgetter(0)))


def request_key(method: str, uri: str, body: str | bytes | None, content_type: str | None = None, *,
                ordered: bool = False) -> Key:
    parts = urlsplit(uri)
    return parts_key(method, parts.path, parse_qsl(parts.query, keep_blank_values=True), body, content_type,
                     ordered=ordered)


def parts_key(method: str, path: str, pairs: Iterable[tuple[str, str]], body: str | bytes | None,
              content_type: str | None = None, *, ordered: bool = False) -> Key:
    """`request_key` of a URL already split: its raw path and its query pairs as `parse_qsl` reads them."""
    if type(pairs) is not tuple or len(pairs) > 1:
        pairs = _sorted_pairs(pairs)
    return (method.upper(), (unquote(path) if "%" in path else path) or "/", pairs,
            canonical_body(body, content_type, ordered=ordered) if body else "")


def _content_type(headers: dict[str, list[str]]) -> str | None:
    for k, v in headers.items():
        if k.lower() == "content-type" and v:
            return v[0]
    return None


def interaction_key(item: Interaction, *, ordered: bool = False) -> Key:
    return request_key(item.method, item.uri, item.request_body, _content_type(item.request_headers),
                       ordered=ordered)


def key_order_matters(context: dict[str, Any] | None) -> bool:
    """Whether a cassette's JSON request bodies match with their key order (those converted from Nango)."""
    source = (context or {}).get("source")
    return isinstance(source, str) and source.startswith("nango")


def describe(key: Key) -> str:
    method, path, query, body = key
    q = "&".join(f"{k}={v}" for k, v in query)
    text = f"{method} {path}" + (f"?{q}" if q else "")
    if body:
        text += f" body={body[:80]}{'...' if len(body) > 80 else ''}"
    return text


def differences(wanted: Key, have: Key) -> list[str]:
    out: list[str] = []
    if wanted[0] != have[0]:
        out.append(f"method {wanted[0]} != recorded {have[0]}")
    if wanted[1] != have[1]:
        out.append(f"path {wanted[1]} != recorded {have[1]}")
    wq: dict[str, list[str]] = {}
    hq: dict[str, list[str]] = {}
    for k, v in wanted[2]:
        wq.setdefault(k, []).append(v)
    for k, v in have[2]:
        hq.setdefault(k, []).append(v)
    for name in sorted(set(wq) | set(hq)):
        a, b = wq.get(name), hq.get(name)
        if a != b:
            shown_a = ",".join(a) if a is not None else "(absent)"
            shown_b = ",".join(b) if b is not None else "(absent)"
            out.append(f"query {name}={shown_a} != recorded {shown_b}")
    if wanted[3] != have[3]:
        out.append("body differs")
    return out


def _score(wanted: Key, have: Key) -> tuple[int, int, int, int]:
    same_query = len(set(wanted[2]) & set(have[2])) - len(set(wanted[2]) ^ set(have[2]))
    return (wanted[0] == have[0], wanted[1] == have[1], same_query, wanted[3] == have[3])


def _checked_key(n: int, item: Interaction, source: str | None, ordered: bool = False) -> Key:
    try:
        return interaction_key(item, ordered=ordered)
    except ValueError as exc:  # urlsplit: an invalid IPv6 host, a bad port...
        raise CassetteError(f"{source or 'the recording'}: interaction #{n}: its uri {item.uri[:80]!r} is not a "
                            f"valid URL ({exc})", hint="fix the cassette or re-record it with --record") from None


class InteractionIndex:
    """Recorded interactions by request key, each key's responses in recording order."""

    def __init__(self, interactions: MutableSequence[Interaction], source: str | None = None, *,
                 ordered: bool = False) -> None:
        # The keys and queues hold no cycles: the collector would only re-walk the cassette while they are
        # built (a 100,000-interaction cassette's index took 6x longer per interaction than a 1,000's).
        with collector_paused():
            self._build(interactions, source, ordered)

    def _build(self, interactions: MutableSequence[Interaction], source: str | None, ordered: bool) -> None:
        self.interactions = interactions
        self.ordered = ordered
        # A cache hit's interactions: the keys need only the requests (no response is read for them).
        requests = interactions.requests() if isinstance(interactions, LazyInteractions) else interactions
        self.keys: list[Key] = []
        # Converted Nango recordings carry Nango's request-identity hash; Nango looks those up statelessly
        # (the same request always gets the first entry with its hash), so this map never empties.
        self.by_nango_hash: dict[str, int] = {}
        add = self.keys.append
        for n, item in enumerate(requests):
            try:
                add(interaction_key(item, ordered=ordered))
            except ValueError:
                add(_checked_key(n, item, source, ordered))
            if item.extra:
                h = item.extra.get("nango_hash")
                if isinstance(h, str):
                    self.by_nango_hash.setdefault(h, n)
        # A key recorded once (most are) maps to its interaction's number, one recorded more often to the
        # queue of them: a deque per key was most of a 100,000-interaction index's memory (600 bytes each).
        self._queues: dict[Key, int | deque[int]] = {}
        queues = self._queues
        for n, key in enumerate(self.keys):
            held = queues.setdefault(key, n)
            if held != n:
                if isinstance(held, int):
                    queues[key] = deque((held, n))
                else:
                    held.append(n)
        self.played: list[bool] = [False] * len(interactions)

    def take(self, key: Key, nango_hash: str | None = None) -> int | None:
        """The number of the next unplayed interaction for `key`; else, for converted Nango recordings, the
        hash's entry; None when there is neither."""
        queue = self._queues.get(key)
        if isinstance(queue, int):
            n = queue
            del self._queues[key]
        elif queue:
            n = queue.popleft()
        elif nango_hash is not None and nango_hash in self.by_nango_hash:
            n = self.by_nango_hash[nango_hash]
        else:
            return None
        self.played[n] = True
        return n

    def nearest(self, key: Key) -> tuple[Key, list[str], bool] | None:
        """The closest recorded request, what differs, and whether it was already played."""
        if not self.keys:
            return None
        best = max(range(len(self.keys)), key=lambda n: (_score(key, self.keys[n]), not self.played[n]))
        return self.keys[best], differences(key, self.keys[best]), self.played[best]

    def unplayed(self) -> list[dict[str, Any]]:
        return [{"index": n, "method": self.interactions[n].method, "uri": self.interactions[n].uri}
                for n, done in enumerate(self.played) if not done]
