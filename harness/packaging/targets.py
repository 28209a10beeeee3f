"""Where a deploy goes, and what may be said about it: endpoint URLs checked before any key is sent.

A target is a folder or an `http(s)://` endpoint. For an endpoint:

- the key (`$HARNESS_DEPLOY_KEY`, a bearer token) only travels over TLS: plain `http://` is refused unless
  the host is a loopback address (`localhost`, `127.0.0.0/8`, `::1`), or `--allow-insecure-http` is given
  (the command then says on stderr that the key crosses the network in clear);
- credentials in the URL (`https://user:pass@host/...`) are refused before anything is stored or printed:
  the key has its own variable, and the URL ends up in `.harness/deployed.json`, which is committed;
- what is stored (`target_id`) is scheme, host, port and path: no query, no fragment; what is printed
  (`shown`) also hides the query's values, which may hold tokens.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import UsageError

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def looks_like_url(target: str) -> bool:
    return bool(_SCHEME.match(target))


def is_url(target: str) -> bool:
    return target[:8].lower().startswith(("http://", "https://"))


def is_loopback(host: str) -> bool:
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Endpoint:
    url: str  # what is sent to (the URL as given, credentials refused)
    scheme: str
    host: str
    port: int | None
    path: str
    query: str

    @property
    def insecure(self) -> bool:
        """Plain http to a host that is not this machine: the key would cross a network in clear."""
        return self.scheme == "http" and not is_loopback(self.host)

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + (f":{self.port}" if self.port is not None else "")

    @property
    def target_id(self) -> str:
        """How `.harness/deployed.json` names the target: no credentials, query or fragment."""
        return self.origin + (self.path or "/")

    @property
    def shown(self) -> str:
        """How messages name it: the query's values hidden (they may hold tokens)."""
        if not self.query:
            return self.target_id
        names = [part.split("=", 1)[0] for part in self.query.split("&") if part]
        return self.target_id + "?" + "&".join(f"{n}=..." for n in names)


def _redacted(target: str) -> str:
    """`target` with any userinfo replaced, for the one message that refuses it."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@", r"\1***@", target)


def parse_endpoint(target: str, *, allow_insecure_http: bool = False) -> Endpoint:
    """The endpoint `target` names, checked: https (or loopback http, or the explicit override), no
    credentials in it. A refusal is a UsageError (exit 2) that never repeats a password."""
    if any(ord(c) < 0x21 or c == "\x7f" for c in target):
        raise UsageError(f"deploy URL {_redacted(target)!r} holds spaces or control characters")
    try:
        parts = urlsplit(target)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"cannot read deploy URL {_redacted(target)!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UsageError(f"deploy target {_redacted(target)!r}: {scheme}:// is not supported",
                         hint="deploy to a folder, or to an https:// endpoint")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UsageError(f"deploy URL {_redacted(target)!r} holds credentials: they would be stored in "
                         ".harness/deployed.json and printed",
                         hint="remove them from the URL; the key goes in $HARNESS_DEPLOY_KEY "
                              "(sent as 'Authorization: Bearer ...')")
    host = (parts.hostname or "").lower()
    if not host:
        raise UsageError(f"deploy URL {target!r} names no host")
    endpoint = Endpoint(target, scheme, host, port, parts.path, parts.query)
    if endpoint.insecure and not allow_insecure_http:
        raise UsageError(f"refusing to send $HARNESS_DEPLOY_KEY over plain http to {host} (anyone on the "
                         "network path could read it)",
                         hint="use https://, or pass --allow-insecure-http if you accept that")
    return endpoint


def insecure_warning(endpoint: Endpoint) -> str:
    return (f"warning: --allow-insecure-http: the deploy key is sent in clear over plain http to "
            f"{endpoint.host}; anyone on the network path can read it")


def stored_key(key: str) -> str:
    """A target key of `.harness/deployed.json`, without the URL credentials an older version stored."""
    if not is_url(key):
        return key
    scheme, _, rest = key.partition("://")
    netloc, slash, path = rest.partition("/")
    if "@" not in netloc:
        return key
    return f"{scheme}://{netloc.rsplit('@', 1)[1]}{slash}{path}"
