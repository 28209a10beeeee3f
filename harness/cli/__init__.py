"""The `harness` command line: a thin click layer over the engine (`harness.pipeline` and `harness.verdict`).

Only click is imported at start-up (`harness --help` stays fast); each command imports what it needs.
Every `HarnessError` becomes one line on stderr and its documented exit code; a traceback is shown only
with `--debug`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from .. import __version__
from ..ci import under_ci
from ..errors import EXIT_INTERRUPTED, HarnessError, UsageError
from .failures import OneLineUsageError, one_line, usage_line

EXIT_INTERNAL = 70  # internal error (a bug in harness: please report it)
# Commands that speak a protocol on stdout (their stream must stay the process's own).
RAW_STDIO = frozenset({"mcp"})


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
            click.echo(one_line(f"internal error: {type(exc).__name__}: {exc}",
                                "run with --debug for the traceback, and please report it", root=_root(ctx)),
                       err=True)
            ctx.exit(EXIT_INTERNAL)


def _shows_help(exc: click.UsageError) -> bool:
    """click (>= 8.2) raises a usage error to show a group's help when it is given no command: keep that."""
    return type(exc).__name__ == "NoArgsIsHelpError"


def _usage(exc: click.UsageError, command: str | None = None) -> OneLineUsageError:
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


def _register() -> None:
    from .cassettes import cassettes
    from .check import check
    from .dev import dev
    from .docs import docs_cmd
    from .dryrun import dryrun
    from .events import event, webhook
    from .fuzz import fuzz
    from .import_nango import import_nango_cmd
    from .listing import list_functions
    from .mcp import mcp_cmd
    from .packaging import compile_cmd, deploy_cmd, package_cmd
    from .pytest_cmds import generate_tests, test_command
    from .records import records
    from .scaffold import clone_cmd, init_cmd, new_cmd
    from .serve import serve
    from .tools import tools

    main.add_command(dryrun)
    main.add_command(list_functions)
    main.add_command(test_command)
    main.add_command(generate_tests)
    import copy

    nango_name = copy.copy(generate_tests)  # Nango's name for it, kept out of the help list
    nango_name.hidden = True
    main.add_command(nango_name, name="generate:tests")
    main.add_command(webhook)
    main.add_command(event)
    main.add_command(records)
    main.add_command(check)
    main.add_command(fuzz)
    main.add_command(cassettes)
    main.add_command(import_nango_cmd)
    main.add_command(compile_cmd)
    main.add_command(package_cmd)
    main.add_command(deploy_cmd)
    main.add_command(init_cmd)
    main.add_command(new_cmd)
    main.add_command(clone_cmd)
    main.add_command(tools)
    main.add_command(dev)
    main.add_command(mcp_cmd)
    main.add_command(docs_cmd)
    main.add_command(serve)


_register()

