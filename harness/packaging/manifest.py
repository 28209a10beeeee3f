"""`harness compile`: the manifest of a project's functions, and the checks a deployable tree must pass.

The manifest (`.harness/manifest.json`) says, per integration, which syncs, actions, event functions and
webhook subscriptions it has and, per function, everything a runtime needs to schedule and validate it:
type, frequency, models with JSON Schema (draft 2020-12 from pydantic, plus a draft-07 copy with
`definitions` for Nango-shaped consumers), input/output/metadata/checkpoint schemas, scopes, version,
auto_start, its files and a content hash. The pydantic models below are the manifest's contract; their JSON
Schema ships as `manifest.schema.json`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from .. import __version__
from ..definitions import ActionDefinition, Definition, EventDefinition, SyncDefinition
from ..errors import ConfigError, HarnessError
from ..loader import Catalog, LoadProblem, load_catalog
from ..project import Project
from . import sources

MANIFEST_FORMAT: Literal[1] = 1
_MODEL_NAME = re.compile(r"^[A-Z][a-zA-Z0-9_]+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Schema(_Strict):
    """One model's JSON Schema, in both drafts."""

    name: str | None = Field(description="The model's class name (None for a plain type such as list[str]).")
    json_schema: dict[str, Any] = Field(description="JSON Schema draft 2020-12, as pydantic writes it.")
    json_schema_draft7: dict[str, Any] = Field(description="The same schema in draft-07 (`definitions`).")


class FunctionEntry(_Strict):
    name: str
    integration: str
    type: Literal["sync", "action", "on-event"]
    description: str
    file: str = Field(description="The function's file, relative to the project root (POSIX).")
    helpers: list[str] = Field(description="Local modules the file imports relatively (transitively).")
    content_hash: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    version: str | None = Field(description="The declared version; deploy assigns one when unset.")
    scopes: list[str]
    metadata: Schema | None = None
    # syncs
    frequency: str | None = None
    frequency_seconds: float | None = None
    auto_start: bool | None = None
    models: dict[str, Schema] = Field(default_factory=dict)
    checkpoint: Schema | None = None
    webhook_subscriptions: list[str] = Field(default_factory=list)
    webhook_handler: bool = False
    # actions
    input: Schema | None = None
    output: Schema | None = None
    # event functions
    event: str | None = None


class IntegrationEntry(_Strict):
    syncs: list[str]
    actions: list[str]
    on_events: dict[str, list[str]]
    webhook_subscriptions: list[str]
    functions: dict[str, FunctionEntry]


class Manifest(_Strict):
    format: Literal[1]
    harness_version: str
    integrations: dict[str, IntegrationEntry]
    warnings: list[str]

    def functions(self) -> list[FunctionEntry]:
        return [f for i in self.integrations.values() for f in i.functions.values()]


