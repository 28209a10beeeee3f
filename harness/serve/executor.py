"""The worker threads runs execute on, and how a stop interrupts them.

`harness.pipeline.execute` is blocking (it runs its own event loop), so every run goes to a worker thread.
Replays run on ONE thread: a replay freezes `time.time()` for the whole process while it runs, so two at
once would fight over the frozen time. Live runs get a small pool. The threads are daemons: a function
stuck in non-HTTP code cannot keep the process from exiting after the grace period.

A stop sets `stopping`; after the grace period `interrupting` is set too, and the next HTTP exchange or
saved batch of any run raises `RunInterrupted` inside it (through the run's progress hook), so the run
ends as failed with what it had committed (each batch is one SQLite transaction; nothing is half-written).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from ..result import RunResult

T = TypeVar("T")
LIVE_WORKERS = 4


class RunInterrupted(Exception):
    """Raised inside a run when the server stops and the grace period is over."""

    def __init__(self) -> None:
        super().__init__("harness serve stopped during the run")


class Executor:
    def __init__(self, *, live: bool) -> None:
        self.workers = LIVE_WORKERS if live else 1
        self._queue: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self.stopping = threading.Event()
        self.interrupting = threading.Event()
        self.busy = 0
        self._lock = threading.Lock()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, future = item
            if not future.set_running_or_notify_cancel():
                continue
            with self._lock:
                self.busy += 1
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)
            finally:
                with self._lock:
                    self.busy -= 1

    def _start(self) -> None:
        while len(self._threads) < self.workers:
            thread = threading.Thread(target=self._work, name=f"harness-serve-run-{len(self._threads)}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    async def run(self, fn: Callable[[], T]) -> T:
        """Run `fn` on a worker thread and wait for it without blocking the event loop."""
        self._start()
        future: Future[T] = Future()
        self._queue.put((fn, future))
        return await asyncio.wrap_future(future)

    def progress(self, result: RunResult) -> None:
        """The runs' progress hook: where a stop reaches into a run."""
        if self.interrupting.is_set():
            raise RunInterrupted()

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
