"""The `Scrubber`: removes secrets from traffic, URLs and data, by rule and by value, in every encoding.

Two passes, each linear in what it reads:
- by rule (`*_rules` methods, see `rules.py`): a credential found by its name is replaced by a placeholder
  and its value becomes a known secret ("learned"), so the provider echoing it elsewhere is caught too;
- by value (`text`, `*_values`): every known secret (the connection's, the learned ones), in every
  spelling of `encodings.py`, is replaced wherever it appears, in one Aho-Corasick pass per string.

Placeholders are stable: a value is always `<scrubbed:NAME>` under the first name it became known by (a
credential path such as `access_token`, a rule such as `cookie.session` or `signature`), never a counter.
A function replayed from the scrubbed recording therefore sends exactly what was recorded. In URLs a client
follows (`Link`, `Location`) the placeholder is percent-encoded, so the URL stays followable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_plus, urlencode, urlsplit, urlunsplit

from .encodings import BASE64, BASE64URL, b64_blob_at, b64_decode, b64_encode, variants, wide_codec
from .matcher import Matcher
from .rules import (
    COOKIE_ATTRIBUTES,
    EXCHANGE_FIELDS,
    EXCHANGE_MARKERS,
    RULE_FORM_ONLY,
    RULE_HEADERS,
    RULE_PARAMS,
    SCHEME_HEADERS,
    SECRET_SHAPES,
    URL_HEADERS,
    is_token_endpoint,
    looks_secret,
    secret_shapes,
    split_set_cookie,
)

__all__ = ["MIN_SECRET_LENGTH", "PLACEHOLDER", "RULE_HEADERS", "RULE_PARAMS", "SECRET_SHAPES", "Scrubber",
           "is_placeholder", "placeholder", "secret_shapes", "url_placeholder"]

# Shorter values are not looked for by value (they would match everywhere); rules still remove them.
MIN_SECRET_LENGTH = 6
PLACEHOLDER = "<scrubbed>"
_NAME = re.compile(r"[^A-Za-z0-9_.:#@-]+")
_LINK_URL = re.compile(r"<([^>]*)>")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9._-]*")
_MAX_B64_DEPTH = 2
# The common shape of a request URL, for which `urlsplit` is this match: a lower-case http(s) scheme, a host
# of letters, digits, `.`, `-` and a `:port` (no userinfo, no IPv6 brackets), a path of RFC 3986 characters,
# no fragment, and a query of `name=value` pieces (one `=` each) whose characters need no escaping, so that
# `parse_qsl` reads it as those pieces and `urlencode(..., safe="<>:")` writes them back as they were. (The
# classes are disjoint from what follows them, so the possessive quantifiers only spare backtracking.)
_Q = r"[A-Za-z0-9_.~<>:-]*+"
_PLAIN_URL = re.compile(rf"(https?)://([A-Za-z0-9.:-]++)((?:/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*+)?+)"
                        rf"(?:\?((?:{_Q}={_Q}(?:&{_Q}={_Q})*+)?+))?+")

# Called with (name, value) for every secret any scrubber learns: output redaction (`redact`) listens, so
# what a command prints loses whatever its runs came to know.
_LEARNED: list[Callable[[str, str], None]] = []


def on_learn(listener: Callable[[str, str], None]) -> None:
    if listener not in _LEARNED:
        _LEARNED.append(listener)


def placeholder(name: str) -> str:
    return f"<scrubbed:{_NAME.sub('_', name) or 'secret'}>"


def url_placeholder(name: str) -> str:
    """The placeholder as a URL carries it: percent-encoded, so a `Link` or `Location` stays followable."""
    return quote(placeholder(name), safe="")


def is_placeholder(value: str) -> bool:
    head = value[:12].lower()
    return head.startswith("<scrubbed") or head.startswith("%3cscrubbed")


# A URL's path and query pairs, as `urlsplit` and `parse_qsl` (keeping blank values) read them.
_Parts = tuple[str, tuple[tuple[str, str], ...]]


def _lower(names: Iterable[str]) -> frozenset[str]:
    return frozenset(n.lower() for n in names)


class Scrubber:
    def __init__(self, secrets: Mapping[str, str] | None = None, *, headers: Iterable[str] = (),
                 params: Iterable[str] = (), keys: Iterable[str] = (), patterns: Iterable[str] = (),
                 allow: Iterable[str] = ()) -> None:
        # `allow` holds values that are not secrets and rule names that do not hold secrets.
        self.allow = frozenset(allow)
        allowed = _lower(self.allow)
        self.rule_headers = (RULE_HEADERS | _lower(headers)) - allowed
        self.rule_params = (RULE_PARAMS | _lower(params)) - allowed
        self.rule_form = (self.rule_params | RULE_FORM_ONLY) - allowed
        # User-declared keys (and params) apply anywhere in JSON; built-in ones only in token exchanges.
        self.rule_keys = (_lower(keys) | _lower(params)) - allowed
        self.exchange_fields = EXCHANGE_FIELDS - allowed
        self.cookies_allowed = "cookie" in allowed or "set-cookie" in allowed
        # The headers `header_rules` can learn a secret from; any other it returns as it is.
        self._learning_headers = self.rule_headers | URL_HEADERS | {"cookie", "set-cookie"}
        self.patterns = [re.compile(p) for p in patterns]
        self.values: dict[str, str] = {}  # secret value -> the name it scrubs as
        self._matcher: Matcher[tuple[str, str]] = Matcher()
        self._last_url: tuple[str, bool, int, tuple[str, _Parts | None]] | None = None
        for name, value in (secrets or {}).items():
            self.add_secret(name, value)

    # -- what is known ---------------------------------------------------------------------------

    @property
    def secrets(self) -> dict[str, str]:
        """name -> value of every known secret (the first value of each name)."""
        out: dict[str, str] = {}
        for value, name in self.values.items():
            out.setdefault(name, value)
        return out

    def has_values(self) -> bool:
        return bool(self.values) or bool(self.patterns)

    def name_of(self, value: str) -> str | None:
        return self.values.get(value)

    def allowed(self, name: str, value: str | None = None) -> bool:
        return name in self.allow or name.lower() in self.allow or (value is not None and value in self.allow)

    def add_secret(self, name: str, value: Any) -> None:
        """Know `value` as a secret called `name` from now on (a refreshed token, a learned credential)."""
        if (not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH or is_placeholder(value)
                or value in self.values or self.allowed(name, value)):
            return
        self.values[value] = name
        for spelling, encoding in variants(value):
            self._matcher.add(spelling, (name, encoding))
        for listener in _LEARNED:
            listener(name, value)

    def learn(self, rule: str, value: str, *, weak: bool = False) -> str:
        """The placeholder of a value removed by `rule`; the value becomes a known secret (for a `weak` rule
        such as a cookie or a parameter, only when it looks like one: see `rules.looks_secret`)."""
        value = value.strip()
        if not value:
            return value
        if is_placeholder(value):
            return value
        known = self.values.get(value)
        if known is not None:
            return placeholder(known)
        if not weak or looks_secret(value, MIN_SECRET_LENGTH):
            self.add_secret(rule, value)
        return placeholder(rule)

    def compile(self) -> None:
        """Build the matcher for everything known (before scrubbing a whole recording)."""
        self._matcher.compile()

    def find(self, text: str) -> list[tuple[int, int, str, str]]:
        """(start, end, secret name, encoding) of every known secret in `text`, by value."""
        return [(s, e, *self._matcher.info(p)) for s, e, p in self._matcher.find(text)]

    # -- by value --------------------------------------------------------------------------------

    def text(self, value: str, *, url: bool = False, _depth: int = 0) -> str:
        """`value` with every known secret replaced, in whichever encoding it appears."""
        if not value:
            return value
        hits = self._matcher.find(value) if self.values else []
        if hits:
            make = url_placeholder if url else placeholder
            out: list[str] = []
            pos = 0
            for start, end, pattern in hits:
                if start < pos:
                    continue  # inside a base64 value already re-encoded
                name, encoding = self._matcher.info(pattern)
                if encoding in (BASE64, BASE64URL) and _depth < _MAX_B64_DEPTH:
                    blob_start, blob_end = b64_blob_at(value, start, end)
                    blob_start = max(blob_start, pos)
                    swapped = self._b64(value[blob_start:blob_end], _depth,
                                        url or value.startswith(("http://", "https://", "/")))
                    if swapped is not None:
                        out.append(value[pos:blob_start])
                        out.append(swapped)
                        pos = blob_end
                        continue
                out.append(value[pos:start])
                out.append(make(name))
                pos = end
            out.append(value[pos:])
            value = "".join(out)
        for rx in self.patterns:
            value = rx.sub(url_placeholder("pattern") if url else PLACEHOLDER, value)
        return value

    def _b64(self, blob: str, depth: int, in_url: bool) -> str | None:
        """A base64 value holding a secret, decoded, scrubbed and encoded again in the same style, so that
        `base64("acct:" + token)` becomes `base64("acct:<scrubbed:access_token>")`: what a replay sends."""
        decoded = b64_decode(blob)
        if decoded is None:
            return None
        raw, urlsafe, padded = decoded
        try:
            inner = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
        scrubbed = self.text(inner, _depth=depth + 1)
        if scrubbed == inner:
            return None
        # A value with no alphabet-specific character: base64url in a URL, base64 elsewhere.
        return b64_encode(scrubbed.encode("utf-8"), in_url if urlsafe is None else urlsafe, padded)

    def redact(self, value: Any) -> Any:
        """A copy of JSON-like data with known secrets replaced in every string (keys included)."""
        if not self.has_values():
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.redact(k) if isinstance(k, str) else k: self.redact(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.redact(v) for v in value]
        return value

    # -- by rule ---------------------------------------------------------------------------------

    def _cookie(self, name: str, value: str) -> str:
        if self.cookies_allowed or self.allowed(f"cookie.{name.strip()}") or not value.strip():
            return value
        return self.learn(f"cookie.{name.strip()}", value, weak=True)

    def header_rules(self, name: str, value: str) -> str:
        low = name.lower()
        if low == "cookie":
            pieces = []
            for piece in value.split(";"):
                cname, sep, cval = piece.partition("=")
                pieces.append(f"{cname}{sep}{self._cookie(cname, cval)}" if sep else piece)
            return ";".join(pieces)
        if low == "set-cookie":
            cookies = []
            for cookie in split_set_cookie(value):
                first, semi, attributes = cookie.partition(";")
                cname, sep, cval = first.partition("=")
                if sep and cname.strip().lower() not in COOKIE_ATTRIBUTES:
                    first = f"{cname}{sep}{self._cookie(cname, cval)}"
                cookies.append(first + semi + attributes)
            return ", ".join(cookies)
        if low in SCHEME_HEADERS and low in self.rule_headers:
            scheme, sep, credential = value.strip().partition(" ")
            if sep and credential.strip() and _SCHEME.fullmatch(scheme):
                if scheme.lower() == "basic":
                    self._learn_basic(low, credential.strip())
                return f"{scheme} {self.learn(low, credential)}"
            return self.learn(low, value)
        if low in self.rule_headers:
            return self.learn(low, value)
        if low == "link":
            return _LINK_URL.sub(lambda m: f"<{self.url_rules(m.group(1), followable=True)}>", value)
        if low in URL_HEADERS:
            return self.url_rules(value, followable=True)
        return value

    def learn_headers(self, headers: Iterable[tuple[str, str]]) -> None:
        """Learn what `header_rules` would from each header (credentials, cookies, the URLs some carry),
        without scrubbing them: a replay learns from a request what its recording learned."""
        learning = self._learning_headers
        for name, value in headers:
            if name.lower() in learning:
                self.header_rules(name, value)

    def _learn_basic(self, rule: str, credential: str) -> None:
        decoded = b64_decode(credential)
        if decoded is None:
            return
        try:
            _, sep, password = decoded[0].decode("utf-8").partition(":")
        except UnicodeDecodeError:
            return
        if sep and not self.allowed(f"{rule}.password", password):
            self.add_secret(f"{rule}.password", password)

    def header_values(self, name: str, value: str) -> str:
        low = name.lower()
        if low == "link":
            return _LINK_URL.sub(lambda m: f"<{self.text(m.group(1), url=True)}>", self.text_outside_links(value))
        return self.text(value, url=low in URL_HEADERS)

    def text_outside_links(self, value: str) -> str:
        parts = _LINK_URL.split(value)
        # split() with one group alternates outside, inside, outside...: scrub the outside parts here.
        return "".join(f"<{p}>" if n % 2 else self.text(p) for n, p in enumerate(parts))

    def header(self, name: str, value: str) -> str:
        """One header value, by rule then by value."""
        return self.header_values(name, self.header_rules(name, value))

    def url_rules(self, url: str, *, followable: bool = False) -> str:
        """URL userinfo and credential query parameters replaced; the rest of the URL kept as it was."""
        return self._url_rules(url, followable)[0]

    def _url_rules(self, url: str, followable: bool) -> tuple[str, _Parts | None]:
        """`url_rules`, and the path and query pairs of its answer when they are known without reading it
        again (a request's URL, its host kept: the query is written from its pairs)."""
        plain = None if followable else _PLAIN_URL.fullmatch(url)
        if plain is not None:
            return self._plain_url_rules(url, plain)
        return self._general_url_rules(url, followable)

    def _general_url_rules(self, url: str, followable: bool) -> tuple[str, _Parts | None]:
        try:
            parts = urlsplit(url)
        except ValueError:
            return url, None
        netloc, query, changed = parts.netloc, parts.query, False
        make = url_placeholder if followable else placeholder
        if "@" in netloc and not self.allowed("userinfo"):
            userinfo, host = netloc.rsplit("@", 1)
            user, sep, password = userinfo.partition(":")
            secret = unquote_plus(password if sep else user)
            known = self.values.get(secret)
            if known is None and not is_placeholder(secret):
                self.add_secret("userinfo", secret)
            name = self.values.get(secret, "userinfo")
            if not is_placeholder(userinfo):
                netloc, changed = f"{make(name)}@{host}", True
        # Splitting the answer again gives this path and these pairs when the host is the one split off (it
        # holds none of `/?#`) and the query is written from the pairs (urlencode escapes `#`, `&`, `=` and
        # `+`, so `parse_qsl` reads the same pairs back).
        known_parts = not followable and not changed and bool(netloc)
        pairs: list[tuple[str, str]] = []
        if query and not followable:
            # Recorded and reported URLs keep the one spelling of their query they always had (readable:
            # `since=2026-01-12T10:00:00Z`, placeholders as they are); a followed URL is left as sent.
            rule_params = self.rule_params
            pairs = [(k, self.learn(k.lower(), v, weak=True) if v and k.lower() in rule_params
                      and not self.allowed(k.lower(), v) else v)
                     for k, v in parse_qsl(query, keep_blank_values=True)]
            query, changed = urlencode(pairs, safe="<>:"), True
        elif query:
            pieces = query.split("&")
            for n, piece in enumerate(pieces):
                key, sep, val = piece.partition("=")
                low = unquote_plus(key).lower()
                if sep and val and low in self.rule_params and not self.allowed(low, unquote_plus(val)):
                    ph = self.learn(low, unquote_plus(val), weak=True)
                    ph = quote(ph, safe="") if followable and not ph.startswith("%") else ph
                    if ph != val:
                        pieces[n], changed = f"{key}={ph}", True
            query = "&".join(pieces)
        read = (parts.path, tuple(pairs)) if known_parts else None
        if not changed:
            return url, read
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)), read

    def _plain_url_rules(self, url: str, plain: re.Match[str]) -> tuple[str, _Parts]:
        """`_url_rules` of a request URL of the common shape (`_PLAIN_URL`): what `urlsplit`, `parse_qsl`
        and `urlencode` would answer for it, found without calling them."""
        path, query = plain.group(3, 4)
        if not query:
            return url, (path, ())
        if "&" not in query:  # one parameter (the usual page or cursor)
            name, _, value = query.partition("=")
            pairs: tuple[tuple[str, str], ...] = ((name, value),)
            if name.lower() not in self.rule_params:
                return url, (path, pairs)
        else:
            flat = query.replace("&", "=").split("=")
            pairs = tuple(zip(flat[::2], flat[1::2]))  # noqa: B905 - one `=` a piece: names, values alternate
            if self.rule_params.isdisjoint(query.lower().replace("&", "=").split("=")[::2]):
                return url, (path, pairs)  # no credential parameter: the URL is its own scrubbed form
        scrubbed = tuple((k, self.learn(k.lower(), v, weak=True) if v and k.lower() in self.rule_params
                          and not self.allowed(k.lower(), v) else v) for k, v in pairs)
        if scrubbed == pairs:
            return url, (path, pairs)
        scheme, netloc = plain.group(1, 2)
        return urlunsplit((scheme, netloc, path, urlencode(scrubbed, safe="<>:"), "")), (path, scrubbed)

    def url(self, url: str, *, followable: bool = False) -> str:
        return self._url(url, followable)[0]

    def request_url(self, url: str) -> tuple[str, _Parts]:
        """A request's URL scrubbed as `url` does, and the path and query pairs of the scrubbed text (what a
        replay matches on) as `urlsplit` and `parse_qsl` read them, found while scrubbing it when they can be
        (the common shape of URL): the URL is split and its query parsed once. A `ValueError` for a text
        `urlsplit` refuses."""
        answer = self._url(url, False)
        if answer[1] is None:  # a known value or a pattern was replaced inside it, or an unusual shape
            split = urlsplit(answer[0])
            return answer[0], (split.path, tuple(parse_qsl(split.query, keep_blank_values=True)))
        return answer  # type: ignore[return-value]  # the parts are known

    def _url(self, url: str, followable: bool) -> tuple[str, _Parts | None]:
        # A request's URL is scrubbed where it is observed and again where it is replayed: the last answer
        # is kept with the number of known values after it. Values only ever grow, so an unchanged count
        # means the same knowledge, hence the same answer (and no learning left to do).
        memo = self._last_url
        if memo is not None and memo[0] == url and memo[1] == followable and memo[2] == len(self.values):
            return memo[3]
        plain = None if followable else _PLAIN_URL.fullmatch(url)
        answer = self._plain_url_rules(url, plain) if plain is not None else self._general_url_rules(url, followable)
        if self.values or self.patterns:  # else the value pass has nothing to replace
            ruled = answer[0]
            out = self.text(ruled, url=followable)
            if out != ruled:
                answer = (out, None)  # the parts are read from the new text when asked
        self._last_url = (url, followable, len(self.values), answer)
        return answer

    def form_rules(self, body: str) -> str:
        pieces = body.split("&")
        changed = False
        for n, piece in enumerate(pieces):
            key, sep, val = piece.partition("=")
            low = unquote_plus(key).lower()
            if sep and val and low in self.rule_form and not self.allowed(low, unquote_plus(val)):
                ph = self.learn(low, unquote_plus(val), weak=True)
                if ph != val:
                    pieces[n], changed = f"{key}={ph}", True
        return "&".join(pieces) if changed else body

    def data_rules(self, value: Any, *, exchange: bool = False) -> tuple[Any, bool]:
        """JSON data with credential fields replaced: user keys anywhere, token-exchange fields inside a
        token exchange. Also says whether a replaced value could not be learned (too short, not a
        string), i.e. whether the JSON text must be written anew rather than scrubbed in place."""
        if isinstance(value, list):
            items = [self.data_rules(v, exchange=exchange) for v in value]
            return [i for i, _ in items], any(d for _, d in items)
        if not isinstance(value, dict):
            return value, False
        inside = exchange or any(isinstance(k, str) and k.lower() in EXCHANGE_MARKERS for k in value)
        out: dict[Any, Any] = {}
        dump = False
        for k, v in value.items():
            low = k.lower() if isinstance(k, str) else ""
            if low and (low in self.rule_keys or (inside and low in self.exchange_fields)) and v not in (None, ""):
                if isinstance(v, str) and self.allowed(low, v):
                    out[k] = v
                    continue
                if isinstance(v, str):
                    ph = self.learn(low, v)
                    dump = dump or v.strip() not in self.values
                    out[k] = ph
                else:
                    out[k], dump = placeholder(low), True
            else:
                out[k], d = self.data_rules(v, exchange=inside)
                dump = dump or d
        return out, dump

    def json_rules(self, text: str, *, url: str | None = None) -> str:
        exchange = is_token_endpoint(url)
        if not (exchange or self.rule_keys or any(marker in text for marker in EXCHANGE_MARKERS)):
            return text  # no token exchange in it, no user key: nothing for a rule (and no parse)
        try:
            data = json.loads(text)
        except ValueError:
            return text
        if not isinstance(data, (dict, list)):
            return text
        scrubbed, dump = self.data_rules(data, exchange=exchange)
        # Learned values are replaced in place by the value pass, keeping the original bytes.
        return json.dumps(scrubbed, ensure_ascii=False, separators=(",", ":")) if dump else text

    def _text_rules(self, text: str, ctype: str, url: str | None) -> str:
        stripped = text.lstrip()
        if "json" in ctype or (stripped[:1] in ("{", "[") and not ctype.startswith("text/html")):
            return self.json_rules(text, url=url)
        if "x-www-form-urlencoded" in ctype:
            return self.form_rules(text)
        return text

    def body_rules(self, body: str | bytes | None, content_type: str | None, *, url: str | None = None
                   ) -> str | bytes | None:
        if not body:
            return body
        ctype = (content_type or "").lower()
        return _through_text(body, ctype, lambda t: self._text_rules(t, ctype, url))

    def body_values(self, body: str | bytes | None, content_type: str | None) -> str | bytes | None:
        if not body or not self.has_values():
            return body
        return _through_text(body, (content_type or "").lower(), self.text)

    def body(self, body: str | bytes | None, content_type: str | None, *, url: str | None = None
             ) -> str | bytes | None:
        """A body by rule (form fields, token-exchange JSON fields) then by value, in its own encoding."""
        return self.body_values(self.body_rules(body, content_type, url=url), content_type)

    def data(self, value: Any) -> Any:
        """JSON-like data (a cassette's context) by rule, then by value."""
        scrubbed, _ = self.data_rules(value)
        return self.redact(scrubbed)

    @classmethod
    def from_settings(cls, secrets: Mapping[str, str], settings: Any) -> Scrubber:
        """A scrubber with the user's rules of `[tool.harness.scrub]`."""
        return cls(secrets, **settings_lists(settings))


