"""Whether harness runs under CI: `CI` set to anything but empty, `0`, `false` or `no` (any case).

One rule for every place that behaves differently there: record mode `none` by default, strict scenario
verdicts, failing unfired faults, no `--show-secrets`, no deploy prompt.
"""

from __future__ import annotations

import os


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
