"""Removing secrets from anything that is written down (cassettes, printed URLs), and proving it worked.

Two kinds of scrubbing, in both directions (request and response):
- by rule: credential-bearing headers (Authorization, Cookie, Set-Cookie, API-key headers), token-like query
  and form parameters, and token fields of JSON bodies (OAuth token responses) become `<scrubbed>`;
- by value: every secret value of the connection (and its URL-encoded and JSON-escaped forms), wherever it
  appears, becomes `<scrubbed:NAME>`, so the same request scrubs to the same text at record and at replay.

`leaks()` then looks for any known secret in what is about to be written; a writer must refuse on a hit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

RULE_HEADERS = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key", "apikey",
    "x-auth-token", "x-access-token", "private-token", "x-shopify-access-token",
})
RULE_PARAMS = frozenset({
    "access_token", "refresh_token", "id_token", "token", "api_key", "apikey", "api-key", "key",
    "client_secret", "password", "secret", "signature", "sig", "private_token",
})
PLACEHOLDER = "<scrubbed>"


def placeholder(name: str) -> str:
    return f"<scrubbed:{name}>"


class Scrubber:
    def __init__(self, secrets: dict[str, str], *, headers: Iterable[str] = (), params: Iterable[str] = ()) -> None:
        self.secrets = dict(secrets)
        self.rule_headers = RULE_HEADERS | {h.lower() for h in headers}
        self.rule_params = RULE_PARAMS | {p.lower() for p in params}
        variants: dict[str, str] = {}
        for name, value in self.secrets.items():
            for form in (value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]):
                variants.setdefault(form, name)
        self._variants = variants
        self._pattern = (re.compile("|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True)))
                         if variants else None)

    def add_secret(self, name: str, value: str) -> None:
        """Learn a secret that appeared during the run (a refreshed token); it scrubs as `name`."""
        if len(value) < 6 or value in self._variants:
            return
        self.secrets.setdefault(name, value)
        for form in (value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]):
            self._variants.setdefault(form, name)
        self._pattern = re.compile("|".join(re.escape(v) for v in sorted(self._variants, key=len, reverse=True)))

    def text(self, value: str) -> str:
        if self._pattern is None or not value:
            return value
        return self._pattern.sub(lambda m: placeholder(self._variants[m.group(0)]), value)

    def _pairs(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(k, PLACEHOLDER if k.lower() in self.rule_params else self.text(v)) for k, v in pairs]

    def url(self, url: str) -> str:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            # URL userinfo (https://user:pass@host) is a credential whatever its value.
            netloc = f"{PLACEHOLDER}@{netloc.rsplit('@', 1)[1]}"
        query = parts.query
        if query:
            query = urlencode(self._pairs(parse_qsl(query, keep_blank_values=True)), safe="<>:")
        return self.text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))

    def header(self, name: str, value: str) -> str:
        return PLACEHOLDER if name.lower() in self.rule_headers else self.text(value)

    def data(self, value: Any) -> Any:
        """JSON-like data with token fields (by rule) and secret values (anywhere) scrubbed."""
        if isinstance(value, dict):
            return {k: (PLACEHOLDER if isinstance(k, str) and k.lower() in self.rule_params
                        and isinstance(v, str) else self.data(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def body(self, body: str, content_type: str | None) -> str:
        """Scrub a body: token fields of JSON and form bodies by rule, then secret values anywhere."""
        ctype = (content_type or "").lower()
        stripped = body.lstrip()
        if "json" in ctype or (stripped[:1] in ("{", "[") and not ctype.startswith("text/html")):
            try:
                data = json.loads(body)
            except ValueError:
                return self.text(body)
            if not isinstance(data, (dict, list)):
                return self.text(body)
            scrubbed = self.data(data)
            if scrubbed == data and self.text(body) == body:
                return body  # nothing to hide: keep the original bytes (and their formatting)
            return json.dumps(scrubbed, ensure_ascii=False, separators=(",", ":"))
        if "x-www-form-urlencoded" in ctype:
            pairs = parse_qsl(body, keep_blank_values=True)
            return urlencode(self._pairs(pairs), safe="<>:")
        return self.text(body)

    def leaks(self, value: Any) -> list[str]:
        """Names of the secrets still present anywhere in `value` (strings of nested dicts and lists)."""
        found: set[str] = set()

        def walk(v: Any) -> None:
            if isinstance(v, str):
                if self._pattern is not None:
                    for m in self._pattern.finditer(v):
                        found.add(self._variants[m.group(0)])
            elif isinstance(v, bytes):
                walk(v.decode("utf-8", "replace"))
            elif isinstance(v, dict):
                for k, item in v.items():
                    walk(k)
                    walk(item)
            elif isinstance(v, (list, tuple)):
                for item in v:
                    walk(item)

        walk(value)
        return sorted(found)
