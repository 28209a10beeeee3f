"""Delivery to a folder: one release folder per deployment, switched on by one atomic pointer write.

```
DIR/deployment.json                   the pointer: the deployment record, and "bundle": its zip's path
DIR/releases/000003-<sha12>/bundle.zip
DIR/releases/000003-<sha12>/deployment.json   the same record, kept with its bundle
DIR/releases/.incoming-<owner>/       a release being written (renamed when complete)
```

A release is written into `.incoming-<owner>` (fsynced), renamed to its final name, and only then does the
pointer (`deployment.json`, written atomically) name it. Whatever instant a deploy dies at, the pointer
names a complete bundle whose `bundle_sha256` it states: the previous one or the new one, never a mix.
The next deploy to the folder finds what a killed one left (an `.incoming-*` folder whose owner is gone, a
release newer than the pointer that was never switched on), removes it and says so; `inspect()` also tells
the caller when the pointer is ahead of `.harness/deployed.json` (killed after the switch, before the
state was saved), so the deploy can record it. The last `KEEP` releases stay for rollback.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import scratch
from ..atomic import sweep_folder, write_atomic
from ..crashpoints import crash_point
from ..errors import ConfigError

POINTER = "deployment.json"
RELEASES = "releases"
BUNDLE = "bundle.zip"
KEEP = 3
_RELEASE = re.compile(r"(?P<deployment>[0-9]{6,12})-(?P<sha>[0-9a-f]{12})")
_INCOMING = ".incoming-"


@dataclass
class Pointer:
    """What `DIR/deployment.json` says is deployed."""

    deployment: int
    bundle_sha256: str
    release: str | None  # the release folder's name; None for the layout before releases (bundle.zip beside)
    document: dict[str, Any]

    def bundle_path(self, folder: Path) -> Path:
        return folder / RELEASES / self.release / BUNDLE if self.release else folder / BUNDLE


@dataclass
class Inspection:
    pointer: Pointer | None
    notes: list[str] = field(default_factory=list)
    # The pointer names a complete bundle that matches its hash (False: missing or damaged).
    intact: bool = True


def release_name(deployment: int, sha256: str) -> str:
    return f"{deployment:06d}-{sha256[:12]}"


def _sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def read_pointer(folder: Path) -> Pointer | None:
    """The pointer of `folder`, None when there is none; ConfigError when the file is not one of ours."""
    path = folder / POINTER
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    deployment = doc.get("deployment") if isinstance(doc, dict) else None
    sha = doc.get("bundle_sha256") if isinstance(doc, dict) else None
    if (not isinstance(doc, dict) or not isinstance(deployment, int) or isinstance(deployment, bool)
            or deployment < 1 or not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha)):
        raise ConfigError(f"{path} is not a deployment record harness wrote; refusing to overwrite it",
                          hint="deploy to another folder, or move that file away")
    bundle = doc.get("bundle")
    release = None
    if bundle is not None:
        # The pointer names its bundle: only ever `releases/<deployment>-<sha12>/bundle.zip`, never a path
        # that leaves the folder.
        m = re.fullmatch(rf"{RELEASES}/({_RELEASE.pattern})/{BUNDLE}", bundle) if isinstance(bundle, str) else None
        if m is None or m.group(1) != release_name(deployment, sha):
            raise ConfigError(f"{path}: its 'bundle' {bundle!r} is not the release of deployment {deployment}",
                              hint="the file was edited by hand; restore it, or move it away")
        release = m.group(1)
    return Pointer(deployment, sha, release, doc)


def inspect(folder: Path, *, clean: bool = True) -> Inspection:
    """What the folder holds; with `clean`, what killed deploys left is removed. Notes say what was found."""
    pointer = read_pointer(folder)
    found = Inspection(pointer)
    releases = folder / RELEASES
    done = "removed" if clean else "found (left for the next deploy)"

    def drop(path: Path) -> None:
        if clean:
            shutil.rmtree(path, ignore_errors=True)

    if clean:
        sweep_folder(folder)  # a pointer's temporary file, if a deploy died writing it
    try:
        entries = sorted(os.scandir(releases), key=lambda e: e.name)
    except OSError:
        entries = []
    current = pointer.deployment if pointer else 0
    for entry in entries:
        path = Path(entry.path)
        if entry.name.startswith(_INCOMING):
            tag = scratch.tag_of("incoming-" + entry.name[len(_INCOMING):])
            if tag is not None and not scratch.is_alive(tag):
                drop(path)
                found.notes.append(f"{done} {RELEASES}/{entry.name}: a deploy to {folder} was killed while "
                                   "writing its bundle (the target kept the previous deployment)")
            continue
        m = _RELEASE.fullmatch(entry.name)
        if m is None or (pointer is not None and entry.name == pointer.release):
            continue
        if int(m.group("deployment")) > current:
            drop(path)
            found.notes.append(f"{done} {RELEASES}/{entry.name}: deployment {int(m.group('deployment'))} to "
                               f"{folder} was written but never switched on (the run was killed)")
    if pointer is not None:
        bundle = pointer.bundle_path(folder)
        if _sha256(bundle) != pointer.bundle_sha256:
            found.intact = False
            found.notes.append(f"{folder / POINTER} names {bundle.relative_to(folder)}, which is missing or does "
                               "not match its bundle_sha256: the folder was changed by hand; this deploy "
                               "replaces it")
    return found


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def deliver(folder: Path, document: dict[str, Any], bundle: bytes) -> list[Path]:
    """Write the release and switch the pointer to it; the files of the new release, pointer last."""
    deployment = int(document["deployment"])
    sha = str(document["bundle_sha256"])
    name = release_name(deployment, sha)
    releases = folder / RELEASES
    releases.mkdir(parents=True, exist_ok=True)
    final = releases / name
    record = {**document, "bundle": f"{RELEASES}/{name}/{BUNDLE}"}
    text = (json.dumps(record, indent=2, sort_keys=True) + "\n").encode("utf-8")
    if not (final.is_dir() and _sha256(final / BUNDLE) == sha):
        incoming = releases / (_INCOMING + scratch.new_name("incoming")[len("incoming-"):])
        incoming.mkdir()
        try:
            _write_synced(incoming / BUNDLE, bundle)
            _write_synced(incoming / POINTER, text)
            _fsync_dir(incoming)
            crash_point("deploy-bundle-written")
            if final.exists():
                shutil.rmtree(final)  # a damaged release of the same name (edited by hand)
            os.rename(incoming, final)
        except BaseException:
            shutil.rmtree(incoming, ignore_errors=True)
            raise
        _fsync_dir(releases)
    crash_point("deploy-release-ready")
    # The one step that switches the deployment: bundle and record change together.
    write_atomic(folder / POINTER, text)
    _prune(folder, deployment)
    return [final / BUNDLE, folder / POINTER]


def _prune(folder: Path, current: int) -> None:
    """Keep the last KEEP releases; drop the bundle of the layout before releases (its pointer is gone)."""
    legacy = folder / BUNDLE
    if legacy.is_file():
        legacy.unlink()
    kept = sorted((int(m.group("deployment")), p) for p in (folder / RELEASES).iterdir()
                  if (m := _RELEASE.fullmatch(p.name)) is not None and int(m.group("deployment")) <= current)
    for _, path in kept[:-KEEP]:
        shutil.rmtree(path, ignore_errors=True)
