"""The done-when test: Nango's official Node client (`@nangohq/node`, installed with npm) drives `harness serve`
on the bundled example, unchanged, through `tests/node/serve_client.mjs`.

The SDK is installed once into `$HARNESS_NODE_SDK` (CI sets `.ci/node`) or a folder in the temporary directory,
under a lock so parallel workers share it. Skipped, saying why, only when node or npm is not on the machine.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest

from harness import webhooks
from tests import early
from tests.cli_process import HarnessProcess
from tests.serve_support import REPO

SDK = "@nangohq/node@0.71"
CLIENT = REPO / "tests" / "node" / "serve_client.mjs"
KEY = "sk-node-test-key"
OUTPUT = {"id": "1013", "number": 13, "url": "https://github.com/octocat/hello-world/issues/13"}


def _folder() -> Path:
    return Path(os.environ.get("HARNESS_NODE_SDK") or Path(tempfile.gettempdir()) / "harness-nango-node-sdk-0.71")


def _installed(folder: Path) -> bool:
    return (folder / "node_modules" / "@nangohq" / "node" / "package.json").is_file()


def sdk_folder() -> Path:
    """A folder with `node_modules/@nangohq/node` (installed on first use)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed: the @nangohq/node test needs them (apt-get install nodejs npm)")
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _installed(folder):
            if not (folder / "package.json").is_file():
                (folder / "package.json").write_text('{"name": "harness-sdk-test", "private": true}\n')
            done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", SDK],
                                  cwd=folder, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, f"npm install {SDK} failed:\n{done.stderr}"
    return folder


def start_early() -> None:
    """Install the SDK now, in a thread, if it is not there yet: on a machine's first run `npm install` takes
    seconds of network and disk while the tests before this one run. tests/conftest.py calls this in a serial
    session that will run this module's test; the fixture then waits on the install's lock. Not a daemon: an
    install cut short at exit would leave a half-filled node_modules behind."""
    if _installed(_folder()):
        return

    def install() -> None:
        with contextlib.suppress(BaseException):  # pytest.skip's exception too: the fixture says it again
            sdk_folder()

    threading.Thread(target=install, name="npm-install", daemon=False).start()


# The node client and the server run ahead, on the other core (tests/early.py); the test reads what the
# client saw and what the server logged.
@early.ahead("test_the_official_node_client_works_unchanged")
def _node_client(ctx: early.Context) -> tuple[str, str]:
    sdk = sdk_folder()
    version = json.loads((sdk / "node_modules/@nangohq/node/package.json").read_text())["version"]
    assert version.startswith("0.71."), version
    # The app's script sits next to its node_modules, as in any Node project.
    script = sdk / f"serve_client_{os.getpid()}.mjs"
    shutil.copyfile(CLIENT, script)
    node = ctx.popen(["node", str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     text=True, cwd=ctx.cwd, env={**ctx.env, "SERVE_KEY": KEY})
    server: HarnessProcess | None = None
    try:
        assert node.stdout is not None and node.stdin is not None
        receiver = node.stdout.readline().split()
        assert receiver[:1] == ["RECEIVER"], receiver
        env = {k: v for k, v in ctx.env.items() if k != "NANGO_WEBHOOK_SIGNING_KEY"}
        # harness serve in a process of its own (forked warm: tests/cli_process.py).
        server = ctx.own(HarnessProcess(["serve", "--port", "0", "--secret-key", KEY, "--no-schedule",
                                         "--webhook-url", receiver[1]], cwd=REPO, env=env, stream="stderr"))
        assert server.stderr is not None
        ready = re.match(r"harness serve: listening on (http://127\.0\.0\.1:\d+) ", server.stderr.readline())
        assert ready, "harness serve did not start"
        node.stdin.write(ready.group(1) + "\n")
        node.stdin.flush()
        out, err = node.communicate(timeout=120)
        assert node.returncode == 0, f"the node client failed:\n{err}\n{out}"
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0
        log = server.stderr.read()
    finally:
        if node.poll() is None:
            node.kill()
        node.wait()
        for stream in (node.stdin, node.stdout, node.stderr):
            if stream is not None:
                stream.close()
        if server is not None:
            server.close()
        with contextlib.suppress(OSError):
            script.unlink()
    return out, log


def test_the_official_node_client_works_unchanged() -> None:
    out, log = _node_client.result()
    seen: dict[str, Any] = json.loads(out)

    # The issues sync ran once (triggered), its 12 records listed at once and 5 at a time.
    status = seen["status"]
    assert status["latestExecutionStatus"] == "SUCCESS" and status["latestResult"]["Issue"]["added"] == 12
    assert seen["records"] == [str(1000 + n) for n in range(1, 13)] and seen["all_next_cursor"] is None
    assert [len(p) for p in seen["pages"]] == [5, 5, 2] and [i for p in seen["pages"] for i in p] == seen["records"]
    assert seen["record_sample"]["_nango_metadata"]["last_action"] == "ADDED"
    assert seen["modified_after_count"] == 12
    # create-issue answers what was recorded, synchronously and asynchronously.
    assert seen["action"] == OUTPUT and seen["async_result"] == {"value": OUTPUT}
    assert seen["async_job"]["statusUrl"] == f"/action/{seen['async_job']['id']}"
    assert seen["invalid_input"]["status"] == 400
    assert seen["invalid_input"]["data"]["error"]["code"] == "invalid_action_input"
    # Connection, metadata (set replaces, update merges), token: placeholders, never a secret.
    assert seen["connection"]["connection_id"] == "demo" and seen["connection"]["provider_config_key"] == "github"
    assert seen["connections"] == ["demo"]
    assert seen["metadata_after_set"] == {"owner": "octocat", "repo": "hello-world", "team": "a"}
    assert seen["metadata_after_update"] == {"owner": "octocat", "repo": "hello-world", "team": "b"}
    assert seen["token"] == "<scrubbed:access_token>"
    assert [c["providerConfigKey"] for c in seen["config"]] == ["github"]
    # A wrong key: 401 in Nango's shape. An unknown connection: 404 naming it.
    assert seen["wrong_key"]["status"] == 401 and seen["wrong_key"]["data"]["error"]["code"] == "unknown_account"
    assert seen["unknown_connection"]["status"] == 404 and "'nobody'" in seen["unknown_connection"]["data"][
        "error"]["message"]
    # The signed webhooks arrived and the SDK's own check accepts them (and refuses them with another key).
    hooks = {w["payload"]["type"]: w for w in seen["webhooks"]}
    assert hooks["sync"]["verified"] and not hooks["sync"]["verified_with_wrong_key"]
    assert hooks["async_action"]["verified"] and not hooks["async_action"]["verified_with_wrong_key"]
    sync = hooks["sync"]["payload"]
    assert sync["syncName"] == "issues" and sync["syncType"] == "INITIAL" and sync["model"] == "Issue"
    assert sync["responseResults"] == {"added": 12, "updated": 0, "deleted": 0}
    assert webhooks.serialize(sync)  # the payload is Nango's (sorted, compact) JSON
    assert "sync github/issues demo: success +12" in log
