"""Whole-run snapshots: the document (`document`), its file (`format`), readable diffs (`diff`), checks
against imported expectations (`expected`), and the syrupy extension for hand-written tests (`extension`).

The pytest plugin uses these for scenario items; nothing here imports pytest or syrupy except
`extension`.
"""

from .diff import describe_differences
from .document import SNAPSHOT_FORMAT, SnapshotSettings, snapshot_document
from .files import canonical, compare, dump_snapshot, load_snapshot

SNAPSHOT_SUFFIX = ".snapshot.json"

__all__ = ["SNAPSHOT_FORMAT", "SNAPSHOT_SUFFIX", "SnapshotSettings", "canonical", "compare", "describe_differences",
           "dump_snapshot", "load_snapshot", "snapshot_document"]
