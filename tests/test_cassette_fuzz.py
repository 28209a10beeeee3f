"""A mutation fuzz of cassettes: whatever a cassette file holds, reading it and replaying it through the
CLI ends in a result or a `HarnessError`: never an uncaught exception, exit 70, or a hang.

Seeds are the bundled scenarios and the same recordings in vcrpy's other shapes (no `harness:` section,
Python tags, headers as pairs, the old httpx format, `.json`). Each case changes the parsed data (a value
replaced by a hostile one, deleted, wrapped, a key added) and then, often, the text (bytes inserted,
deleted, truncated; YAML indicators, anchors, aliases, tags, alias bombs spliced in). `HARNESS_FUZZ_CASES`
runs more cases (the suite runs 500).
"""

from __future__ import annotations

import contextlib
import faulthandler
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cassettes.format import load_cassette
from harness.cassettes.vcrpy_compat import loader_for
from harness.cli import main
from harness.errors import HarnessError
from tests.conftest import PYPROJECT, REPO

CASES = int(os.environ.get("HARNESS_FUZZ_CASES", "500"))
HANG_S = 120
FUNCTIONS = {"issues": "cassettes/github/issues/default.yaml",
             "create-issue": "cassettes/github/create-issue/default.yaml"}
# Failures of the function that only harness could cause (a header it cannot send, a body it cannot decode).
HARNESS_FAULTS = {"UnicodeEncodeError", "DecodingError", "CassetteError"}
# The text as vcrpy writes it (libyaml's emitter when PyYAML has it, as vcrpy prefers), and 10x faster to
# write than the pure-Python one.
DUMPER: type[Any] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _vcrpy_shapes(text: str) -> list[str]:
    """The seed as other vcrpy writers leave it."""
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    data.pop("harness")
    plain = yaml.dump(data, Dumper=DUMPER, sort_keys=False)
    for item in data["interactions"]:
        item.pop("harness", None)
        resp = item["response"]
        resp["headers"] = [[k, v] for k, v in resp["headers"].items()] + [["Content-Encoding", ["gzip"]]]
    pairs = yaml.dump(data, Dumper=DUMPER, sort_keys=False)
    for item in data["interactions"]:
        resp = item["response"]
        resp.update(status_code=resp.pop("status")["code"], content=resp.pop("body")["string"],
                    http_version="HTTP/1.1", headers=dict(resp["headers"]))
    old_httpx = yaml.dump(data, Dumper=DUMPER, sort_keys=False)
    tagged = plain.replace("string: ", "string: !!python/unicode ", 1).replace("method: ", "method: !!python/str ")
    return [plain, pairs, old_httpx, tagged]


SEEDS: list[tuple[str, str]] = []
for _function, _rel in FUNCTIONS.items():
    _text = (REPO / _rel).read_text(encoding="utf-8")
    SEEDS += [(_function, _text)] + [(_function, shape) for shape in _vcrpy_shapes(_text)]
# Each seed parsed once, as its reader parses it; a case mutates a copy (see PRISTINE).
PARSED = {seed: yaml.load(seed, Loader=loader_for(seed)) for _, seed in SEEDS}

BOMB = "[&b0 [lol,lol,lol,lol,lol,lol,lol,lol], " + ", ".join(
    f"&b{i} [" + ",".join([f"*b{i - 1}"] * 8) + "]" for i in range(1, 9)) + "]"
SNIPPETS = [
    "&a ", "*a", "&a [*a]", "<<: *a\n", "!!python/object/apply:os.system ['true'] ", "!!python/tuple ",
    "!!python/unicode ", "!!binary ", "!!set ", "!!omap ", "!!timestamp ", "!!str ", "!!int ", "!!float ", "? ",
    "- ", ": ", "[", "]", "{", "}", ",", "|", ">", "'", '"', "#", "%YAML 1.1\n---\n", "---\n", "...\n", "\t",
    "\x00", "\ufeff", "\u2028", "\x85", "é", "☕", "\U0001f600", "\r\n", "\n", "  ", "@", "`", BOMB,
    "[" * 2000, "{a: " * 300, "9" * 5000, "2020-13-45", "1e999", ".nan", "0x1F", "~", "null", "<scrubbed>",
]


