"""harness: write, dry-run, record and snapshot-test integration functions in the style of Nango's.

The public authoring names are imported lazily, so `harness --help` and the pytest plugin start fast:
`from harness import sync` still works as usual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "ActionContext",
    "ActionError",
    "ProviderHTTPError",
    "RunResult",
    "SyncContext",
    "__version__",
    "action",
    "on_event",
    "sync",
]

_LAZY = {
    "sync": "definitions",
    "action": "definitions",
    "on_event": "definitions",
    "ActionError": "definitions",
    "ActionContext": "context",
    "SyncContext": "context",
    "ProviderHTTPError": "context",
    "RunResult": "result",
}

if TYPE_CHECKING:
    from .context import ActionContext, ProviderHTTPError, SyncContext
    from .definitions import ActionError, action, on_event, sync
    from .result import RunResult


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
