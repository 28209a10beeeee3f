"""Static inspection of function sources with `ast`: local helper modules, imports, top-level side effects,
and reads of connection metadata.

Nothing here imports the user's code: it reads the files, so a check cannot be fooled (or harmed) by what
a module does when it runs.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

# Always allowed, besides the standard library and `[tool.harness.package] allow_imports`.
BASE_ALLOWED = frozenset({"pydantic", "httpx", "harness", "typing_extensions", "annotated_types"})

# Calls that touch the network or the filesystem when they run at import time.
_DENIED_ROOTS = frozenset({"httpx", "requests", "urllib", "urllib3", "socket", "subprocess", "shutil",
                           "aiohttp", "http", "ftplib", "smtplib", "sqlite3", "tempfile", "glob",
                           # loading code the static checks cannot see
                           "importlib", "runpy", "pkgutil", "ctypes", "zipimport"})
_DENIED_NAMES = frozenset({"open", "exec", "eval", "compile", "__import__", "input", "breakpoint"})
_DENIED_METHODS = frozenset({"read_text", "read_bytes", "write_text", "write_bytes", "open", "mkdir", "touch",
                             "unlink", "rmdir", "rename", "replace", "iterdir", "glob", "rglob", "urlopen",
                             "connect", "send", "sendall", "recv", "load_dotenv", "system", "popen", "remove",
                             "makedirs", "listdir", "walk", "scandir", "chdir"})
# `os` calls that only read the environment are fine at import time.
_OS_ALLOWED = frozenset({"os.getenv", "os.environ.get", "os.path.join", "os.path.basename", "os.path.dirname"})


@dataclass(frozen=True)
class Finding:
    file: Path
    line: int
    message: str

    def render(self, root: Path) -> str:
        try:
            shown = self.file.resolve().relative_to(root.resolve())
        except ValueError:
            shown = self.file
        return f"{shown}:{self.line}: {self.message}"


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


@dataclass
class LocalImports:
    """What a function file needs from `functions/`: the modules it imports relatively (transitively,
    with the `__init__.py` of every package on the way, which Python runs too), and the relative imports
    the bundle could not satisfy (a missing module, one above `functions/`, one a symlink leads out of it)."""

    modules: list[Path]
    problems: list[Finding]


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError):
        return False
    return True


def _packages_between(root: Path, folder: Path) -> list[Path]:
    """The `__init__.py` files of the folders from below `root` down to `folder` (each one is executed when
    a module inside is imported; harmless to check when it is not)."""
    out: list[Path] = []
    try:
        rel = folder.relative_to(root)
    except ValueError:
        return out
    current = root
    for part in rel.parts:
        current = current / part
        init = current / "__init__.py"
        if init.is_file():
            out.append(init)
    return out


def _relative_targets(path: Path, node: ast.ImportFrom, root: Path) -> tuple[list[Path], list[str]]:
    """Files one relative import needs, and what it names that the bundle would not contain."""
    base = path.parent
    for _ in range(node.level - 1):
        base = base.parent
    dots = "." * node.level
    shown = f"{dots}{node.module or ''}"
    if not _inside(base, root):
        return [], [f"relative import `from {shown} import ...` climbs above functions/: the bundle holds only "
                    "functions/ (move the module under functions/)"]
    names = [a.name for a in node.names]
    found: list[Path] = []
    missing: list[str] = []

    compiled: set[Path] = set()

    def module_file(target: Path, label: str) -> Path | None:
        # Python's own order: a package directory before a module, a compiled extension before a source.
        for stem in (target / "__init__", target):
            for suffix in EXTENSION_SUFFIXES:
                if stem.with_name(stem.name + suffix).is_file():
                    missing.append(f"{label} (Python would load the compiled {stem.name}{suffix} instead of a "
                                   "source file; the bundle holds sources only)")
                    compiled.add(target)
                    return None
            if stem.with_name(stem.name + ".py").is_file():
                return stem.with_name(stem.name + ".py")
        return None

    if node.module:
        target = base.joinpath(*node.module.split("."))
        hit = module_file(target, shown)
        if hit is not None:
            found.append(hit)
        elif target not in compiled and not target.is_dir():
            missing.append(f"{shown} (no {target.name}.py or package {target.name}/)")
        package = target if target.is_dir() else target.parent
        found += _packages_between(root, package)
        if target.is_dir():
            # `from ..pkg import mod`: `mod` may be a module of the package, or a name its __init__ defines.
            for name in names:
                sub = module_file(target / name, f"{shown}.{name}")
                if sub is not None:
                    found.append(sub)
                elif name != "*" and hit is None and target / name not in compiled:
                    missing.append(f"{shown}.{name} (no {name}.py in {target.name}/, and no __init__.py to "
                                   "define it)")
    else:
        found += _packages_between(root, base)
        has_init = (base / "__init__.py").is_file()
        for name in names:
            sub = module_file(base / name, f"{dots}{name}")
            if sub is not None:
                found.append(sub)
            elif name != "*" and not has_init and not (base / name).is_dir() and base / name not in compiled:
                missing.append(f"{dots}{name} (no {name}.py beside it)")
    return found, missing


def local_imports(entry: Path, root: Path) -> LocalImports:
    """Every module under `root` (the functions folder) that `entry` imports relatively, transitively, and
    every relative import that names something the bundle would not contain."""
    seen: set[Path] = {entry.resolve()}
    todo = [entry]
    modules: list[Path] = []
    problems: list[Finding] = []
    while todo:
        current = todo.pop()
        try:
            tree = parse(current)
        except (SyntaxError, OSError, UnicodeDecodeError, ValueError):
            continue  # the loader reports it with its line
        for node in ast.walk(tree):
            if not (isinstance(node, ast.ImportFrom) and node.level > 0):
                continue
            targets, missing = _relative_targets(current, node, root)
            for what in missing:
                problems.append(Finding(current, node.lineno, f"imports {what}: the bundle would not contain it"))
            for target in targets:
                if not _inside(target, root):
                    problems.append(Finding(current, node.lineno,
                                            f"imports {target.name}, which resolves outside functions/ "
                                            f"({target.resolve()}; a symlink?): the bundle would not contain it"))
                    continue
                if target.resolve() not in seen:
                    seen.add(target.resolve())
                    modules.append(target)
                    todo.append(target)
    return LocalImports(sorted(modules), problems)


def local_modules(entry: Path, root: Path) -> list[Path]:
    """The helper modules `entry` imports relatively, transitively, within `root` (sorted, no entry)."""
    return local_imports(entry, root).modules


def import_findings(path: Path, tree: ast.Module, allowed: frozenset[str]) -> list[Finding]:
    """Absolute imports of packages that are neither the standard library nor allowed."""
    out: list[Finding] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            root = name.split(".")[0]
            if root in sys.stdlib_module_names or root in allowed or root == "__future__":
                continue
            out.append(Finding(path, getattr(node, "lineno", 0),
                               f"import of {name!r} is not allowed in a deployed function (allowed: the standard "
                               f"library, {', '.join(sorted(BASE_ALLOWED))}; add it to [tool.harness.package] "
                               "allow_imports if the runtime has it)"))
    return out


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    if isinstance(node, ast.Call):
        # `Path("x").write_text(...)`: name the call chain by its callee.
        inner = _dotted(node.func)
        return f"{inner}()" if inner else None
    return None


def _denied(call: ast.Call) -> str | None:
    name = _dotted(call.func)
    if name is None:
        return None
    if name in _OS_ALLOWED:
        return None
    parts = name.split(".")
    if len(parts) == 1 and parts[0] in _DENIED_NAMES:
        return name
    if parts[0] in _DENIED_ROOTS or (parts[0] == "os" and len(parts) > 1):
        return name
    if len(parts) > 1 and parts[-1] in _DENIED_METHODS:
        return name
    return None


def _calls_in(nodes: list[ast.expr]) -> list[ast.Call]:
    found: list[ast.Call] = []
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                found.append(sub)
    return found


def side_effect_findings(path: Path, tree: ast.Module) -> list[Finding]:
    """Code that runs at import and touches the network or the filesystem (or any bare top-level call).

    Only what runs when the module is imported is inspected: module-level statements, class bodies,
    decorators and default values; function bodies run later, under the runtime's control.
    """
    out: list[Finding] = []

    def flag(call: ast.Call, why: str) -> None:
        out.append(Finding(path, call.lineno, f"{why} runs when the module is imported (move it into the "
                                               "function, or compute it when the function runs)"))

    def visit(stmts: list[ast.stmt], top: bool) -> None:
        for stmt in stmts:
            if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.Pass)):
                continue
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                exprs: list[ast.expr] = [*stmt.decorator_list, *stmt.args.defaults,
                                         *(d for d in stmt.args.kw_defaults if d is not None)]
                for call in _calls_in(exprs):
                    if (what := _denied(call)) is not None:
                        flag(call, f"call to {what}()")
                continue
            if isinstance(stmt, ast.ClassDef):
                for call in _calls_in([*stmt.decorator_list, *stmt.bases]):
                    if (what := _denied(call)) is not None:
                        flag(call, f"call to {what}()")
                visit(stmt.body, False)
                continue
            if isinstance(stmt, ast.Expr):
                if isinstance(stmt.value, ast.Constant):
                    continue  # a docstring
                if isinstance(stmt.value, ast.Call) and top:
                    flag(stmt.value, f"top-level call to {_dotted(stmt.value.func) or 'an expression'}()")
                    continue
            if isinstance(stmt, ast.If) and _is_main_guard(stmt.test):
                continue  # `if __name__ == "__main__":` never runs on import
            if isinstance(stmt, (ast.If, ast.For, ast.While, ast.With, ast.Try, ast.AsyncWith, ast.AsyncFor)):
                heads: list[ast.expr] = []
                if isinstance(stmt, (ast.If, ast.While)):
                    heads.append(stmt.test)
                elif isinstance(stmt, (ast.For, ast.AsyncFor)):
                    heads.append(stmt.iter)
                elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                    heads.extend(item.context_expr for item in stmt.items)
                for call in _calls_in(heads):
                    if (what := _denied(call)) is not None:
                        flag(call, f"call to {what}()")
                for body in _bodies(stmt):
                    visit(body, top)
                continue
            for node in ast.walk(stmt):
                if isinstance(node, ast.Call) and (what := _denied(node)) is not None:
                    flag(node, f"call to {what}()")

    visit(tree.body, True)
    return out


def _is_main_guard(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.comparators) == 1 and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def _bodies(stmt: ast.stmt) -> list[list[ast.stmt]]:
    out: list[list[ast.stmt]] = []
    for name in ("body", "orelse", "finalbody"):
        value = getattr(stmt, name, None)
        if isinstance(value, list) and value:
            out.append(value)
    for handler in getattr(stmt, "handlers", []) or []:
        out.append(handler.body)
    return out


def reads_metadata(tree: ast.Module) -> int | None:
    """The line of the first `<x>.get_metadata(...)` call in the module, if any."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get_metadata"):
            return node.lineno
    return None
