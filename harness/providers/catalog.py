"""Lookup of provider entries: the shipped catalog merged with the project's `[tool.harness.providers]`.

An entry with `alias: X` is shallow-merged over X (as Nango's providers.yaml does); a project entry is
merged key by key over the shipped entry of the same name, so `retry = {...}` replaces the whole retry
table while `base_url = "..."` changes only the base URL.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from ..errors import ConfigError
from .entries import ENTRY_KEYS, entry_problems


@dataclass(frozen=True)
class Provider:
    name: str
    auth_mode: str | None = None
    base_url: str | None = None
    token_url: str | None = None
    token_expiration_buffer: float | None = None
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    paginate: dict[str, Any] = field(default_factory=dict)
    retry: dict[str, Any] = field(default_factory=dict)


_FIELDS = ENTRY_KEYS
_TABLES = {"headers", "query", "body", "paginate", "retry"}


@functools.cache
def shipped() -> dict[str, dict[str, Any]]:
    text = resources.files("harness.providers").joinpath("catalog.yaml").read_text(encoding="utf-8")
    data: dict[str, dict[str, Any]] = yaml.load(text, Loader=yaml.CSafeLoader)
    return data


def names(overrides: dict[str, Any] | None = None) -> list[str]:
    return sorted({*shipped(), *(overrides or {})})


def _raw(name: str, overrides: dict[str, Any], chain: tuple[str, ...]) -> dict[str, Any]:
    if name in chain:
        raise ConfigError(f"provider {name!r}: alias loop {' -> '.join((*chain, name))}")
    base = shipped().get(name)
    extra = overrides.get(name)
    if base is None and extra is None:
        known = names(overrides)
        close = difflib.get_close_matches(name, known, n=3)
        where = f" (alias of {chain[-1]!r})" if chain else ""
        raise ConfigError(f"unknown provider {name!r}{where}",
                          hint=("did you mean " + ", ".join(close) + "?" if close else
                                f"add it under [tool.harness.providers.{name}] in pyproject.toml"))
    if extra is not None and not isinstance(extra, dict):
        raise ConfigError(f"[tool.harness.providers.{name}] must be a table")
    entry: dict[str, Any] = {**(base or {}), **(extra or {})}
    alias = entry.pop("alias", None)
    if alias is not None:
        if not isinstance(alias, str):
            raise ConfigError(f"provider {name!r}: alias must be a provider name")
        entry = {**_raw(alias, overrides, (*chain, name)), **entry}
    return entry


def get_provider(name: str, overrides: dict[str, Any] | None = None) -> Provider:
    """The provider entry called `name`; ConfigError with the close names when there is none."""
    if overrides is not None and not isinstance(overrides, dict):
        raise ConfigError("[tool.harness.providers] must be a table of provider name -> entry")
    entry = _raw(name, overrides or {}, ())
    unknown = set(entry) - _FIELDS
    if unknown:
        raise ConfigError(f"provider {name!r}: unknown key(s) {', '.join(sorted(unknown))}",
                          hint="known keys: " + ", ".join(sorted(_FIELDS - {'alias'})))
    for key in _TABLES & set(entry):
        if not isinstance(entry[key], dict):
            raise ConfigError(f"provider {name!r}: {key} must be a table, got {entry[key]!r}")
    buffer = entry.get("token_expiration_buffer")
    if buffer is not None and (not isinstance(buffer, (int, float)) or isinstance(buffer, bool) or buffer < 0):
        raise ConfigError(f"provider {name!r}: token_expiration_buffer must be a number of seconds")
    return Provider(name=name, **entry)


def override_problems(overrides: Any) -> list[str]:
    """Every problem of the project's `[tool.harness.providers]` table (checked at start-up and by compile)."""
    if overrides is None:
        return []
    if not isinstance(overrides, dict):
        return ["[tool.harness.providers] must be a table of provider name -> entry"]
    problems: list[str] = []
    known = set(names(overrides))
    for name in sorted(overrides):
        entry = overrides[name]
        problems += entry_problems(name, entry)
        alias = entry.get("alias") if isinstance(entry, dict) else None
        if isinstance(alias, str) and alias not in known:
            close = difflib.get_close_matches(alias, sorted(known), n=1)
            problems.append(f"[tool.harness.providers.{name}] alias: unknown provider {alias!r}"
                            + (f" (did you mean {close[0]}?)" if close else ""))
        elif isinstance(alias, str):
            try:
                _raw(name, overrides, ())
            except ConfigError as exc:
                problems.append(f"[tool.harness.providers.{name}] alias: {exc.message}")
    return problems
