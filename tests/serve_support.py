"""Helpers for the `harness serve` tests: a real server in a thread, projects with extra functions, cassettes.

`Served` runs the real application under uvicorn on 127.0.0.1 (an ephemeral port) in a background thread,
so the tests talk HTTP to it as an app does; `project_with` copies the bundled example and adds files;
`cassette` writes a minimal recording (its `harness:` context and the given interactions).
"""

from __future__ import annotations

import asyncio
import socket
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import yaml

from harness.project import load_project
from harness.serve.config import ServeConfig
from harness.serve.runtime import Runtime
from harness.serve.server import _Server, bind, url_of
from tests.conftest import copy_example
from tests.fakes import http_client

REPO = Path(__file__).resolve().parents[1]
KEY = "sk-serve-test"
GRACE_S = 2  # how long a stopping test server waits for requests in flight
DEMO = {"connection_id": "demo", "provider": "github", "integration": "github", "base_url": "https://api.github.com",
        "credentials": {"type": "OAUTH2", "access_token": "<scrubbed:access_token>"}, "connection_config": {},
        "metadata": {"owner": "octocat", "repo": "hello-world"}}


def project_with(root: Path, files: dict[str, str] | None = None) -> Path:
    """A copy of the bundled example at `root`, plus `files` (paths relative to the project)."""
    copy_example(root)
    for rel, text in (files or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def cassette(root: Path, integration: str, function: str, kind: str, *, scenario: str = "default",
             interactions: list[dict[str, Any]] | None = None, **context: Any) -> Path:
    """Write `cassettes/<integration>/<function>/<scenario>.yaml` with a `harness:` context."""
    head = {"format": 1, "function": function, "integration": integration, "type": kind, "scenario": scenario,
            "recorded_at": "2026-11-27T09:00:00Z", "connection": DEMO, **context}
    items = []
    for i in interactions or []:
        items.append({"request": {"body": i.get("request_body"), "headers": {}, "method": i["method"],
                                  "uri": f"https://api.github.com{i['path']}"},
                      "response": {"body": {"string": i.get("body", "{}")},
                                   "headers": {"content-type": ["application/json"]},
                                   "status": {"code": i.get("status", 200), "message": "OK"}}})
    path = root / "cassettes" / integration / function / f"{scenario}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"harness": head, "interactions": items, "version": 1}, sort_keys=False))
    return path


def wait_for(what: str, check: Callable[[], Any], timeout: float = 20.0) -> Any:
    # Looks again after 1 ms, then less and less often (up to every 10 ms): most waits end within a few ms
    # (a server's start, a run of a small sync), and a fixed 10 ms poll added 5 ms to each on average.
    end = time.monotonic() + timeout
    delay = 0.001
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.01)


class _QuickStop(_Server):
    """harness serve's server, looking at `should_exit` every 5 ms instead of uvicorn's 100 and stopping as
    soon as its connections are closed (uvicorn's stop sleeps 100 ms first, whatever is open; the suite stops
    some thirty servers). The stop is otherwise uvicorn's: no new connections, open ones asked to close,
    requests in flight given `timeout_graceful_shutdown` then cancelled, then the app's lifespan shutdown (the
    runtime's own stop). How `harness serve` itself stops is tested on real processes (test_serve_process.py)."""

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            await asyncio.sleep(0.005)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        end = time.monotonic() + GRACE_S
        while (self.server_state.connections or self.server_state.tasks) and time.monotonic() < end:
            await asyncio.sleep(0.005)
        for task in self.server_state.tasks:
            task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()


class Served:
    """The real server for `root`, in a thread: `.url`, `.client` (with the key), `.runtime`, `.logs`."""

    def __init__(self, root: Path, **options: Any) -> None:
        self.logs: list[str] = []
        extra = {k: options.pop(k) for k in ("exporter", "webhook_clock") if k in options}
        self.config = ServeConfig(secret_key=KEY, port=0, **{"schedule": False, "grace_s": 2.0, **options})
        self.runtime = Runtime(load_project(root), self.config, log=self.logs.append, **extra)
        self._thread: threading.Thread | None = None
        self._server: _Server | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> Self:
        import uvicorn

        from harness.serve.app import build_app

        sock = bind("127.0.0.1", 0)
        self.url = url_of(sock)
        config = uvicorn.Config(build_app(self.runtime), log_config=None, access_log=False, lifespan="on",
                                timeout_graceful_shutdown=GRACE_S)
        self._server = server = _QuickStop(config)

        def run() -> None:
            try:
                asyncio.run(server.serve(sockets=[sock]))
            except BaseException as exc:  # surfaced by __exit__
                self._error = exc
            finally:
                sock.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        wait_for("the server to start", lambda: server.started or self._error is not None)
        if self._error is not None:
            raise self._error
        self.client = http_client(base_url=self.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=20)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.client.close()
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(30)
        assert not self._thread.is_alive(), "the server did not stop"

    # -- app-side helpers --------------------------------------------------------------------------
    def status(self, sync: str = "issues", connection: str = "demo", integration: str = "github") -> dict[str, Any]:
        response = self.client.get("/sync/status", params={"syncs": sync, "provider_config_key": integration,
                                                           "connection_id": connection})
        assert response.status_code == 200, response.text
        entry: dict[str, Any] = response.json()["syncs"][0]
        return entry

    def run_sync(self, sync: str = "issues", connection: str = "demo", integration: str = "github",
                 **body: Any) -> dict[str, Any]:
        """Trigger a sync and wait for that run to finish; returns its status entry."""
        runs_before = len(self.runtime.state.runs.get(f"{integration}/{sync}/{connection}", []))
        response = self.client.post("/sync/trigger", json={"syncs": [sync], "provider_config_key": integration,
                                                           "connection_id": connection, **body})
        assert response.status_code == 200, response.text

        def done() -> bool:
            runs = self.runtime.state.runs.get(f"{integration}/{sync}/{connection}", [])
            return len(runs) > runs_before and runs[-1].status != "RUNNING"

        wait_for(f"sync {sync}", done)
        return self.status(sync, connection, integration)

    def records(self, model: str = "Issue", connection: str = "demo", integration: str = "github",
                **params: Any) -> httpx.Response:
        return self.client.get("/records/", params={"model": model, **params},
                               headers={"Connection-Id": connection, "Provider-Config-Key": integration})

    def action(self, name: str, input: Any = None, connection: str = "demo", integration: str = "github",
               **headers: str) -> httpx.Response:
        body: dict[str, Any] = {"action_name": name}
        if input is not None:
            body["input"] = input
        return self.client.post("/action/trigger", json=body,
                                headers={"Connection-Id": connection, "Provider-Config-Key": integration, **headers})


