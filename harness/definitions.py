"""The authoring decorators (`sync`, `action`, `on_event`) and the definition objects they return.

A decorator checks its arguments when the function's module is imported, so a bad definition fails at
load time with the file, the field and what is wrong. The integration id is filled in by the loader from
the folder the file sits in.
"""

from __future__ import annotations

import builtins
import inspect
import re
import types
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, TypeVar, Union

from pydantic import BaseModel

from .errors import DefinitionError

EVENTS = ("post-connection-creation", "pre-connection-deletion", "validate-connection")
MIN_FREQUENCY_S = 30
MAX_FREQUENCY_S = 31 * 24 * 3600
DEFAULT_FREQUENCY = "every day"

_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}
_FREQ_RE = re.compile(r"^(?:every\s+)?(?:(\d+(?:\.\d+)?|half(?:\s+an?)?|an?)\s*)?([a-z]+)$")

FunctionType = Literal["sync", "action", "on-event"]
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def parse_frequency(text: str) -> float:
    """Seconds between runs for "every hour", "every 5 minutes", "1h", "30m"...; ValueError if unparseable."""
    m = _FREQ_RE.match(text.strip().lower())
    if not m or m.group(2) not in _UNITS:
        raise ValueError(f"cannot read frequency {text!r}")
    count_text = (m.group(1) or "1").replace(" ", "")
    if count_text.startswith("half"):
        count = 0.5
    elif count_text in ("a", "an"):
        count = 1.0
    else:
        count = float(count_text)
    return count * _UNITS[m.group(2)]


def kebab(name: str) -> str:
    return re.sub(r"[_\s]+", "-", name).strip("-").lower()


def _source_of(fn: Callable[..., Any]) -> str:
    return str(getattr(getattr(fn, "__code__", None), "co_filename", "<unknown>"))


def _check_async(fn: Callable[..., Any], kind: str) -> None:
    if not inspect.iscoroutinefunction(fn):
        raise DefinitionError(f"a {kind} must be an `async def` function, got {fn!r}",
                              file=_source_of(fn), field=getattr(fn, "__name__", "?"))


def _is_model(obj: object) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseModel)


_SCALARS: tuple[type, ...] = (str, int, float, bool, datetime, date)


def _is_flat(annotation: Any) -> bool:
    """True when a checkpoint field holds a scalar (Nango stores checkpoints as flat scalar maps)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_flat(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return all(a is type(None) or _is_flat(a) for a in typing.get_args(annotation))
    if origin is Literal:
        return True
    return isinstance(annotation, type) and issubclass(annotation, _SCALARS)


def _check_record_model(model: Any, file: str, where: str) -> None:
    if not _is_model(model):
        raise DefinitionError(f"{model!r} is not a pydantic model", file=file, field=where,
                              hint="pass classes that inherit pydantic.BaseModel")
    fld = model.model_fields.get("id")
    if fld is None:
        raise DefinitionError(f"model {model.__name__} has no `id` field", file=file, field=where,
                              hint="every record needs `id: str`")
    ann = fld.annotation
    if typing.get_origin(ann) is typing.Annotated:
        ann = typing.get_args(ann)[0]
    if ann is not str:
        raise DefinitionError(f"model {model.__name__}: `id` must be `str`, not {ann!r}", file=file,
                              field=where, hint="declare `id: str`; numeric ids are turned into strings")


def _str_list(value: Any, file: str, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise DefinitionError(f"must be a list of strings, got {value!r}", file=file, field=where)
    return list(value)


@dataclass
class Definition:
    """What every kind of function has in common."""

    fn: Callable[..., Awaitable[Any]]
    name: str
    type: FunctionType
    description: str
    file: str
    integration: str = ""
    metadata: builtins.type[BaseModel] | None = None
    scopes: list[str] = field(default_factory=list)
    version: str | None = None
    name_given: bool = False

    @property
    def qualified_name(self) -> str:
        return f"{self.integration}/{self.name}" if self.integration else self.name


@dataclass
class SyncDefinition(Definition):
    models: dict[str, builtins.type[BaseModel]] = field(default_factory=dict)
    frequency: str = DEFAULT_FREQUENCY
    frequency_seconds: float = 86400.0
    checkpoint: builtins.type[BaseModel] | None = None
    auto_start: bool = True
    webhook_subscriptions: list[str] = field(default_factory=list)
    webhook: Callable[..., Awaitable[Any]] | None = None

    def on_webhook(self, fn: F) -> F:
        """Register this sync's webhook handler: `async def handler(nango, payload)`."""
        _check_async(fn, "webhook handler")
        self.webhook = fn
        return fn


@dataclass
class ActionDefinition(Definition):
    input: Any = None
    output: Any = None


@dataclass
class EventDefinition(Definition):
    event: str = ""


