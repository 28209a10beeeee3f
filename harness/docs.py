"""The reference `harness docs` prints, generated from the code so that it cannot drift from it.

- `api`: the decorators and the `nango` context (`ActionContext`, `SyncContext`): every public method and
  property with its signature as written in the source and the first paragraph of its docstring;
- `cli`: every command of click's command tree with its usage, help and options;
- `config`: the `[tool.harness]` keys the project loader accepts (`project._KNOWN_KEYS`), described here;
- `exit-codes`: every `EXIT_* = N  # meaning` constant of the package;
- `workflow`: the agent workflow `harness init` writes into AGENTS.md.

A topic may also be a command (`harness docs dryrun`, `harness docs "cassettes lint"`).
"""

from __future__ import annotations

import ast
import inspect
import io
import tokenize
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from .errors import UsageError

TOPICS = ("api", "cli", "config", "exit-codes", "workflow")

# What each `[tool.harness]` key means. A key the loader accepts without an entry here fails the docs test.
CONFIG_KEYS: dict[str, tuple[str, str]] = {
    "functions": ('"functions"', "folder of `<integration>/{syncs,actions,on_events}/<module>.py`"),
    "cassettes": ('"cassettes"', "folder of `<integration>/<function>/<scenario>.yaml` and their snapshots"),
    "fixtures": ('"fixtures"', "folder of test fixtures (webhook payloads, inputs)"),
    "connections": ('"fixtures/connections.yaml"', "the connections file (`${ENV}` references for secrets)"),
    "state": ('".harness"', "local state: records.sqlite, tokens.json, metadata.json, manifest.json, deployed.json"),
    "providers": ("{}", "`[tool.harness.providers.<name>]`: add or override provider catalog entries (base_url, "
                        "token_url, headers, query, body, paginate, retry, alias)"),
    "scrub": ("{}", "`[tool.harness.scrub]`: extra scrub rules: headers, params, keys (JSON keys), patterns "
                    "(regular expressions)"),
    "snapshot": ("{}", "`[tool.harness.snapshot]`: `exclude = [paths]` and `types = {path = type}` for volatile "
                       "fields of scenario snapshots"),
    "package": ("{}", "`[tool.harness.package]`: `allow_imports = [...]`, packages deployed functions may import "
                      "besides the standard library, pydantic, httpx and harness"),
    "deploy": ("{}", "`[tool.harness.deploy]`: reserved for deploy settings"),
}


# -- api -------------------------------------------------------------------------------------------------


def _first_paragraph(doc: str | None) -> str:
    if not doc:
        return ""
    return " ".join(inspect.cleandoc(doc).split("\n\n")[0].split())


def _default(value: Any) -> str:
    if type(value) is object:  # a private sentinel: "not given"
        return "<unset>"
    return repr(value)


def signature_text(fn: Callable[..., Any], *, drop_self: bool = True) -> str:
    """`(method='GET', endpoint='', *, params: dict[str, Any] | None = None)`: annotations as written."""
    parts: list[str] = []
    star_done = False
    for n, p in enumerate(inspect.signature(fn).parameters.values()):
        if drop_self and n == 0 and p.name in ("self", "cls"):
            continue
        if p.kind is p.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        text = p.name
        if p.kind is p.VAR_POSITIONAL:
            text, star_done = f"*{p.name}", True
        elif p.kind is p.VAR_KEYWORD:
            text = f"**{p.name}"
        if p.annotation is not p.empty:
            text += f": {p.annotation if isinstance(p.annotation, str) else inspect.formatannotation(p.annotation)}"
        if p.default is not p.empty:
            text += f" = {_default(p.default)}"
        parts.append(text)
    ret = inspect.signature(fn).return_annotation
    if ret is inspect.Signature.empty:
        return f"({', '.join(parts)})"
    return f"({', '.join(parts)}) -> {ret if isinstance(ret, str) else inspect.formatannotation(ret)}"


def _members(cls: type) -> Iterator[dict[str, Any]]:
    """Public members defined on `cls` itself, in source order."""
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, property):
            ret = inspect.signature(value.fget).return_annotation if value.fget else None
            yield {"name": name, "kind": "property", "signature": str(ret) if ret else "",
                   "doc": _first_paragraph(value.__doc__), "async": False}
        elif isinstance(value, type):
            yield {"name": name, "kind": "class", "signature": f"class {value.__name__}",
                   "doc": _first_paragraph(value.__doc__), "async": False}
        elif inspect.isfunction(value):
            yield {"name": name, "kind": "method", "signature": signature_text(value),
                   "doc": _first_paragraph(value.__doc__), "async": inspect.iscoroutinefunction(value)}


