"""Every error the CLI prints, as one line: `error: <what> (<how to fix>)`.

click's own usage errors (a bad option value, an unknown option or command, a missing argument) are rewritten
from click's three-line usage block into the same one-line shape as harness's own errors, with a pointer to
the command's `--help`. Messages are single lines, absolute paths under the project (or the current folder)
are shown relative to it, and anything longer than `MAX_LINE` characters is cut, keeping the hint.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import click

MAX_LINE = 300
_RANGE = re.compile(r"is not in the range (?P<range>\S+?)\.?$")


def _range_text(spec: str) -> str:
    """click's range notation (`x>=1`, `1<=x<=10000`, `x>0`) in words a user reads at a glance."""
    both = re.fullmatch(r"(-?[\d.]+)(<=|<)x(<=|<)(-?[\d.]+)", spec)
    if both:
        low, high = both.group(1), both.group(4)
        return f"between {low} and {high}" + ("" if both.group(2) == both.group(3) == "<=" else " (exclusive)")
    one = re.fullmatch(r"x(>=|>|<=|<)(-?[\d.]+)", spec)
    if one:
        return f"{one.group(1)} {one.group(2)}"
    return f"in the range {spec}"


def _name_of(param: click.Parameter | None) -> str | None:
    if param is None:
        return None
    if isinstance(param, click.Option):
        longs = [o for o in param.opts if o.startswith("--")]
        return (longs or param.opts)[0]
    return (param.name or param.human_readable_name).upper()  # an argument: its name as the usage line shows it


def _command_path(ctx: click.Context | None) -> str:
    if ctx is None:
        return "harness"
    names = []
    while ctx is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    names[-1] = "harness"  # the root's name depends on how it was started (`harness`, `python -m harness`)
    return " ".join(reversed([n for n in names if n]))


def _strip(text: str) -> str:
    text = text.strip()
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1]
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[:2].isupper() else text


def usage_line(exc: click.UsageError, command: str | None = None) -> tuple[str, str | None]:
    """(what, hint) for one of click's usage errors; `command` names it when click gave no context."""
    ctx = exc.ctx
    if isinstance(exc, click.NoSuchOption):
        what = f"unknown option {exc.option_name}"
        if exc.possibilities:
            what += f" (did you mean {', '.join(exc.possibilities)}?)"
    elif exc.message.startswith("No such command"):  # click >= 8.4 raises NoSuchCommand, older a UsageError
        name = _unknown_command_name(exc)
        what = f"unknown command {name!r}"
        group = ctx.command if ctx is not None else None
        if ctx is not None and isinstance(group, click.Group) and name:
            close = difflib.get_close_matches(name, [c for c in group.list_commands(ctx) if not
                                                     (group.get_command(ctx, c) or group).hidden], n=3)
            if close:
                what += f" (did you mean {', '.join(close)}?)"
    elif isinstance(exc, click.MissingParameter):
        kind = exc.param_type or (exc.param.param_type_name if exc.param is not None else "parameter")
        missing = _name_of(exc.param) or (str(exc.param_hint) if exc.param_hint else "")
        what = f"missing {kind} {missing}".rstrip()
    elif isinstance(exc, click.BadParameter):
        param = _name_of(exc.param) or (str(exc.param_hint).strip("'\"") if exc.param_hint else None)
        message = _RANGE.sub(lambda m: "is not " + _range_text(m.group("range")), exc.message.strip())
        what = f"{param}: {_strip(message)}" if param else _strip(message)
    elif isinstance(exc, click.BadOptionUsage):
        what = _strip(exc.message).replace("option '", "").replace("' requires an argument", " needs a value")
    else:
        what = _strip(exc.message)
        what = re.sub(r"^got unexpected extra arguments? \((.*)\)$", r"unexpected extra argument(s): \1", what)
    return what, f"see {_command_path(ctx) if ctx is not None or command is None else command} --help"


def _unknown_command_name(exc: click.UsageError) -> str:
    m = re.match(r"No such command '(.*)'", exc.message)
    return m.group(1) if m else getattr(exc, "command_name", "")


def _roots(root: Path | None) -> list[str]:
    candidates: list[Path] = []
    if root is not None:
        candidates += [root, root.resolve()]
    cwd = Path(os.getcwd())
    candidates += [cwd, cwd.resolve()]
    seen: list[str] = []
    for c in candidates:
        text = str(c).rstrip(os.sep)
        if text and text != os.sep and text not in seen:
            seen.append(text)
    # Longest first, so a project inside the current folder is stripped as the project.
    return sorted(seen, key=len, reverse=True)


def relativize(text: str, root: Path | None) -> str:
    """Absolute paths under the project root (else the current folder) shown relative to it."""
    for prefix in _roots(root):
        text = text.replace(prefix + os.sep, "")
        text = re.sub(re.escape(prefix) + r"(?=[\s'\":),;]|$)", ".", text)  # the folder itself
    return text


def one_line(what: str, hint: str | None = None, *, root: Path | None = None) -> str:
    """`error: what (hint)` on one line, relative paths, at most MAX_LINE characters (the hint kept)."""
    what = " ".join(relativize(what, root).split())
    how = " ".join(relativize(hint, root).split()) if hint else ""
    room = MAX_LINE - len("error: ")
    # What went wrong comes first: the hint gives way (down to a third of the line) before the message does.
    if how and len(what) + len(how) + 3 > room:
        keep = max(room // 3, room - 3 - len(what))
        if len(how) > keep:
            how = how[: keep - 3].rstrip() + "..."
    tail = f" ({how})" if how else ""
    budget = room - len(tail)
    if len(what) > budget:
        what = what[: max(budget - 3, 40)].rstrip() + "..."
    return f"error: {what}{tail}"


class OneLineUsageError(click.ClickException):
    """A usage error shown as one line; click's `main` prints it with `show()` and exits with its code."""

    exit_code = 2

    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line

    def show(self, file: object = None) -> None:
        click.echo(self.line, err=True)
