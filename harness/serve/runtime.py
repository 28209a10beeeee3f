"""Everything one server holds, put together: registry, store, state, runner, scheduler, webhooks, spans.

`Runtime` is usable without HTTP (the tests drive its scheduler on a manual clock); `app.build_app` puts the
API in front of it. `start()` creates a schedule per sync and connection (auto-start ones run at once unless
`--no-schedule`); `stop()` stops the schedules, lets runs in flight finish within the grace period (then
interrupts them, see `executor`), delivers the queued webhooks and flushes the spans.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..clock import Clock
from ..project import Project
from ..records.sqlite import SqliteStore
from ..scratch import remove as scratch_remove
from ..scratch import scratch_dir
from .config import ServeConfig
from .executor import Executor
from .outbound import Outbound
from .record_reads import RecordReader
from .registry import Registry
from .runs import Runner, RunnerOptions
from .scheduler import Scheduler
from .server_state import ServeState
from .timekeeping import WallClock

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


class Runtime:
    def __init__(self, project: Project, config: ServeConfig, *, clock: Clock | None = None,
                 webhook_clock: Clock | None = None, exporter: SpanExporter | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        from ..telemetry import make_provider

        self.project = project
        self.config = config
        self.clock = clock or WallClock()
        self.log = log or _stderr
        # In the project's scratch space, tagged with this process: what a SIGKILL leaves is swept at the next
        # start (a folder in /tmp would stay there). A project that cannot be written to still serves replays.
        try:
            self.tmp_dir = scratch_dir(project.state_dir, "serve")
        except OSError:
            self.tmp_dir = Path(tempfile.mkdtemp(prefix="harness-serve-"))
        if config.store is not None:
            self.store_path = config.store
        elif config.live:
            self.store_path = project.state_dir / "serve.sqlite"
        else:
            self.store_path = self.tmp_dir / "records.sqlite"
        try:
            # Creates the schema; a file that is not a records store is the store's own error (exit 5).
            SqliteStore(self.store_path, "", "", self.clock.now).close()
            self.registry = Registry(project, live=config.live)
            self.state = ServeState(self.store_path.with_name(self.store_path.stem + ".state.json")
                                    if config.store is not None or config.live else None)
            self.tracer = make_provider(console=config.otel_console, exporter=exporter)
        except BaseException:
            scratch_remove(self.project.state_dir, self.tmp_dir)
            raise
        for conn in self.registry.connections.values():
            kept = self.state.metadata.get(f"{conn.integration}/{conn.connection_id}")
            if kept is not None:
                self.registry.set_metadata(conn, kept)
        self.executor = Executor(live=config.live)
        self.outbound = Outbound(config.webhook_url, config.webhook_key, webhook_clock or WallClock(), self.log)
        self.runner = Runner(self.registry, self.state,
                             RunnerOptions(config.live, config.allow_writes, self.store_path, self.tmp_dir),
                             self.executor, self.outbound, self.clock, self.log, self.tracer)
        self.scheduler = Scheduler(self.runner, self.clock, enabled=config.schedule, log=self.log)
        self.reader = RecordReader(self.store_path)
        self.started = False

    def schedule_connection(self, integration: str, connection_id: str) -> None:
        conn = self.registry.connections[(integration, connection_id)]
        for sync in self.registry.syncs(integration):
            self.scheduler.add(sync, conn)

    async def start(self) -> None:
        for run in self.state.recovered:
            self.log(f"sync {run.integration}/{run.sync} {run.connection_id}: the previous server stopped during "
                     "its run; marked failed")
        for integration, connection_id in sorted(self.registry.connections):
            if integration in self.registry.integrations:
                self.schedule_connection(integration, connection_id)
        self.scheduler.begin()
        self.started = True

    async def idle(self) -> None:
        """Wait until no run is queued or running (tests)."""
        while True:
            await asyncio.sleep(0)
            pending = self.runner.pending()
            if not pending:
                return
            await asyncio.wait(pending)

    async def stop(self) -> None:
        try:
            await self.scheduler.stop()
            await self.runner.stop(self.config.grace_s)
            try:
                await asyncio.wait_for(self.outbound.drain(), timeout=max(1.0, self.config.grace_s))
            except TimeoutError:
                self.log("some webhooks to the app were not delivered before the stop")
            if self.tracer is not None:
                self.tracer.force_flush()
                self.tracer.shutdown()
        finally:
            self.reader.close()
            self.executor.close()
            scratch_remove(self.project.state_dir, self.tmp_dir)
