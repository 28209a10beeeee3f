"""The static checks see every module a bundle needs: helpers anywhere under functions/ are checked before
any of them is imported, `compile` never runs unchecked top-level code, and an import the bundle could not
satisfy fails compile naming it."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.cli import main

SYNC = """
from pydantic import BaseModel
from harness import sync
{imports}

class Thing(BaseModel):
    id: str

@sync(models=[Thing], frequency="every hour")
async def things(nango):
{body}
"""


def project(make_project: Callable[..., Path], imports: str, files: dict[str, str],
            body: str = "    pass") -> Path:
    return make_project({"github/syncs/things.py": SYNC.format(imports=imports, body=body), **files})


def compile_(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--project", str(root), "compile", *args], catch_exceptions=False)


def side_effect(marker: Path) -> str:
    """A module whose top-level code leaves a mark if it ever runs."""
    return f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\nVALUE = 1\n"


def test_a_helper_outside_the_integration_is_checked_before_anything_runs(make_project: Callable[..., Path],
                                                                          tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    root = project(make_project, "from ...common import util", {"common/util.py": side_effect(marker)})
    res = compile_(root)
    assert res.exit_code == 2, res.output
    assert ("functions/common/util.py:2: top-level call to Path().write_text() runs when the module is "
            "imported") in res.stderr
    assert not marker.exists()  # never imported
    assert not (root / ".harness" / "manifest.json").exists()


def test_a_shared_helper_is_in_the_manifest_and_the_bundle(make_project: Callable[..., Path]) -> None:
    shared = "from pydantic import BaseModel\n\nclass Shared(BaseModel):\n    id: str\n"
    root = project(make_project, "from ...shared.models import Shared\nfrom ...shared import util",
                   {"shared/models.py": shared, "shared/util.py": "HELLO = 'x'\n",
                    "shared/__init__.py": "", "gitlab/syncs/other.py": SYNC.format(
                        imports="from ...shared.models import Shared", body="    pass").replace("things", "other")})
    res = compile_(root, "--json")
    assert res.exit_code == 0, res.output
    manifest = json.loads(res.stdout)
    helpers = manifest["integrations"]["github"]["functions"]["things"]["helpers"]
    assert helpers == ["functions/shared/__init__.py", "functions/shared/models.py", "functions/shared/util.py"]
    before = manifest["integrations"]["github"]["functions"]["things"]["content_hash"]
    package = CliRunner().invoke(main, ["--project", str(root), "package", "-o", str(root / "b.zip")])
    assert package.exit_code == 0, package.output
    with zipfile.ZipFile(io.BytesIO((root / "b.zip").read_bytes())) as zf:
        names = zf.namelist()
    assert "functions/shared/models.py" in names and "functions/shared/util.py" in names
    (root / "functions" / "shared" / "util.py").write_text("HELLO = 'y'\n")
    after = json.loads(compile_(root, "--json").stdout)["integrations"]["github"]["functions"]["things"]
    assert after["content_hash"] != before  # a shared helper's change is the function's change


@pytest.mark.parametrize(("imports", "body", "message"), [
    ("", "    from .nothere import x", "imports .nothere (no nothere.py or package nothere/): the bundle would not"),
    ("", "    from ..lib import tool", "imports ..lib (no lib.py or package lib/)"),
    ("", "    from . import helper", "imports .helper (no helper.py beside it)"),
    ("from .... import outside", "    pass", "climbs above functions/"),
    ("from ..... import outside", "    pass", "climbs above functions/"),
])
def test_an_import_the_bundle_cannot_satisfy_fails_compile_naming_it(make_project: Callable[..., Path],
                                                                     imports: str, body: str, message: str) -> None:
    root = project(make_project, imports, {}, body=body)
    res = compile_(root)
    assert res.exit_code == 2, res.output
    assert "functions/github/syncs/things.py:" in res.stderr and message in res.stderr


def test_a_helper_a_symlink_leads_out_of_functions_is_refused_unrun(make_project: Callable[..., Path],
                                                                    tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    outside = tmp_path / "outside.py"
    outside.write_text(side_effect(marker))
    root = project(make_project, "from .. import linked", {})
    os.symlink(outside, root / "functions" / "github" / "linked.py")
    res = compile_(root)
    assert res.exit_code == 2, res.output
    assert "imports linked.py, which resolves outside functions/" in res.stderr
    assert not marker.exists()


def test_a_package_init_on_the_way_is_checked(make_project: Callable[..., Path], tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    root = project(make_project, "from ..lib.tool import VALUE",
                   {"github/lib/__init__.py": side_effect(marker), "github/lib/tool.py": "VALUE = 2\n"})
    res = compile_(root)
    assert res.exit_code == 2 and "functions/github/lib/__init__.py:2:" in res.stderr, res.output
    assert not marker.exists()


@pytest.mark.parametrize("code", ["import importlib\nmod = importlib.import_module('json')\n",
                                  "import runpy\nns = runpy.run_path('x.py')\n",
                                  "m = __import__('json')\n"])
def test_loading_code_at_import_time_is_refused(make_project: Callable[..., Path], code: str) -> None:
    root = project(make_project, "from ..loader import m", {"github/loader.py": code + "m = 1\n"})
    res = compile_(root)
    assert res.exit_code == 2 and "functions/github/loader.py:" in res.stderr, res.output


@pytest.mark.parametrize("compiled", ["helper.so", "helper.abi3.so", "helper/__init__.abi3.so"])
def test_a_compiled_module_python_would_load_instead_of_the_source_is_refused(make_project: Callable[..., Path],
                                                                               compiled: str) -> None:
    root = project(make_project, "from .. import helper", {"github/helper.py": "X = 1\n"})
    path = root / "functions" / "github" / compiled
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x7fELF")
    res = compile_(root)
    assert res.exit_code == 2, res.output
    assert "Python would load the compiled" in res.stderr and res.stderr.count("error:") == 1


def test_a_package_wins_over_a_module_of_the_same_name(make_project: Callable[..., Path], tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    root = project(make_project, "from ..helper import X",
                   {"github/helper.py": "X = 1\n", "github/helper/__init__.py": side_effect(marker) + "X = 2\n"})
    res = compile_(root)
    assert res.exit_code == 2 and "functions/github/helper/__init__.py:2:" in res.stderr, res.output
    assert not marker.exists()
