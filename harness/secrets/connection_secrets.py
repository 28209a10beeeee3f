"""The cassette's `harness:` context, scrubbed like the traffic.

What the context keeps of a connection is a secret when:
- it is a credential (every credential value but identifiers such as `type`, `username`, `client_id`);
- it is the userinfo of `base_url` (`https://user:pass@host`);
- a `connection_config` field is one the provider injects as a credential (a `${connectionConfig.x}` in
  its header, query or body templates), `oauth_client_secret`, or has a secret's name;
- a metadata field has a secret's name or is declared `SecretStr`/`SecretBytes` in the metadata model.

A secret's name is `*secret*`, `*password*`, `*token*`, `*api_key*`, `*private_key*`... (see
`rules.is_secret_name`; `token_url` or `token_type` are not), holding a string of 6 characters or more
that is not a literal (`true`) or a plain URL. Such values become `<scrubbed:connection_config.KEY>` /
`<scrubbed:metadata.KEY>` (or the name the run already knew the value by), are added to the run's
scrubber, and the whole context is then scrubbed by value.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .fields import ALWAYS_SECRET_CONFIG, base_url_secret, secret_fields

if TYPE_CHECKING:
    from ..connections.model import Connection
    from ..project import Project
    from ..providers.catalog import Provider
    from .scrubber import Scrubber

_CONFIG_REF = re.compile(r"connectionConfig\.([A-Za-z0-9_\-]+)")
_MAX_DEPTH = 32


def provider_credential_fields(provider: Provider | None) -> frozenset[str]:
    """connection_config fields the provider injects into requests (so they are credentials)."""
    if provider is None:
        return ALWAYS_SECRET_CONFIG
    found: set[str] = set(ALWAYS_SECRET_CONFIG)
    for table in (provider.headers, provider.query, provider.body):
        for template in table.values():
            if isinstance(template, str):
                found.update(_CONFIG_REF.findall(template))
    return frozenset(found)


def _unwrap(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _unwrap(arg)]
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (list, tuple, set, frozenset):
        return [t for arg in typing.get_args(annotation) for t in _unwrap(arg)]
    if origin is dict:
        args = typing.get_args(annotation)
        return _unwrap(args[1]) if len(args) == 2 else []
    return [annotation]


def declared_secret_paths(model: Any, prefix: str = "", depth: int = 0) -> frozenset[str]:
    """Dotted field paths (names and aliases) a pydantic model declares as SecretStr or SecretBytes."""
    from pydantic import BaseModel, SecretBytes, SecretStr

    if not (isinstance(model, type) and issubclass(model, BaseModel)) or depth > 8:
        return frozenset()
    found: set[str] = set()
    for name, info in model.model_fields.items():
        names = {name} | ({info.alias} if info.alias else set())
        for kind in _unwrap(info.annotation):
            for key in names:
                path = f"{prefix}{key}"
                if isinstance(kind, type) and issubclass(kind, (SecretStr, SecretBytes)):
                    found.add(path)
                elif isinstance(kind, type) and issubclass(kind, BaseModel):
                    found |= declared_secret_paths(kind, f"{path}.", depth + 1)
    return frozenset(found)


def connection_context_secrets(connection: Connection, provider: Provider | None = None,
                               metadata_model: Any = None) -> dict[str, str]:
    """Every secret of a connection a run knows of: credentials, base_url userinfo, the secret-shaped
    connection_config and metadata fields (what the run's scrubber should be built with)."""
    secrets = dict(connection.secrets())
    declared = declared_secret_paths(metadata_model)
    secrets.update(secret_fields(connection.connection_config, "connection_config",
                                 names=provider_credential_fields(provider)))
    secrets.update(secret_fields(connection.metadata or {}, "metadata", declared=declared))
    return secrets


def _replace(value: Any, found: dict[str, str], scrubber: Scrubber, path: str) -> Any:
    if path in found:
        return _placeholder_for(scrubber, found[path], path)
    if isinstance(value, dict):
        return {k: _replace(v, found, scrubber, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, found, scrubber, f"{path}.{n}") for n, v in enumerate(value)]
    return value


def _placeholder_for(scrubber: Scrubber, value: str, path: str) -> str:
    from .scrubber import placeholder

    return placeholder(scrubber.name_of(value) or path)


def _fields(value: Any, prefix: str, scrubber: Scrubber, *, names: Iterable[str] = (),
            declared: Iterable[str] = ()) -> Any:
    found = secret_fields(value, prefix, names=names, declared=declared)
    for path, secret in found.items():
        scrubber.add_secret(path, secret)
    return _replace(value, found, scrubber, prefix) if found else value


def scrub_context(context: dict[str, Any], scrubber: Scrubber, *, credential_fields: Iterable[str] = (),
                  metadata_model: Any = None) -> dict[str, Any]:
    """A copy of a cassette's `harness:` context with every secret of it replaced (see the module doc).

    The secrets found are added to `scrubber`, so the traffic and the outputs of the run lose them too.
    """
    from ..connections.model import NOT_SECRET_CREDENTIALS
    from .scrubber import is_placeholder, placeholder

    declared = declared_secret_paths(metadata_model)
    names = frozenset(credential_fields) | ALWAYS_SECRET_CONFIG
    ctx = dict(context)
    conn = ctx.get("connection")
    if isinstance(conn, dict):
        conn = dict(conn)
        creds = conn.get("credentials")
        if isinstance(creds, dict):
            conn["credentials"] = {
                k: (placeholder(scrubber.name_of(v) or k) if isinstance(v, str) and k not in NOT_SECRET_CREDENTIALS
                    and not is_placeholder(v) else v)
                for k, v in creds.items()}
        base = conn.get("base_url")
        if isinstance(base, str):
            secret = base_url_secret(base)
            if secret:
                scrubber.add_secret("base_url.password", secret)
            conn["base_url"] = scrubber.url_rules(base, followable=True)
        if isinstance(conn.get("connection_config"), dict):
            conn["connection_config"] = _fields(conn["connection_config"], "connection_config", scrubber,
                                                names=names)
        if conn.get("metadata") is not None:
            conn["metadata"] = _fields(conn["metadata"], "metadata", scrubber, declared=declared)
        ctx["connection"] = conn
    if ctx.get("metadata") is not None:
        ctx["metadata"] = _fields(ctx["metadata"], "metadata", scrubber, declared=declared)
    scrubber.compile()
    scrubbed: dict[str, Any] = scrubber.data(ctx)
    if isinstance(conn, dict) and isinstance(conn.get("base_url"), str):
        # data() scrubs values with raw placeholders; the base URL keeps its followable form.
        scrubbed["connection"]["base_url"] = scrubber.text(conn["base_url"], url=True)
    return scrubbed


def run_scrubber(connection: Connection, provider: Provider | None, metadata_model: Any,
                 settings: Any) -> Scrubber:
    """The scrubber one run should use from its start: every secret of its connection (credentials,
    base_url userinfo, secret-shaped and provider-injected connection_config fields, secret-named and
    `SecretStr` metadata fields) and the user's `[tool.harness.scrub]` rules."""
    from .scrubber import Scrubber

    return Scrubber.from_settings(connection_context_secrets(connection, provider, metadata_model), settings)


def project_scrubber(project: Project) -> Scrubber:
    """A scrubber knowing every secret of the project's connections (file, `${ENV}` and stored tokens), for
    scanning files written outside a live run (snapshots): a replay itself knows only placeholders."""
    from .scrubber import Scrubber, settings_lists

    secrets: dict[str, str] = {}
    try:
        from ..connections.file import read_connections

        for conn_id, connection in read_connections(project.connections_file, project.root,
                                                    project.state_dir).items():
            for name, value in connection.secrets().items():
                secrets.setdefault(f"{conn_id}.{name}", value)
    except Exception:
        pass  # a broken connections file is reported by the runs that need it
    try:
        lists = settings_lists(project.settings.get("scrub"))
    except Exception:
        lists = {}
    return Scrubber(secrets, **lists)
