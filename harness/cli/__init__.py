"""The `harness` command line: a thin click layer over the engine (`harness.pipeline` and `harness.verdict`).

Only click is imported at start-up (`harness --help` stays fast); each command imports what it needs.
Every `HarnessError` becomes one line on stderr and its documented exit code; a traceback is shown only
with `--debug`.
"""

from __future__ import annotations

import atexit
import copy
import gc
import importlib
import os
import sys
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import click

from .. import __version__
from ..ci import under_ci
from ..errors import EXIT_INTERRUPTED, EXIT_USAGE, HarnessError, UsageError

EXIT_INTERNAL = 70  # internal error (a bug in harness: please report it)
# Commands that speak a protocol on stdout (their stream must stay the process's own).
RAW_STDIO = frozenset({"mcp"})


def _settle_heap() -> None:
    """At exit: collect what is garbage now (its finalizers run as usual), then freeze the rest. The
    interpreter's own last collections would otherwise walk every object the imports made (pydantic's,
    httpx's, the function's...), a fifth of a short command's CPU time, to free what the process's end frees
    anyway. Runs after the atexit handlers registered later (temporary folders' clean-up among them)."""
    gc.collect()
    gc.freeze()


atexit.register(_settle_heap)


def _root(ctx: click.Context) -> Path | None:
    """The project root a command loaded (for relative paths in its error line), else the --project folder."""
    obj = ctx.find_root().obj or {}
    root = obj.get("root") or obj.get("project")
    return Path(root) if root is not None and Path(root).is_dir() else None


class HarnessGroup(click.Group):
    """The root group: one line on stderr for every error, click's usage errors included; NO_COLOR honoured."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        if os.environ.get("NO_COLOR") and "color" not in extra:
            extra["color"] = False  # click.echo then strips styles even on a terminal (https://no-color.org)
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            if _shows_help(exc):
                raise
            raise _usage(exc) from None

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                          list[str]]:
        name, cmd, rest = super().resolve_command(ctx, args)
        # click's parser raises some usage errors without a context: remember which command was being parsed.
        path = [name or ""]
        if isinstance(cmd, click.Group) and rest and cmd.get_command(ctx, rest[0]) is not None:
            path.append(rest[0])
        ctx.meta["harness.command"] = " ".join(["harness", *path])
        return name, cmd, rest

    def invoke(self, ctx: click.Context) -> Any:
        from ..secrets.redact import redacting_std_streams, redaction_scope

        # Everything the command prints (its output, --json, error lines) loses the secrets its runs knew,
        # unless --show-secrets asked otherwise for this one local run.
        show = bool(ctx.params.get("show_secrets"))
        # A protocol on stdio (`harness mcp`) writes its own framed bytes: results reach it redacted by the
        # pipeline, so the stream itself is left alone.
        words = [*getattr(ctx, "_protected_args", []), *ctx.args]
        raw = bool(words) and words[0] in RAW_STDIO
        with redaction_scope(show=show), redacting_std_streams(active=not show and not raw):
            return self._invoke(ctx)

    def _invoke(self, ctx: click.Context) -> Any:
        debug = bool(ctx.params.get("debug")) or "--debug" in sys.argv
        try:
            if ctx.params.get("show_secrets") and under_ci():
                raise UsageError("--show-secrets is refused under CI (it is for one local run)",
                                 hint="unset CI, or drop --show-secrets")
            return super().invoke(ctx)
        except HarnessError as exc:
            if debug:
                raise
            from .failures import one_line

            root = _root(ctx)
            # An error that lists several problems (compile, static checks, settings): each on its own line.
            for problem in (getattr(exc, "problems", None) or getattr(exc, "findings", None) or [])[1:]:
                click.echo(one_line(str(problem), root=root), err=True)
            click.echo(one_line(exc.message, exc.hint, root=root), err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except click.UsageError as exc:
            if _shows_help(exc):
                raise
            raise _usage(exc, ctx.meta.get("harness.command")) from None
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as exc:
            if debug:
                raise
            from .failures import one_line

            if isinstance(exc, OSError) and exc.filename is not None:
                # A file or folder of the user's that cannot be read or written (its permissions, a file where
                # a folder belongs, a full disk) is theirs to fix, not a bug to report: the path, the reason,
                # exit 2. The commands that write several files check their folders first; this is the last
                # resort, for a command that writes one file or none.
                import re

                # The file meant, not an atomic write's temporary one (`.<name>.~<owner>-<random>.tmp`), nor
                # the temporary side of its rename.
                where = re.sub(r"(^|/)\.([^/]+)\.~[0-9]+-[0-9]+-[0-9a-f]+\.tmp$", r"\1\2",
                               os.fsdecode(exc.filename2 or exc.filename))
                click.echo(one_line(f"cannot write or read {where}: {exc.strerror or exc}",
                                    "check its permissions, and that it is a file or a folder as expected",
                                    root=_root(ctx)), err=True)
                ctx.exit(EXIT_USAGE)

            click.echo(one_line(f"internal error: {type(exc).__name__}: {exc}",
                                "run with --debug for the traceback, and please report it", root=_root(ctx)),
                       err=True)
            ctx.exit(EXIT_INTERNAL)


def _shows_help(exc: click.UsageError) -> bool:
    """click (>= 8.2) raises a usage error to show a group's help when it is given no command: keep that."""
    return type(exc).__name__ == "NoArgsIsHelpError"


