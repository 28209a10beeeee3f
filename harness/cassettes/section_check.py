"""The shape of a cassette's `harness:` section, checked when the file is read.

A replay hands these values to the connection resolver, the runner and the function (`input`, `metadata`,
`checkpoint`, `payload`), and renders them in results and snapshots, so each must be what those expect:
names are text, `connection` a mapping, `run` a positive number, `faults` a list of specs, and every other
value JSON-like (mappings with text keys, lists, text, numbers, booleans, null) at most `MAX_VALUE_DEPTH`
levels deep. YAML's extra types are turned into what JSON would hold (dates become ISO text, tuples lists);
binary data and sets are refused. A bad value is a `CassetteError` naming the file and the key.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from ..errors import CassetteError
from .limits import MAX_VALUE_DEPTH

_TEXT_KEYS = frozenset({"function", "integration", "scenario", "type", "source"})
_CONNECTION_TEXT = frozenset({"connection_id", "provider", "integration", "base_url"})
_CONNECTION_MAPS = frozenset({"credentials", "connection_config"})
# The range a replay's frozen clock can be set to everywhere (time-machine, datetime, 32-bit time_t aside).
_EARLIEST, _LATEST = datetime(1970, 1, 2, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)


def _bad(where: str, what: str) -> CassetteError:
    return CassetteError(f"{where}: {what}", hint="fix the cassette's harness: section or re-record it")


_KINDS: dict[type[Any], str] = {dict: "a mapping", list: "a list", tuple: "a list", bytes: "binary data",
                               set: "a set"}


def _kind(value: Any) -> str:
    return _KINDS.get(type(value)) or f"a {type(value).__name__}"


def _key(key: Any, where: str) -> str:
    """A mapping key as JSON would write it (YAML also allows numbers, booleans, null and dates)."""
    if isinstance(key, str):
        return key
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, (int, float)):
        return str(key)
    if isinstance(key, (datetime, date)):
        return key.isoformat()
    raise _bad(where, f"a key must be text, not {_kind(key)}")


class _Refused(Exception):
    """A value `plain` refuses; `path` is filled in while unwinding, so the happy path builds no names."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.path: list[str] = []


def _plain(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if depth >= MAX_VALUE_DEPTH:
        raise _Refused(f"nests more than {MAX_VALUE_DEPTH} levels deep")
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            name = k if type(k) is str else _key(k, "")
            try:
                out[name] = _plain(v, depth + 1)
            except _Refused as exc:
                exc.path.append(f".{name}")
                raise
        return out
    if isinstance(value, (list, tuple)):
        items = []
        for n, v in enumerate(value):
            try:
                items.append(_plain(v, depth + 1))
            except _Refused as exc:
                exc.path.append(f"[{n}]")
                raise
        return items
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise _Refused(f"must be JSON-like data, not {_kind(value)}")


def plain(value: Any, where: str, depth: int = 0) -> Any:
    """`value` as JSON-like data (a copy), or a `CassetteError` naming `where` and the path inside it."""
    try:
        return _plain(value, depth)
    except _Refused as exc:
        parts = list(reversed(exc.path))
        if len(parts) > 8:  # a path 100 levels deep would crowd out what is wrong with it
            parts = [*parts[:3], f"...({len(parts) - 6} levels)...", *parts[-3:]]
        raise _bad(where + "".join(parts), exc.what) from None
    except CassetteError as exc:  # a key that is not text
        raise _bad(where, exc.message.split(": ", 1)[-1]) from None


def _text(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise _bad(where, f"must be text, not {_kind(value)}")


def _recorded_at(value: Any, where: str) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _bad(where, f"{value[:40]!r} is not an ISO 8601 date and time") from None
    else:
        raise _bad(where, f"must be an ISO 8601 date and time, not {_kind(value)}")
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    if not _EARLIEST <= aware <= _LATEST:
        raise _bad(where, f"{value!s:.40} is outside the years 1970 to 9998")
    return value


def _base_url(value: Any, where: str) -> str | None:
    text = _text(value, where)
    if not text:
        return text
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - reading it checks the port
    except ValueError as exc:
        raise _bad(where, f"{text[:60]!r} is not a URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad(where, f"{text[:60]!r} is not an http(s) URL")
    return text


def _connection(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(where, f"must be a mapping, not {_kind(value)}")
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = _key(key, where)
        at = f"{where}.{name}"
        if name == "base_url":
            out[name] = _base_url(item, at)
        elif name in _CONNECTION_TEXT:
            out[name] = _text(item, at)
        elif name in _CONNECTION_MAPS or name == "metadata":
            if item is not None and not isinstance(item, dict):
                raise _bad(at, f"must be a mapping, not {_kind(item)}")
            out[name] = plain(item, at, 1)
        else:
            out[name] = plain(item, at, 1)
    return out


def _faults(value: Any, where: str) -> list[str] | None:
    from ..errors import HarnessError
    from ..http.faults import parse_fault

    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(f, str) for f in value):
        raise _bad(where, "must be a list of fault specs like '429@3'")
    for spec in value:
        try:
            parse_fault(spec)
        except HarnessError as exc:
            raise _bad(where, exc.message) from None
    return value


def check_context(context: dict[Any, Any], where: str) -> dict[str, Any]:
    """The `harness:` section (without `format`) with every value checked; see the module docstring."""
    out: dict[str, Any] = {}
    for key, value in context.items():
        name = _key(key, f"{where}: harness")
        at = f"{where}: harness.{name}"
        if name in _TEXT_KEYS:
            out[name] = _text(value, at)
        elif name == "recorded_at":
            out[name] = _recorded_at(value, at)
        elif name == "connection":
            out[name] = _connection(value, at) if value is not None else None
        elif name == "run":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise _bad(at, f"must be a run number (1, 2...), not {value!r:.40}")
            out[name] = value
        elif name == "faults":
            out[name] = _faults(value, at)
        else:
            out[name] = plain(value, at)
    return out