SETTINGS = ("headers", "params", "keys", "patterns", "allow")


def settings_lists(settings: Any) -> dict[str, list[str]]:
    """`[tool.harness.scrub]` checked: headers, params, keys, patterns, allow (lists of strings)."""
    from ..errors import ConfigError

    settings = settings or {}
    if not isinstance(settings, dict):
        raise ConfigError("[tool.harness.scrub] must be a table", hint='e.g. scrub = {headers = ["X-Token"]}')
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise ConfigError(f"[tool.harness.scrub]: unknown key(s) {', '.join(unknown)}",
                          hint="known keys: " + ", ".join(SETTINGS))
    lists: dict[str, list[str]] = {}
    for name in SETTINGS:
        value = settings.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"[tool.harness.scrub] {name} must be a list of non-empty strings, got {value!r}")
        lists[name] = value
    for rx in lists["patterns"]:
        try:
            re.compile(rx)
        except re.error as exc:
            raise ConfigError(f"[tool.harness.scrub] patterns: {rx!r} is not a valid regular expression ({exc})",
                              hint="use Python's re syntax") from None
    return lists


def _through_text(body: str | bytes, ctype: str, scrub: Any) -> str | bytes:
    """Apply a text scrubber to a body, decoding UTF-16/32 first and encoding back (same type out)."""
    raw = body if isinstance(body, bytes) else (body.encode("utf-8") if "\0" in body else None)
    if raw is not None:
        wide = wide_codec(raw, ctype)
        if wide is None:
            if isinstance(body, bytes):
                return body  # binary: the final scan still reads it
            return str(scrub(body))
        codec, bom = wide
        try:
            text = raw[len(bom):].decode(codec)
        except UnicodeDecodeError:
            return body
        scrubbed = str(scrub(text))
        if scrubbed == text:
            return body
        out = bom + scrubbed.encode(codec)
        if isinstance(body, bytes):
            return out
        try:
            return out.decode("utf-8")
        except UnicodeDecodeError:
            return body
    return str(scrub(body))