def context_classes() -> list[type]:
    from .context import ActionContext, SyncContext

    return [ActionContext, SyncContext]


def api_reference() -> dict[str, Any]:
    from . import definitions

    decorators = [{"name": fn.__name__, "signature": signature_text(fn, drop_self=False),
                   "doc": _first_paragraph(fn.__doc__)}
                  for fn in (definitions.sync, definitions.action, definitions.on_event)]
    decorators.append({"name": "ActionError",
                       "signature": signature_text(definitions.ActionError.__init__).removesuffix(" -> None"),
                       "doc": _first_paragraph(definitions.ActionError.__doc__)})
    classes = [{"name": cls.__name__, "doc": _first_paragraph(cls.__doc__),
                "bases": [b.__name__ for b in cls.__bases__ if b is not object], "members": list(_members(cls))}
               for cls in context_classes()]
    return {"decorators": decorators, "contexts": classes}


def _render_api(ref: dict[str, Any]) -> list[str]:
    out = ["## Authoring API", "", "`from harness import sync, action, on_event, ActionError, SyncContext, "
           "ActionContext`", "", "### Decorators", "", "| name | signature | what it does |", "|---|---|---|"]
    for d in ref["decorators"]:
        out.append(f"| `{d['name']}` | `{_cell(d['signature'])}` | {_cell(d['doc'])} |")
    for cls in ref["contexts"]:
        extends = f" (everything of `{cls['bases'][0]}`, plus)" if cls["bases"] else ""
        out += ["", f"### `{cls['name']}`{extends}", "", cls["doc"], "", "| member | signature | what it does |",
                "|---|---|---|"]
        for m in cls["members"]:
            prefix = "await " if m["async"] else ""
            out.append(f"| `{prefix}nango.{m['name']}` | `{_cell(m['signature'])}` | {_cell(m['doc'])} |")
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# -- cli -------------------------------------------------------------------------------------------------


def _walk(cmd: click.Command, ctx: click.Context) -> Iterator[tuple[click.Command, click.Context]]:
    yield cmd, ctx
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.list_commands(ctx)):
            sub = cmd.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from _walk(sub, click.Context(sub, info_name=name, parent=ctx))


def _cli_root() -> click.Command:
    # The reference reads the command line that is running (every caller is one of its commands); importing
    # it from here would make the engine depend on its own face.
    import sys

    root = getattr(sys.modules.get("harness.cli"), "main", None)
    if not isinstance(root, click.Command):
        raise UsageError("the command reference needs the harness CLI loaded", hint="import harness.cli first")
    return root


def command_tree() -> list[dict[str, Any]]:
    """Every command: `path` ("harness cassettes lint"), usage, help, arguments and options."""
    main = _cli_root()
    commands = []
    for cmd, ctx in _walk(main, click.Context(main, info_name="harness")):
        options = []
        arguments = []
        for param in cmd.get_params(ctx):
            if isinstance(param, click.Argument):
                arguments.append({"name": param.human_readable_name, "required": param.required,
                                  "multiple": param.multiple or param.nargs == -1})
            elif isinstance(param, click.Option) and not param.hidden and param.name != "help":
                record = param.get_help_record(ctx)
                options.append({"name": param.name, "opts": record[0] if record else " / ".join(param.opts),
                                "help": record[1] if record else ""})
        usage = " ".join([ctx.command_path, *cmd.collect_usage_pieces(ctx)])
        commands.append({"path": ctx.command_path, "usage": usage,
                         "help": _help_markdown(cmd.help or ""),
                         "short_help": cmd.get_short_help_str(limit=120), "group": isinstance(cmd, click.Group),
                         "arguments": arguments, "options": options})
    return commands


def _help_markdown(text: str) -> str:
    """A command's help as Markdown: click's `\\b` paragraphs (kept as laid out) become text blocks."""
    out = []
    for para in inspect.cleandoc(text).split("\n\n"):
        if para.startswith("\b\n"):
            out.append("```text\n" + para[2:] + "\n```")
        else:
            out.append(" ".join(para.split()))
    return "\n\n".join(out)


def _render_command(c: dict[str, Any], level: str = "###") -> list[str]:
    out = [f"{level} `{c['path']}`", "", f"`{c['usage']}`", "", c["help"] or c["short_help"], ""]
    if c["options"]:
        out += ["| option | meaning |", "|---|---|"]
        out += [f"| `{_cell(o['opts'])}` | {_cell(o['help'])} |" for o in c["options"]]
        out.append("")
    return out


