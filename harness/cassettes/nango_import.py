"""Converting Nango's recorded mocks into harness cassettes (`harness import-nango PATH`).

Reads the unified layout (`<integration>/tests/<function>.test.json`) and the legacy one
(`<integration>/mocks/...`), for one file, one integration folder, or any folder holding them (a whole
catalog). Each function becomes `<out>/<integration>/<function>/<scenario>.yaml` (scenario `nango` by
default) whose `harness:` context carries the input, the metadata, the connection and, under `expected:`,
what Nango's own tests assert: `records` per model (`batchSave`), `deletes` per model (`batchDelete`) and
the action `output`. Every interaction keeps Nango's request-identity hash (`harness: {nango_hash: ...}`),
so replay matches a converted recording the way Nango's replayer does. A file that cannot be converted is
reported with the reason and the rest carries on; what is not converted on purpose (aliases, `paginate/`,
directories named *.json) is reported as skipped. Each recording is scrubbed on its own (`scrub_cassette`),
so the cost is linear in the catalog's size. Names that become path segments are checked first: a bad
one (`..`) stops the import before anything is written.
"""

from __future__ import annotations

import http
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ..atomic import unwritable
from ..errors import ConfigError, HarnessError, UsageError
from ..names import check_name, inside
from ..secrets.scrubber import Scrubber
from .format import Cassette, Interaction, clean_response_headers, write_cassette
from .nango_hash import identity, identity_hash

DEFAULT_SCENARIO = "nango"
DEFAULT_CONNECTION = "nango"
_HASH = re.compile(r"[0-9a-f]{40}")
_SHARED_LEGACY = ("getConnection", "getMetadata")
_MAX_DEPTH = 4


@dataclass
class Converted:
    path: Path
    integration: str
    function: str
    interactions: int
    source: str


@dataclass
class Problem:
    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass
class ImportReport:
    converted: list[Converted] = field(default_factory=list)
    # Files that could not be converted (the command exits 3).
    problems: list[Problem] = field(default_factory=list)
    # What is not converted on purpose (aliases, `paginate/` folders, directories named *.json): reported only.
    skipped: list[Problem] = field(default_factory=list)


