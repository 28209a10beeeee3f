"""`harness init`: a new functions project that works straight away.

The layout is SPEC §3's: `pyproject.toml` with `[tool.harness]` and a dependency on harness, `functions/`,
`cassettes/`, `fixtures/connections.yaml`, `tests/` (a hand-written example; the plugin adds the scenario tests), a
`.gitignore` that keeps `.env` and the throw-away parts of `.harness/` out of git (but not
`.harness/deployed.json`, which deploy plans are computed against), the agent guide (`AGENTS.md` and a skill,
see `guide.py`), and one example function from the template catalog with its cassette. Snapshot files, when a
template has them, come along with the template's files (any folder of the template tree is copied).
"""

from __future__ import annotations

import re
from pathlib import Path

from .. import __version__
from ..atomic import write_atomic
from ..errors import ConfigError, UsageError
from ..names import check_name
from ..project import load_project
from .guide import SKILL_PATH, agents_md, skill_md
from .template_catalog import CloneResult, clone
from .template_catalog import load_catalog as load_template_catalog

DEFAULT_TEMPLATE = "github-issues"

GITIGNORE = """\
# secrets: never commit them
.env
# harness's local state is throw-away, except the last deployed state (deploy plans are made against it)
.harness/*
!.harness/deployed.json
__pycache__/
*.py[cod]
.venv*/
.pytest_cache/
"""

ENV_EXAMPLE = """\
# Copy to .env (ignored by git) and fill in to run live or record: `harness dryrun issues github-demo --record`.
GITHUB_TOKEN=
# GITHUB_API_URL=https://api.github.com   (another base URL: GitHub Enterprise, a sandbox, a local fake)
"""

TESTS = '''\
"""Hand-written tests. The recorded scenarios need none: the harness pytest plugin adds one test per
cassette and compares each run with its snapshot (`pytest --snapshot-update` accepts a change)."""

from harness.loader import load_catalog
from harness.project import Project


def test_every_function_loads(harness_project: Project) -> None:
    catalog = load_catalog(harness_project.functions_dir)
    assert not catalog.problems, [str(p) for p in catalog.problems]
    assert catalog.definitions
'''


def _pyproject(name: str) -> str:
    major_minor = ".".join(__version__.split(".")[:2])
    return f"""\
[project]
name = "{name}"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["integration-harness[fuzz,dev]~={major_minor}"]

[tool.harness]
functions = "functions"
cassettes = "cassettes"
fixtures = "fixtures"
connections = "fixtures/connections.yaml"

[tool.harness.package]
# Packages besides the standard library, pydantic, httpx and harness that deployed functions may import.
allow_imports = []

[tool.pytest.ini_options]
testpaths = ["tests"]
"""


def _readme(name: str) -> str:
    return f"""\
# {name}

Integration functions tested with harness.

```sh
harness list                              # the functions
harness dryrun issues github-demo         # replays the recorded scenario
pytest                                    # replays every scenario
harness clone --list                      # more templates
harness new sync github pull-requests     # a skeleton
harness deploy --to ./dist                # tests, plan, bundle
```
"""


def init_project(target: Path, template: str = DEFAULT_TEMPLATE) -> tuple[list[Path], CloneResult]:
    # The template first: an unknown or bad name must not leave a half-made project behind.
    check_name("template", template)
    load_template_catalog().get(template)
    target = target.resolve()
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} is a file", hint="pass a new or empty folder")
    if target.is_dir():
        taken = [p.name for p in target.iterdir() if p.name not in (".git",)]
        if taken:
            raise ConfigError(f"{target} is not empty ({', '.join(sorted(taken)[:5])})",
                              hint="pass a new or empty folder; `harness clone` adds templates to a project")
    name = re.sub(r"[^a-z0-9-]+", "-", target.name.lower()).strip("-") or "functions"
    files = {
        "pyproject.toml": _pyproject(name),
        ".gitignore": GITIGNORE,
        ".env.example": ENV_EXAMPLE,
        "README.md": _readme(name),
        "tests/test_functions.py": TESTS,
        "AGENTS.md": agents_md(name),
        SKILL_PATH: skill_md(),
    }
    written: list[Path] = []
    for rel, text in files.items():
        write_atomic(target / rel, text)
        written.append(target / rel)
    for folder in ("functions", "cassettes", "fixtures"):
        (target / folder).mkdir(parents=True, exist_ok=True)
    result = clone(load_project(target), template)
    return written, result
