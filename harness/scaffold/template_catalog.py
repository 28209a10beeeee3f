"""The bundled template catalog (`templates/catalog.yaml` plus one project tree per template) and cloning.

Cloning copies a template's files into a project and adds its connection to the connections file. It is
all or nothing: every conflict is found before anything is written, a file that already holds the same
bytes is left alone, and a file with other content is never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..atomic import unwritable, write_atomic
from ..errors import ConfigError, NotFoundError
from ..names import check_name, inside
from ..project import Project

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    function: str  # integration/name
    connection: str

    def files(self) -> list[Path]:
        """The template's files, relative to its folder (functions/..., cassettes/...), sorted."""
        base = TEMPLATES_DIR / self.name
        return sorted(p.relative_to(base) for p in base.rglob("*")
                      if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


@dataclass(frozen=True)
class TemplateCatalog:
    templates: dict[str, Template]
    connections: dict[str, dict[str, Any]]

    def get(self, name: str) -> Template:
        if name not in self.templates:
            import difflib

            close = difflib.get_close_matches(name, list(self.templates), n=3)
            hint = ("did you mean " + ", ".join(close) + "?") if close else "see `harness clone --list`"
            raise NotFoundError(f"unknown template {name!r}", hint=hint)
        return self.templates[name]


def load_catalog() -> TemplateCatalog:
    # libyaml's safe loader: the same data as PyYAML's pure-Python one, a tenth of the time (2.7 ms to 0.3 ms).
    data = yaml.load((TEMPLATES_DIR / "catalog.yaml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    connections = data.pop("connections")
    templates = {name: Template(name, entry["description"], entry["function"], entry["connection"])
                 for name, entry in data.items()}
    return TemplateCatalog(templates, connections)


def write_connections(path: Path, entries: dict[str, dict[str, Any]]) -> list[str]:
    """Add connections the file does not have yet (existing ones win); the ids added."""
    text, added = connections_update(path, entries)
    if text is not None:
        write_atomic(path, text)
    return added


def connections_update(path: Path, entries: dict[str, dict[str, Any]]) -> tuple[str | None, list[str]]:
    """The file's new text with the connections it does not have yet (None: nothing to add), and their ids;
    a file that is not valid YAML, or not a mapping of connections, is a `ConfigError`."""
    if path.exists() and not path.is_file():
        raise ConfigError(f"{path} is not a file", hint="move that folder out of the way, then clone again")
    try:
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})",
                          hint="save it as UTF-8, then clone again") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})", hint="fix its permissions") from None
    try:
        data = yaml.load(text, Loader=yaml.CSafeLoader) if text else None
    except yaml.YAMLError as exc:
        # Where and what, as the connections reader says it (the exception's own text names "<unicode string>").
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise ConfigError(f"{path}{line}: not valid YAML ({problem})", hint="fix it, then clone again") from None
    data = data or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a top-level `connections:` mapping of id -> connection",
                          hint="fix it, then clone again")
    existing = data.get("connections") or {}
    if not isinstance(existing, dict):
        raise ConfigError(f"{path}: 'connections' must be a mapping of connection ids",
                          hint="fix it, then clone again")
    added = {cid: entry for cid, entry in entries.items() if cid not in existing}
    if not added:
        return None, []
    block = yaml.safe_dump({"connections": added}, sort_keys=False, default_flow_style=False)
    if not text:
        text = ("# Connections of this project. No secret is written here: `${NAME}` reads the environment\n"
                "# or the project's .env file. Replays need no credentials at all.\n" + block)
    elif list(data) == ["connections"] and existing:
        # Append under the existing mapping so the file's comments survive.
        indented = "".join(line + "\n" for line in block.splitlines()[1:])
        text = text.rstrip("\n") + "\n" + indented
    else:
        data["connections"] = {**existing, **added}
        text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    return text, list(added)


@dataclass
class CloneResult:
    written: list[Path]
    unchanged: list[Path]
    connections: list[str]


def clone(project: Project, name: str, catalog: TemplateCatalog | None = None) -> CloneResult:
    catalog = catalog or load_catalog()
    check_name("template", name)
    template = catalog.get(name)
    base = TEMPLATES_DIR / template.name
    plan: list[tuple[Path, bytes]] = []
    unchanged: list[Path] = []
    conflicts: list[str] = []
    for rel in template.files():
        data = (base / rel).read_bytes()
        top = rel.parts[0]
        root = {"functions": project.functions_dir, "cassettes": project.cassettes_dir}.get(top)
        if root is None:
            continue
        target = root.joinpath(*rel.parts[1:])
        if not inside(root, target):
            conflicts.append(f"{project.relative(target)} (outside {project.relative(root)}: a symlink?)")
            continue
        if target.exists():
            if target.is_dir():
                conflicts.append(f"{project.relative(target)} (a folder)")
            elif target.read_bytes() == data:
                unchanged.append(target)
            else:
                conflicts.append(project.relative(target))
            continue
        plan.append((target, data))
    if conflicts:
        raise ConfigError(f"cloning {name} would overwrite {', '.join(conflicts)}",
                          hint="move or rename those files first; nothing was written")
    # The connections file is read (and refused if broken) before anything is written: a clone is whole or
    # leaves the project as it was.
    text, added = connections_update(project.connections_file,
                                     {template.connection: catalog.connections[template.connection]})
    # So are the folders it writes into: a file where a folder belongs, or a folder it may not write, found
    # after the first files were copied would leave half a template behind.
    folders = {target.parent for target, _ in plan}
    if text is not None:
        folders.add(project.connections_file.parent)
    for folder in sorted(folders):
        problem = unwritable(folder)
        if problem is not None:
            raise ConfigError(f"cannot clone {name}: {project.relative(problem.part)} {problem.reason}",
                              hint=f"{problem.fix}; nothing was written")
    for target, data in plan:
        write_atomic(target, data)
    if text is not None:
        write_atomic(project.connections_file, text)
    return CloneResult([t for t, _ in plan], unchanged, added)
