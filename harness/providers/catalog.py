"""Lookup of provider entries: the shipped catalog merged with the project's `[tool.harness.providers]`."""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from ..errors import ConfigError


@dataclass(frozen=True)
class Provider:
    name: str
    auth_mode: str | None = None
    base_url: str | None = None
    token_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    paginate: dict[str, Any] = field(default_factory=dict)
    retry: dict[str, Any] = field(default_factory=dict)


_FIELDS = {"auth_mode", "base_url", "token_url", "headers", "query", "paginate", "retry", "alias"}


@functools.cache
def shipped() -> dict[str, dict[str, Any]]:
    text = resources.files("harness.providers").joinpath("catalog.yaml").read_text(encoding="utf-8")
    data: dict[str, dict[str, Any]] = yaml.load(text, Loader=yaml.CSafeLoader)
    return data


def get_provider(name: str, overrides: dict[str, Any] | None = None) -> Provider:
    """The provider entry called `name`; ConfigError with the close names when there is none."""
    catalog = shipped()
    extra = (overrides or {}).get(name)
    base = catalog.get(name)
    if base is None and extra is None:
        known = sorted({*catalog, *(overrides or {})})
        close = difflib.get_close_matches(name, known, n=3)
        raise ConfigError(f"unknown provider {name!r}",
                          hint=("did you mean " + ", ".join(close) + "?" if close else
                                "add it under [tool.harness.providers." + name + "] in pyproject.toml"))
    entry: dict[str, Any] = dict(base or {})
    if extra is not None:
        if not isinstance(extra, dict):
            raise ConfigError(f"[tool.harness.providers.{name}] must be a table")
        alias = extra.get("alias")
        if isinstance(alias, str):
            entry = {**get_provider(alias, {k: v for k, v in (overrides or {}).items() if k != name}).__dict__,
                     "name": name}
            entry.pop("name")
        entry.update(extra)
    unknown = set(entry) - _FIELDS
    if unknown:
        raise ConfigError(f"provider {name!r}: unknown key(s) {', '.join(sorted(unknown))}",
                          hint="known keys: " + ", ".join(sorted(_FIELDS)))
    entry.pop("alias", None)
    return Provider(name=name, **entry)
