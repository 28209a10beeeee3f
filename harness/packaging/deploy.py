"""`harness deploy`: the test gate, the plan against the last deployed state, and delivery.

The last deployed state lives in `.harness/deployed.json` (meant to be committed: it is what the next plan
is computed against), one entry per target. A function's version is its declared `version`, else the
previous deployed version plus one when its content hash changed (else unchanged), else "1".
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..atomic import write_atomic
from ..errors import EXIT_FAILED, ConfigError, HarnessError
from ..project import Project
from .bundle import Bundle
from .manifest import Manifest

STATE_FORMAT = 1
EXIT_DELIVERY = 4  # deploy: the target could not be written or did not accept the bundle
KEY_ENV = "HARNESS_DEPLOY_KEY"
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class TestsFailedError(HarnessError):
    """The test gate failed (a failing test, a stale or missing snapshot under CI rules)."""

    exit_code = EXIT_FAILED


class DeliveryError(HarnessError):
    """The target could not be written or did not accept the bundle after the retries."""

    exit_code = EXIT_DELIVERY


# -- the test gate --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GateResult:
    status: str  # passed | no-tests | skipped
    output: str = ""


def test_command() -> list[str]:
    """How the gate runs the suite: the project's pytest, with the plugin's CI rules (CI=1)."""
    return [sys.executable, "-m", "pytest", "-q"]


def run_tests(project: Project) -> GateResult:
    env = {**os.environ, "CI": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.run(test_command(), cwd=project.root, env=env, capture_output=True, text=True,
                          check=False)
    output = (proc.stdout + proc.stderr).strip()
    if proc.returncode == 0:
        return GateResult("passed", output)
    if proc.returncode == 5:  # pytest: no tests collected; nothing failed, but the plan says so
        return GateResult("no-tests", output)
    tail = "\n".join(output.splitlines()[-25:])
    sys.stderr.write(tail + "\n")
    raise TestsFailedError(f"deploy refused: the tests failed (pytest exit {proc.returncode}; output above)",
                           hint="fix the tests or update stale snapshots, or pass --skip-tests to deploy anyway")


# -- state and plan -------------------------------------------------------------------------------------
def target_id(project: Project, target: str) -> str:
    if is_url(target):
        return target.split("?", 1)[0]
    return project.relative(Path(target))


def is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def load_state(project: Project) -> dict[str, Any]:
    path = project.state_dir / "deployed.json"
    if not path.is_file():
        return {"format": STATE_FORMAT, "targets": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{project.relative(path)}: cannot read the last deployed state: {exc}",
                          hint="restore it from version control, or delete it to plan against nothing") from None
    if not isinstance(data, dict) or not isinstance(data.get("targets"), dict):
        raise ConfigError(f"{project.relative(path)}: not a deployed-state file (no 'targets')")
    return data


@dataclass
class Change:
    key: str  # integration/name (functions) or integration/Model (models)
    kind: str  # added | changed | removed | unchanged
    type: str = ""
    old_version: str | None = None
    new_version: str | None = None


@dataclass
class Plan:
    target: str
    functions: list[Change] = field(default_factory=list)
    models: list[Change] = field(default_factory=list)
    deployment: int = 1
    tests: str = "passed"

    def of(self, kind: str, models: bool = False) -> list[Change]:
        return [c for c in (self.models if models else self.functions) if c.kind == kind]

    @property
    def destructive(self) -> bool:
        return bool(self.of("removed") or self.of("removed", models=True))

    @property
    def empty(self) -> bool:
        return all(c.kind == "unchanged" for c in (*self.functions, *self.models))

    def versions(self) -> dict[str, str]:
        return {c.key: c.new_version or "1" for c in self.functions if c.kind != "removed"}

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target, "deployment": self.deployment, "tests": self.tests,
            "destructive": self.destructive,
            "functions": [c.__dict__ for c in self.functions],
            "models": [{"key": c.key, "kind": c.kind} for c in self.models],
        }

    def render(self) -> str:
        marks = {"added": "+", "changed": "~", "removed": "-", "unchanged": "="}
        tests = {"passed": "passed", "no-tests": "passed (no tests were collected)",
                 "skipped": "SKIPPED (--skip-tests): nothing was checked"}[self.tests]
        lines = [f"Deploy plan for {self.target} (deployment {self.deployment})", f"  tests: {tests}"]
        for c in self.functions:
            version = (f"v{c.old_version} -> v{c.new_version}" if c.kind == "changed"
                       else f"v{c.new_version}" if c.kind != "removed" else f"v{c.old_version} (removed)")
            lines.append(f"  {marks[c.kind]} {c.key:<40} {c.type:<8} {version}")
        changed_models = [c for c in self.models if c.kind != "unchanged"]
        if changed_models:
            lines.append("  models: " + ", ".join(f"{marks[c.kind]}{c.key}" for c in changed_models))
        counts = {k: len(self.of(k)) for k in ("added", "changed", "removed", "unchanged")}
        lines.append(f"  summary: {counts['added']} to add, {counts['changed']} to change, "
                     f"{counts['removed']} to remove, {counts['unchanged']} unchanged")
        if self.destructive:
            lines.append("  destructive: removes functions or models (their records stop being synced)")
        return "\n".join(lines)


def _bump(previous: str | None) -> str:
    if previous is None:
        return "1"
    try:
        return str(int(previous) + 1)
    except ValueError:
        # A declared version such as "1.2.0" that was dropped: continue the count after it.
        return previous + ".1"


def make_plan(project: Project, manifest: Manifest, target: str, tests: str) -> Plan:
    tid = target_id(project, target)
    last = load_state(project)["targets"].get(tid) or {}
    old_functions: dict[str, Any] = last.get("functions") or {}
    old_models: dict[str, Any] = last.get("models") or {}
    plan = Plan(target=tid, deployment=int(last.get("deployment", 0)) + 1, tests=tests)
    for f in manifest.functions():
        key = f"{f.integration}/{f.name}"
        old = old_functions.get(key)
        if old is None:
            plan.functions.append(Change(key, "added", f.type, None, f.version or "1"))
        elif old.get("hash") != f.content_hash or (f.version and f.version != old.get("version")):
            plan.functions.append(Change(key, "changed", f.type, old.get("version"),
                                         f.version or _bump(old.get("version"))))
        else:
            plan.functions.append(Change(key, "unchanged", f.type, old.get("version"), old.get("version")))
    current = {f"{f.integration}/{f.name}" for f in manifest.functions()}
    for key in sorted(set(old_functions) - current):
        plan.functions.append(Change(key, "removed", old_functions[key].get("type", ""),
                                     old_functions[key].get("version")))
    new_models = model_hashes(manifest)
    for key, digest in sorted(new_models.items()):
        kind = "added" if key not in old_models else "changed" if old_models[key] != digest else "unchanged"
        plan.models.append(Change(key, kind))
    for key in sorted(set(old_models) - set(new_models)):
        plan.models.append(Change(key, "removed"))
    return plan


def model_hashes(manifest: Manifest) -> dict[str, str]:
    import hashlib

    out: dict[str, str] = {}
    for f in manifest.functions():
        for name, schema in f.models.items():
            text = json.dumps(schema.json_schema, sort_keys=True, separators=(",", ":"))
            out[f"{f.integration}/{name}"] = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return out


def save_state(project: Project, plan: Plan, manifest: Manifest, bundle: Bundle) -> None:
    state = load_state(project)
    versions = plan.versions()
    state["format"] = STATE_FORMAT
    state["targets"][plan.target] = {
        "deployment": plan.deployment,
        "deployed_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "bundle_sha256": bundle.sha256,
        "tests": plan.tests,
        "functions": {f"{f.integration}/{f.name}": {"type": f.type, "hash": f.content_hash,
                                                    "version": versions[f"{f.integration}/{f.name}"]}
                      for f in manifest.functions()},
        "models": model_hashes(manifest),
    }
    write_atomic(project.state_dir / "deployed.json", json.dumps(state, indent=2, sort_keys=True) + "\n")


# -- delivery -------------------------------------------------------------------------------------------
def deployment_document(plan: Plan, bundle: Bundle) -> dict[str, Any]:
    """What the target receives besides the bundle: the deployment number, versions and the plan."""
    return {"format": 1, "deployment": plan.deployment, "bundle_sha256": bundle.sha256,
            "versions": plan.versions(), "plan": plan.to_json()}


def deliver_to_folder(folder: Path, plan: Plan, bundle: Bundle) -> list[Path]:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        zip_path = folder / "bundle.zip"
        doc_path = folder / "deployment.json"
        # The bundle first: a reader that trusts deployment.json then always finds a matching bundle.
        write_atomic(zip_path, bundle.data)
        write_atomic(doc_path, json.dumps(deployment_document(plan, bundle), indent=2, sort_keys=True) + "\n")
    except OSError as exc:
        raise DeliveryError(f"cannot write to {folder}: {exc.strerror or exc}",
                            hint="check the folder's permissions") from None
    return [zip_path, doc_path]


def deliver_to_url(url: str, plan: Plan, bundle: Bundle, *, retries: int = 3, backoff_s: float = 0.5,
                   timeout_s: float = 30.0) -> int:
    """POST the deployment (JSON, bundle base64) with a bearer key; retries on network errors, 429, 5xx."""
    import httpx

    key = os.environ.get(KEY_ENV)
    if not key:
        raise ConfigError(f"deploying to {url} needs a key in ${KEY_ENV}",
                          hint=f"export {KEY_ENV}=... (it is sent as 'Authorization: Bearer ...')")
    body = {**deployment_document(plan, bundle), "manifest": bundle.manifest.model_dump(mode="json"),
            "bundle": base64.b64encode(bundle.data).decode("ascii")}
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json",
               # The same key on every attempt lets the receiver drop a duplicate of a retried POST.
               "Idempotency-Key": f"{bundle.sha256[:32]}-{plan.deployment}"}
    content = json.dumps(body, separators=(",", ":")).encode()
    last = ""
    with httpx.Client(timeout=timeout_s) as client:
        for attempt in range(retries + 1):
            wait = backoff_s * 2 ** attempt
            try:
                response = client.post(url, content=content, headers=headers)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.is_success:
                    return attempt
                last = f"HTTP {response.status_code}"
                if response.status_code not in RETRY_STATUSES:
                    raise DeliveryError(f"{url} refused the deployment: {last} {response.text[:200]!r}",
                                        hint="check the key and the endpoint") from None
                retry_after = response.headers.get("retry-after", "")
                if retry_after.isdigit():
                    wait = min(float(retry_after), 60.0)
            if attempt < retries:
                sys.stderr.write(f"delivery attempt {attempt + 1} failed ({last}); retrying in {wait:g}s\n")
                time.sleep(wait)
    raise DeliveryError(f"{url} did not accept the deployment after {retries + 1} attempts (last: {last})",
                        hint="try again later; nothing was recorded as deployed")
