"""Tools for a coding agent working on a project (`harness mcp --dev`).

`list_functions`, `dryrun`, `record`, `run_tests`, `explain_replay_miss`, `compile` and `docs`. Each answers
the JSON document the matching CLI command prints with `--json` (`harness list`, `harness dryrun`,
`harness compile`, `harness docs`); `run_tests` and `explain_replay_miss` have no CLI twin and answer
their own documents (described on the tool). A tool result is an error exactly when the CLI would exit
non-zero. Writes to the provider stay behind `allow_writes`, as behind `--allow-writes`: a live or
recording run refuses any non-GET request without it, before sending anything.

Every call sees the files as they are now: the function modules the previous call imported are dropped
first, so an agent's edit is picked up by its next call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..loader import forget_function_modules
from ..project import Project
from .tools import object_schema
from .toolspec import Answer, ToolSpec, error_answer, parse_arguments


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListFunctionsArgs(_Args):
    pass


class _RunArgs(_Args):
    function: str = Field(description="The function: its name, or integration/name.")
    connection: str | None = Field(None, description="Connection id (default: the one the scenario's cassette "
                                                     "was recorded with).")
    integration: str | None = Field(None, description="The integration, when several have a function of this name.")
    scenario: str = Field("default", description="Which recording: cassettes/<integration>/<function>/<scenario>.yaml.")
    input: Any = Field(None, description="The action's input (default: the cassette's).")
    metadata: Any = Field(None, description="Connection metadata for this run (default: the cassette's or the "
                                            "connection's).")
    checkpoint: Any = Field(None, description="The sync's starting checkpoint.")
    payload: Any = Field(None, description="A webhook payload: runs the sync's webhook handler.")
    run: int = Field(1, ge=1, description="Run N of a multi-run scenario (runs 1..N-1 are replayed first).")
    allow_writes: bool = Field(False, description="Let a live or recording run send non-GET requests "
                                                  "(--allow-writes).")
    lenient: bool = Field(False, description="Report invalid data as warnings (--lenient).")
    max_pages: int | None = Field(None, ge=1, description="Stop paginating after N pages (live runs).")
    max_records: int | None = Field(None, ge=1, description="Stop after N saved records (live runs).")


class DryrunArgs(_RunArgs):
    mode: Literal["replay", "live", "record"] | None = Field(
        None, description="replay (from the cassette), live (call the provider), record (call and save the "
                          "cassette). Default: replay when the cassette exists, else live.")


class RecordArgs(_RunArgs):
    pass


class RunTestsArgs(_Args):
    integration: list[str] = Field(default_factory=list, description="Only these integrations' scenarios.")
    function: list[str] = Field(default_factory=list, description="Only these functions (name or integration/name).")
    scenario: list[str] = Field(default_factory=list, description="Only scenarios of these names.")
    update: bool = Field(False, description="Accept the runs: write new and changed snapshots "
                                            "(harness test --update).")
    strict: bool = Field(False, description="CI gating: unplayed interactions fail (harness test --strict).")


class ExplainArgs(_Args):
    function: str = Field(description="The function: its name, or integration/name.")
    integration: str | None = Field(None, description="The integration, when several have a function of this name.")
    scenario: str = Field("default", description="Which recording to replay.")
    input: Any = Field(None, description="The input that made the replay miss (default: the cassette's).")
    metadata: Any = Field(None, description="Metadata that made the replay miss (default: the cassette's).")
    checkpoint: Any = Field(None, description="The starting checkpoint that made the replay miss.")
    payload: Any = Field(None, description="A webhook payload (replays the sync's webhook handler).")
    run: int = Field(1, ge=1, description="Run N of a multi-run scenario.")


class CompileArgs(_Args):
    pass


class DocsArgs(_Args):
    topic: str | None = Field(None, description="api, cli, config, exit-codes or workflow (default: all).")


_UNSET_FIELDS = ("input", "metadata", "checkpoint", "payload")


def _request(project: Project, args: _RunArgs, mode: str | None) -> Any:
    """The pipeline request for a run tool (connection defaulting to the scenario's recorded one)."""
    from ..cassettes.format import load_cassette
    from ..errors import UsageError
    from ..pipeline import UNSET, RunRequest, prepare

    given = {name: getattr(args, name) if name in args.model_fields_set else UNSET for name in _UNSET_FIELDS}
    req = RunRequest(function=args.function, connection_id=args.connection or "", integration=args.integration,
                     mode=mode, scenario=args.scenario, run=args.run, strict=not args.lenient,
                     allow_writes=args.allow_writes, max_pages=args.max_pages, max_records=args.max_records,
                     project=project, **given)
    if not req.connection_id:
        prepared = prepare(req)
        first = project.cassette_path(prepared.definition.integration, prepared.definition.name, args.scenario)
        stored = (load_cassette(first).context.get("connection") or {}) if first.is_file() else {}
        req.connection_id = str(stored.get("connection_id") or "")
        if not req.connection_id:
            raise UsageError(f"{prepared.definition.qualified_name}: no connection given and no recording at "
                             f"{project.relative(first)} to take it from",
                             hint="pass connection (an id of fixtures/connections.yaml)")
    return req


def _run(project: Project, args: _RunArgs, mode: str | None) -> Answer:
    from ..pipeline import execute

    result = execute(_request(project, args, mode)).result
    return Answer(result.to_json(), is_error=not result.ok)


def list_functions(project: Project, arguments: dict[str, Any]) -> Answer:
    from ..listing import listing_document
    from ..loader import load_catalog

    parse_arguments(ListFunctionsArgs, arguments)
    doc = listing_document(project, load_catalog(project.functions_dir))
    return Answer(doc, is_error=bool(doc["problems"]))


def dryrun(project: Project, arguments: dict[str, Any]) -> Answer:
    args = parse_arguments(DryrunArgs, arguments)
    return _run(project, args, args.mode)


def record(project: Project, arguments: dict[str, Any]) -> Answer:
    return _run(project, parse_arguments(RecordArgs, arguments), "record")


def run_tests(project: Project, arguments: dict[str, Any]) -> Answer:
    from .verdicts import Selection, scenario_verdicts

    args = parse_arguments(RunTestsArgs, arguments)
    verdicts = scenario_verdicts(project, Selection(args.integration, args.function, args.scenario),
                                 update=args.update, strict=args.strict)
    counts = {status: sum(1 for v in verdicts if v["status"] == status) for status in ("passed", "failed", "error")}
    passed = counts["failed"] == 0 and counts["error"] == 0
    return Answer({"passed": passed, "counts": counts, "scenarios": verdicts}, is_error=not passed)


def explain_replay_miss(project: Project, arguments: dict[str, Any]) -> Answer:
    from ..pipeline import execute
    from .misses import explain

    args = parse_arguments(ExplainArgs, arguments)
    run_args = DryrunArgs.model_validate(args.model_dump(exclude_unset=True))
    req = _request(project, run_args, "replay")
    outcome = execute(req)
    return Answer(explain(project, outcome))


def compile_project(project: Project, arguments: dict[str, Any]) -> Answer:
    import json

    from ..packaging.manifest import CompileError, compile_project, manifest_text, write_manifest
    from ..packaging.static_checks import StaticCheckError

    parse_arguments(CompileArgs, arguments)
    try:
        manifest = compile_project(project)
    except (CompileError, StaticCheckError) as exc:
        problems = exc.problems if isinstance(exc, CompileError) else exc.findings
        return error_answer("compile_error", f"{len(problems)} problem(s) in the definitions",
                            problems=[str(p) for p in problems], exit_code=exc.exit_code)
    write_manifest(project, manifest)
    return Answer(json.loads(manifest_text(manifest)))


def docs(project: Project, arguments: dict[str, Any]) -> Answer:
    from ..docs import reference_json, render_reference

    args = parse_arguments(DocsArgs, arguments)
    return Answer(reference_json(args.topic), text=render_reference(args.topic))


_TOOLS: list[tuple[str, type[_Args], Callable[[Project, dict[str, Any]], Answer], str]] = [
    ("list_functions", ListFunctionsArgs, list_functions,
     "List the project's functions (name, integration, type, file, models or input/output) and the files that "
     "failed to load: what `harness list --json` prints."),
    ("dryrun", DryrunArgs, dryrun,
     "Run one function once (sync, action, webhook handler or event function) and return the whole run: "
     "records per model, checkpoints, metadata, logs, requests, validation issues, output, error; what "
     "`harness dryrun --json` prints. Replays the scenario's cassette when it exists, else runs live; a live "
     "write needs allow_writes."),
    ("record", RecordArgs, record,
     "Run the function live and save its HTTP exchanges as the scenario's cassette, secrets scrubbed (a "
     "failed run writes nothing); returns the run as `harness dryrun --record --json` prints it. Needs the "
     "connection's credentials; writes need allow_writes."),
    ("run_tests", RunTestsArgs, run_tests,
     "Replay the selected scenarios (all by default) and compare each with its snapshot. Returns {passed, "
     "counts, scenarios: [{id, status: passed|failed|error, failures, warnings, diff, fix}]}: `diff` is the "
     "record-level difference (`~ id: field: old -> new`) on a failure."),
    ("explain_replay_miss", ExplainArgs, explain_replay_miss,
     "Replay a scenario and, when a request has no recorded answer, return it with the nearest recorded "
     "request and what differs (method, path, each query parameter, the body), plus how to fix it. Returns "
     "{miss: false} when every request was answered."),
    ("compile", CompileArgs, compile_project,
     "Check every definition (static checks, load-time rules, project rules) and write .harness/manifest.json; "
     "returns the manifest as `harness compile --json` prints it, or every problem."),
    ("docs", DocsArgs, docs,
     "The harness reference, generated from the code: the authoring API (decorators and the `nango` context), "
     "every CLI command and option, the [tool.harness] keys, the exit codes, the workflow."),
]


def dev_tools(project: Project) -> list[ToolSpec]:
    specs = []
    for name, model, fn, description in _TOOLS:
        def handler(arguments: dict[str, Any], fn: Callable[[Project, dict[str, Any]], Answer] = fn) -> Answer:
            forget_function_modules()
            return fn(project, arguments)

        specs.append(ToolSpec(name, description, object_schema(model), None, handler))
    return specs


def instructions(project: Project) -> str:
    return (f"Developer tools for the harness project at {project.root}: write a function and its models, "
            "dryrun it live, record it, run_tests, iterate on the diff, compile. Start with `docs` for the "
            "authoring API and the workflow. Results are the JSON the CLI's --json prints; a tool error means "
            "the CLI would have exited non-zero.")
