"""Work started ahead: the processes a test only drives and collects run on the other core before it runs.

A test that starts fresh interpreters, inner pytest sessions or servers with inputs fixed in advance, drives
them and asserts on what they printed or left spends its time waiting; meanwhile the second core idles, and
while the tests before it compute, its processes have not started. Such a test declares that work here,
`@ahead(test)` on a function of its module that starts the process(es) and returns what the test asserts on,
or holds the test's whole body, asserts included (they fail the test when it collects the work); the test
calls `.result()`.

The work runs on a thread of the session's process, beside the tests: it must use only what its context
gives (its environment, working folder and temporary folder: the process's own are whatever the test running
meanwhile made them) and start its processes through it. What is the whole process's must not be changed by
it, nor relied on while a test may change it: the umask, the clock (freezegun froze `time.monotonic` for
every thread, so a `subprocess` timeout ended at once; time-machine's `time.time`), `sys.modules` (a harness
run in this process imports the project's functions under shared names): such set-up goes in `prepare`,
which runs on the main thread. tests/conftest.py's `no_network` lets this thread, and only it, connect; a
test that patches the process's HTTP clients (vcrpy's `use_cassette`) runs under `paused()`.

This module owns:
- the registry of that work (one per test, keyed by the test's module and function name, or one per
  parametrization, by the test's name with its id);
- the queue: tests/conftest.py calls `queue()` at the end of a serial session's collection (not under xdist,
  not with --collect-only) with the tests that will run, in their order; the work of those not skipped is
  queued in that order;
- the one worker thread that runs the queue, one item at a time (at most one extra busy process tree);
- `Context`: what an item gets, the test's view of the world fixed at queue time (its environment, with
  what tests/conftest.py's `_clean_env` removes for every test and the PYTEST_CURRENT_TEST pytest sets, and
  its working folder), a temporary folder of its own, and processes it starts through it, so they can be
  killed;
- the end of it all (`finish()`, at session finish, also at exit): work not started is dropped, the
  processes of the one running are killed and reaped, and every item's folder is removed.

`result()` gives the finished result, waits for a running one, and runs the work itself, in the test, when it
was not started (the test run alone or under xdist, or queued behind others still); an exception the work
raised is raised there. Each result is given once: a second run of the test (a rerun) does the work anew.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import multiprocessing.process
import multiprocessing.spawn
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import pytest

T = TypeVar("T")
NICE = 10  # the processes started ahead yield the CPU to the session (see Context.own)


class _Process(Protocol):
    def poll(self) -> int | None: ...
    def kill(self) -> None: ...


class Context:
    """What a work item runs with: `folder` (empty, its own, removed at session end), `env` and `cwd` (the
    environment and working folder the test itself has), and `popen`/`run`/`own` for its processes."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.folder = Path(tempfile.mkdtemp(prefix="harness-early-"))
        _FOLDERS.append(self.folder)
        self._processes: list[_Process] = []
        self.prepared: Any = None  # what the work's `prepare` returned
        self._unprepared: BaseException | None = None  # what it raised instead

    def own(self, process: Any) -> Any:
        """Note a process started otherwise (a `cli_process.HarnessProcess`), to kill if the session ends first.

        A forked process started off the main thread leaves multiprocessing's list of children: the main thread
        polls every child at each start of one, and two threads polling one finished child both read its end
        from the fork server's pipe, the second an EOF, which multiprocessing reports as exit status 255."""
        inner = getattr(process, "_proc", None)
        if isinstance(inner, multiprocessing.process.BaseProcess) and threading.current_thread() is _worker_thread():
            multiprocessing.process._children.discard(inner)  # type: ignore[attr-defined]
        self._processes.append(process)
        if _STOPPING.is_set():
            process.kill()
        # Behind the session's own work for the CPU (the processes it starts later inherit that): started at
        # collection's end, this work meets the warm-up, the fork server's and Chromium's starts on the other
        # core, and a test that runs meanwhile must not wait for it; idle cores still run it at full speed.
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, process.pid, NICE)
        return process

    def popen(self, args: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
        """`subprocess.Popen(args, **kwargs)`, owned. Give `env` and `cwd` (`self.env`, `self.cwd`): this
        process's own are another test's by the time it runs."""
        return self.own(subprocess.Popen(args, **kwargs))  # type: ignore[no-any-return]

    def run(self, args: Sequence[str], *, timeout: float, check: bool = False,
            **kwargs: Any) -> subprocess.CompletedProcess[Any]:
        """`subprocess.run(args, timeout=timeout, check=check, **kwargs)`, its process owned."""
        if kwargs.pop("capture_output", False):
            kwargs["stdout"] = kwargs["stderr"] = subprocess.PIPE
        with self.popen(args, **kwargs) as process:
            try:
                out, err = process.communicate(timeout=timeout)
            except BaseException:
                process.kill()
                process.wait()
                raise
        if check and process.returncode:
            raise subprocess.CalledProcessError(process.returncode, args, out, err)
        return subprocess.CompletedProcess(args, process.returncode, out, err)

    def forked(self, process: Any, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """`cli_process.run(args, cwd=cwd, env=env, timeout=timeout)` for the process given as
        `cli_process.HarnessProcess(args, cwd=cwd, env=env)` (`harness ARGS` forked warm), owned.

        The caller's module imports tests/cli_process.py, so that tests/conftest.py starts its fork server at
        collection: one started meanwhile, from within a pytester test's chdir, would not find `tests`."""
        with self.own(process):
            return process.result(timeout)  # type: ignore[no-any-return]

    def _kill(self) -> None:
        for process in self._processes:
            with contextlib.suppress(OSError):
                if process.poll() is None:
                    process.kill()


class Work(Generic[T]):
    """The work of one test: `result()` in the test."""

    def __init__(self, module: str, test: str, start: Callable[[Context], T],
                 prepare: Callable[[Context], Any] | None = None) -> None:
        self.module, self.test, self._start, self._prepare = module, test, start, prepare
        self._state = "idle"  # idle -> queued -> running -> done (or "taken": awaited) -> idle; queued -> idle: inline
        self._done = threading.Event()
        self._context: Context | None = None
        self._value: T | None = None
        self._error: BaseException | None = None
        self.folder: Path | None = None  # the folder of its latest context (what it left there: screenshots)
        self._queued: Context | None = None  # the context made (and prepared) when it was queued

    def _context_for(self, env: dict[str, str], cwd: Path) -> Context:
        """A context for one run, prepared on the calling thread (the main one: see `ahead`)."""
        context = Context(env, cwd)
        self.folder = context.folder
        if self._prepare is not None:
            try:
                context.prepared = self._prepare(context)
            except BaseException as exc:  # raised in the test, as the work's own error
                context._unprepared = exc
        return context

    def _run(self, context: Context) -> None:
        self._context = context
        try:
            if context._unprepared is not None:
                raise context._unprepared
            self._value = self._start(context)
        except BaseException as exc:  # raised again in the test
            self._error = exc
        self._done.set()

    def result(self) -> T:
        """What the work returned (or raises what it raised): finished ahead, waited for, or done now."""
        with _LOCK:
            state = self._state
            self._state = "idle"
            if state == "running":
                self._state = "taken"  # the worker leaves it be when it ends
        if state in ("running", "done"):
            self._done.wait()
            value, error, self._value, self._error = self._value, self._error, None, None
            self._done.clear()
            with _LOCK:
                self._state = "idle"
            if error is not None:
                raise error
            return value  # type: ignore[return-value]
        # Not started (run alone, or reached before the worker got to it): here, with what was prepared for it.
        context, self._queued = self._queued or self._context_for(dict(os.environ), Path.cwd()), None
        self.folder = context.folder
        if context._unprepared is not None:
            raise context._unprepared
        return self._start(context)


_WORK: dict[tuple[str, str], Work[Any]] = {}
_QUEUE: collections.deque[tuple[Work[Any], Context]] = collections.deque()
_LOCK = threading.Lock()
_STOPPING = threading.Event()
_FOLDERS: list[Path] = []
_WORKER: list[threading.Thread] = []
_CWD: list[Path] = []
_SYS_PATH: list[str] = []


def ahead(test: str, *, prepare: Callable[[Context], Any] | None = None
          ) -> Callable[[Callable[[Context], T]], Work[T]]:
    """Decorator: the function is the work of `test`, a test function of the same module (or, spelt
    `test_x[id]`, of one of its parametrizations: each its own work).

    `prepare(context)`, if given, runs on the main thread when the work is queued (at collection's end, before
    the worker starts), its value at `context.prepared`: for what must not run beside the session's tests, in
    the same process (a harness run in this process: it freezes the process's clock and imports the project's
    functions under names every in-process run shares). Run alone, the test prepares and works in turn."""

    def register(start: Callable[[Context], T]) -> Work[T]:
        work = Work(start.__module__, test, start, prepare)
        _WORK[(work.module, test)] = work
        return work

    return register


def _worker_thread() -> threading.Thread | None:
    return _WORKER[0] if _WORKER else None


def on_worker() -> bool:
    """Whether the calling thread is the one running work ahead (another test's, meanwhile)."""
    return _WORKER != [] and threading.current_thread() is _WORKER[0]


_PREPARATION = multiprocessing.spawn.get_preparation_data


def _prepared_as_the_session(name: str) -> dict[str, Any]:
    """multiprocessing's start-up data for a new process (forkserver's too), with, for one started by the
    worker, the session's working folder and sys.path: the process is the worker's, but the process-wide
    ones are whatever the test running meanwhile made them (pytester's in-process runs chdir into their
    project and put its folders first on sys.path, where `tests` is another package: the child, which takes
    both before it unpickles its target, then failed to import tests.cli_process)."""
    data: dict[str, Any] = _PREPARATION(name)
    if threading.current_thread() is _worker_thread():
        data.update(dir=str(_CWD[0]), sys_path=list(_SYS_PATH))
    return data


def queue(items: Iterable[pytest.Item], *, unset: Sequence[str]) -> None:
    """Queue the work of these tests, in this order, and start the worker (tests/conftest.py, at collection
    finish of a serial session). `unset`: the variables every test runs without."""
    base = {k: v for k, v in os.environ.items() if k not in unset}
    with _LOCK:
        for item in items:
            module = getattr(getattr(item, "module", None), "__name__", None)
            # One parametrization's own work (registered as "test_x[id]"), or the test's for all of them.
            work = (_WORK.get((module, item.name)) or  # type: ignore[arg-type]
                    _WORK.get((module, getattr(item, "originalname", item.name))))  # type: ignore[arg-type]
            if work is None or work._state != "idle" or item.get_closest_marker("skip"):
                continue
            work._state = "queued"
            env = {**base, "PYTEST_CURRENT_TEST": f"{item.nodeid} (call)"}
            work._queued = work._context_for(env, Path.cwd())
            _QUEUE.append((work, work._queued))
        if not _QUEUE or _WORKER:
            return
        _CWD.append(Path.cwd())
        _SYS_PATH[:] = sys.path
        multiprocessing.spawn.get_preparation_data = _prepared_as_the_session
        thread = threading.Thread(target=_work, name="early-work", daemon=True)
        _WORKER.append(thread)
    thread.start()


_CHANGED = threading.Condition(_LOCK)  # an item ended, a pause began or ended, the session is ending
_PAUSES = [0]  # tests under `paused()` now
_BUSY = [False]  # an item is running


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No work runs while inside (the item running when it is entered ends first): for a test that patches
    what this thread uses too, for every thread of the process (vcrpy's `use_cassette` replaces http.client's,
    urllib3's and httpx's connections: selenium's calls to chromedriver and the serve tests' requests were
    answered from that test's cassette)."""
    with _LOCK:
        _PAUSES[0] += 1
        while _BUSY[0] and not _STOPPING.is_set():
            _CHANGED.wait()
    try:
        yield
    finally:
        with _LOCK:
            _PAUSES[0] -= 1
            _CHANGED.notify_all()


def _work() -> None:
    while True:
        with _LOCK:
            while _PAUSES[0] and not _STOPPING.is_set():
                _CHANGED.wait()
            if _STOPPING.is_set() or not _QUEUE:
                return
            work, context = _QUEUE.popleft()
            if work._state != "queued":
                continue  # the test ran it itself
            work._state = "running"
            work._queued = None
            _BUSY[0] = True
        try:
            work._run(context)
        finally:
            with _LOCK:
                _BUSY[0] = False
                if work._state == "running":
                    work._state = "done"
                _CHANGED.notify_all()


def finish() -> None:
    """The session's end: drop work not started, kill and reap the processes of the running one, remove
    every item's folder."""
    _STOPPING.set()
    with _LOCK:
        _CHANGED.notify_all()
        _QUEUE.clear()
        running = [w for w in _WORK.values() if w._state in ("running", "taken") and not w._done.is_set()]
    for work in running:
        if work._context is not None:
            work._context._kill()
    thread = _worker_thread()
    if thread is not None:
        thread.join(60)  # killed, its process ends at once; the work then returns or raises
    for folder in _FOLDERS:
        shutil.rmtree(folder, ignore_errors=True)
    _FOLDERS.clear()


atexit.register(finish)  # a session cut short before its finish hook (finish twice does nothing more)