def _render_cli(commands: list[dict[str, Any]]) -> list[str]:
    out = ["## Commands", ""]
    for c in commands:
        out += _render_command(c)
    return out


# -- config and exit codes -------------------------------------------------------------------------------


def config_reference() -> list[dict[str, str]]:
    from .project import _KNOWN_KEYS

    return [{"key": key, "default": CONFIG_KEYS.get(key, ("", ""))[0],
             "meaning": CONFIG_KEYS.get(key, ("", "(undocumented)"))[1]} for key in sorted(_KNOWN_KEYS)]


def _render_config(rows: list[dict[str, str]]) -> list[str]:
    out = ["## `[tool.harness]` in pyproject.toml", "", "| key | default | meaning |", "|---|---|---|"]
    out += [f"| `{r['key']}` | `{r['default']}` | {_cell(r['meaning'])} |" for r in rows]
    return out


def _package_files() -> Iterator[Path]:
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        if "templates" not in path.relative_to(root).parts:
            yield path


def exit_codes() -> list[dict[str, Any]]:
    """Every module-level `EXIT_NAME = <int>  # meaning` of the package, by code."""
    found: dict[int, dict[str, Any]] = {}
    root = Path(__file__).parent
    for path in _package_files():
        source = path.read_text(encoding="utf-8")
        if "EXIT_" not in source:
            continue
        comments = {tok.start[0]: tok.string.lstrip("#").strip()
                    for tok in tokenize.generate_tokens(io.StringIO(source).readline) if tok.type == tokenize.COMMENT}
        for node in ast.parse(source).body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id.startswith("EXIT_") and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, int)):
                code = node.value.value
                entry = found.setdefault(code, {"code": code, "names": [], "meaning": ""})
                entry["names"].append(node.targets[0].id)
                entry["meaning"] = entry["meaning"] or comments.get(node.lineno, "")
                entry.setdefault("defined_in", "harness/" + str(path.relative_to(root)))
    return [found[c] for c in sorted(found)]


def _render_exit_codes(rows: list[dict[str, Any]]) -> list[str]:
    out = ["## Exit codes", "", "| code | name | meaning |", "|---|---|---|"]
    out += [f"| {r['code']} | `{', '.join(r['names'])}` | {_cell(r['meaning'])} |" for r in rows]
    out += ["", "`harness test` exits with pytest's own code (0 passed, 1 failures, 2 interrupted, 4 usage, 5 no "
            "tests)."]
    return out


# -- the whole reference ---------------------------------------------------------------------------------


def _workflow() -> str:
    from .scaffold.guide import WORKFLOW

    return WORKFLOW


def _resolve(topic: str | None) -> tuple[str, dict[str, Any] | None]:
    if topic is None or topic in TOPICS:
        return topic or "all", None
    wanted = " ".join(topic.split())
    for c in command_tree():
        if c["path"] in (wanted, f"harness {wanted}"):
            return "command", c
    import difflib

    names = [*TOPICS, *(c["path"].removeprefix("harness ") for c in command_tree()[1:])]
    close = difflib.get_close_matches(wanted, names, n=3)
    raise UsageError(f"unknown docs topic {topic!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""),
                     hint="topics: " + ", ".join(TOPICS) + ", or a command such as `dryrun`")


def reference_json(topic: str | None = None) -> dict[str, Any]:
    kind, command = _resolve(topic)
    if command is not None:
        return {"command": command}
    parts: dict[str, Callable[[], Any]] = {"api": api_reference, "cli": command_tree, "config": config_reference,
                                           "exit-codes": exit_codes, "workflow": _workflow}
    chosen = TOPICS if kind == "all" else (kind,)
    return {name.replace("-", "_"): parts[name]() for name in chosen}


def render_reference(topic: str | None = None) -> str:
    _, command = _resolve(topic)
    if command is not None:
        return "\n".join(_render_command(command, "#")).rstrip() + "\n"
    doc = reference_json(topic)
    from . import __version__

    out: list[str] = [f"# harness {__version__} reference", "",
                      "Generated from the code (`harness docs [api|cli|config|exit-codes|workflow|COMMAND]`).", ""]
    if "workflow" in doc:
        out += [doc["workflow"].rstrip(), ""]
    if "api" in doc:
        out += [*_render_api(doc["api"]), ""]
    if "cli" in doc:
        out += [*_render_cli(doc["cli"]), ""]
    if "config" in doc:
        out += [*_render_config(doc["config"]), ""]
    if "exit_codes" in doc:
        out += [*_render_exit_codes(doc["exit_codes"]), ""]
    return "\n".join(out).rstrip() + "\n"
