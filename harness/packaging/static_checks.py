"""The static checks every deployable tree passes before any of its code is imported: only allowed
imports, and nothing that touches the network or the filesystem at import time."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError, HarnessError
from ..loader import KIND_FOLDERS
from ..project import Project
from . import sources


class StaticCheckError(HarnessError):
    """A function file breaks a packaging rule (a disallowed import, a side effect at import time)."""

    def __init__(self, findings: list[str]) -> None:
        self.findings = findings
        more = f" (and {len(findings) - 1} more problem(s) above)" if len(findings) > 1 else ""
        super().__init__(findings[0] + more)


def allowed_imports(project: Project) -> frozenset[str]:
    table = project.settings.get("package") or {}
    # A table of the wrong type, or a misspelt key (`allow_import`), was ignored without a word: the imports
    # it meant to allow were then reported as disallowed, with nothing pointing at the setting.
    if not isinstance(table, dict):
        raise ConfigError(f"pyproject.toml: [tool.harness.package] must be a table, got {table!r}",
                          hint='write [tool.harness.package] allow_imports = ["..."]')
    unknown = sorted(set(table) - {"allow_imports"})
    if unknown:
        raise ConfigError(f"pyproject.toml: [tool.harness.package]: unknown key(s) {', '.join(unknown)}",
                          hint="known keys: allow_imports")
    extra = table.get("allow_imports", [])
    if not isinstance(extra, list) or not all(isinstance(x, str) for x in extra):
        raise ConfigError(f"[tool.harness.package] allow_imports must be a list of package names, got {extra!r}")
    return sources.BASE_ALLOWED | frozenset(extra)


def _entries(project: Project) -> list[Path]:
    """Function files as the loader finds them (the files `compile` will import)."""
    root = project.functions_dir
    if not root.is_dir():
        return []
    found: list[Path] = []
    for integration in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        for folder in KIND_FOLDERS:
            found += [p for p in sorted((integration / folder).glob("*.py")) if not p.name.startswith("_")]
    return found


def _scan(project: Project) -> tuple[list[Path], list[sources.Finding]]:
    files: set[Path] = set()
    problems: list[sources.Finding] = []
    for path in _entries(project):
        files.add(path)
        # Helpers anywhere under functions/ (another integration's folder, a shared one): all are imported
        # by the same package, so all are checked, and all go into the bundle.
        found = sources.local_imports(path, project.functions_dir)
        files.update(found.modules)
        problems += found.problems
    return sorted(files), problems


def function_files(project: Project) -> list[Path]:
    """Function files as the loader finds them, plus every local module they import (sorted)."""
    return _scan(project)[0]


def static_check(project: Project, files: list[Path] | None = None) -> list[str]:
    """Every finding over the files, rendered `file:line: message` (syntax errors are the loader's)."""
    allowed = allowed_imports(project)
    findings: list[sources.Finding] = []
    if files is None:
        files, findings = _scan(project)
    seen: set[tuple[str, int, str]] = set()
    for path in files:
        try:
            tree = sources.parse(path)
        except (SyntaxError, OSError, UnicodeDecodeError, ValueError):
            continue
        findings += sources.import_findings(path, tree, allowed)
        findings += sources.side_effect_findings(path, tree)
    out = []
    for f in sorted(findings, key=lambda f: (str(f.file), f.line, f.message)):
        key = (str(f.file), f.line, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f.render(project.root))
    return out


def require_clean(project: Project) -> None:
    findings = static_check(project)
    if findings:
        raise StaticCheckError(findings)
