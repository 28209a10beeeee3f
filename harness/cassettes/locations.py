"""Which files in a folder are cassettes: `.yaml`, `.yml` and `.json` (vcrpy's two serializers).

A `.json` file beside a cassette can also be its snapshot (`<scenario>.snapshot.json`); those, hidden
files and temporary files (`.name.tmp` from an atomic write) are never cassettes. Scenario discovery and
`harness cassettes` use `cassette_files` so that every face sees the same set; `existing_cassette` finds a
scenario's file whichever of the three it is.
"""

from __future__ import annotations

from pathlib import Path

CASSETTE_SUFFIXES = (".yaml", ".yml", ".json")
SNAPSHOT_SUFFIX = ".snapshot.json"  # harness.snapshots.SNAPSHOT_SUFFIX (not imported: that pulls pydantic in)


def is_cassette_file(path: Path) -> bool:
    name = path.name
    return (path.suffix.lower() in CASSETTE_SUFFIXES and not name.startswith(".")
            and not name.lower().endswith(SNAPSHOT_SUFFIX))


def cassette_files(folder: Path, pattern: str = "**/*") -> list[Path]:
    """The cassette files under `folder` matching the glob `pattern` (every depth by default), sorted."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(pattern) if is_cassette_file(p) and p.is_file())


def existing_cassette(path: Path) -> Path:
    """The scenario's file as it exists: `path` (`<scenario>.yaml`), else the same name in `.yml` or `.json`
    (a vcrpy cassette dropped in place); `path` itself when none exists (where a recording is written)."""
    if path.is_file():
        return path
    for suffix in CASSETTE_SUFFIXES:
        other = path.with_suffix(suffix)
        if other != path and other.is_file():
            return other
    return path