def _nest(n: int) -> Any:
    value: Any = "x"
    for _ in range(n):
        value = [value]
    return value


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.sampled_from([0, 99, 100, 599, 1000, -1, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    st.binary(max_size=40), st.datetimes(),
    st.sampled_from(["", "GET", "POST", "*/*", "&a", "*a", "!!binary", "\u2028", "%00", "http://[::1/x",
                     "https://api.github.com/../../x", "compact", "gzip", "application/json", "<scrubbed>"]),
    st.integers(1_000, 300_000).map(lambda n: "x" * n),
    st.integers(90, 3000).map(lambda n: "[" * n + "]" * n),
)
HOSTILE = st.one_of(
    SCALARS,
    st.recursive(SCALARS, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                 st.dictionaries(st.text(max_size=8), kids, max_size=4)),
                 max_leaves=12),
    st.integers(80, 1100).map(_nest),
    # Built anew for each case (st.just would hand out one object, which a mutation then changes).
    st.integers(0, 7).map(lambda i: [{"pretty": "compact"}, {"string": "[" * 5000 + "]" * 5000}, {"code": 200},
                                     {"code": "200"}, 404, "oops", [], {}][i]),
)


class Case:
    def __init__(self, function: str, fmt: str, raw: bytes) -> None:
        self.function, self.fmt, self.raw = function, fmt, raw

    def __repr__(self) -> str:
        # The whole file would flood the report: it is saved to a file named here instead.
        digest = hashlib.sha256(self.raw).hexdigest()[:12]
        saved = Path(tempfile.gettempdir()) / f"harness-fuzz-{digest}.{self.fmt}"
        saved.write_bytes(self.raw)
        return f"Case({self.function!r}, {self.fmt!r}, {len(self.raw)} bytes, saved at {saved})"


# The data generation of 500 cases was ~1.6 s of the test's ~3.5 s; these three changes make it ~1.0 s and
# draw the very same cases from the same choices. Every strategy a case draws from is built once: one built
# in the draw was validated and labelled anew each time.
SEED = st.sampled_from(SEEDS)
TIMES = st.integers(0, 3)
FORMAT = st.sampled_from(["yaml", "yaml", "yaml", "json"])
INDENT = st.sampled_from([None, 2])
FLOW = st.sampled_from([False, None])
ONE_IN_31 = st.integers(0, 30)
JUNK = st.binary(min_size=1, max_size=4)
STEPS = st.lists(st.integers(0, 1000), max_size=7)
DATA_OP = st.sampled_from(["replace", "replace", "replace", "delete", "add", "wrap", "stringify"])
ADDED_KEY = st.sampled_from(["harness", "pretty", "format", "status_code", "content", "body", "x"])
SNIPPET = st.sampled_from(SNIPPETS)
TEXT_OP = st.sampled_from(["insert", "insert", "delete", "truncate", "duplicate-line"])
DELETED = st.integers(1, 40)


def _containers(value: Any) -> Iterator[Any]:
    if isinstance(value, dict | list):
        yield value
        for item in value.values() if isinstance(value, dict) else value:
            yield from _containers(item)


# The lists and mappings of the parsed seeds, which no case changes: a case copies the containers on the path
# to what it mutates and shares the rest with the seed (instead of a deep copy of the whole seed). The seeds
# hold no container twice (a parsed alias would be), so the sharing changes no dump.
PRISTINE = {id(c) for data in PARSED.values() for c in _containers(data)}
assert sum(1 for data in PARSED.values() for _ in _containers(data)) == len(PRISTINE)
# Their YAML nodes, by id and flow style, built once: the unchanged bulk of a seed was represented anew in
# Python for each case. A node depends on nothing else here (allow_unicode is the emitter's), and the
# emitter reads nodes without changing them.
_NODES: dict[tuple[int, bool | None], Any] = {}


class _SeedNodesDumper(DUMPER):  # type: ignore[misc, valid-type]
    """CSafeDumper with the seeds' nodes built once. The cache sits in the representers, which call what
    SafeRepresenter's call: no frame is added per level of nesting, so a deep value still hits the recursion
    limit where it did (and falls back to the seed's text as before)."""

    def represent_seed_mapping(self, data: dict[Any, Any]) -> Any:
        if id(data) in PRISTINE:
            return self._cached(data, self.represent_dict)
        return self.represent_mapping("tag:yaml.org,2002:map", data)

    def represent_seed_sequence(self, data: list[Any]) -> Any:
        if id(data) in PRISTINE:
            return self._cached(data, self.represent_list)
        return self.represent_sequence("tag:yaml.org,2002:seq", data)

    def _cached(self, data: Any, represent: Any) -> Any:
        key = (id(data), self.default_flow_style)
        node = _NODES.get(key)
        if node is None:
            node = _NODES[key] = represent(data)
        elif self.alias_key is not None:
            self.represented_objects[self.alias_key] = node
        return node


_SeedNodesDumper.add_representer(dict, _SeedNodesDumper.represent_seed_mapping)
_SeedNodesDumper.add_representer(list, _SeedNodesDumper.represent_seed_sequence)


