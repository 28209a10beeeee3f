"""The project's functions as one JSON document (`harness list --json`, the MCP dev tool `list_functions`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .definitions import ActionDefinition, EventDefinition, SyncDefinition
from .loader import Catalog
from .project import Project


def function_rows(project: Project, catalog: Catalog) -> list[dict[str, Any]]:
    """One row per function (name, integration, type, file, description, and what its type adds)."""
    rows: list[dict[str, Any]] = []
    for d in sorted(catalog.definitions, key=lambda d: (d.integration, d.type, d.name)):
        row: dict[str, Any] = {"name": d.name, "integration": d.integration, "type": d.type,
                               "file": project.relative(Path(d.file)),
                               "description": d.description}
        if isinstance(d, SyncDefinition):
            row.update(models=list(d.models), frequency=d.frequency, webhook=d.webhook is not None)
        elif isinstance(d, ActionDefinition):
            row.update(input=getattr(d.input, "__name__", None), output=getattr(d.output, "__name__", None))
        elif isinstance(d, EventDefinition):
            row.update(event=d.event)
        rows.append(row)
    return rows


def listing_document(project: Project, catalog: Catalog) -> dict[str, Any]:
    """`{"functions": [...], "problems": [{file, line, message}]}`: what `harness list --json` prints."""
    problems = [{"file": p.file, "line": p.line, "message": p.message} for p in catalog.problems]
    return {"functions": function_rows(project, catalog), "problems": problems}
