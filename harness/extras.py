"""Optional parts and the extra that installs each: a missing one is a one-line error, not an ImportError.

`harness fuzz` needs `[fuzz]` (hypothesis), `harness dev` needs `[dev]` (watchfiles); later parts add their
own. The distribution is `integration-harness` (the name `harness` on PyPI belongs to another project).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import ConfigError

DISTRIBUTION = "integration-harness"


def require(module: str, extra: str, feature: str) -> ModuleType:
    """`import module`, or a `ConfigError` (exit 2) saying which extra brings it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"{feature} needs {module}, which is not installed",
                          hint=f"pip install '{DISTRIBUTION}[{extra}]'") from None
