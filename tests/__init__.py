"""harness's own test suite. It writes bytecode whatever `PYTHONDONTWRITEBYTECODE` or `-B` says.

A stale-bytecode bug once hid behind `PYTHONDONTWRITEBYTECODE=1` (a function file edited within the second its
bytecode was written ran as the old copy), so the suite runs as a user's interpreter does: bytecode written and
read, in the pytest process (its assertion-rewritten test modules too), in the fork server of
tests/cli_process.py, and in every process a test starts (the variable is dropped from the environment they
inherit). This package is imported first, by pytest for tests/conftest.py and by the fork server for
tests/cli_zygote.py, before either imports harness. It is the test suite's choice only: harness's pytest plugin
leaves a project's bytecode settings as they are.
"""

import os
import sys

sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
