"""The syrupy extension for hand-written tests: `assert result == harness_snapshot`.

A `RunResult` is stored as the same reviewable JSON document the scenario items store (one `.json` file
per assertion, in syrupy's `__snapshots__/<test module>/` folder), compared in canonical form, and a
mismatch is reported record by record instead of as a text diff. Other values fall back to syrupy's JSON
extension. syrupy keeps its own lifecycle for these files: `--snapshot-update` writes them, and unused
ones fail the session unless `--snapshot-warn-unused`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from syrupy.extensions.json import JSONSnapshotExtension

from ..result import RunResult
from .diff import describe_differences
from .document import SnapshotSettings, snapshot_document
from .files import canonical, dump_snapshot

if TYPE_CHECKING:
    from syrupy.types import PropertyFilter, PropertyMatcher, SerializableData, SerializedData


def _parse(text: Any) -> Any:
    try:
        return json.loads(str(text))
    except ValueError:
        return None


class HarnessSnapshotExtension(JSONSnapshotExtension):
    settings: ClassVar[SnapshotSettings] = SnapshotSettings()

    @classmethod
    def configured(cls, settings: SnapshotSettings) -> type[HarnessSnapshotExtension]:
        """A subclass bound to one project's `[tool.harness.snapshot]` settings."""
        return type("HarnessSnapshotExtension", (cls,), {"settings": settings})

    def serialize(self, data: SerializableData, *, exclude: PropertyFilter | None = None,
                  include: PropertyFilter | None = None, matcher: PropertyMatcher | None = None) -> SerializedData:
        if isinstance(data, RunResult):
            return dump_snapshot(snapshot_document(data, self.settings))
        return super().serialize(data, exclude=exclude, include=include, matcher=matcher)

    def matches(self, *, serialized_data: SerializableData, snapshot_data: SerializableData) -> bool:
        if serialized_data == snapshot_data:  # the usual case: our own deterministic layout on both sides
            return True
        a, b = _parse(serialized_data), _parse(snapshot_data)
        if isinstance(a, dict) and isinstance(b, dict) and "records" in a:
            b = self.settings.apply(b)  # settings may have changed since the file was written
        return a is not None and b is not None and canonical(a) == canonical(b)

    def diff_lines(self, serialized_data: SerializedData, snapshot_data: SerializedData) -> Iterator[str]:
        new, old = _parse(serialized_data), _parse(snapshot_data)
        if isinstance(new, dict) and isinstance(old, dict) and "records" in new:
            lines = describe_differences(old, new) or ["  values differ only in type (e.g. 1 vs 1.0)"]
            yield "run differs from the snapshot:"
            yield from lines
            return
        yield from super().diff_lines(serialized_data, snapshot_data)