# -- functions the bundled example does not have, for temporary projects ---------------------------------
ITEMS_SYNC = '''
"""Items from the connection's metadata: `ids` and `version` decide what a run saves (a full refresh)."""
from pydantic import BaseModel

from harness import SyncContext, sync


class Item(BaseModel):
    id: str
    name: str


@sync(models=[Item], frequency="every 30 seconds")
async def items(nango: SyncContext) -> None:
    meta = await nango.get_metadata() or {}
    await nango.track_deletes_start(Item)
    await nango.batch_save([{"id": i, "name": f"{i}-v{meta.get('version', 1)}"}
                            for i in meta.get("ids", ["a", "b", "c"])], Item)
    await nango.track_deletes_end(Item)
'''

# Saves `batches` batches of 10 records, `pause` seconds apart; with `gate`, waits for that file to exist before
# batch number `gate_at` (0: before the first).
SLOW_SYNC = '''
import asyncio
from pathlib import Path

from pydantic import BaseModel

from harness import SyncContext, sync


class Slow(BaseModel):
    id: str


@sync(models=[Slow], frequency="every 30 seconds", auto_start=False)
async def slow(nango: SyncContext) -> None:
    meta = await nango.get_metadata() or {}
    for b in range(meta.get("batches", 1)):
        if meta.get("gate") and b == meta.get("gate_at", 0):
            while not Path(meta["gate"]).exists():
                await asyncio.sleep(0.01)
        await nango.batch_save([{"id": f"{b}-{i}"} for i in range(10)], Slow)
        await asyncio.sleep(meta.get("pause", 0))
'''

# A webhook handler subscribed to GitHub's `issues` events.
EVENTS_SYNC = '''
from pydantic import BaseModel

from harness import SyncContext, sync


class IssueEvent(BaseModel):
    id: str
    action: str


@sync(models=[IssueEvent], frequency="every day", auto_start=False, webhook_subscriptions=["issues"])
async def issue_events(nango: SyncContext) -> None:
    pass


@issue_events.on_webhook
async def on_issue(nango: SyncContext, payload: dict) -> None:
    await nango.batch_save([{"id": str(payload["issue"]["id"]), "action": payload["action"]}], IssueEvent)
'''

VALIDATE_EVENT = '''
from harness import ActionContext, ActionError, on_event


@on_event("validate-connection")
async def check_connection(nango: ActionContext) -> None:
    conn = await nango.get_connection()
    if conn.connection_config.get("reject"):
        raise ActionError({"message": "this account is not allowed"})
'''

WELCOME_EVENT = '''
from harness import ActionContext, on_event


@on_event("post-connection-creation")
async def welcome(nango: ActionContext) -> None:
    await nango.update_metadata({"welcomed": True})
'''

GOODBYE_EVENT = '''
from harness import ActionContext, on_event


@on_event("pre-connection-deletion")
async def goodbye(nango: ActionContext) -> None:
    await nango.post("/goodbye", json={"connection": nango.connection_id})
'''

FAILING_ACTION = '''
from pydantic import BaseModel

from harness import ActionContext, ActionError, action


class Ask(BaseModel):
    what: str


@action(input=Ask)
async def refuse(nango: ActionContext, input: Ask) -> dict:
    if input.what == "http":
        await nango.get("/missing")
    raise ActionError({"message": f"refused {input.what}"})
'''


def full_project(root: Path) -> Path:
    """The example plus every function above, each with the (empty or small) recordings it replays."""
    project_with(root, {"functions/github/syncs/items.py": ITEMS_SYNC,
                        "functions/github/syncs/slow.py": SLOW_SYNC,
                        "functions/github/syncs/issue_events.py": EVENTS_SYNC,
                        "functions/github/on_events/check_connection.py": VALIDATE_EVENT,
                        "functions/github/on_events/welcome.py": WELCOME_EVENT,
                        "functions/github/on_events/goodbye.py": GOODBYE_EVENT,
                        "functions/github/actions/refuse.py": FAILING_ACTION})
    cassette(root, "github", "items", "sync")
    cassette(root, "github", "slow", "sync")
    cassette(root, "github", "issue-events", "webhook", scenario="webhook")
    cassette(root, "github", "check-connection", "on-event")
    cassette(root, "github", "welcome", "on-event")
    cassette(root, "github", "goodbye", "on-event",
             interactions=[{"method": "POST", "path": "/goodbye", "status": 204, "body": "",
                            "request_body": '{"connection":"new-1"}'}])
    cassette(root, "github", "refuse", "action",
             interactions=[{"method": "GET", "path": "/missing", "status": 404,
                            "body": '{"message": "Not Found"}'}])
    return root
