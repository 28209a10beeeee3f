"""`harness package`: the reproducible bundle of a project's functions, and the static checks it needs.

The bundle is a zip of `manifest.json`, every function file and the local helper modules they import. The
same tree gives the same bytes: entries are sorted, every timestamp is 1980-01-01 00:00, every file is mode
0644, the compression level is fixed and the manifest holds no time.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..project import Project
from .manifest import Manifest, compile_project, manifest_text
from .static_checks import StaticCheckError, static_check

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_MODE = 0o100644 << 16


@dataclass(frozen=True)
class Bundle:
    data: bytes
    manifest: Manifest
    files: list[str]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def bundle_files(project: Project, manifest: Manifest) -> list[Path]:
    rels = {f.file for f in manifest.functions()} | {h for f in manifest.functions() for h in f.helpers}
    return [project.root / rel for rel in sorted(rels)]


def build_bundle(project: Project, manifest: Manifest | None = None) -> Bundle:
    """Compile (unless given a manifest), check, and zip; raises StaticCheckError or CompileError."""
    manifest = manifest or compile_project(project)
    files = bundle_files(project, manifest)
    findings = static_check(project, files)  # compile checked these already; helpers may be new
    if findings:
        raise StaticCheckError(findings)
    entries: dict[str, bytes] = {"manifest.json": manifest_text(manifest).encode("utf-8")}
    for path in files:
        entries[Path(project.relative(path)).as_posix()] = path.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = _MODE
            info.create_system = 3  # unix, whatever the building machine is
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, entries[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return Bundle(buffer.getvalue(), manifest, sorted(entries))
