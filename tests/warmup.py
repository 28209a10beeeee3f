"""A head start for a fresh clone's first run, on the core that pytest's collection leaves idle.

A first run computes what later runs read from caches: pytest's assertion-rewritten bytecode of every test
module, hypothesis's constants of harness's modules (hypothesis reads the literals of the code under test to
draw them more often; pytest's hypothesis plugin gathers them at the end of collection) and hypothesis's
unicode tables (the first `st.text()` draw: ~1.6 s for the UTF-8 one). pytest collects on one core, so
tests/conftest.py starts this module as a process of its own (`python -m tests.warmup TEST_FILE...`, in a
serial session only) to fill those caches meanwhile: the same files, written the way pytest and hypothesis
write them (whole, or not at all), that the session then finds as a second run would. Test modules are taken
from the last one collected backwards, and it stops at the first one already cached: collection got there.

It changes no test and no result: what it does not finish in time, the session computes itself as before,
and anything that fails here (another pytest or hypothesis version's internals) is left to the session.
A warm run finds everything cached and exits within a few milliseconds of work.
"""

from __future__ import annotations

import contextlib
import sys
import types
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _constants() -> None:
    from hypothesis.internal.constants_ast import constants_from_module

    for path in sorted((REPO / "harness").rglob("*.py")):
        module = types.ModuleType(path.stem)
        module.__file__ = str(path)
        constants_from_module(module)  # reads its cache file, or computes and writes it


def _rewritten(files: list[Path]) -> None:
    from _pytest.assertion.rewrite import PYC_TAIL, _read_pyc, _rewrite_test, _write_pyc, get_cache_dir

    state: Any = types.SimpleNamespace(trace=lambda message: None)  # all _write_pyc uses of pytest's state
    for fn in reversed(files):
        cache = get_cache_dir(fn)
        pyc = cache / (fn.name[:-3] + PYC_TAIL)
        if _read_pyc(fn, pyc) is not None:
            return
        cache.mkdir(exist_ok=True)
        source_hash, code = _rewrite_test(fn, None)  # type: ignore[arg-type]  # the config only holds hooks
        _write_pyc(state, code, source_hash, pyc)


def _unicode() -> None:
    from hypothesis.internal.charmap import charmap, intervals_from_codec

    charmap()
    intervals_from_codec("utf-8")


def main(args: list[str]) -> None:
    sys.dont_write_bytecode = False
    # In the order the session needs them: test modules while it collects, the constants when collection ends,
    # the unicode tables at a test's first text draw.
    for step in (lambda: _rewritten([Path(a) for a in args]), _constants, _unicode):
        with contextlib.suppress(Exception):
            step()


if __name__ == "__main__":
    main(sys.argv[1:])
