"""Where a functions project lives and what its `[tool.harness]` table says.

`harness` works from any folder of a project: the root is the nearest ancestor holding a `pyproject.toml`
with a `[tool.harness]` table, or else a `functions/` folder. Paths in the table are relative to the root.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import ConfigError, UsageError

_KNOWN_KEYS = {"functions", "cassettes", "fixtures", "connections", "state", "providers", "scrub", "snapshot",
               "package", "deploy"}


class ProviderSettingsError(ConfigError):
    """`[tool.harness.providers]` entries that cannot work; `problems` lists every one (each names its key)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more problem(s) above)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more, hint="see the README's provider keys")


@dataclass(frozen=True)
class Project:
    root: Path
    functions_dir: Path
    cassettes_dir: Path
    fixtures_dir: Path
    connections_file: Path
    state_dir: Path
    settings: dict[str, Any] = field(default_factory=dict)

    def cassette_path(self, integration: str, function: str, scenario: str, run: int = 1) -> Path:
        """`<scenario>.yaml` for a scenario's first (or only) run, `<scenario>.run<N>.yaml` for run N.

        Every part is checked as one path segment, and the result must lie inside the cassettes folder:
        a name from a command line or a file never makes a cassette outside it (UsageError, exit 2).
        """
        from .names import check_name, inside

        check_name("integration", integration)
        check_name("function", function)
        check_name("scenario", scenario)
        if not isinstance(run, int) or isinstance(run, bool) or run < 1:
            raise UsageError(f"bad run number {run!r}", hint="runs are numbered from 1")
        name = scenario if run == 1 else f"{scenario}.run{run}"
        path = self.cassettes_dir / integration / function / f"{name}.yaml"
        # The folders must stay inside (a symlinked folder would take writes elsewhere); a symlinked file is
        # replaced, not written through, by an atomic write, and is read only if it is a regular file.
        if not inside(self.cassettes_dir, path.parent):
            raise UsageError(f"cassette path {path} would lie outside {self.cassettes_dir}",
                             hint="a folder of cassettes/ is a symlink out of it; replace it with a folder")
        return path

    def relative(self, path: Path) -> str:
        """`path` relative to the project (for messages), or as given when it lies outside."""
        try:
            return str(path.resolve().relative_to(self._resolved_root))
        except ValueError:
            pass
        try:
            # A symlink of the project pointing out of it (or nowhere) is still shown where the user sees it.
            return str(path.absolute().relative_to(self.root.absolute()))
        except ValueError:
            return str(path)

    @cached_property
    def _resolved_root(self) -> Path:
        # Once per project: a resolve is a system call per folder, and messages ask for it several times a run.
        return self.root.resolve()


# The `[tool.harness]` table (or None: no such table) each pyproject.toml text holds, keyed by its very bytes (an
# edit within the second, to the same size, is seen: no timestamps). The CLI in one process (`harness serve`,
# `dev`, MCP, the pytest plugin) loads the project for every run, and tomllib took ~0.7 ms of a 5 ms replayed
# dry run. Bounded; each caller gets its own copy of the table.
_TABLES: dict[bytes, dict[str, Any] | None] = {}
_TABLES_MAX = 64


def _read_table(pyproject: Path) -> dict[str, Any] | None:
    try:
        raw = pyproject.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{pyproject}: cannot read it: {exc.strerror or exc}",
                          hint="check that the file can be read") from None
    if raw not in _TABLES:
        parsed = _parse_table(pyproject, raw)  # an error is raised again at each read: never kept
        if len(_TABLES) >= _TABLES_MAX:
            _TABLES.clear()
        _TABLES[raw] = parsed
    table: dict[str, Any] | None = _copy(_TABLES[raw])
    return table


def _parse_table(pyproject: Path, raw: bytes) -> dict[str, Any] | None:
    try:
        # Universal newlines, as `read_text` gave it before (a lone CR ends a line; it is no TOML error).
        data = tomllib.loads(raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n"))
    except UnicodeDecodeError as exc:
        # TOML is UTF-8; without this, a Latin-1 or UTF-16 pyproject.toml was an "internal error" (exit 70).
        raise ConfigError(f"{pyproject}: not UTF-8 text (byte {exc.start})", hint="save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{pyproject}: cannot read it: {exc}", hint="fix the TOML syntax") from None
    tools = data.get("tool")
    if not isinstance(tools, dict) or "harness" not in tools:
        return None  # not a harness project's file (a `tool` that is not a table is another tool's mistake)
    table = tools["harness"]
    if not isinstance(table, dict):
        # Ignored, it hid every setting the user meant to give (`[tool] harness = 3`).
        raise ConfigError(f"{pyproject}: [tool.harness] must be a table, got {table!r}",
                          hint='write it as a [tool.harness] section, e.g. functions = "functions"')
    return table


def _copy(value: Any) -> Any:
    """A deep copy of parsed TOML (tables, arrays and immutable scalars), without `copy.deepcopy`'s memo."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def find_root(start: Path | None = None) -> Path:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _read_table(pyproject) is not None:
            return folder
        if (folder / "functions").is_dir():
            return folder
    raise ConfigError(f"no harness project found in {here} or its parents",
                      hint="run inside a project with a functions/ folder, or pass --project DIR")


def load_project(root: Path | None = None) -> Project:
    """The project at `root` (or found from the current folder, or `$HARNESS_PROJECT`)."""
    if root is None and os.environ.get("HARNESS_PROJECT"):
        root = Path(os.environ["HARNESS_PROJECT"])
    base = find_root(root) if root is None else root.resolve()
    if not base.is_dir():
        raise ConfigError(f"project folder {base} does not exist")
    table = {}
    if (base / "pyproject.toml").is_file():
        table = _read_table(base / "pyproject.toml") or {}
    unknown = sorted(set(table) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"{base / 'pyproject.toml'}: unknown key(s) in [tool.harness]: {', '.join(unknown)}",
                          hint="known keys: " + ", ".join(sorted(_KNOWN_KEYS)))

    for key in ("providers", "scrub", "snapshot", "package", "deploy"):
        if key in table and not isinstance(table[key], dict):
            # Each was read only by the command that uses it (`snapshot = 3` passed `compile` and failed the
            # tests); a section of the wrong shape is refused wherever the project is loaded.
            raise ConfigError(f"{base / 'pyproject.toml'}: [tool.harness.{key}] must be a table, got {table[key]!r}",
                              hint=f"write it as a [tool.harness.{key}] section")

    from .providers.catalog import override_problems

    problems = override_problems(table.get("providers"))
    if problems:
        raise ProviderSettingsError([f"{base / 'pyproject.toml'}: {p}" for p in problems])

    def path(key: str, default: str) -> Path:
        value = table.get(key, default)
        if not isinstance(value, str):
            raise ConfigError(f"{base / 'pyproject.toml'}: [tool.harness] {key} must be a path string, got {value!r}",
                              hint=f'e.g. {key} = "{default}"')
        return base / value

    return Project(
        root=base,
        functions_dir=path("functions", "functions"),
        cassettes_dir=path("cassettes", "cassettes"),
        fixtures_dir=path("fixtures", "fixtures"),
        connections_file=path("connections", "fixtures/connections.yaml"),
        state_dir=path("state", ".harness"),
        settings=table,
    )
