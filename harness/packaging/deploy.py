"""`harness deploy`: the test gate, the plan against the last deployed state, and delivery.

The last deployed state lives in `.harness/deployed.json` (meant to be committed: it is what the next plan
is computed against), one entry per target. A function's version is its declared `version`, else the
previous deployed version plus one when its content hash changed (else unchanged), else "1".

Delivery to a folder is `releases.py` (a release folder, then one atomic pointer); to an endpoint, a POST
over TLS only (`targets.py` checks the URL). A deploy that was killed part-way is looked at by the next one
(`recover`): a folder's leftovers are removed, a switched but unrecorded deployment is recorded, an endpoint
delivery started but not recorded (`.harness/deploy-pending.json`) is reported.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..atomic import write_atomic
from ..errors import EXIT_DELIVERY, EXIT_FAILED, ConfigError, HarnessError, UsageError
from ..project import Project
from ..retry_after import retry_after_seconds
from . import releases, targets
from .bundle import Bundle
from .manifest import Manifest

# The waits between delivery attempts, here so that a test can record them instead of sleeping (patching
# `time.sleep` itself stops every thread's sleeps, the test process's other threads' too).
_sleep: Callable[[float], None] = time.sleep

STATE_FORMAT = 1
KEY_ENV = "HARNESS_DEPLOY_KEY"
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 60.0
# Deliveries to an endpoint that were started and not recorded (the run was killed in between).
PENDING = "deploy-pending.json"


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
    """How the state file names a target: an endpoint without credentials or query, or the folder."""
    if is_url(target):
        return targets.parse_endpoint(target, allow_insecure_http=True).target_id
    if targets.looks_like_url(target):
        raise UsageError(f"deploy target {target.split('://', 1)[0]}://... is not supported",
                         hint="deploy to a folder, or to an https:// endpoint")
    if not target or "\x00" in target:
        raise UsageError(f"deploy target {target!r} is not a folder name",
                         hint="pass a folder (--to dist/deploy) or an https:// endpoint")
    return project.relative(Path(target))


def is_url(target: str) -> bool:
    return targets.is_url(target)


def load_state(project: Project) -> dict[str, Any]:
    path = project.state_dir / "deployed.json"
    if not path.is_file():
        return {"format": STATE_FORMAT, "targets": {}}
    shown = project.relative(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, RecursionError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{shown}: cannot read the last deployed state: {exc}",
                          hint="restore it from version control, or delete it to plan against nothing") from None
    if not isinstance(data, dict) or not isinstance(data.get("targets"), dict):
        raise ConfigError(f"{shown}: not a deployed-state file (no 'targets')")
    # The file is committed, so it is input like any other: every entry is checked before it is used.
    for key, entry in data["targets"].items():
        problem = _entry_problem(entry)
        if problem is not None:
            raise ConfigError(f"{shown}: target {key!r}: {problem}",
                              hint="restore the file from version control, or delete that entry")
    return data


def _entry_problem(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return "not a mapping"
    deployment = entry.get("deployment", 0)
    if not isinstance(deployment, int) or isinstance(deployment, bool) or not 0 <= deployment < 10**9:
        return f"'deployment' must be a deployment number, not {deployment!r}"
    for name in ("functions", "models"):
        if not isinstance(entry.get(name, {}), dict):
            return f"'{name}' must be a mapping"
    for key, fn in (entry.get("functions") or {}).items():
        if not isinstance(fn, dict) or not all(isinstance(fn.get(k, ""), str) for k in ("type", "hash")):
            return f"function {key!r} is not a {{type, hash, version}} mapping"
        if fn.get("version") is not None and not isinstance(fn.get("version"), str):
            return f"function {key!r}: 'version' must be a string"
    return None


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


def make_plan(project: Project, manifest: Manifest, target: str, tests: str,
              last: dict[str, Any] | None = None) -> Plan:
    """The plan against `last` (default: what `.harness/deployed.json` records for the target)."""
    tid = target_id(project, target)
    if last is None:
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


def state_entry(deployment: int, versions: dict[str, str], manifest: Manifest, sha256: str, tests: str,
                deployed_at: str | None = None) -> dict[str, Any]:
    return {
        "deployment": deployment,
        "deployed_at": deployed_at or datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "bundle_sha256": sha256,
        "tests": tests,
        "functions": {f"{f.integration}/{f.name}": {"type": f.type, "hash": f.content_hash,
                                                    "version": versions.get(f"{f.integration}/{f.name}", "1")}
                      for f in manifest.functions()},
        "models": model_hashes(manifest),
    }


def record_entry(project: Project, target: str, entry: dict[str, Any]) -> None:
    """Write one target's entry into `.harness/deployed.json` (atomically), and clear its pending mark."""
    state = load_state(project)
    state["format"] = STATE_FORMAT
    # Keys an older version stored with URL credentials in them lose the credentials now.
    state["targets"] = {targets.stored_key(k): v for k, v in state["targets"].items()}
    state["targets"][target] = entry
    write_atomic(project.state_dir / "deployed.json", json.dumps(state, indent=2, sort_keys=True) + "\n")
    _set_pending(project, target, None)


