"""Scenario discovery: which recorded scenarios a project has, and which snapshots no cassette owns.

A scenario is one cassette, `cassettes/<integration>/<function>/<scenario>.yaml` (or `.yml`, or vcrpy's
`.json`: `cassettes.locations` decides which files are cassettes; runs 2.. of a multi-run
scenario are `<scenario>.run<N>.yaml` and belong to it); its snapshot sits beside it as
`<scenario>.snapshot.json`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .cassettes.locations import cassette_files, existing_cassette
from .project import Project
from .snapshots import SNAPSHOT_SUFFIX

LATER_RUN = re.compile(r"\.run(\d+)$")


@dataclass(frozen=True, order=True)
class Scenario:
    integration: str
    function: str
    name: str
    cassette: Path = field(compare=False)

    @property
    def id(self) -> str:
        return f"{self.integration}/{self.function}[{self.name}]"

    @property
    def qualified_function(self) -> str:
        return f"{self.integration}/{self.function}"

    @property
    def snapshot(self) -> Path:
        return self.cassette.with_name(self.cassette.stem + SNAPSHOT_SUFFIX)


def split_run(stem: str) -> tuple[str, int]:
    """`refresh.run2` -> (`refresh`, 2); `default` -> (`default`, 1)."""
    m = LATER_RUN.search(stem)
    return (stem[: m.start()], int(m.group(1))) if m else (stem, 1)


def find_scenarios(project: Project, under: Iterable[Path] | None = None) -> list[Scenario]:
    """Every cassette of the project (optionally only those inside `under`), sorted by id."""
    root = project.cassettes_dir
    if not root.is_dir():
        return []
    limits = [p.resolve() for p in under] if under is not None else None
    found = []
    for path in cassette_files(root, "*/*/*"):
        if LATER_RUN.search(path.stem):
            continue  # run 2.. of a multi-run scenario belongs to the scenario of its run 1
        if limits is not None and not any(path.resolve() == lim or lim in path.resolve().parents for lim in limits):
            continue
        found.append(Scenario(path.parent.parent.name, path.parent.name, path.stem, path))
    return sorted(found)


def orphan_snapshots(project: Project) -> list[Path]:
    """Snapshot files whose cassette no longer exists (a renamed or deleted scenario)."""
    root = project.cassettes_dir
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob(f"*/*/*{SNAPSHOT_SUFFIX}")
                  if not existing_cassette(p.with_name(p.name[: -len(SNAPSHOT_SUFFIX)] + ".yaml")).is_file())