def _common(fn: Callable[..., Any], name: str | None, description: str | None,
            metadata: Any, scopes: Any, version: Any, file: str) -> dict[str, Any]:
    if metadata is not None and not _is_model(metadata):
        raise DefinitionError(f"must be a pydantic model, got {metadata!r}", file=file, field="metadata")
    if version is not None and not isinstance(version, str):
        raise DefinitionError(f"must be a string such as '1.0.0', got {version!r}", file=file, field="version")
    if name is not None and (not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name)):
        raise DefinitionError(f"{name!r} is not a valid function name", file=file, field="name",
                              hint="use lower-case letters, digits and dashes")
    return {
        "fn": fn,
        # The loader renames to the module's stem (the documented rule); outside the functions tree
        # (a hand-written test, say) the Python name is the best default.
        "name": name or kebab(fn.__name__),
        "name_given": name is not None,
        "description": description if description is not None else inspect.cleandoc(fn.__doc__ or ""),
        "file": file,
        "metadata": metadata,
        "scopes": _str_list(scopes, file, "scopes"),
        "version": version,
    }


def sync(*, models: list[type[BaseModel]], frequency: str = DEFAULT_FREQUENCY,
         checkpoint: type[BaseModel] | None = None, metadata: type[BaseModel] | None = None,
         auto_start: bool = True, scopes: list[str] | None = None, version: str | None = None,
         description: str | None = None, webhook_subscriptions: list[str] | None = None,
         name: str | None = None) -> Callable[[Callable[..., Awaitable[Any]]], SyncDefinition]:
    """Declare a sync: `async def fn(nango: SyncContext) -> None` that pages through an API and saves records."""

    def wrap(fn: Callable[..., Awaitable[Any]]) -> SyncDefinition:
        file = _source_of(fn)
        _check_async(fn, "sync")
        if not isinstance(models, (list, tuple)) or not models:
            raise DefinitionError("needs at least one model, e.g. models=[Issue]", file=file, field="models")
        by_name: dict[str, type[BaseModel]] = {}
        for i, model in enumerate(models):
            _check_record_model(model, file, f"models[{i}]")
            if model.__name__ in by_name:
                raise DefinitionError(f"model {model.__name__} is listed twice", file=file, field="models")
            by_name[model.__name__] = model
        if not isinstance(frequency, str):
            raise DefinitionError(f"must be a string such as 'every hour', got {frequency!r}", file=file,
                                  field="frequency")
        try:
            seconds = parse_frequency(frequency)
        except ValueError:
            raise DefinitionError(f"cannot read {frequency!r}", file=file, field="frequency",
                                  hint="write e.g. 'every hour', 'every 5 minutes', '1h' or '30m'") from None
        if seconds < MIN_FREQUENCY_S or seconds > MAX_FREQUENCY_S:
            raise DefinitionError(f"{frequency!r} is out of range", file=file, field="frequency",
                                  hint="a sync runs at most every 30 seconds and at least every 31 days")
        if checkpoint is not None:
            if not _is_model(checkpoint):
                raise DefinitionError(f"must be a pydantic model, got {checkpoint!r}", file=file,
                                      field="checkpoint")
            for fname, finfo in checkpoint.model_fields.items():
                if not _is_flat(finfo.annotation):
                    raise DefinitionError(f"field {fname!r} of {checkpoint.__name__} is not a scalar", file=file,
                                          field="checkpoint",
                                          hint="a checkpoint holds only str, int, float, bool or datetime values")
        if not isinstance(auto_start, bool):
            raise DefinitionError(f"must be True or False, got {auto_start!r}", file=file, field="auto_start")
        return SyncDefinition(
            type="sync", models=by_name, frequency=frequency, frequency_seconds=seconds, checkpoint=checkpoint,
            auto_start=auto_start, webhook_subscriptions=_str_list(webhook_subscriptions, file,
                                                                   "webhook_subscriptions"),
            **_common(fn, name, description, metadata, scopes, version, file),
        )

    return wrap


def action(*, input: Any = None, output: Any = None, metadata: type[BaseModel] | None = None,
           scopes: list[str] | None = None, version: str | None = None, description: str | None = None,
           name: str | None = None) -> Callable[[Callable[..., Awaitable[Any]]], ActionDefinition]:
    """Declare an action: `async def fn(nango: ActionContext, input: In) -> Out`, one operation on demand."""

    def wrap(fn: Callable[..., Awaitable[Any]]) -> ActionDefinition:
        file = _source_of(fn)
        _check_async(fn, "action")
        if input is not None and not _is_model(input):
            raise DefinitionError(f"must be a pydantic model or None, got {input!r}", file=file, field="input")
        return ActionDefinition(type="action", input=input, output=output,
                                **_common(fn, name, description, metadata, scopes, version, file))

    return wrap


def on_event(event: str, *, description: str | None = None,
             name: str | None = None) -> Callable[[Callable[..., Awaitable[Any]]], EventDefinition]:
    """Declare an event function run when a connection is created, validated or about to be deleted."""

    def wrap(fn: Callable[..., Awaitable[Any]]) -> EventDefinition:
        file = _source_of(fn)
        _check_async(fn, "event function")
        if event not in EVENTS:
            raise DefinitionError(f"unknown event {event!r}", file=file, field="event",
                                  hint="use one of " + ", ".join(EVENTS))
        return EventDefinition(type="on-event", event=event,
                               **_common(fn, name, description, None, None, None, file))

    return wrap


class ActionError(Exception):
    """Raise inside an action to end it with an expected, typed failure carrying `payload`."""

    def __init__(self, payload: Any = None) -> None:
        self.payload = payload
        super().__init__(payload if isinstance(payload, str) else repr(payload))
