"""A tool an agent can call, independent of any protocol SDK: name, description, JSON Schemas, a handler.

Handlers take the call's arguments (a dict) and return an `Answer`: the JSON document the CLI's `--json`
would print, and whether the CLI would have exited non-zero (then it is a tool error). `call_safely` is the
one place that turns exceptions into answers: a `HarnessError` is a tool error carrying its message and
exit code, anything else an internal error; nothing escapes to the server.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import HarnessError

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Answer:
    data: Any
    is_error: bool = False
    # What the model reads; None means the data as indented JSON.
    text: str | None = None


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    handler: Callable[[dict[str, Any]], Answer]


class InvalidArguments(Exception):
    """A call whose arguments do not fit the tool's input schema; carries every problem."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        self.problems = problems
        super().__init__("; ".join(p["message"] if not p.get("path") else f"{p['path']}: {p['message']}"
                                   for p in problems))


def error_answer(type_: str, message: str, **extra: Any) -> Answer:
    body: dict[str, Any] = {"type": type_, "message": message, **extra}
    lines = [message]
    for problem in extra.get("issues") or []:
        where = problem.get("path") or problem.get("field")
        lines.append(f"  - {where}: {problem['message']}" if where else f"  - {problem['message']}")
    return Answer({"error": body}, is_error=True, text="\n".join(lines) if len(lines) > 1 else None)


def parse_arguments(model: type[M], arguments: dict[str, Any]) -> M:
    """The arguments as `model`, validated as JSON carries them; InvalidArguments lists every problem."""
    try:
        return model.model_validate(arguments)
    except ValidationError as exc:
        raise InvalidArguments([{"path": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                                for e in exc.errors(include_url=False)]) from None


def call_safely(spec: ToolSpec, arguments: dict[str, Any]) -> Answer:
    try:
        return spec.handler(arguments)
    except InvalidArguments as exc:
        return error_answer("invalid_arguments", f"{len(exc.problems)} problem(s) in the arguments of {spec.name}",
                            issues=exc.problems)
    except HarnessError as exc:
        return error_answer(_error_type(exc), str(exc), exit_code=exc.exit_code)
    except Exception as exc:
        # A bug (in harness or in the user's code outside a run): the agent gets it as a tool error.
        return error_answer("internal_error", f"{type(exc).__name__}: {exc}",
                            traceback=traceback.format_exception(exc)[-3:])


def _error_type(exc: HarnessError) -> str:
    """`NotFoundError` -> `not_found`, `CassetteError` -> `cassette` ..."""
    name = type(exc).__name__.removesuffix("Error") or "harness"
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))
