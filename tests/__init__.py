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
import shutil
import sys

sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# The tests' temporary folders (`tmp_path`) in memory where Linux has a roomy /dev/shm: on this machine's disk
# each file created and deleted costs a millisecond or more (the suite makes some 17,000), on tmpfs
# microseconds. The harness code under test does the same work on either. Docker's default 64 MB /dev/shm is
# too small for the scale checks, so it takes 1 GB free; PYTEST_DEBUG_TEMPROOT (pytest's own) or --basetemp
# chooses another place.
_SHM = "/dev/shm"
if (sys.platform == "linux" and "PYTEST_DEBUG_TEMPROOT" not in os.environ and os.path.isdir(_SHM)
        and os.access(_SHM, os.W_OK | os.X_OK) and shutil.disk_usage(_SHM).free >= 1 << 30):
    os.environ["PYTEST_DEBUG_TEMPROOT"] = _SHM
