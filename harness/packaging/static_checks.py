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
    extra = table.get("allow_imports", []) if isinstance(table, dict) else []
    if not isinstance(extra, list) or not all(isinstance(x, str) for x in extra):
        raise ConfigError(f"[tool.harness.package] allow_imports must be a list of package names, got {extra!r}")
    return sources.BASE_ALLOWED | frozenset(extra)


def function_files(project: Project) -> list[Path]:
    """Function files as the loader finds them, plus the local modules they import (sorted)."""
    found: set[Path] = set()
    root = project.functions_dir
    if not root.is_dir():
        return []
    for integration in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        for folder in KIND_FOLDERS:
            for path in sorted((integration / folder).glob("*.py")):
                if path.name.startswith("_"):
                    continue
                found.add(path)
                found.update(sources.local_modules(path, integration))
    return sorted(found)


def static_check(project: Project, files: list[Path] | None = None) -> list[str]:
    """Every finding over the files, rendered `file:line: message` (syntax errors are the loader's)."""
    allowed = allowed_imports(project)
    findings: list[sources.Finding] = []
    for path in files if files is not None else function_files(project):
        try:
            tree = sources.parse(path)
        except SyntaxError:
            continue
        findings += sources.import_findings(path, tree, allowed)
        findings += sources.side_effect_findings(path, tree)
    return [f.render(project.root) for f in sorted(findings, key=lambda f: (str(f.file), f.line))]


def require_clean(project: Project) -> None:
    findings = static_check(project)
    if findings:
        raise StaticCheckError(findings)
