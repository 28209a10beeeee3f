"""Action fuzzing: hypothesis generates inputs from the action's input model (through its JSON Schema).

An action passes when, for every generated input, it returns a valid output or raises `ActionError`.
Anything else is a crash: another exception (`script_internal_error`), an output that fails its model, or a
harness/SDK misuse. A provider error the action lets through (`script_http_error`) is counted but not a
crash: Nango surfaces it as a normal failed action. The shrunk failing input is reported ready to paste into
`harness dryrun ... --input`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from .result import RunResult

if TYPE_CHECKING:
    from .pipeline import RunRequest

ACCEPTED = {None, "action_script_runtime_error", "script_http_error"}


@dataclass
class FuzzReport:
    function: str
    examples: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    failing_input: Any = None
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    def dryrun_command(self, connection: str) -> str | None:
        if self.failing_input is None:
            return None
        text = json.dumps(self.failing_input, ensure_ascii=False).replace("'", "'\\''")
        return f"harness dryrun {self.function} {connection} --input '{text}'"

    def to_json(self, connection: str) -> dict[str, Any]:
        return {"function": self.function, "ok": self.ok, "examples": self.examples,
                "outcomes": dict(sorted(self.outcomes.items())), "failing_input": self.failing_input,
                "failure": self.failure, "reproduce": self.dryrun_command(connection)}


class _Crash(Exception):
    def __init__(self, value: Any, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(reason)


def _reason(result: RunResult) -> str | None:
    if result.error is not None and result.error.type not in ACCEPTED:
        return f"{result.error.type}: {result.error.message}"
    if result.error is None and result.errors:
        return "; ".join(str(i) for i in result.errors)
    return None


def schema_strategy(schema: dict[str, Any]) -> Any:
    """A hypothesis strategy for the JSON Schema pydantic writes for a model.

    hypothesis-jsonschema would be the library for this, but its 0.23 release fails on current hypothesis
    (`'many' object has no attribute 'more'`), so this covers the subset pydantic emits: objects, arrays,
    scalars with bounds, lengths and patterns, enums and consts, anyOf/oneOf/allOf, nullable and `$ref`s.
    """
    from hypothesis import strategies as st

    defs: dict[str, Any] = schema.get("$defs", {})

    def build(node: dict[str, Any]) -> st.SearchStrategy[Any]:
        if "$ref" in node:
            return st.deferred(lambda: build(defs[node["$ref"].rsplit("/", 1)[-1]]))
        if "const" in node:
            return st.just(node["const"])
        if "enum" in node:
            return st.sampled_from(node["enum"])
        for key in ("anyOf", "oneOf"):
            if key in node:
                return st.one_of([build(n) for n in node[key]])
        if "allOf" in node and len(node["allOf"]) == 1:
            return build(node["allOf"][0])
        kind = node.get("type")
        if isinstance(kind, list):
            return st.one_of([build({**node, "type": k}) for k in kind])
        if kind == "null":
            return st.none()
        if kind == "boolean":
            return st.booleans()
        if kind == "integer":
            low = node.get("minimum", node["exclusiveMinimum"] + 1 if "exclusiveMinimum" in node else None)
            high = node.get("maximum", node["exclusiveMaximum"] - 1 if "exclusiveMaximum" in node else None)
            return st.integers(min_value=low, max_value=high)
        if kind == "number":
            return st.floats(min_value=node.get("minimum", node.get("exclusiveMinimum")),
                             max_value=node.get("maximum", node.get("exclusiveMaximum")),
                             exclude_min="exclusiveMinimum" in node, exclude_max="exclusiveMaximum" in node,
                             allow_nan=False, allow_infinity=False)
        if kind == "string":
            if "pattern" in node:
                return st.from_regex(node["pattern"], fullmatch=True)
            if node.get("format") == "date-time":
                return st.datetimes().map(lambda d: d.isoformat() + "Z")
            return st.text(min_size=node.get("minLength", 0), max_size=node.get("maxLength", 40))
        if kind == "array":
            return st.lists(build(node.get("items", {})), min_size=node.get("minItems", 0),
                            max_size=node.get("maxItems", 5))
        if kind == "object" or "properties" in node:
            props: dict[str, Any] = node.get("properties", {})
            required = set(node.get("required", []))
            return st.fixed_dictionaries({k: build(v) for k, v in props.items() if k in required},
                                         optional={k: build(v) for k, v in props.items() if k not in required})
        # No type: any JSON value.
        return st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                            lambda inner: st.lists(inner, max_size=3)
                            | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=5)

    return build(schema)


def fuzz_action(name: str, input_model: type[BaseModel] | None, run: Callable[[Any], RunResult], *,
                examples: int = 100, seed: int | None = 0) -> FuzzReport:
    from .extras import require

    require("hypothesis", "fuzz", "fuzzing")
    from hypothesis import HealthCheck, assume, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st

    report = FuzzReport(name)
    strategy: st.SearchStrategy[Any] = (schema_strategy(input_model.model_json_schema())
                                        if input_model is not None else st.none())

    @settings(max_examples=examples, deadline=None, database=None, derandomize=seed is None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def prop(value: Any) -> None:
        if input_model is not None:
            try:
                input_model.model_validate(value)
            except ValidationError:
                assume(False)  # a schema corner the model itself rejects: not the action's problem
        result = run(value)
        report.examples += 1
        report.outcomes[result.error.type if result.error else "ok"] += 1
        reason = _reason(result)
        if reason is not None:
            raise _Crash(value, reason)

    test = hseed(seed)(prop) if seed is not None else prop
    try:
        test()
    except _Crash as crash:
        report.failing_input, report.failure = crash.value, crash.reason
    return report


def fuzz_request(req: RunRequest, *, examples: int = 100, seed: int | None = 0) -> FuzzReport:
    """`fuzz_action` on the action `req` names: each input runs as `req` with that input.

    Without an explicit mode the requests are answered loosely from the scenario's recording (the closest
    recorded request), so inputs nobody recorded still get plausible answers.
    """
    from dataclasses import replace

    from .definitions import ActionDefinition
    from .errors import UsageError
    from .pipeline import LOOSE, execute, prepare

    if req.mode is None:
        req = replace(req, mode=LOOSE)
    prepared = prepare(req)
    definition = prepared.definition
    if not isinstance(definition, ActionDefinition):
        raise UsageError(f"{definition.qualified_name} is a {definition.type}; `harness fuzz` fuzzes actions")
    if prepared.mode == LOOSE and not prepared.cassette_path.is_file():
        raise UsageError(f"no recording at {prepared.project.relative(prepared.cassette_path)} to answer the "
                         "fuzzed requests", hint="record one with `harness dryrun --record`, or pass --live")
    return fuzz_action(definition.qualified_name, definition.input,
                       lambda value: execute(replace(req, input=value), prepared).result,
                       examples=examples, seed=seed)