@st.composite
def mutated(draw: st.DrawFn) -> Case:
    function, seed = draw(SEED)
    data: Any = PARSED[seed]
    for _ in range(draw(TIMES)):
        data = _mutate_data(draw, data)
    fmt = draw(FORMAT)
    try:
        text = (json.dumps(data, default=str, indent=draw(INDENT)) if fmt == "json"
                else yaml.dump(data, Dumper=_SeedNodesDumper, allow_unicode=draw(st.booleans()), sort_keys=False,
                               default_flow_style=draw(FLOW)))
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        text = seed
    for _ in range(draw(TIMES)):
        text = _mutate_text(draw, text)
    raw = text.encode("utf-8", "surrogatepass")
    if draw(ONE_IN_31) == 0:
        at = draw(st.integers(0, max(0, len(raw) - 1)))
        raw = raw[:at] + draw(JUNK) + raw[at:]
    return Case(function, fmt, raw)


def _copied(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value


def _mutate_data(draw: st.DrawFn, data: Any) -> Any:
    steps = draw(STEPS)
    parent: Any = None
    key: Any = None
    data = node = _copied(data)
    for step in steps:
        if isinstance(node, dict) and node:
            parent, key = node, list(node)[step % len(node)]
        elif isinstance(node, list) and node:
            parent, key = node, step % len(node)
        else:
            break
        node = parent[key] = _copied(parent[key])
    op = draw(DATA_OP)
    value = draw(HOSTILE)
    if parent is None:
        return value if op == "replace" else [data] if op == "wrap" else data
    if op == "delete":
        del parent[key]
    elif op == "add" and isinstance(node, dict):
        node[draw(ADDED_KEY)] = value
    elif op == "add" and isinstance(node, list):
        node.append(value)
    elif op == "wrap":
        parent[key] = [node] if draw(st.booleans()) else {"string": node}
    elif op == "stringify":
        # A value nested past the recursion limit has no str(): it stays (it failed the case's generation, a
        # rare flake: 1 of 5,000 cases).
        with contextlib.suppress(RecursionError):
            parent[key] = str(node)[:500]
    else:
        parent[key] = value
    return data


def _mutate_text(draw: st.DrawFn, text: str) -> str:
    if not text:
        return draw(SNIPPET)
    at = draw(st.integers(0, len(text)))
    op = draw(TEXT_OP)
    if op == "insert":
        return text[:at] + draw(SNIPPET) + text[at:]
    if op == "delete":
        return text[:at] + text[at + draw(DELETED):]
    if op == "truncate":
        return text[:at]
    lines = text.splitlines(keepends=True)
    n = at % len(lines)
    return "".join(lines[: n + 1] + lines[n:])


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("fuzz") / "example"
    # The example without its event function, which no case runs: each run loads a third less code.
    for folder in ("functions", "cassettes", "fixtures"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__", "on_events"))
    (root / "pyproject.toml").write_text(PYPROJECT)
    try:
        yield root
    finally:
        faulthandler.cancel_dump_traceback_later()


def _check_run(function: str, project: Path, extra: list[str]) -> None:
    res = CliRunner().invoke(main, ["--project", str(project), "dryrun", function, "demo", "--replay", "--json",
                                    *extra])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert res.exit_code in (0, 1, 2, 3), (res.exit_code, res.output[-2000:])
    assert "Traceback" not in res.output
    if not res.stdout.strip():  # refused before the run: one error line
        errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
        assert res.exit_code in (2, 3) and len(errors) == 1, res.stderr[-2000:]
        return
    doc = json.loads(res.stdout)
    error = doc.get("error") or {}
    if error.get("type") == "script_internal_error":
        assert (error.get("payload") or {}).get("name") not in HARNESS_FAULTS, error


@settings(max_examples=CASES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture, HealthCheck.large_base_example])
@given(case=mutated())
def test_any_mutated_cassette_is_read_and_replayed_or_refused_cleanly(project: Path, case: Case) -> None:
    function, fmt, raw = case.function, case.fmt, case.raw
    # A hang must fail loudly, not stall the suite: past two minutes on one case, dump every thread's
    # stack and end the process (each case restarts the timer; the fixture cancels it at the end).
    faulthandler.dump_traceback_later(HANG_S, exit=True)
    path = project / FUNCTIONS[function]
    if fmt == "json":
        path = path.with_name("fuzzed.json")
    # A new file each time: rewriting one in place makes ext4 flush it first (auto_da_alloc), ~3 ms a case.
    path.unlink(missing_ok=True)
    path.write_bytes(raw)
    with contextlib.suppress(HarnessError):
        load_cassette(path)
    if fmt == "json":
        res = CliRunner().invoke(main, ["--project", str(project), "cassettes", "show", str(path)])
        assert res.exit_code in (0, 2, 3), (res.exit_code, res.output)
        return
    _check_run(function, project, [])