def _usage(exc: click.UsageError, command: str | None = None) -> click.ClickException:
    from .failures import OneLineUsageError, one_line, usage_line

    what, hint = usage_line(exc, command)
    return OneLineUsageError(one_line(what, hint, root=_root(exc.ctx) if exc.ctx is not None else None))


@click.group(cls=HarnessGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="harness")
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Project folder (default: found from the current folder).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.option("--show-secrets", is_flag=True,
              help="Print known secret values as they are, for this one local run (refused under CI).")
@click.pass_context
def main(ctx: click.Context, project: Path | None, debug: bool, show_secrets: bool) -> None:
    """Dry-run, record and test integration functions (syncs, actions, webhooks, event functions).

    \b
    Exit codes:
      0  success
      1  the function failed, or its data failed validation
      2  usage or configuration error (bad option, unknown function or connection, broken definition)
      3  recording problem (missing or invalid cassette, request not recorded, secret found)
      4  deploy: the target could not be written or did not accept the bundle
      5  records store locked by another process beyond the timeout, or damaged
      70 internal error (a bug in harness)
      130 interrupted
    """
    ctx.obj = {"project": project, "debug": debug, "show_secrets": show_secrets}


# Every command, by name: (module under harness.cli, attribute). A command's module is imported the first time
# the command is looked up, so `harness dryrun ...` imports the dry run's code and not that of the 20 others
# (click's `--help` and the tests that walk `main.commands` still see them all: looking one up loads it).
COMMANDS: dict[str, tuple[str, str]] = {
    "dryrun": ("dryrun", "dryrun"),
    "list": ("listing", "list_functions"),
    "test": ("pytest_cmds", "test_command"),
    "generate-tests": ("pytest_cmds", "generate_tests"),
    "generate:tests": ("pytest_cmds", "generate_tests"),  # Nango's name for it, kept out of the help list
    "webhook": ("events", "webhook"),
    "event": ("events", "event"),
    "records": ("records", "records"),
    "check": ("check", "check"),
    "fuzz": ("fuzz", "fuzz"),
    "cassettes": ("cassettes", "cassettes"),
    "import-nango": ("import_nango", "import_nango_cmd"),
    "compile": ("packaging", "compile_cmd"),
    "package": ("packaging", "package_cmd"),
    "deploy": ("packaging", "deploy_cmd"),
    "init": ("scaffold", "init_cmd"),
    "new": ("scaffold", "new_cmd"),
    "clone": ("scaffold", "clone_cmd"),
    "tools": ("tools", "tools"),
    "dev": ("dev", "dev"),
    "mcp": ("mcp", "mcp_cmd"),
    "docs": ("docs", "docs_cmd"),
    "serve": ("serve", "serve"),
}
_HIDDEN = frozenset({"generate:tests"})


class LazyCommands(MutableMapping[str, click.Command]):
    """The root group's `commands`: every name is listed at once, each command is imported when first read."""

    def __init__(self, table: dict[str, tuple[str, str]]) -> None:
        self._table = dict(table)
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        cmd = self._loaded.get(name)
        if cmd is not None:
            return cmd
        module, attribute = self._table[name]
        cmd = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
        assert isinstance(cmd, click.Command)
        if name in _HIDDEN:
            cmd = copy.copy(cmd)
            cmd.hidden = True
        self._loaded[name] = cmd
        return cmd

    def __setitem__(self, name: str, cmd: click.Command) -> None:
        self._table.pop(name, None)
        self._loaded[name] = cmd

    def __delitem__(self, name: str) -> None:
        if name not in self._loaded and name not in self._table:
            raise KeyError(name)
        self._loaded.pop(name, None)
        self._table.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._table or name in self._loaded

    def __iter__(self) -> Iterator[str]:
        yield from self._table
        yield from (n for n in self._loaded if n not in self._table)

    def __len__(self) -> int:
        return len(self._table.keys() | self._loaded.keys())


main.commands = LazyCommands(COMMANDS)
