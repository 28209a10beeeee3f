"""Which fields of a connection's data are secrets: by name (`*secret*`, `*token*`...), by the provider's
credential fields, by a model's `SecretStr` declaration, and the userinfo of a base URL.

Pure rules over JSON-like data, shared by the connection model (what to scrub, what placeholders to run
with) and the cassette context scrubbing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from .rules import is_secret_name, is_secret_value

MIN_SECRET_LENGTH = 6
ALWAYS_SECRET_CONFIG = frozenset({"oauth_client_secret", "client_secret"})
_MAX_DEPTH = 32


def _plain(path: str) -> str:
    """The path without list indices (`items.0.key` -> `items.key`), as a model declares it."""
    return ".".join(p for p in path.split(".") if not p.isdigit())


def secret_fields(value: Any, prefix: str, *, names: Iterable[str] = (), declared: Iterable[str] = ()
                  ) -> dict[str, str]:
    """path -> value of the secret-shaped fields of JSON-like `value` (paths start with `prefix`)."""
    wanted = frozenset(names)
    declared_set = frozenset(f"{prefix}.{d}" for d in declared)
    found: dict[str, str] = {}

    def walk(item: Any, path: str, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        if isinstance(item, dict):
            for key, sub in item.items():
                key_s = str(key)
                sub_path = f"{path}.{key_s}"
                secret_named = key_s in wanted or is_secret_name(key_s) or _plain(sub_path) in declared_set
                if secret_named and is_secret_value(sub, MIN_SECRET_LENGTH):
                    found[sub_path] = sub
                elif _plain(sub_path) in declared_set and isinstance(sub, str) and sub \
                        and not sub.startswith("<scrubbed"):
                    found[sub_path] = sub  # declared SecretStr: a secret whatever its length
                else:
                    walk(sub, sub_path, depth + 1)
        elif isinstance(item, list):
            for n, sub in enumerate(item):
                walk(sub, f"{path}.{n}", depth + 1)

    walk(value, prefix, 0)
    return found


def base_url_secret(base_url: str | None) -> str | None:
    """The secret part of a URL's userinfo: the password, or the user when there is none (a token)."""
    if not base_url or "@" not in base_url:
        return None
    try:
        parts = urlsplit(base_url)
    except ValueError:
        return None
    secret = parts.password if parts.password is not None else parts.username
    return secret or None
