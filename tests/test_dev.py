"""harness dev: one cycle with --once, and a running watcher that sees an edit and re-runs what it affects."""

from __future__ import annotations

import queue
import signal
import threading
import time
from pathlib import Path

from click.testing import CliRunner, Result

from harness.cli import main
from tests import early
from tests.cli_process import HarnessProcess


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "devproj"
    assert invoke("init", str(root)).exit_code == 0
    assert invoke("--project", str(root), "clone", "slack-channels").exit_code == 0
    return root


def test_dev_once_checks_definitions_and_replays_everything(tmp_path: Path) -> None:
    root = _project(tmp_path)
    res = invoke("--project", str(root), "dev", "--once")
    assert res.exit_code == 0, res.output
    assert "all functions: ok definitions ok, 2/2 scenario(s) passed" in res.stdout
    sync = root / "functions" / "slack" / "syncs" / "channels.py"
    sync.write_text(sync.read_text().replace('"limit": 3', '"limit": 4'))
    res = invoke("--project", str(root), "dev", "--once")
    assert res.exit_code == 1
    assert "FAIL definitions ok, 1/2 scenario(s) passed" in res.stdout
    assert "slack/channels/default: no recorded response for GET /api/conversations.list" in res.stdout
    sync.write_text(sync.read_text().replace("async def channels", "def channels"))
    res = invoke("--project", str(root), "dev", "--once")
    assert res.exit_code == 1 and "FAIL definitions: 1 problem(s)" in res.stdout
    assert "channels.py:21: SyntaxError: 'async for' outside async function" in res.stdout


def _dev_project(ctx: early.Context) -> Path:
    return _project(ctx.folder)  # the CLI in this process: on the main thread (see tests/early.py)


# The watcher runs ahead, on the other core (tests/early.py), its edits and waits with it.
@early.ahead("test_dev_watches_and_reruns_the_affected_scenarios", prepare=_dev_project)
def _watching(ctx: early.Context) -> None:
    root: Path = ctx.prepared
    env = {**ctx.env, "PYTHONUNBUFFERED": "1"}
    # harness dev in a process of its own (forked warm: tests/cli_process.py), stderr into stdout.
    proc = ctx.own(HarnessProcess(["--project", str(root), "dev", "--debounce", "50"], cwd=ctx.cwd, env=env,
                                  stream="stdout"))
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()

    def wait_for(text: str, timeout: float, poke: Path | None = None) -> str:
        deadline = time.monotonic() + timeout
        last_poke = time.monotonic()
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                if poke is not None and time.monotonic() - last_poke > 1.5:
                    poke.write_text(poke.read_text() + "\n")  # the watcher may have started after the edit
                    last_poke = time.monotonic()
                continue
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r} within {timeout}s")

    try:
        wait_for("watching", 20)
        sync = root / "functions" / "slack" / "syncs" / "channels.py"
        sync.write_text(sync.read_text().replace('"limit": 3', '"limit": 4'))
        line = wait_for("functions/slack/syncs/channels.py:", 15, poke=sync)
        # only the changed function's scenario ran, and it failed on the changed request
        assert "FAIL definitions ok, 0/1 scenario(s) passed" in line
        sync.write_text(sync.read_text().replace('"limit": 4', '"limit": 3'))
        line = wait_for("ok definitions ok, 1/1 scenario(s) passed", 15, poke=sync)
        assert "channels.py" in line
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        proc.close()


def test_dev_watches_and_reruns_the_affected_scenarios() -> None:
    _watching.result()
