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
    # OAuth token requests and responses (RFC 6749 / 7523) and common session-token fields.
    "client_assertion", "assertion", "session_token", "auth_token", "oauth_token", "oauth_token_secret",
    "x-amz-security-token",
})
# Form-body fields that are secrets only in a form (an OAuth authorization code exchange); as JSON keys
# these names are ordinary data.
RULE_FORM_ONLY = frozenset({"code", "code_verifier"})
PLACEHOLDER = "<scrubbed>"

# Shapes of well-known credentials, for `harness cassettes lint` (which knows no connection's values).
SECRET_SHAPES: dict[str, str] = {
    "bearer token": r"\b[Bb](?:earer|EARER)\s+(?!<scrubbed)[A-Za-z0-9\-._~+/]{16,}=*",
    "GitHub token": r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})",
    "Slack token": r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
    "Stripe or OpenAI key": r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|\bsk-[A-Za-z0-9_-]{20,}",
    "AWS access key": r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    "Google API key": r"\bAIza[0-9A-Za-z_-]{35}\b",
    "JSON web token": r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    "private key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    "URL password": r"://[^/\s:@<>\"']+:[^/\s@<>\"']+@",
}
_SHAPES = re.compile("|".join(f"(?P<g{n}>{rx})" for n, rx in enumerate(SECRET_SHAPES.values())))
_SHAPE_NAMES = list(SECRET_SHAPES)


def secret_shapes(text: str) -> list[str]:
    """Names of the credential shapes found in `text` (heuristic: lint uses it, writing does not)."""
    found: set[str] = set()
    for m in _SHAPES.finditer(text):
        if m.lastgroup is not None:
            found.add(_SHAPE_NAMES[int(m.lastgroup[1:])])
    return sorted(found)


def placeholder(name: str) -> str:
    return f"<scrubbed:{name}>"


class Scrubber:
    def __init__(self, secrets: dict[str, str], *, headers: Iterable[str] = (), params: Iterable[str] = (),
                 keys: Iterable[str] = (), patterns: Iterable[str] = ()) -> None:
        self.secrets = dict(secrets)
        self.rule_headers = RULE_HEADERS | {h.lower() for h in headers}
        self.rule_params = RULE_PARAMS | {p.lower() for p in params}
        # Header names too: a provider that echoes a request (debug endpoints, errors) puts them in JSON.
        self.rule_keys = self.rule_params | self.rule_headers | {k.lower() for k in keys}
        self.rule_form = self.rule_params | RULE_FORM_ONLY
        self.patterns = [re.compile(p) for p in patterns]
        self._variants: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None
        self._add(self.secrets.items())

    def _add(self, secrets: Iterable[tuple[str, str]]) -> None:
        for name, value in secrets:
            for form in (value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]):
                self._variants.setdefault(form, name)
        variants = self._variants
        self._pattern = (re.compile("|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True)))
                         if variants else None)

    def add_secret(self, name: str, value: str) -> None:
        """Learn a secret that appeared during the run (a refreshed token); it scrubs as `name`."""
        if len(value) < 6 or value in self._variants:
            return
        self.secrets.setdefault(name, value)
        self._add([(name, value)])

    def learn(self, name: str, value: str) -> None:
        """A value removed by rule becomes a known secret: a provider that echoes it elsewhere (a debug
        endpoint, an error body) is then scrubbed too, and the final scan refuses it."""
        if not isinstance(value, str) or value.startswith("<scrubbed"):
            return
        found: dict[str, str] = {}
        for part in {value, value.split(" ", 1)[-1], *(c.split("=", 1)[-1] for c in value.split("; "))}:
            part = part.strip()
            if len(part) >= 6 and not part.startswith("<scrubbed") and part not in self._variants:
                found[part] = name.lower()
        if found:
            self.secrets.update({f"{n}#{len(self.secrets)}": v for v, n in found.items()})
            self._add((n, v) for v, n in found.items())

    @classmethod
    def from_settings(cls, secrets: dict[str, str], settings: Any) -> Scrubber:
        """A scrubber with the user's rules of `[tool.harness.scrub]`: headers, params, keys, patterns."""
        from ..errors import ConfigError

        settings = settings or {}
        if not isinstance(settings, dict):
            raise ConfigError("[tool.harness.scrub] must be a table", hint="e.g. scrub = {headers = [\"X-Token\"]}")
        unknown = sorted(set(settings) - {"headers", "params", "keys", "patterns"})
        if unknown:
            raise ConfigError(f"[tool.harness.scrub]: unknown key(s) {', '.join(unknown)}",
                              hint="known keys: headers, params, keys, patterns")
        lists: dict[str, list[str]] = {}
        for name in ("headers", "params", "keys", "patterns"):
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
        return cls(secrets, **lists)

    def text(self, value: str) -> str:
        if not value:
            return value
        if self._pattern is not None:
            value = self._pattern.sub(lambda m: placeholder(self._variants[m.group(0)]), value)
        for rx in self.patterns:
            value = rx.sub(PLACEHOLDER, value)
        return value

    def _pairs(self, pairs: list[tuple[str, str]], rules: frozenset[str] | None = None) -> list[tuple[str, str]]:
        names = self.rule_params if rules is None else rules
        out: list[tuple[str, str]] = []
        for k, v in pairs:
            if k.lower() in names:
                self.learn(k, v)
                out.append((k, PLACEHOLDER))
            else:
                out.append((k, self.text(v)))
        return out

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
        if name.lower() in self.rule_headers:
            self.learn(name, value)
            return PLACEHOLDER
        return self.text(value)

    def data(self, value: Any) -> Any:
        """JSON-like data with token fields (by rule) and secret values (anywhere) scrubbed."""
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            for k, v in value.items():
                if isinstance(k, str) and k.lower() in self.rule_keys and isinstance(v, str):
                    self.learn(k, v)
                    out[k] = PLACEHOLDER
                else:
                    out[k] = self.data(v)
            return out
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
            return urlencode(self._pairs(pairs, self.rule_form), safe="<>:")
        return self.text(body)

    def leaks(self, value: Any) -> list[str]:
        """Names of the secrets still present anywhere in `value` (strings of nested dicts and lists)."""
        found: set[str] = set()

        def walk(v: Any) -> None:
            if isinstance(v, str):
                if self._pattern is not None:
                    for m in self._pattern.finditer(v):
                        found.add(self._variants[m.group(0)])
                for rx in self.patterns:
                    if rx.search(v):
                        found.add(f"pattern {rx.pattern!r}")
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