def save_state(project: Project, plan: Plan, manifest: Manifest, bundle: Bundle) -> None:
    record_entry(project, plan.target, state_entry(plan.deployment, plan.versions(), manifest, bundle.sha256,
                                                   plan.tests))


# -- what an interrupted deploy left ---------------------------------------------------------------------
def _pending(project: Project) -> dict[str, Any]:
    try:
        data = json.loads((project.state_dir / PENDING).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _set_pending(project: Project, target: str, mark: dict[str, Any] | None) -> None:
    data = _pending(project)
    if mark is None and target not in data:
        return
    if mark is None:
        data.pop(target, None)
    else:
        data[target] = mark
    path = project.state_dir / PENDING
    if data:
        write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
    else:
        path.unlink(missing_ok=True)


@dataclass
class Recovery:
    """What the previous, interrupted, deploy to a target left, and the state to plan against."""

    notes: list[str] = field(default_factory=list)
    last: dict[str, Any] | None = None  # the recovered state entry (None: plan against deployed.json)
    # The deployment number must pass this (the target holds deployments the state does not know).
    floor: int = 0


def recover(project: Project, target: str, *, clean: bool = True) -> Recovery:
    """Look at what an interrupted deploy to `target` left. A folder is cleaned (unless not `clean`) and a
    deployment it switched on but that was never recorded is recovered from its release; an endpoint
    delivery that was started and never recorded is reported (the endpoint may or may not have it)."""
    tid = target_id(project, target)
    recorded = load_state(project)["targets"].get(tid) or {}
    out = Recovery()
    pending = _pending(project).get(tid)
    if is_url(target):
        if isinstance(pending, dict):
            out.notes.append(f"the previous deploy to {tid} (deployment {pending.get('deployment')}) was "
                             "interrupted before it was recorded: the endpoint may already have it; this "
                             "deploy sends the bundle again (the same bundle and number give the same "
                             "Idempotency-Key)")
        return out
    folder = Path(target)
    if not folder.is_dir():
        return out
    found = releases.inspect(folder, clean=clean)
    out.notes.extend(found.notes)
    pointer = found.pointer
    if pointer is None:
        return out
    out.floor = pointer.deployment
    known = int(recorded.get("deployment", 0))
    if pointer.deployment > known and found.intact:
        entry = _entry_from_release(folder, pointer)
        if entry is not None:
            out.last = entry
            out.notes.append(f"{tid} holds deployment {pointer.deployment}, which .harness/deployed.json does "
                             f"not record (the deploy was killed after switching): recorded it now")
            if clean:
                record_entry(project, tid, entry)
    elif pointer.deployment < known:
        out.notes.append(f"{tid} holds deployment {pointer.deployment} but .harness/deployed.json records "
                         f"{known}: the folder was changed by someone else; planning against the record")
    return out


def _entry_from_release(folder: Path, pointer: releases.Pointer) -> dict[str, Any] | None:
    """The state entry of a deployment, rebuilt from its bundle's manifest and its record's versions."""
    import zipfile

    from pydantic import ValidationError

    try:
        with zipfile.ZipFile(pointer.bundle_path(folder)) as zf:
            manifest = Manifest.model_validate_json(zf.read("manifest.json"))
    except (OSError, KeyError, zipfile.BadZipFile, ValidationError, ValueError):
        return None
    doc = pointer.document
    versions = doc["versions"] if isinstance(doc.get("versions"), dict) else {}
    plan = doc["plan"] if isinstance(doc.get("plan"), dict) else {}
    tests = plan["tests"] if plan.get("tests") in ("passed", "no-tests", "skipped") else "skipped"
    return state_entry(pointer.deployment, {str(k): str(v) for k, v in versions.items()}, manifest,
                       pointer.bundle_sha256, str(tests), deployed_at="unknown (recovered)")


# -- delivery -------------------------------------------------------------------------------------------
def deployment_document(plan: Plan, bundle: Bundle) -> dict[str, Any]:
    """What the target receives besides the bundle: the deployment number, versions and the plan."""
    return {"format": 1, "deployment": plan.deployment, "bundle_sha256": bundle.sha256,
            "versions": plan.versions(), "plan": plan.to_json()}


def deliver_to_folder(folder: Path, plan: Plan, bundle: Bundle) -> list[Path]:
    """A new release folder, then the pointer switched to it in one atomic write (see releases.py)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return releases.deliver(folder, deployment_document(plan, bundle), bundle.data)
    except OSError as exc:
        raise DeliveryError(f"cannot write to {folder}: {exc.strerror or exc}",
                            hint="check the folder's permissions") from None


def deliver_to_url(url: str, plan: Plan, bundle: Bundle, *, retries: int = 3, backoff_s: float = 0.5,
                   timeout_s: float = 30.0, allow_insecure_http: bool = False,
                   project: Project | None = None) -> int:
    """POST the deployment (JSON, bundle base64) with a bearer key; retries on network errors, 429, 5xx.

    The key only goes over TLS (or to loopback, or with `allow_insecure_http`); `Retry-After` is read in
    both forms, as provider retries read it, and capped at 60 s. With `project`, the attempt is marked in
    `.harness/deploy-pending.json` until the state is saved, so a killed run is reported on the next one.
    """
    endpoint = targets.parse_endpoint(url, allow_insecure_http=allow_insecure_http)
    shown = endpoint.shown
    key = os.environ.get(KEY_ENV)
    if not key:
        raise ConfigError(f"deploying to {shown} needs a key in ${KEY_ENV}",
                          hint=f"export {KEY_ENV}=... (it is sent as 'Authorization: Bearer ...')")
    body = {**deployment_document(plan, bundle), "manifest": bundle.manifest.model_dump(mode="json"),
            "bundle": base64.b64encode(bundle.data).decode("ascii")}
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json",
               # The same key on every attempt lets the receiver drop a duplicate of a retried POST.
               "Idempotency-Key": f"{bundle.sha256[:32]}-{plan.deployment}"}
    content = json.dumps(body, separators=(",", ":")).encode()

    def clean(text: str) -> str:
        # Nothing printed may carry the key, or the URL's query (an endpoint that echoes them).
        text = text.replace(key, "<scrubbed>")
        return text.replace(url, shown) if url != shown else text

    if project is not None:
        _set_pending(project, endpoint.target_id, {"deployment": plan.deployment, "bundle_sha256": bundle.sha256})
    try:
        return _post(url, shown, content, headers, clean, retries=retries, backoff_s=backoff_s,
                     timeout_s=timeout_s)
    except DeliveryError:
        if project is not None:
            _set_pending(project, endpoint.target_id, None)  # refused for sure: nothing is pending
        raise


def _post(url: str, shown: str, content: bytes, headers: dict[str, str], clean: Callable[[str], str], *,
          retries: int, backoff_s: float, timeout_s: float) -> int:
    import httpx

    from ..http.network import tls_context

    last = ""
    # The thread's TLS context: a client of its own would load the CA bundle again (25 ms a deployment).
    with httpx.Client(timeout=timeout_s, follow_redirects=False, verify=tls_context()) as client:
        for attempt in range(retries + 1):
            wait = backoff_s * 2 ** attempt
            try:
                response = client.post(url, content=content, headers=headers)
            except httpx.HTTPError as exc:
                last = clean(f"{type(exc).__name__}: {exc}")
            else:
                if response.is_success:
                    return attempt
                last = f"HTTP {response.status_code}"
                if response.status_code not in RETRY_STATUSES:
                    raise DeliveryError(f"{shown} refused the deployment: {last} {clean(response.text[:200])!r}",
                                        hint="check the key and the endpoint") from None
                asked = retry_after_seconds(response.headers.get("retry-after"), time.time())
                if asked is not None:
                    wait = min(asked, MAX_RETRY_AFTER_S)
            if attempt < retries:
                sys.stderr.write(f"delivery attempt {attempt + 1} failed ({last}); retrying in {wait:g}s\n")
                _sleep(wait)
    raise DeliveryError(f"{shown} did not accept the deployment after {retries + 1} attempts (last: {last})",
                        hint="try again later; nothing was recorded as deployed")
