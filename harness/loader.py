"""Discovery and isolated import of function files.

Walks `functions/<integration>/{syncs,actions,on_events}/*.py`, imports each file on its own (a syntax or
import error in one file is reported with its file and line and does not hide the others), and returns a
`Catalog` of definitions plus the problems found. Files are imported as modules of a synthetic package
(`harness_functions.<integration>.<kind>`) whose path is the real folder, so relative imports of helper
modules beside the functions work.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import traceback
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .definitions import Definition, kebab
from .errors import DefinitionError, NotFoundError

KIND_FOLDERS = {"syncs": "sync", "actions": "action", "on_events": "on-event"}
_ROOT_PACKAGE = "harness_functions"


@dataclass(frozen=True)
class LoadProblem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


@dataclass
class Catalog:
    definitions: list[Definition] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)

    def find(self, name: str, integration: str | None = None) -> Definition:
        """The definition called `name` (or `integration/name`); NotFoundError with close names otherwise."""
        if "/" in name and integration is None:
            integration, name = name.split("/", 1)
        wanted = kebab(name)
        hits = [d for d in self.definitions
                if d.name == wanted and (integration is None or d.integration == integration)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise NotFoundError(f"function {name!r} exists in several integrations: "
                                + ", ".join(sorted(d.integration for d in hits)),
                                hint="pass --integration NAME or write INTEGRATION/NAME")
        known = sorted({d.name for d in self.definitions})
        close = difflib.get_close_matches(wanted, known, n=3)
        broken = [p for p in self.problems if Path(p.file).stem.replace("_", "-") == wanted]
        if broken:
            raise DefinitionError(f"function {name!r} could not be loaded: {broken[0]}")
        where = f" in integration {integration!r}" if integration else ""
        hint = ("did you mean " + ", ".join(close) + "?") if close else (
            "known functions: " + ", ".join(known) if known else "no functions were found")
        raise NotFoundError(f"unknown function {name!r}{where}", hint=hint)


# The code compiled in this process, by the hash of the source it came from: a file with the very same bytes,
# at this path or another (another copy of the project), reuses it under its own name. Bounded: `harness dev`
# adds one for each edit it runs.
_COMPILED: dict[bytes, types.CodeType] = {}
_COMPILED_MAX = 512


def _named(code: types.CodeType, filename: str) -> types.CodeType:
    """`code` as compiled from `filename`: the name is in every nested code object (functions, classes)."""
    if code.co_filename == filename:
        return code
    consts = tuple(_named(c, filename) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


class _FromSource(importlib.machinery.SourceFileLoader):
    """Reads the source every time: a function file edited within the second its cached bytecode was written
    (same size, same mtime in seconds) would otherwise run as the stale copy. What was compiled from the very
    same bytes before, in this process, is reused (`harness serve` and `harness dev` load the files again for
    every run)."""

    def get_code(self, fullname: str) -> types.CodeType:
        source = self.get_data(self.path)
        digest = hashlib.sha256(source).digest()
        code = _COMPILED.get(digest)
        if code is None:
            code = self.source_to_code(source, self.path)
            if len(_COMPILED) >= _COMPILED_MAX:
                _COMPILED.clear()
            _COMPILED[digest] = code
        return _named(code, self.path)


class _FunctionsFinder(importlib.abc.MetaPathFinder):
    """Helper modules under `functions/` (imported as `harness_functions.*`) load from source too."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
                  ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(_ROOT_PACKAGE + ".") or path is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and isinstance(spec.loader, importlib.machinery.SourceFileLoader) and spec.origin:
            spec.loader = _FromSource(fullname, spec.origin)
        return spec


_FINDER = _FunctionsFinder()


def forget_function_modules() -> None:
    """Drop every imported function and helper module, so the next load sees the files as they are now."""
    for name in [n for n in sys.modules if n == _ROOT_PACKAGE or n.startswith(_ROOT_PACKAGE + ".")]:
        del sys.modules[name]


def _package(name: str, path: Path) -> None:
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    if name in sys.modules:
        sys.modules[name].__path__ = [str(path)]
        return
    module = types.ModuleType(name)
    module.__path__ = [str(path)]
    module.__package__ = name
    sys.modules[name] = module


def _error_line(exc: BaseException, file: Path) -> int | None:
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename).resolve() == file.resolve():
        return exc.lineno
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).resolve() == file.resolve():
            line = frame.lineno
    return line


def load_file(path: Path, integration: str, kind: str) -> list[Definition]:
    """Import one function file and return the definitions it declares (raises on failure)."""
    safe_integration = integration.replace("-", "_")
    pkg = f"{_ROOT_PACKAGE}.{safe_integration}"
    _package(_ROOT_PACKAGE, path.parent.parent.parent)
    _package(pkg, path.parent.parent)
    _package(f"{pkg}.{kind}", path.parent)
    mod_name = f"{pkg}.{kind}.{path.stem}"
    spec = importlib.util.spec_from_file_location(mod_name, path, loader=_FromSource(mod_name, str(path)))
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(mod_name, None)
        raise
    found: list[Definition] = []
    here: Path | None = None  # resolved once, and only for a definition whose file is named another way
    for value in vars(module).values():
        if not isinstance(value, Definition) or value in found:
            continue
        if value.file != str(path):
            here = here or path.resolve()
            if Path(value.file).resolve() != here:
                continue
        found.append(value)
    return found


def load_catalog(functions_dir: Path) -> Catalog:
    catalog = Catalog()
    if not functions_dir.is_dir():
        return catalog
    seen: dict[tuple[str, str], str] = {}
    folders = sorted(p for p in functions_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    for integration_dir in folders:
        integration = integration_dir.name
        for folder, kind in KIND_FOLDERS.items():
            for path in sorted((integration_dir / folder).glob("*.py")):
                if path.name.startswith("_"):
                    continue
                shown = str(path)
                try:
                    defs = load_file(path, integration, folder)
                except DefinitionError as exc:
                    catalog.problems.append(LoadProblem(shown, _error_line(exc, path), exc.detail))
                    continue
                except Exception as exc:
                    what = f"{type(exc).__name__}: {exc.msg if isinstance(exc, SyntaxError) else exc}"
                    catalog.problems.append(LoadProblem(shown, _error_line(exc, path), what))
                    continue
                if not defs:
                    catalog.problems.append(LoadProblem(shown, None, f"no {kind} is defined here "
                                                        f"(decorate an async function with @{kind.replace('-', '_')})"))
                    continue
                if len(defs) > 1:
                    catalog.problems.append(LoadProblem(shown, None, "defines more than one function; "
                                                        "keep one function per module"))
                    continue
                d = defs[0]
                if d.type != kind:
                    home = next(k for k, v in KIND_FOLDERS.items() if v == d.type)
                    catalog.problems.append(LoadProblem(shown, None, f"a {d.type} in the {folder}/ folder; "
                                                        f"move it to {home}/"))
                    continue
                d.integration = integration
                if not d.name_given:
                    d.name = kebab(path.stem)
                key = (integration, d.name)
                if key in seen:
                    catalog.problems.append(LoadProblem(shown, None, f"name: duplicate function name {d.name!r} "
                                                        f"in integration {integration!r} (also in {seen[key]})"))
                    continue
                seen[key] = shown
                catalog.definitions.append(d)
    return catalog
