"""Name rules: where a credential sits by its name, whatever its value.

Rules aim at credentials, never at provider data:
- headers: `Authorization` (the scheme is kept: `Bearer <scrubbed:...>`), API-key and token headers, and
  the VALUES of `Cookie` and `Set-Cookie` (cookie names and attributes such as `Domain=`, `Path=`,
  `Expires=`, `Secure`, `HttpOnly`, `SameSite`, `Max-Age` are kept and never learned);
- query and form parameters with a credential's name (`access_token`, `api_key`, `signature`...); `code`
  and `code_verifier` only in form bodies (an OAuth code exchange), never in a query (`?code=US` is data);
- JSON fields only inside an OAuth token exchange (`access_token`, `refresh_token`, `id_token`, `token`,
  `client_secret`, `code`...): a JSON key `key` or `token` in provider data is data.

The context of a cassette (connection_config, metadata) has its own rule: names such as `*secret*`,
`*password*`, `*token*`, `*api_key*` (see `is_secret_name`).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

RULE_HEADERS = frozenset({
    "authorization", "proxy-authorization", "x-api-key", "api-key", "apikey", "x-apikey", "x-auth-token",
    "x-access-token", "private-token", "x-shopify-access-token", "x-goog-api-key", "x-amz-security-token",
    "x-vault-token", "x-auth-key", "x-client-secret", "x-refresh-token", "x-session-token", "x-csrf-token",
    "x-xsrf-token",
})
COOKIE_HEADERS = frozenset({"cookie", "set-cookie"})
# Headers whose value is a URL the client follows: placeholders in them are percent-encoded.
URL_HEADERS = frozenset({"location", "content-location", "link"})
# Scheme-prefixed credential headers keep their scheme, so a reader sees what kind of auth was used.
SCHEME_HEADERS = frozenset({"authorization", "proxy-authorization"})

RULE_PARAMS = frozenset({
    "access_token", "refresh_token", "id_token", "token", "api_key", "apikey", "api-key", "key",
    "client_secret", "password", "secret", "signature", "sig", "private_token", "client_assertion",
    "assertion", "session_token", "auth_token", "oauth_token", "oauth_token_secret", "x-amz-security-token",
    "x-amz-signature", "x-amz-credential", "x-goog-signature", "x-goog-credential", "subject_token",
    "actor_token", "hapikey", "auth", "access_key", "secret_key",
})
# Form fields that are secrets only in a form body (an OAuth authorization code exchange).
RULE_FORM_ONLY = frozenset({"code", "code_verifier", "device_code"})

# A JSON object holding one of these keys is (part of) a token exchange: a token request or response.
EXCHANGE_MARKERS = frozenset({"access_token", "refresh_token", "id_token", "grant_type", "client_secret",
                              "oauth_token_secret", "client_assertion"})
# The credential fields of a token exchange (request or response), scrubbed only there.
EXCHANGE_FIELDS = frozenset({"access_token", "refresh_token", "id_token", "token", "client_secret", "code",
                             "code_verifier", "assertion", "client_assertion", "oauth_token",
                             "oauth_token_secret", "session_token", "password", "device_code",
                             "subject_token", "actor_token"})
# URL paths of token endpoints: every credential field of their JSON answer is scrubbed (a GitHub App
# installation token answers `{"token": ..., "expires_at": ...}` without any marker).
_TOKEN_PATH = re.compile(r"(?:^|/)(?:oauth2?(?:/[^/]*)*|(?:access_)?tokens?|token\.json|oauth\.v2\.access)/?$",
                         re.IGNORECASE)

# Cookie attributes (RFC 6265 and common extensions): never a cookie, never a secret.
COOKIE_ATTRIBUTES = frozenset({"domain", "path", "expires", "max-age", "secure", "httponly", "samesite",
                               "priority", "partitioned", "version", "comment"})

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SECRET_WORDS = re.compile(r"secret|passw(?:or)?d|passphrase|token|api_?key|private_?key|access_?key|"
                           r"signing_?key|client_?key|credential")
# Names that contain a secret word but name something about a secret, not the secret itself.
_NOT_SECRET_SUFFIX = re.compile(r"(?:_|^)(?:url|uri|endpoint|type|id|ids|at|in|name|expires|expiry|expiration|"
                                r"count|length|ttl|header|field|path|mode|method|format|scopes?|enabled|"
                                r"required|prefix|kind|version|placement|location)$")
_LITERALS = frozenset({"true", "false", "null", "none", "yes", "no"})


def normalize(name: str) -> str:
    """`clientSecret`, `client-secret` and `Client_Secret` all become `client_secret`."""
    return _CAMEL.sub("_", name).replace("-", "_").lower()


def is_secret_name(name: str) -> bool:
    """Whether a context field called `name` holds a secret (`webhook_secret`, `apiKey`; not `token_url`)."""
    norm = normalize(name)
    return bool(_SECRET_WORDS.search(norm)) and not _NOT_SECRET_SUFFIX.search(norm)


def is_secret_value(value: object, min_length: int) -> bool:
    """A value that a secret-named field may hold: a string long enough, not a literal or a plain URL."""
    if not isinstance(value, str) or len(value) < min_length or value.lower() in _LITERALS:
        return False
    if value.startswith(("http://", "https://")):
        return "@" in urlsplit(value).netloc
    return not value.startswith("<scrubbed")


def looks_secret(value: str, min_length: int) -> bool:
    """Whether a value a weak rule removed (a cookie, a query or form parameter) is worth learning as a
    secret: long, or mixing letters and digits. `secure`, `dark`, `en-US` or `true` stay data elsewhere
    (one learned `secure` cookie must never turn `https://secure.splitwise.com` into a placeholder)."""
    if len(value) < min_length or value.lower() in _LITERALS:
        return False
    if len(value) >= 16:
        return True
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def is_token_endpoint(url: str | None) -> bool:
    if not url:
        return False
    return bool(_TOKEN_PATH.search(urlsplit(url).path))


def cookie_pairs(value: str) -> list[tuple[str, str, str]]:
    """A `Cookie` header as (name, '=', value) pieces; a piece without `=` has an empty separator."""
    out: list[tuple[str, str, str]] = []
    for piece in value.split(";"):
        name, sep, val = piece.partition("=")
        out.append((name, sep, val))
    return out


# Folded `Set-Cookie` values (`a=1; Path=/, b=2; Expires=Wed, 21 Oct 2026 ...`) split before a new
# `name=`; the comma inside an `Expires` date is followed by a day number, never by `name=`.
_FOLDED = re.compile(r",\s*(?=[^;,=\s]+=)")


def split_set_cookie(value: str) -> list[str]:
    return _FOLDED.split(value)


def header_is_scrubbed(name: str, value: str) -> bool:
    """For `cassettes lint`: a rule header whose credential part is a placeholder (or empty)."""
    low = name.lower()
    if low == "cookie":
        return all(not sep or not val.strip() or val.strip().startswith("<scrubbed")
                   for _, sep, val in cookie_pairs(value))
    if low == "set-cookie":
        for cookie in split_set_cookie(value):
            first = cookie.split(";", 1)[0]
            _, sep, val = first.partition("=")
            if sep and val.strip() and not val.strip().startswith("<scrubbed"):
                return False
        return True
    if low in SCHEME_HEADERS:
        return value.split(" ", 1)[-1].strip().startswith("<scrubbed")
    return value.strip().startswith("<scrubbed")


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
    "URL password": r"://[^/\s:@<>\"'%]+:(?!%3Cscrubbed)[^/\s@<>\"']+@",
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
