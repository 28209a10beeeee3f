"""Option values shared by commands: `JSON|@file` arguments, connection ids, the mode flags, the project."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import UsageError

if TYPE_CHECKING:
    from ..project import Project

F = TypeVar("F", bound=Callable[..., Any])


def connection_id(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A connection id as given on the command line (a click callback). Nango's ids are free text, so any is
    taken but the empty one (which the pipeline reads as "none named": `dryrun issues ""` replayed as the
    cassette's connection) and one with control characters (a stray newline or NUL from a script)."""
    if value is None:
        return None
    if not value.strip():
        raise click.BadParameter("empty; give a connection id from the connections file", ctx=ctx, param=param)
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise click.BadParameter(f"{value!r} holds a control character", ctx=ctx, param=param)
    return value


def json_arg(option: str, value: str) -> Any:
    """A JSON value, or `@path` to a JSON file; UsageError naming the option otherwise."""
    source = value
    if value.startswith("@"):
        path = Path(value[1:])
        try:
            source = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"{option}: file {path} does not exist", hint="pass @path/to/file.json") from None
        except UnicodeDecodeError as exc:
            # JSON is UTF-8 (RFC 8259); a file in another encoding was an "internal error" (exit 70).
            raise UsageError(f"{option}: file {path} is not UTF-8 text (byte {exc.start})",
                             hint="save it as UTF-8") from None
        except OSError as exc:
            raise UsageError(f"{option}: cannot read {path}: {exc.strerror}",
                             hint="pass @path/to/file.json") from None
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

    obj = ctx.find_root().obj
    root = (obj or {}).get("project")
    project = load_project(root)
    if isinstance(obj, dict):
        obj["root"] = project.root  # error lines show paths relative to it
    return project


_MODE_FLAGS: dict[str, tuple[tuple[str, ...], str]] = {
    "live": (("--live",), "Call the provider (needs credentials)."),
    "replay": (("--replay",), "Answer from the recording; never open a socket."),
    "record": (("--record",), "Call the provider and save the exchanges as the scenario's cassette "
                              "(secrets scrubbed)."),
}


def mode_flags(*modes: str, help: dict[str, str] | None = None,
               aliases: dict[str, tuple[str, ...]] | None = None) -> Callable[[F], F]:
    """`--live` / `--replay` / `--record` as separate flags passed to the command as one `mode` argument.

    click's shared-destination flags let the last one win silently (`--live --replay` replays); these are
    separate, so giving two of them is refused as a usage error naming both.
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            given = [m for m in modes if kwargs.pop(f"mode_{m}", False)]
            if len(given) > 1:
                flags = " and ".join(_MODE_FLAGS[m][0][0] for m in given)
                raise UsageError(f"{flags} contradict each other", hint="pass one of them")
            if given:
                kwargs["mode"] = given[0]
            else:
                kwargs.setdefault("mode", None)  # ctx.invoke(...) from another command may pass mode= itself
            return fn(*args, **kwargs)

        decorated: Any = wrapper
        for mode in reversed(modes):
            names, text = _MODE_FLAGS[mode]
            decorated = click.option(*names, *(aliases or {}).get(mode, ()), f"mode_{mode}", is_flag=True,
                                     help=(help or {}).get(mode, text))(decorated)
        return decorated  # type: ignore[no-any-return]

    return decorate


def json_object_arg(option: str, value: str, *, allow_null: bool = False) -> Any:
    """`json_arg` for values that must be a JSON object (metadata, checkpoints)."""
    parsed = json_arg(option, value)
    if isinstance(parsed, dict) or (allow_null and parsed is None):
        return parsed
    kind = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number",
            type(None): "null"}.get(type(parsed), type(parsed).__name__)
    raise UsageError(f"{option}: must be a JSON object, got {kind}",
                     hint="pass e.g. '{\"key\": \"value\"}'" + (" or null" if allow_null else ""))


def folder_we_may_create(project: Project, folder: Path, option: str) -> None:
    """Commands create missing folders only inside the project; outside it, `folder` must already exist."""
    target = folder if folder.is_absolute() else Path.cwd() / folder
    if target.is_dir():
        return
    existing = target
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise UsageError(f"{option}: {existing} is a file, so {folder} cannot be created")
    root = project.root.resolve()
    resolved = target.resolve()
    if resolved != root and root not in resolved.parents:
        raise UsageError(f"{option}: folder {folder} does not exist (harness creates folders only inside the "
                         "project)", hint="create it first, or pick a folder inside the project")
