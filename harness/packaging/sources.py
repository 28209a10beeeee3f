"""Static inspection of function sources with `ast`: local helper modules, imports, top-level side effects,
and reads of connection metadata.

Nothing here imports the user's code: it reads the files, so a check cannot be fooled (or harmed) by what
a module does when it runs.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

# Always allowed, besides the standard library and `[tool.harness.package] allow_imports`.
BASE_ALLOWED = frozenset({"pydantic", "httpx", "harness", "typing_extensions", "annotated_types"})

# Calls that touch the network or the filesystem when they run at import time.
_DENIED_ROOTS = frozenset({"httpx", "requests", "urllib", "urllib3", "socket", "subprocess", "shutil",
                           "aiohttp", "http", "ftplib", "smtplib", "sqlite3", "tempfile", "glob"})
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


def _resolve_relative(path: Path, level: int, module: str | None, names: list[str], boundary: Path
                      ) -> list[Path]:
    """Files a relative import refers to, kept inside `boundary` (the integration's folder)."""
    base = path.parent
    for _ in range(level - 1):
        base = base.parent
    targets: list[Path] = []
    stems = [module] if module else names
    for stem in stems:
        target = base.joinpath(*stem.split("."))
        for candidate in (target.with_suffix(".py"), target / "__init__.py"):
            if candidate.is_file():
                targets.append(candidate)
                break
        if module:
            # `from ..pkg import mod`: `mod` may be a module of the package too.
            for name in names:
                sub = target / f"{name}.py"
                if sub.is_file():
                    targets.append(sub)
    inside = []
    for t in targets:
        try:
            t.resolve().relative_to(boundary.resolve())
        except ValueError:
            continue
        inside.append(t)
    return inside


def local_modules(entry: Path, boundary: Path) -> list[Path]:
    """The helper modules `entry` imports relatively, transitively, within `boundary` (sorted, no entry)."""
    seen: set[Path] = {entry.resolve()}
    todo = [entry]
    found: list[Path] = []
    while todo:
        current = todo.pop()
        try:
            tree = parse(current)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                for target in _resolve_relative(current, node.level, node.module, [a.name for a in node.names],
                                                boundary):
                    if target.resolve() not in seen:
                        seen.add(target.resolve())
                        found.append(target)
                        todo.append(target)
    return sorted(found)


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
