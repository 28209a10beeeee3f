"""The architecture, pinned: no import cycle anywhere in `harness/` (TYPE_CHECKING and function-level imports
included), faces import only the engine's public modules listed in the README, every module says what it
owns, and no face builds a transport stack or replays a cassette itself."""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

from .conftest import REPO

PACKAGE = REPO / "harness"
FACES = ("harness.cli", "harness.pytest_plugin", "harness.packaging", "harness.scaffold", "harness.agents",
         "harness.reports", "harness.serve")


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "templates" in path.relative_to(PACKAGE).parts:
            continue  # template functions are data copied into users' projects
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


MODULES = _modules()


@functools.cache
def _tree(name: str) -> ast.Module:
    """The module's syntax tree, parsed once for every test here."""
    return ast.parse(MODULES[name][0].read_text(encoding="utf-8"))


def _statements(node: ast.AST) -> Iterator[ast.stmt]:
    """Every statement in `node`, at any depth: imports are statements, so the expressions (most of a syntax
    tree, which `ast.walk` would visit too) are skipped."""
    for field in ("body", "orelse", "finalbody", "handlers", "cases"):
        for child in getattr(node, field, ()):
            if isinstance(child, ast.stmt):
                yield child
            yield from _statements(child)


def _imports(name: str) -> set[str]:
    """Every harness module `name` imports, wherever the import statement is."""
    is_package = MODULES[name][1]
    package = name if is_package else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in _statements(_tree(name)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                candidate = f"{module}.{alias.name}"
                out.add(candidate if candidate in MODULES else module)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return {m for m in out if m in MODULES and m != name}


GRAPH = {name: _imports(name) for name in MODULES}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), i.e. the import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for name in sorted(GRAPH):
        if name not in index:
            visit(name)
    return found


def _is_face(name: str) -> bool:
    return any(name == face or name.startswith(face + ".") for face in FACES)


def _public_engine() -> set[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- public-engine-modules -->(.*?)<!-- /public-engine-modules -->", readme, re.S)
    assert block, "the README's architecture section lists the public engine modules between markers"
    return set(re.findall(r"`(harness[a-z_.]*)`", block.group(1)))


def test_the_graph_sees_the_imports_it_should() -> None:
    # Guards the guard: a parser that found nothing would make every test below pass.
    assert "harness.pipeline" in GRAPH["harness.cli.dryrun"]
    assert "harness.state" in GRAPH["harness.context"]
    assert "harness.http.stack" in GRAPH["harness.state"]  # a TYPE_CHECKING import counts
    assert len(MODULES) > 60


def test_no_module_imports_in_a_cycle() -> None:
    assert _cycles() == []


def test_faces_import_only_the_public_engine_modules_the_readme_lists() -> None:
    public = _public_engine()
    assert public, "the README list is empty"
    unknown = sorted(m for m in public if m not in MODULES)
    assert unknown == [], f"the README lists modules that do not exist: {unknown}"
    reached = {(face, target) for face in GRAPH if _is_face(face) for target in GRAPH[face]
               if not _is_face(target) and target not in public}
    assert sorted(reached) == []


def test_only_the_stack_builder_assembles_transports() -> None:
    layers = re.compile(r"\b(ReplayTransport|RecordingTransport|LiveTransport|NewEpisodesTransport|"
                        r"LooseReplayTransport|FaultTransport|ObservingTransport|WriteGuardTransport|"
                        r"NangoProxyTransport)\(")
    builders = {"harness.http.stack", "harness.http.episodes"}
    offenders = sorted(name for name, (path, _) in MODULES.items()
                       if name not in builders and layers.search(path.read_text(encoding="utf-8"))
                       and not name.startswith("harness.http."))
    assert offenders == []


def test_every_module_says_what_it_owns() -> None:
    missing = sorted(name for name in MODULES if ast.get_docstring(_tree(name)) is None)
    assert missing == []


def test_module_names_do_not_repeat_across_packages() -> None:
    # CLI modules are named after the command they hold (`cli/fuzz.py` is `harness fuzz`) and serve's API
    # modules after the endpoints they answer (`api/records.py` is `/records`), so they may share a name with
    # the engine module behind them.
    seen: dict[str, list[str]] = {}
    for name, (_, is_package) in MODULES.items():
        if not is_package and not name.startswith(("harness.cli.", "harness.serve.api.")):
            seen.setdefault(name.rsplit(".", 1)[1], []).append(name)
    repeated = {leaf: sorted(names) for leaf, names in seen.items() if len(names) > 1}
    assert repeated == {}
