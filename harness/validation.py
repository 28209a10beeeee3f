"""Checks of records, inputs, outputs, checkpoints and metadata against their pydantic models.

Strict (the default) means: values are checked as JSON would carry them (pydantic's strict JSON mode, so
`"1"` is not an int), and keys the model does not declare are errors at every depth (a nested model's too),
as Nango's zod objects reject them, unless the model says `extra="allow"`. Lenient runs report the same
findings as warnings and keep the data. Every invalid record of a batch is reported, not just the first.
"""

from __future__ import annotations

import functools
import operator
from typing import Any

import pydantic_core
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from .result import Issue, Severity

MAX_CHECKPOINT_KEYS = 16
MAX_CHECKPOINT_STRING = 4000


@functools.cache
def _strict_model(model: type[BaseModel]) -> type[BaseModel]:
    """The model with unknown keys forbidden (unless it allows extras itself)."""
    if model.model_config.get("extra") in ("allow", "forbid"):
        return model
    config = {**model.model_config, "extra": "forbid"}
    return type(model.__name__, (model,), {"model_config": config, "__module__": model.__module__})


@functools.cache
def _list_adapter(model: type[BaseModel], strict: bool) -> TypeAdapter[Any]:
    item: Any = _strict_model(model) if strict else model
    return TypeAdapter(list[item])


@functools.cache
def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


_SHELLS = ("model", "dataclass")
_FIELDS = ("model-fields", "typed-dict", "dataclass-args")
# Validators that see the input before it is validated may reshape it (drop a legacy key, say): the object
# they wrap keeps its undeclared keys allowed here, and pydantic's own validation decides about them.
_BEFORE = ("function-before", "function-wrap")


