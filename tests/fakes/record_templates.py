"""Re-record the bundled templates' cassettes from the fake servers: `python -m tests.fakes.record_templates`.

Each template is copied into a throw-away project, run with `--record` against its fake provider (GitHub
from `github_server.py`, the others from `template_servers.py`) through `RoutingTransport`, and the
cassette written back into `harness/scaffold/templates/<template>/cassettes/`. Cassettes are never written
by hand.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.pipeline import RunRequest, run_request
from harness.project import load_project
from harness.scaffold.template_catalog import TEMPLATES_DIR, load_catalog, write_connections
from harness.unset import UNSET

from .github_server import FakeGitHub
from .routing import RoutingTransport
from .template_servers import FakeHubspot, FakeLinear, FakeSlack

INPUTS: dict[str, Any] = {
    "github-create-issue": {"title": "Found a bug", "body": "It breaks on Tuesdays.", "labels": ["bug"]},
    "slack-post-message": {"channel": "C00000001", "text": "Deploy finished :rocket:"},
}


@contextlib.contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def record_templates(names: list[str] | None = None, out: Path = TEMPLATES_DIR) -> dict[str, Path]:
    catalog = load_catalog()
    written: dict[str, Path] = {}
    with FakeGitHub(issues=7) as gh, FakeSlack() as slack, FakeHubspot() as hubspot, FakeLinear() as linear:
        gh.rate_limit_reset = 1767261600
        routes = RoutingTransport({"https://api.github.com": gh.base_url, "https://slack.com/api": slack.base_url,
                                   "https://api.hubapi.com": hubspot.base_url,
                                   "https://api.linear.app": linear.base_url})
        tokens = {"GITHUB_TOKEN": gh.token, "SLACK_TOKEN": slack.token, "HUBSPOT_TOKEN": hubspot.token,
                  "LINEAR_TOKEN": linear.token}
        for name, template in catalog.templates.items():
            if names and name not in names:
                continue
            with tempfile.TemporaryDirectory() as tmp, _env(tokens):
                root = Path(tmp)
                shutil.copytree(TEMPLATES_DIR / name / "functions", root / "functions")
                write_connections(root / "fixtures" / "connections.yaml", {template.connection:
                                                                           catalog.connections[template.connection]})
                (root / "pyproject.toml").write_text("[tool.harness]\n")
                project = load_project(root)
                result = run_request(RunRequest(template.function, template.connection, mode="record", project=project,
                                        network=routes, allow_writes=True,
                                        input=INPUTS.get(name, UNSET)))
                if not result.cassette_written:
                    raise SystemExit(f"recording {name} failed: {result.error} {result.issues}")
                integration, function = template.function.split("/")
                source = project.cassette_path(integration, function, "default")
                target = out / name / "cassettes" / integration / function / "default.yaml"
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                written[name] = target
    return written


if __name__ == "__main__":
    for template_name, path in record_templates().items():
        print(f"{template_name}: {path}")