class CompileError(HarnessError):
    """The tree has definitions that cannot be deployed; `problems` lists every one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more problem(s) above)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more)


def manifest_json_schema() -> dict[str, Any]:
    schema = Manifest.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://harness.dev/schemas/manifest-1.json"
    return schema


# Keywords whose value is a map of names to schemas: the names are the user's (a property may well be called
# `prefixItems` or `$ref`), only the values are schemas.
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
# Keywords whose value is one schema, or a list of schemas.
_SCHEMA_ONE = ("items", "additionalProperties", "additionalItems", "not", "if", "then", "else", "contains",
               "propertyNames", "unevaluatedItems", "unevaluatedProperties")
_SCHEMA_LIST = ("prefixItems", "allOf", "anyOf", "oneOf")


def to_draft7(schema: dict[str, Any]) -> dict[str, Any]:
    """A draft-07 copy of a pydantic (2020-12) schema: `$defs` -> `definitions`, `prefixItems` -> `items`.

    The walk follows the keywords, so a property *named* like a keyword is kept as it is, and data keywords
    (`default`, `enum`, `const`, `examples`) are copied untouched.
    """

    def walk(node: Any) -> Any:
        if isinstance(node, bool) or not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                out["definitions" if key == "$defs" else key] = {name: walk(sub) for name, sub in value.items()}
            elif key == "$ref" and isinstance(value, str):
                out["$ref"] = value.replace("#/$defs/", "#/definitions/")
            elif key == "prefixItems" and isinstance(value, list):
                out["items"] = [walk(n) for n in value]
                if node.get("items") is False:
                    out["additionalItems"] = False
            elif key == "items" and "prefixItems" in node:
                if value is not False:
                    out["additionalItems"] = walk(value)
            elif key in _SCHEMA_ONE:
                out[key] = [walk(n) for n in value] if isinstance(value, list) else walk(value)
            elif key in _SCHEMA_LIST and isinstance(value, list):
                out[key] = [walk(n) for n in value]
            else:
                out[key] = copy.deepcopy(value)
        return out

    converted = walk(schema)
    converted["$schema"] = "http://json-schema.org/draft-07/schema#"
    return dict(converted)


def schema_of(tp: Any) -> Schema | None:
    if tp is None:
        return None
    main = TypeAdapter(tp).json_schema()
    main = {"$schema": "https://json-schema.org/draft/2020-12/schema", **main}
    name = tp.__name__ if isinstance(tp, type) else None
    return Schema(name=name, json_schema=main, json_schema_draft7=to_draft7(main))


def _posix(project: Project, path: Path) -> str:
    return Path(project.relative(path)).as_posix()


def _hash(project: Project, files: list[Path], entry: dict[str, Any]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(_posix(project, path).encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(json.dumps(entry, sort_keys=True, separators=(",", ":")).encode())
    return "sha256:" + digest.hexdigest()


def _required_fields(model: Any) -> list[str]:
    return [n for n, f in model.model_fields.items() if f.is_required()]


def _entry(project: Project, d: Definition, problems: list[str], warnings: list[str]) -> FunctionEntry:
    file = Path(d.file)
    where = _posix(project, file)
    # Helpers anywhere under functions/ (the static checks saw the same set before anything was imported).
    helpers = sources.local_modules(file, project.functions_dir)
    base: dict[str, Any] = {
        "name": d.name, "integration": d.integration, "type": d.type, "description": d.description,
        "file": where, "helpers": [_posix(project, h) for h in helpers], "version": d.version,
        "scopes": d.scopes, "metadata": schema_of(d.metadata),
    }
    if not isinstance(d, EventDefinition):
        # Nango's rule, checked here statically: reading metadata needs a declared metadata model.
        for path in (file, *helpers):
            line = sources.reads_metadata(sources.parse(path))
            if line is not None and d.metadata is None:
                problems.append(f"{_posix(project, path)}:{line}: {d.qualified_name} reads connection metadata "
                                "(get_metadata) but declares no metadata model (pass metadata=YourModel)")
                break
    if isinstance(d, SyncDefinition):
        base.update(frequency=d.frequency, frequency_seconds=d.frequency_seconds, auto_start=d.auto_start,
                    models={n: schema_of(m) for n, m in d.models.items()}, checkpoint=schema_of(d.checkpoint),
                    webhook_subscriptions=d.webhook_subscriptions, webhook_handler=d.webhook is not None)
        if d.auto_start and d.metadata is not None and _required_fields(d.metadata):
            warnings.append(f"{where}: {d.qualified_name} starts automatically (auto_start) but needs metadata "
                            f"({', '.join(_required_fields(d.metadata))} required): its first runs fail until "
                            "the metadata is set; pass auto_start=False or give the fields defaults")
    elif isinstance(d, ActionDefinition):
        base.update(input=schema_of(d.input), output=schema_of(d.output))
    elif isinstance(d, EventDefinition):
        base.update(event=d.event)
    entry = FunctionEntry(content_hash="sha256:" + "0" * 64, **base)
    fingerprint = entry.model_dump(mode="json", exclude={"content_hash"})
    entry.content_hash = _hash(project, [file, *helpers], fingerprint)
    return entry


def _check_models(integration: str, entries: list[FunctionEntry], problems: list[str],
                  warnings: list[str]) -> None:
    """Record models belong to one sync; a model name means one schema within an integration."""
    owner: dict[str, str] = {}
    schemas: dict[str, tuple[str, dict[str, Any]]] = {}
    for e in entries:
        for name in e.models:
            if name in owner:
                problems.append(f"{e.file}: model {name!r} of {integration}/{e.name} is already the model of "
                                f"{integration}/{owner[name]} (a model name may belong to one sync per integration; "
                                "rename one of them)")
            owner.setdefault(name, e.name)
            if not _MODEL_NAME.match(name):
                warnings.append(f"{e.file}: model name {name!r} does not match ^[A-Z][a-zA-Z0-9_]+$ (Nango's rule)")
        named = [*e.models.values(), e.input, e.output, e.metadata, e.checkpoint]
        for schema in named:
            if schema is None or schema.name is None:
                continue
            seen = schemas.get(schema.name)
            if seen is not None and seen[1] != schema.json_schema:
                problems.append(f"{e.file}: two different models are called {schema.name!r} in integration "
                                f"{integration!r} (also in {seen[0]}); model names must be unique per integration")
            schemas.setdefault(schema.name, (e.file, schema.json_schema))


def compile_project(project: Project, catalog: Catalog | None = None) -> Manifest:
    """Check statically, load every function, check the definitions, return the manifest.

    The static checks come first so that a module with import-time side effects is refused before it runs.
    Raises StaticCheckError or CompileError (each lists every problem found).
    """
    from ..snapshots.document import SnapshotSettings
    from .static_checks import require_clean

    require_clean(project)
    # The snapshot settings too: read only when a scenario is judged, a wrong one passed compile and then
    # failed every test (`harness test` reports it through pytest).
    try:
        SnapshotSettings.from_table(project.settings.get("snapshot"))
    except ConfigError as exc:
        raise ConfigError(f"{project.relative(project.root / 'pyproject.toml')}: {exc.message}",
                          hint=exc.hint) from None
    catalog = catalog or load_catalog(project.functions_dir)
    problems = [str(LoadProblem(project.relative(Path(p.file)), p.line, p.message)) for p in catalog.problems]
    warnings: list[str] = []
    by_integration: dict[str, list[FunctionEntry]] = {}
    for d in sorted(catalog.definitions, key=lambda d: (d.integration, d.type, d.name)):
        by_integration.setdefault(d.integration, []).append(_entry(project, d, problems, warnings))
    integrations: dict[str, IntegrationEntry] = {}
    for name, entries in sorted(by_integration.items()):
        _check_models(name, entries, problems, warnings)
        events: dict[str, list[str]] = {}
        for e in entries:
            if e.event:
                events.setdefault(e.event, []).append(e.name)
        integrations[name] = IntegrationEntry(
            syncs=[e.name for e in entries if e.type == "sync"],
            actions=[e.name for e in entries if e.type == "action"],
            on_events=events,
            webhook_subscriptions=sorted({w for e in entries for w in e.webhook_subscriptions}),
            functions={e.name: e for e in entries},
        )
    if problems:
        raise CompileError(problems)
    return Manifest(format=MANIFEST_FORMAT, harness_version=__version__, integrations=integrations,
                    warnings=warnings)


def manifest_text(manifest: Manifest) -> str:
    return json.dumps(manifest.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


def write_manifest(project: Project, manifest: Manifest) -> Path:
    from ..atomic import write_atomic

    path = project.state_dir / "manifest.json"
    write_atomic(path, manifest_text(manifest))
    return path


if __name__ == "__main__":  # `python -m harness.packaging.manifest` regenerates the shipped schema
    out = Path(__file__).with_name("manifest.schema.json")
    out.write_text(json.dumps(manifest_json_schema(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