class _Skip(Exception):
    """One file that cannot be converted; the message says why."""


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _Skip(f"cannot read it ({exc})") from None
    if not text.strip():
        raise _Skip("the file is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Skip(f"not valid JSON ({exc.msg} at line {exc.lineno})") from None


def _base_url(integration: str) -> str:
    from ..providers.catalog import shipped

    entry = shipped().get(integration) or {}
    base = entry.get("base_url")
    if isinstance(base, str) and "${" not in base:
        return base.rstrip("/")
    return f"https://{integration}.invalid"


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _pairs(params: Any) -> list[tuple[str, Any]]:
    if params is None:
        return []
    if isinstance(params, dict):
        return [(str(k), v) for k, v in params.items()]
    if isinstance(params, list) and all(isinstance(p, list) and len(p) == 2 for p in params):
        return [(str(k), v) for k, v in params]
    raise _Skip(f"request params must be an object or a list of pairs, got {type(params).__name__}")


def _js(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _interaction(base: str, method: str, endpoint: str, request: dict[str, Any], response: Any, status: Any,
                 headers: Any, recorded_hash: Any, where: str) -> Interaction:
    if not isinstance(request, dict):
        raise _Skip(f"{where}: `request` must be an object")
    params = _pairs(request.get("params"))
    req_headers = _pairs(request.get("headers"))
    data = request.get("data")
    query = urlencode([(k, _js(v)) for k, v in params])
    uri = f"{base}/{endpoint.lstrip('/')}" + (f"?{query}" if query else "")
    body = None if data is None else data if isinstance(data, str) else _compact(data)
    header_map: dict[str, list[str]] = {}
    for k, v in req_headers:
        header_map.setdefault(k, []).append(_js(v))
    if data is not None and not isinstance(data, str) and not any(k.lower() == "content-type" for k in header_map):
        header_map["Content-Type"] = ["application/json"]
    try:
        code = int(status if status is not None else 200)
    except (TypeError, ValueError):
        raise _Skip(f"{where}: status {status!r} is not a number") from None
    if headers is not None and not isinstance(headers, dict):
        raise _Skip(f"{where}: response headers must be an object")
    resp_headers: dict[str, list[str]] = {}
    for k, v in (headers or {}).items():
        values = v if isinstance(v, list) else [v]
        resp_headers[str(k)] = [str(x) for x in values]
    resp_headers = clean_response_headers(resp_headers)
    if response is None:
        resp_body = ""
    elif isinstance(response, str):
        resp_body = response
    else:
        resp_body = _compact(response)
        if not any(k.lower() == "content-type" for k in resp_headers):
            resp_headers["content-type"] = ["application/json"]
    computed = identity_hash(identity(method, endpoint, params, req_headers, data))
    extra: dict[str, Any] = {"nango_hash": recorded_hash if isinstance(recorded_hash, str)
                             and _HASH.fullmatch(recorded_hash) else computed}
    try:
        reason = http.HTTPStatus(code).phrase
    except ValueError:
        reason = ""
    return Interaction(method=method.upper(), uri=uri, request_headers=header_map, request_body=body,
                       status=code, reason=reason, response_headers=resp_headers, response_body=resp_body,
                       extra=extra)


def _context(integration: str, function: str, scenario: str, connection_id: str, base: str, source: str,
             *, input_: Any = None, has_input: bool = False, output: Any = None, has_output: bool = False,
             records: Any = None, deletes: Any = None, metadata: Any = None, has_metadata: bool = False,
             connection: Any = None) -> dict[str, Any]:
    conn = connection if isinstance(connection, dict) else {}
    config = conn.get("connection_config") if isinstance(conn.get("connection_config"), dict) else {}
    kind = "action" if (has_input or has_output) else "sync" if (records is not None or deletes is not None) else None
    context: dict[str, Any] = {"function": function, "integration": integration}
    if kind:
        context["type"] = kind
    context["scenario"] = scenario
    context["source"] = source
    context["connection"] = {"connection_id": connection_id, "provider": integration, "credentials": {},
                             "integration": integration, "base_url": base, "connection_config": config,
                             "metadata": metadata if has_metadata else conn.get("metadata")}
    if has_input:
        context["input"] = input_
    if has_metadata:
        context["metadata"] = metadata
    expected: dict[str, Any] = {}
    if records is not None:
        expected["records"] = records
    if deletes is not None:
        expected["deletes"] = deletes
    if has_output:
        expected["output"] = output
    context["expected"] = expected
    return context


def _model_map(value: Any, what: str) -> dict[str, list[Any]]:
    if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
        raise _Skip(f"nango.{what} must map each model to a list of records")
    return value


def convert_unified(path: Path, integration: str, function: str, *, scenario: str = DEFAULT_SCENARIO,
                    connection_id: str = DEFAULT_CONNECTION) -> Cassette:
    data = _read_json(path)
    if not isinstance(data, dict):
        raise _Skip("not a Nango test file (expected a JSON object with `api`, `nango`, `input`, `output`)")
    base = _base_url(integration)
    api = data.get("api") or {}
    if not isinstance(api, dict):
        raise _Skip("`api` must be an object of methods")
    interactions: list[Interaction] = []
    for method, endpoints in api.items():
        if not isinstance(endpoints, dict):
            raise _Skip(f"api.{method} must be an object of endpoints")
        for endpoint, entries in endpoints.items():
            for n, entry in enumerate(entries if isinstance(entries, list) else [entries]):
                where = f"api.{method}[{endpoint!r}]" + (f"[{n}]" if isinstance(entries, list) else "")
                if not isinstance(entry, dict) or "response" not in entry:
                    raise _Skip(f"{where}: an entry needs a `response`")
                interactions.append(_interaction(base, method, endpoint, entry.get("request") or {},
                                                 entry["response"], entry.get("status"), entry.get("headers"),
                                                 entry.get("hash"), where))
    nango = data.get("nango") or {}
    if not isinstance(nango, dict):
        raise _Skip("`nango` must be an object")
    records = _model_map(nango["batchSave"], "batchSave") if "batchSave" in nango else None
    deletes = _model_map(nango["batchDelete"], "batchDelete") if "batchDelete" in nango else None
    context = _context(integration, function, scenario, connection_id, base, "nango-unified",
                       input_=data.get("input"), has_input="input" in data, output=data.get("output"),
                       has_output="output" in data, records=records, deletes=deletes,
                       metadata=nango.get("getMetadata"), has_metadata="getMetadata" in nango,
                       connection=nango.get("getConnection"))
    return Cassette(interactions, context)


def _legacy_entry(base: str, path: Path, method: str, endpoint_parts: tuple[str, ...]) -> Interaction:
    data = _read_json(path)
    where = path.name
    if _HASH.fullmatch(path.stem):
        if not isinstance(data, dict) or "response" not in data:
            raise _Skip("a request-hash file needs {method, endpoint, requestIdentity, response}"
                        + (f"; this one has keys {', '.join(sorted(data))}" if isinstance(data, dict) else ""))
        ident = data.get("requestIdentity") or {}
        if not isinstance(ident, dict):
            raise _Skip("`requestIdentity` must be an object")
        endpoint = str(data.get("endpoint") or ident.get("endpoint") or "/".join(endpoint_parts))
        request = {"params": ident.get("params") or [], "headers": ident.get("headers") or [],
                   "data": ident.get("data")}
        item = _interaction(base, method, endpoint, request, data["response"], data.get("status"),
                            data.get("headers"), None, where)
        if isinstance(data.get("requestIdentityHash"), str):
            item.extra["nango_legacy_hash"] = data["requestIdentityHash"]
        return item
    # The oldest layout: the bare response body, no status, no headers, no request identity.
    return _interaction(base, method, "/".join(endpoint_parts), {}, data, 200, None, None, where)


def _legacy_target(rel: tuple[str, ...], stem: str) -> tuple[str, str, tuple[str, ...]] | None:
    """(method, function, endpoint parts) of a file under `mocks/nango/`, or None when it is no recording."""
    if len(rel) < 4 or rel[1] != "proxy":
        return None
    if _HASH.fullmatch(stem):
        return rel[0], rel[-2], rel[2:-2]
    return rel[0], stem, rel[2:-1]


def legacy_functions(folder: Path) -> set[str]:
    """The function names a legacy `mocks/` folder holds (checked before anything is converted)."""
    mocks = folder / "mocks"
    nango_dir = mocks / "nango"
    names = {p.name for p in mocks.iterdir() if p.is_dir() and p.name not in ("nango", "paginate")}
    for path in nango_dir.rglob("*.json") if nango_dir.is_dir() else []:
        target = _legacy_target(path.relative_to(nango_dir).parts, path.stem)
        if target is not None and path.is_file():
            names.add(target[1])
    return names


def convert_legacy(folder: Path, integration: str, *, scenario: str = DEFAULT_SCENARIO,
                   connection_id: str = DEFAULT_CONNECTION, problems: list[Problem] | None = None,
                   skipped: list[Problem] | None = None) -> dict[str, Cassette]:
    """Every function of one integration's `mocks/` folder, by function name."""
    problems = problems if problems is not None else []
    skipped = skipped if skipped is not None else []
    mocks = folder / "mocks"
    base = _base_url(integration)
    calls: dict[str, list[Interaction]] = {}
    shared: dict[str, Any] = {}
    nango_dir = mocks / "nango"
    for path in sorted(nango_dir.rglob("*.json")) if nango_dir.is_dir() else []:
        rel = path.relative_to(nango_dir).parts
        if path.is_dir():
            skipped.append(Problem(str(path), "a directory named *.json, not a recording; skipped"))
            continue
        try:
            if len(rel) == 1 and path.stem in _SHARED_LEGACY:
                shared[path.stem] = _read_json(path)
                continue
            where = _legacy_target(rel, path.stem)
            if where is None:
                raise _Skip("not a proxy recording (expected nango/<method>/proxy/<endpoint>/...)")
            method, function, endpoint_parts = where
            item = _legacy_entry(base, path, method, endpoint_parts)
            calls.setdefault(function, []).append(item)
        except _Skip as exc:
            problems.append(Problem(str(path), str(exc)))
    if (mocks / "paginate").is_dir():
        skipped.append(Problem(str(mocks / "paginate"),
                               "the paginate/ folder is not read by Nango's replayer either; skipped"))
    functions = set(calls) | {p.name for p in mocks.iterdir() if p.is_dir() and p.name not in ("nango", "paginate")}
    out: dict[str, Cassette] = {}
    for function in sorted(functions):
        fdir = mocks / function
        try:
            records: dict[str, Any] | None = None
            deletes: dict[str, Any] | None = None
            for model_dir in sorted(p for p in fdir.iterdir() if p.is_dir()) if fdir.is_dir() else []:
                for name in ("batchSave", "batchDelete"):
                    file = model_dir / f"{name}.json"
                    if file.is_file():
                        value = _read_json(file)
                        if not isinstance(value, list):
                            raise _Skip(f"{file.relative_to(folder)} must be a JSON array of records")
                        target = records if name == "batchSave" else deletes
                        if target is None:
                            target = {}
                            if name == "batchSave":
                                records = target
                            else:
                                deletes = target
                        target[model_dir.name] = value
            has_input, has_output = (fdir / "input.json").is_file(), (fdir / "output.json").is_file()
            if not (calls.get(function) or records or deletes or has_input or has_output):
                continue  # every file of it was reported above
            context = _context(integration, function, scenario, connection_id, base, "nango-legacy",
                               input_=_read_json(fdir / "input.json") if has_input else None,
                               has_input=has_input,
                               output=_read_json(fdir / "output.json") if has_output else None,
                               has_output=has_output, records=records, deletes=deletes,
                               metadata=shared.get("getMetadata"), has_metadata="getMetadata" in shared,
                               connection=shared.get("getConnection"))
            out[function] = Cassette(calls.get(function, []), context)
        except _Skip as exc:
            problems.append(Problem(str(fdir), str(exc)))
    return out


def _split_flat(stem: str, integration: str | None) -> tuple[str, str]:
    if integration:
        return integration, stem[len(integration) + 1:] if stem.startswith(integration + "-") else stem
    if "-" not in stem:
        raise _Skip("cannot tell the integration from the file name (<integration>-<function>.test.json); "
                    "pass --integration")
    first, rest = stem.split("-", 1)
    return first, rest


def scrub_cassette(cassette: Cassette) -> tuple[Cassette, Scrubber]:
    """A converted recording scrubbed on its own (a fresh scrubber: nothing learned from another file).

    Rules first (credential headers, cookie values, credential query and form fields, token-exchange
    JSON fields), then every value they learned, everywhere in the file. Request bodies keep everything
    else as Nango recorded them (a JSON `key` or `password` of provider data stays), so replay matches by
    our key and by Nango's hash alike.
    """
    s = Scrubber()
    staged = []
    for item in cassette.interactions:
        headers = {k: [s.header_rules(k, v) for v in vs] for k, vs in item.request_headers.items()}
        ctype = next((v[0] for k, v in item.request_headers.items() if k.lower() == "content-type" and v), None)
        rtype = next((v[0] for k, v in item.response_headers.items() if k.lower() == "content-type" and v), None)
        uri = s.url_rules(item.uri)
        body = s.body_rules(item.request_body, ctype, url=item.uri)
        resp_headers = {k: [s.header_rules(k, v) for v in vs] for k, vs in item.response_headers.items()}
        resp_body = s.body_rules(item.response_body, rtype, url=item.uri)
        staged.append((item, uri, headers, body, ctype, resp_headers, resp_body, rtype))
    if not s.values:
        interactions = [replace(item, uri=uri, request_headers=headers,
                                request_body=body if not isinstance(body, bytes) else item.request_body,
                                response_headers=resp_headers, response_body=resp_body or item.response_body)
                        for item, uri, headers, body, _, resp_headers, resp_body, _ in staged]
        return Cassette(interactions, cassette.context), s
    s.compile()
    interactions = []
    for item, uri, headers, body, ctype, resp_headers, resp_body, rtype in staged:
        req_body = s.body_values(body, ctype)
        interactions.append(replace(
            item, uri=s.text(uri),
            request_headers={k: [s.header_values(k, v) for v in vs] for k, vs in headers.items()},
            request_body=req_body.decode("utf-8", "replace") if isinstance(req_body, bytes) else req_body,
            response_headers={k: [s.header_values(k, v) for v in vs] for k, vs in resp_headers.items()},
            response_body=s.body_values(resp_body, rtype) or item.response_body))
    return Cassette(interactions, s.data(cassette.context)), s


@dataclass
class _Job:
    kind: str  # unified | legacy
    path: Path
    integration: str
    function: str | None = None


ProgressFn = Callable[[int, int], None]


def import_nango(source: Path, out_dir: Path, *, integration: str | None = None,
                 scenario: str = DEFAULT_SCENARIO, connection_id: str = DEFAULT_CONNECTION,
                 progress: ProgressFn | None = None) -> ImportReport:
    """Convert everything under `source` into cassettes under `out_dir`; problems are collected, not raised.

    Every name that becomes a path segment (scenario, integration, function; from options or from file
    names) is checked before anything is written: a bad one is a `UsageError` (exit 2) and nothing is.
    `progress(done, total)` is called after each job (one file, or one legacy integration folder).
    """
    check_name("scenario", scenario)
    if integration is not None:
        check_name("integration", integration)
    if not source.exists():
        raise UsageError(f"{source} does not exist",
                         hint="pass a .test.json file, an integration folder or a catalog folder")
    report = ImportReport()
    jobs: list[_Job] = []

    def unified_file(path: Path, integ: str | None, *, in_tests: bool) -> None:
        if path.is_dir():
            report.skipped.append(Problem(str(path), "a directory named *.test.json, not a recording; skipped"))
            return
        stem = path.name[: -len(".test.json")]
        try:
            if in_tests:
                integ_name, function = integ or path.parent.parent.name, stem
            else:
                integ_name, function = _split_flat(stem, integ)
        except _Skip as exc:
            report.problems.append(Problem(str(path), str(exc)))
            return
        check_name("integration", integ_name, where=str(path))
        check_name("function", function, where=str(path))
        jobs.append(_Job("unified", path, integ_name, function))

    def integration_dir(folder: Path, integ: str) -> None:
        check_name("integration", integ, where=str(folder))
        tests = folder / "tests"
        for path in sorted(tests.glob("*.test.json")) if tests.is_dir() else []:
            unified_file(path, integ, in_tests=True)
        if (folder / "mocks").is_dir():
            for function in sorted(legacy_functions(folder)):
                check_name("function", function, where=str(folder / "mocks"))
            jobs.append(_Job("legacy", folder, integ))

    def walk(folder: Path, depth: int) -> None:
        if (folder / "tests").is_dir() or (folder / "mocks").is_dir():
            integration_dir(folder, integration or folder.name)
            return
        for path in sorted(folder.glob("*.test.json")):
            unified_file(path, integration, in_tests=False)
        if depth >= _MAX_DEPTH:
            return
        for child in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if child.is_symlink():
                # Nango's catalog aliases integrations with symlinks; converting them would duplicate.
                report.skipped.append(Problem(str(child), f"an alias of {child.resolve().name}; skipped"))
                continue
            if child.name.endswith(".json"):
                continue  # a directory named *.test.json was reported above; others are not recordings
            walk(child, depth + 1)

    if source.is_file():
        if not source.name.endswith(".test.json"):
            raise UsageError(f"{source} is not a Nango test file", hint="pass <function>.test.json or a folder")
        unified_file(source, integration, in_tests=source.parent.name == "tests")
    else:
        walk(source.resolve(), 0)

    # Every folder a cassette goes to takes a file, checked before the first one is written: a file where a
    # folder belongs (or a read-only folder) found halfway was an "internal error" with half a catalog in.
    folders = {out_dir / job.integration / job.function for job in jobs if job.function is not None}
    folders |= {out_dir / job.integration / function for job in jobs if job.kind == "legacy"
                for function in legacy_functions(job.path)}
    for folder in sorted(folders):
        problem = unwritable(folder)
        if problem is not None:
            raise ConfigError(f"cannot write the cassettes: {problem.part} {problem.reason}",
                              hint=f"{problem.fix}; nothing was written")

    def save(cassette: Cassette, integ: str, function: str, origin: Path) -> None:
        path = out_dir / integ / function / f"{scenario}.yaml"
        if not inside(out_dir, path):
            raise UsageError(f"{origin}: would write {path}, outside {out_dir}",
                             hint="use letters, digits, dashes and underscores in names")
        try:
            scrubbed, scrubber = scrub_cassette(cassette)
            write_cassette(path, scrubbed, scrubber)
        except HarnessError as exc:
            report.problems.append(Problem(str(origin), str(exc)))
            return
        report.converted.append(Converted(path, integ, function, len(cassette.interactions), str(origin)))

    for done, job in enumerate(jobs, 1):
        if job.kind == "unified":
            assert job.function is not None
            try:
                cassette = convert_unified(job.path, job.integration, job.function, scenario=scenario,
                                           connection_id=connection_id)
            except _Skip as exc:
                report.problems.append(Problem(str(job.path), str(exc)))
            else:
                save(cassette, job.integration, job.function, job.path)
        else:
            converted = convert_legacy(job.path, job.integration, scenario=scenario, connection_id=connection_id,
                                       problems=report.problems, skipped=report.skipped)
            for function, cassette in converted.items():
                save(cassette, job.integration, function, job.path / "mocks" / function)
        if progress is not None:
            progress(done, len(jobs))
    return report