def _bare(node: Any, allow: bool, shells: list[int]) -> Any:
    """A copy of a core schema that checks only the shape: every object (at any depth) forbids keys it does not
    declare unless its model allows extras; model classes, validators and serializers are left out.

    Models are unwrapped to their fields because pydantic-core reuses a model class's own prebuilt validator
    (which ignores extras) whenever a schema names the class.
    """
    if isinstance(node, list):
        return [_bare(n, False, shells) for n in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    out: Any
    if kind in _SHELLS:
        shells.append(1)
        allows = allow or (node.get("config") or {}).get("extra_fields_behavior") == "allow"
        out = _bare(node["schema"], allows, shells)
    elif kind in _BEFORE:
        out = _bare(node["schema"], True, shells)
    elif kind == "function-after":
        out = _bare(node["schema"], allow, shells)
    elif kind == "function-plain":
        out = {"type": "any"}
    else:
        out = {k: _bare(v, False, shells) for k, v in node.items() if k not in ("metadata", "serialization")}
        if kind in _FIELDS and not allow and node.get("extra_behavior") != "allow":
            out["extra_behavior"] = "forbid"
        return out
    if "ref" in node and isinstance(out, dict):
        out = {**out, "ref": node["ref"]}  # `definition-ref`s elsewhere point at it
    return out


@functools.cache
def _shape_validator(tp: Any) -> pydantic_core.SchemaValidator | None:
    """Finds undeclared keys below the top level (the strict model forbids them at the top); None when the type
    holds no nested object, so flat records cost nothing more."""
    shells: list[int] = []
    schema = _bare(TypeAdapter(tp).core_schema, False, shells)
    return pydantic_core.SchemaValidator(schema) if len(shells) > 1 else None


def _nested_extras(tp: Any, payload: bytes, strict: bool, top: int) -> list[ErrorDetails]:
    """`extra_forbidden` errors deeper than `top` (the strict model's own validation owns the top level)."""
    validator = _shape_validator(tp)
    if validator is None:
        return []
    try:
        validator.validate_json(payload, strict=strict)
    except ValidationError as exc:
        return [e for e in exc.errors(include_url=False) if e["type"] == "extra_forbidden" and len(e["loc"]) > top]
    return []


def _merge(first: list[ErrorDetails], extras: list[ErrorDetails]) -> list[ErrorDetails]:
    seen = {tuple(e["loc"]) for e in first}
    return [*first, *(e for e in extras if tuple(e["loc"]) not in seen)]


def _path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "<root>"


def dump_model(value: BaseModel) -> dict[str, Any]:
    """A model instance as stored: JSON dump by alias, without the fields that were never set."""
    dumped: dict[str, Any] = value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return dumped


def _dump_batch(records: list[Any] | tuple[Any, ...], model: type[BaseModel]) -> list[dict[str, Any]] | None:
    """A batch of `model` instances dumped as `dump_model` would, in one call, or None for any other batch
    (a subclass instance dumps its own fields, a list adapter would dump the declared ones)."""
    if not records or not all(type(rec) is model for rec in records):
        return None
    dumped: list[dict[str, Any]] = _adapter(list[model]).dump_python(  # type: ignore[valid-type]
        list(records), mode="json", by_alias=True, exclude_unset=True)
    return dumped


def to_jsonable(value: Any) -> Any:
    """Plain JSON data for any value a function hands us (models dumped by alias, unset fields left out)."""
    if isinstance(value, BaseModel):
        return dump_model(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return pydantic_core.to_jsonable_python(value)


def _trusts_instances(model: type[BaseModel]) -> bool:
    return model.model_config.get("revalidate_instances", "never") == "never"


def _good_ids(rows: list[dict[str, Any]]) -> bool:
    """Every row has a string id of 1 to 255 characters and no id comes twice (checked at C speed)."""
    try:
        ids = list(map(operator.itemgetter("id"), rows))
    except KeyError:
        return False
    return (set(map(type, ids)) == {str} and min(map(len, ids)) > 0 and max(map(len, ids)) <= 255
            and len(set(ids)) == len(ids))


def prepare_records(records: Any, model: type[BaseModel], model_name: str, *, strict: bool,
                    kind: str = "record") -> tuple[list[dict[str, Any]], list[Issue]]:
    """Normalize ids and validate a batch; returns the valid records (first of each id) and the findings.

    In lenient mode invalid records are kept and their findings are warnings.
    """
    severity: Severity = "error" if strict else "warning"
    issues: list[Issue] = []
    if not isinstance(records, (list, tuple)):
        issues.append(Issue(kind, f"expected a list of records, got {type(records).__name__}", model=model_name))
        return [], issues
    rows: list[dict[str, Any]] = []
    bad: set[int] = set()
    append = rows.append
    dumped = _dump_batch(records, model)
    if dumped is not None and _trusts_instances(model) and _good_ids(dumped):
        return dumped, issues  # instances of the model, each with its own good string id: nothing to fix
    for i, rec in enumerate(records):
        if type(rec) is dict and "_nango_metadata" not in rec:
            rid = rec.get("id")
            if type(rid) is str and 0 < len(rid) <= 255:
                append(rec.copy())  # the common case, kept cheap: a plain dict with a good string id
                continue
        if isinstance(rec, BaseModel):
            row = dumped[i] if dumped is not None else dump_model(rec)
        elif isinstance(rec, dict):
            row = dict(rec)
            # Nango strips its own bookkeeping key before storing; so do we.
            row.pop("_nango_metadata", None)
        else:
            issues.append(Issue(kind, f"a record must be a dict or a {model_name} instance, "
                                f"got {type(rec).__name__}", model=model_name, index=i))
            bad.add(i)
            rows.append({})
            continue
        rid = row.get("id")
        if isinstance(rid, int) and not isinstance(rid, bool):
            row["id"] = rid = str(rid)
        if rid is None or rid == "":
            issues.append(Issue(kind, "record has no id (every record needs a non-empty string `id`)",
                                model=model_name, index=i, path="id"))
            bad.add(i)
        elif not isinstance(rid, str):
            issues.append(Issue(kind, f"id must be a string, got {type(rid).__name__} {rid!r}",
                                model=model_name, index=i, path="id"))
            bad.add(i)
        elif len(rid) > 255:
            issues.append(Issue(kind, "id is longer than 255 characters", model=model_name, index=i, path="id",
                                record_id=rid[:40]))
            bad.add(i)
        rows.append(row)
    # Instances of the model itself were validated when they were built: pydantic does not validate them
    # again (`revalidate_instances="never"`, its default), and neither does this. A model that sets "always"
    # has each instance's JSON dump checked below, which also catches `model_construct()` and assignments
    # made without `validate_assignment`.
    if (dumped is not None and not bad and _trusts_instances(model)
            and len({row["id"] for row in rows}) == len(rows)):
        return rows, issues
    try:
        payload = pydantic_core.to_json(rows)
    except pydantic_core.PydanticSerializationError as exc:
        issues.append(Issue(kind, f"records are not JSON-serializable: {exc}", model=model_name))
        return [], issues
    found: list[ErrorDetails] = []
    try:
        _list_adapter(model, strict).validate_json(payload, strict=strict)
    except ValidationError as exc:
        found = exc.errors(include_url=False)
    if strict:
        found = _merge(found, _nested_extras(list.__class_getitem__(model), payload, strict, top=2))
    if found:
        for err in found:
            loc = err["loc"]
            index = loc[0] if loc and isinstance(loc[0], int) else None
            if index is not None and index in bad and loc[1:2] == ("id",):
                continue  # already reported with a clearer message
            rid = rows[index].get("id") if index is not None else None
            issues.append(Issue(kind, err["msg"], model=model_name, index=index,
                                record_id=rid if isinstance(rid, str) and rid else None,
                                path=_path(loc[1:]), severity=severity))
            if index is not None:
                bad.add(index)
    if not bad and len({row["id"] for row in rows}) == len(rows):
        return rows, issues  # the common case: every record valid, no duplicate
    kept: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if i in bad and (strict or not isinstance(row.get("id"), str) or not row.get("id")):
            continue
        rid = row["id"]
        if rid in seen:
            issues.append(Issue("duplicate", "duplicate id in one batch: the first occurrence is kept",
                                model=model_name, record_id=rid, index=i, severity="warning"))
            continue
        seen.add(rid)
        kept.append(row)
    return kept, issues


def check_value(value: Any, tp: Any, kind: str, *, strict: bool, name: str | None = None,
                forbid_extra: bool = True) -> tuple[Any, list[Issue]]:
    """Validate an input, output or metadata value; returns (the JSON form as emitted, findings).

    Connection metadata is shared by every function of a connection, so it is checked with
    `forbid_extra=False`: a function's model declares what it needs, not all there is.
    """
    severity: Severity = "error" if strict else "warning"
    data = to_jsonable(value)
    if tp is None:
        return data, []
    is_model = isinstance(tp, type) and issubclass(tp, BaseModel)
    target = _strict_model(tp) if strict and forbid_extra and is_model else tp
    payload = pydantic_core.to_json(data)
    found: list[ErrorDetails] = []
    try:
        _adapter(target).validate_json(payload, strict=strict)
    except ValidationError as exc:
        found = exc.errors(include_url=False)
    if strict and forbid_extra:
        found = _merge(found, _nested_extras(tp, payload, strict, top=1 if is_model else 0))
    label = name or getattr(tp, "__name__", str(tp))
    return data, [Issue(kind, e["msg"], model=label, path=_path(e["loc"]), severity=severity) for e in found]


def parse_value(data: Any, tp: Any) -> Any:
    """The declared type's instance for JSON data already checked (what the function receives)."""
    if tp is None:
        return data
    return _adapter(tp).validate_python(data)


def check_checkpoint(value: Any, model: type[BaseModel] | None, *, strict: bool) -> tuple[Any, list[Issue]]:
    """A checkpoint is a flat map of scalars (Nango: at most 16 keys, strings up to 4000 characters)."""
    data, issues = check_value(value, model, "checkpoint", strict=strict)
    severity: Severity = "error" if strict else "warning"
    if not isinstance(data, dict):
        return data, [*issues, Issue("checkpoint", f"must be an object, got {type(data).__name__}",
                                     severity=severity)]
    if len(data) > MAX_CHECKPOINT_KEYS:
        issues.append(Issue("checkpoint", f"has {len(data)} keys; at most {MAX_CHECKPOINT_KEYS} are allowed",
                            severity=severity))
    for key, val in data.items():
        if isinstance(val, (dict, list)):
            issues.append(Issue("checkpoint", "values must be strings, numbers or booleans", path=key,
                                severity=severity))
        elif isinstance(val, str) and len(val) > MAX_CHECKPOINT_STRING:
            issues.append(Issue("checkpoint", f"string longer than {MAX_CHECKPOINT_STRING} characters",
                                path=key, severity=severity))
    return data, issues
