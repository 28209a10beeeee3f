"""What the fork server of tests/cli_process.py holds before it forks: imported only there, once.

The CLI, the modules its commands import when they run, the HTTP machinery httpx loads on its first live
request, the process's TLS context (harness/http/network.py) and the example's compiled function files, so a
forked `harness` process starts with them instead of importing (or, without bytecode files, compiling) them
again each time.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
from pathlib import Path

MODULES = [
    # hypothesis first, while the heap is small: its import has trio register its PRNG, which looks for the
    # PRNG's referrers; done in a forked child instead (a test module that imports hypothesis, unpickled
    # there), it found none among the frozen objects and warned on the session's terminal.
    "hypothesis",
    "harness.cli", "harness.cli.dryrun", "harness.cli.render", "harness.cli.combos", "harness.cli.progress",
    "harness.pipeline", "harness.connections.resolve", "harness.connections.nango", "harness.secrets.scan",
    "harness.records.sqlite", "harness.packaging.deploy",
    "harness.serve.server", "harness.serve.app", "harness.serve.runtime",
    "httpcore", "httpcore._backends.auto", "httpcore._backends.anyio", "httpcore._backends.trio", "h11", "anyio",
    "certifi", "rich._emoji_codes",
]

for _name in MODULES:
    with contextlib.suppress(ImportError):  # harness serve's extra may be missing: its tests skip then
        importlib.import_module(_name)

from harness.http.network import tls_context  # noqa: E402

tls_context()

# The bundled example's function files, compiled once: most tests run copies of it, which harness's loader
# then takes from its cache of code by source (harness/loader.py) instead of compiling them in every process.
with contextlib.suppress(Exception):
    from harness.loader import forget_function_modules, load_catalog

    load_catalog(Path(__file__).resolve().parents[1] / "functions")
    forget_function_modules()

# What the fork server holds stays alive in every process it forks: out of the garbage collector's passes there,
# so a forked process's collections (its last one at exit among them) walk only what it made itself, and do not
# touch, and so copy, every page of the server's memory.
gc.collect()
gc.freeze()
