"""The `Connection` a run acts for, its credentials, and the secret values they hold."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import ConfigError
from ..providers.catalog import Provider
from ..providers.templates import render_base_url

CREDENTIAL_TYPES = ("OAUTH2", "OAUTH2_CC", "APP", "API_KEY", "BASIC", "JWT", "CUSTOM", "NONE")

# Credential fields that identify rather than authorize; everything else string-valued is a secret.
NOT_SECRET_CREDENTIALS = frozenset({"type", "expires_at", "token_type", "scope", "scopes", "username", "client_id",
                                    "expires_in"})
_NOT_SECRET = NOT_SECRET_CREDENTIALS
MIN_SECRET_LENGTH = 6


@dataclass
class Connection:
    connection_id: str
    provider: str
    integration: str
    credentials: dict[str, Any] = field(default_factory=dict)
    connection_config: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] | None = None
    base_url: str | None = None
    # credential path -> environment variable that was not set when the file was read
    unresolved: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    # The ConnectionSource that refreshes and persists this connection (None: nothing to write back to).
    origin: Any = field(default=None, compare=False, repr=False)

    @property
    def auth_type(self) -> str:
        return str(self.credentials.get("type") or "NONE").upper()

    def require_credentials(self) -> None:
        """Live calls need every `${ENV}` reference resolved; say which variables are missing."""
        if self.unresolved:
            names = ", ".join(sorted(set(self.unresolved.values())))
            where = f" in {self.source}" if self.source else ""
            raise ConfigError(f"connection {self.connection_id!r}{where} needs environment variable(s) {names}",
                              hint="set them, or put them in the project's .env file; replays need none")

    def secrets(self) -> dict[str, str]:
        """name -> secret value, for scrubbing recordings and outputs: every credential value (values shorter
        than 6 characters are ignored), the base URL's userinfo, and the secret-shaped fields of
        connection_config and metadata (see `harness.secrets.connection_secrets`)."""
        from ..secrets.fields import ALWAYS_SECRET_CONFIG, base_url_secret, secret_fields

        found: dict[str, str] = {}

        def walk(prefix: str, value: Any) -> None:
            if isinstance(value, dict):
                for k, v in value.items():
                    if k not in _NOT_SECRET:
                        walk(f"{prefix}.{k}" if prefix else str(k), v)
            elif isinstance(value, list):
                for i, v in enumerate(value):
                    walk(f"{prefix}.{i}", v)
            elif isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
                found.setdefault(prefix, value)

        walk("", self.credentials)
        user, password = self.credentials.get("username"), self.credentials.get("password")
        if self.auth_type == "BASIC" and isinstance(user, str):
            pair = f"{user}:{password or ''}".encode()
            found["basic"] = base64.b64encode(pair).decode()
        url_secret = base_url_secret(self.base_url)
        if url_secret is not None and len(url_secret) >= MIN_SECRET_LENGTH:
            found.setdefault("base_url.password", url_secret)
        for path, value in secret_fields(self.connection_config, "connection_config",
                                         names=ALWAYS_SECRET_CONFIG).items():
            found.setdefault(path, value)
        for path, value in secret_fields(self.metadata or {}, "metadata").items():
            found.setdefault(path, value)
        return found

    def with_placeholders(self) -> Connection:
        """A copy whose secrets are their scrub placeholders (what a replay runs with): credentials, the
        base URL's userinfo and the secret-shaped connection_config and metadata fields.

        A replayed function then sends exactly what the scrubbed recording holds, whether or not the real
        secrets are available. A value shared by several fields takes the placeholder of its first name, as
        the scrubber names it.
        """
        from ..secrets.fields import ALWAYS_SECRET_CONFIG, secret_fields
        from ..secrets.scrubber import Scrubber, is_placeholder, placeholder

        first = {v: k for k, v in reversed(list(self.secrets().items()))}

        def walk(prefix: str, value: Any) -> Any:
            if isinstance(value, dict):
                return {k: value[k] if k in _NOT_SECRET else walk(f"{prefix}.{k}" if prefix else str(k), v)
                        for k, v in value.items()}
            if isinstance(value, list):
                return [walk(f"{prefix}.{i}", v) for i, v in enumerate(value)]
            if isinstance(value, str) and not is_placeholder(value):
                return placeholder(first.get(value, prefix))
            return value

        def fields(value: Any, prefix: str, names: frozenset[str] = frozenset()) -> Any:
            found = secret_fields(value, prefix, names=names)

            def swap(item: Any, path: str) -> Any:
                if path in found:
                    return placeholder(first.get(found[path], path))
                if isinstance(item, dict):
                    return {k: swap(v, f"{path}.{k}") for k, v in item.items()}
                if isinstance(item, list):
                    return [swap(v, f"{path}.{n}") for n, v in enumerate(item)]
                return item

            return swap(value, prefix) if found else value

        base_url = self.base_url
        if base_url and "@" in base_url:
            base_url = Scrubber(self.secrets()).url_rules(base_url, followable=True)
        metadata = fields(self.metadata, "metadata") if self.metadata is not None else None
        return replace(self, credentials=walk("", self.credentials), unresolved={}, base_url=base_url,
                       connection_config=fields(self.connection_config, "connection_config", ALWAYS_SECRET_CONFIG),
                       metadata=metadata)

    def template_scope(self) -> dict[str, Any]:
        creds = self.credentials
        scope: dict[str, Any] = {"connectionConfig": self.connection_config, "credentials": creds}
        scope.update({k: v for k, v in creds.items() if isinstance(v, (str, int, float))})
        token = creds.get("access_token") or creds.get("token")
        if token:
            scope["accessToken"] = token
        return scope

    def resolve_base_url(self, provider: Provider) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        if not provider.base_url:
            raise ConfigError(f"provider {provider.name!r} has no base_url",
                              hint=f"set base_url on connection {self.connection_id!r} or in the provider entry")
        url = render_base_url(provider.base_url, self.template_scope())
        if url is None:
            raise ConfigError(f"connection {self.connection_id!r}: cannot fill the base URL {provider.base_url!r}",
                              hint="add the missing connection_config value to the connection")
        return url

    def token(self) -> Any:
        """What Nango's `getToken()` returns for this credential type."""
        kind = self.auth_type
        if kind in ("OAUTH2", "APP"):
            return self.credentials.get("access_token")
        if kind in ("OAUTH2_CC", "JWT"):
            return self.credentials.get("token")
        if kind == "API_KEY":
            return self.credentials.get("apiKey")
        return dict(self.credentials)

    def public(self) -> dict[str, Any]:
        """The `get_connection()` view (Nango's connection object, snake_case)."""
        return {
            "connection_id": self.connection_id,
            "provider_config_key": self.integration,
            "provider": self.provider,
            "connection_config": dict(self.connection_config),
            "metadata": dict(self.metadata or {}),
            "credentials": dict(self.credentials),
        }
