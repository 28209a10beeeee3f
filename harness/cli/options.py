"""Parsing of option values shared by commands (`JSON|@file` arguments, the project)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import UsageError

if TYPE_CHECKING:
    from ..project import Project


def json_arg(option: str, value: str) -> Any:
    """A JSON value, or `@path` to a JSON file; UsageError naming the option otherwise."""
    source = value
    if value.startswith("@"):
        path = Path(value[1:])
        try:
            source = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"{option}: file {path} does not exist", hint="pass @path/to/file.json") from None
        except OSError as exc:
            raise UsageError(f"{option}: cannot read {path}: {exc.strerror}") from None
        where = f"{option} file {path}"
    else:
        where = option
    try:
        return json.loads(source)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
                         hint="pass a JSON value such as '{\"title\": \"x\"}' or @file.json") from None


def project_of(ctx: click.Context) -> Project:
    from ..project import load_project

    root = (ctx.obj or {}).get("project")
    return load_project(root)
