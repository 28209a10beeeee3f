"""Connections read from a local YAML file (`fixtures/connections.yaml` by default).

```yaml
connections:
  demo:
    integration: github          # the functions/<integration> folder (default: the provider)
    provider: github             # a provider of the catalog
    base_url: http://127.0.0.1:8080   # optional: point at a sandbox or a local fake
    credentials: {type: OAUTH2, access_token: "${GITHUB_TOKEN}"}
    connection_config: {}
    metadata: {owner: octocat, repo: hello-world}
```

`${NAME}` and `${NAME:-default}` are filled from the environment and the project's `.env` (the environment
wins), so no secret needs to be written in the file. A reference that is not set is remembered rather than
failing at once: replays need no credentials, live runs ask for them (`Connection.require_credentials`).
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError, NotFoundError
from . import writeback
from .model import CREDENTIAL_TYPES, Connection
from .source import FileSource

_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_KEYS = {"integration", "provider", "credentials", "connection_config", "metadata", "base_url"}


def _environment(project_root: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    dotenv = project_root / ".env"
    if dotenv.is_file():
        from dotenv import dotenv_values

        try:
            values = dotenv_values(dotenv, encoding="utf-8")
        except UnicodeDecodeError as exc:
            # python-dotenv reads it whole and raises for one bad byte: an "internal error" (exit 70) without this.
            raise ConfigError(f"{dotenv}: not UTF-8 text (byte {exc.start})", hint="save it as UTF-8") from None
        except OSError as exc:
            raise ConfigError(f"{dotenv}: cannot read it ({exc.strerror})", hint="fix its permissions") from None
        env.update({k: v for k, v in values.items() if v is not None})
    env.update(os.environ)
    return env


def _expand(value: Any, env: dict[str, str], path: str, unresolved: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _expand(v, env, f"{path}.{k}", unresolved) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env, f"{path}.{i}", unresolved) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        unresolved[path] = name
        return ""

    return _REF.sub(sub, value)


def read_connections(path: Path, project_root: Path, state_dir: Path | None = None) -> dict[str, Connection]:
    """The file's connections, with refreshed tokens and persisted metadata from `state_dir` laid over."""
    state_dir = state_dir or project_root / ".harness"
    if not path.is_file():
        return {}
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except UnicodeDecodeError as exc:
        # A file saved in another encoding was an "internal error" (exit 70) with no file named.
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})", hint="save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})", hint="fix its permissions") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: not valid YAML", hint="fix the file's syntax") from None
    if data is None:
        return {}
    table = data.get("connections") if isinstance(data, dict) else None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: expected a top-level `connections:` mapping of id -> connection")
    env = _environment(project_root)
    out: dict[str, Connection] = {}
    for cid, raw in table.items():
        where = f"{path}: connection {cid!r}"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: must be a mapping")
        unknown = set(raw) - _KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}",
                              hint="known keys: " + ", ".join(sorted(_KEYS)))
        provider = raw.get("provider")
        if not isinstance(provider, str) or not provider:
            raise ConfigError(f"{where}: `provider` is required", hint="e.g. provider: github")
        unresolved: dict[str, str] = {}
        creds = _expand(raw.get("credentials") or {}, env, "credentials", unresolved)
        if not isinstance(creds, dict):
            raise ConfigError(f"{where}: `credentials` must be a mapping")
        ctype = str(creds.get("type") or "NONE").upper()
        if ctype not in CREDENTIAL_TYPES:
            raise ConfigError(f"{where}: unknown credentials type {ctype!r}",
                              hint="use one of " + ", ".join(CREDENTIAL_TYPES))
        creds["type"] = ctype
        config = _expand(raw.get("connection_config") or {}, env, "connection_config", unresolved)
        metadata = _expand(raw.get("metadata"), env, "metadata", unresolved)
        base_url = _expand(raw.get("base_url"), env, "base_url", unresolved)
        origin = FileSource(path, state_dir, str(cid), dict(creds), metadata)
        stored = writeback.load(state_dir, writeback.TOKENS, str(path), str(cid), creds)
        if isinstance(stored, dict) and not unresolved:
            creds = stored
        kept = writeback.load(state_dir, writeback.METADATA, str(path), str(cid), metadata)
        if kept is not None:
            metadata = kept
        out[str(cid)] = Connection(
            connection_id=str(cid), provider=provider, integration=str(raw.get("integration") or provider),
            credentials=creds, connection_config=config, metadata=metadata, base_url=base_url or None,
            unresolved=unresolved, source=str(path), origin=origin,
        )
    return out


def find_connection(path: Path, project_root: Path, connection_id: str,
                    state_dir: Path | None = None) -> Connection:
    connections = read_connections(path, project_root, state_dir)
    if connection_id in connections:
        return connections[connection_id]
    close = difflib.get_close_matches(connection_id, list(connections), n=3)
    if close:
        hint = "did you mean " + ", ".join(close) + "?"
    elif connections:
        hint = "known connections: " + ", ".join(sorted(connections))
    else:
        hint = f"add it to {path}"
    raise NotFoundError(f"unknown connection {connection_id!r} in {path}", hint=hint)
