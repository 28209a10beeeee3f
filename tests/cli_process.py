"""`harness` in a process of its own, forked from a warm copy instead of started as a new interpreter.

A test that needs a real process (its exit status, a signal that kills it, its stdout and stderr apart, its
own environment and working folder) but not a new interpreter gets one here in a few milliseconds instead of
0.3-1 s: the process is forked from multiprocessing's fork server, a single-threaded process that imported
harness once (tests/cli_zygote.py), so nothing of the test process is copied into it (no fake server's thread,
no lock another thread held, no pytest capture). Each process then runs `harness ARGS` as the console script
does: `main(ARGS)` with `sys.argv`, the working folder and `os.environ` set, stdin at /dev/null, non-daemon
threads joined and `atexit` handlers run at the end, and the exit status, or the signal that killed it, as its
status.

What only a new interpreter shows (`python -m harness` itself, import side effects, start-up environment such
as PYTHONHASHSEED or PYTHONIOENCODING) is what the tests that still call `subprocess` are for (tests/test_cli.py,
the README and agent-guide runs, one crash test, one `harness serve` test, the secret corpus's real process).

Each pytest process (each xdist worker) starts its own fork server on first use; it ends with that process.
As with any multiprocessing start method but `fork`, a forked process first imports the main module of the
test process under another name (`pytest`'s, which does nothing then): a script that runs pytest must keep its
work under `if __name__ == "__main__":`.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import os
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Literal

_REPO = Path(__file__).resolve().parents[1]
_TMP = tempfile.gettempdir()  # see HarnessProcess
CONTEXT = multiprocessing.get_context("forkserver")
# tests.cli_zygote last: it freezes what the server holds by then (see its end).
CONTEXT.set_forkserver_preload(["tests.cli_process", "pytest", "tests.cli_zygote"])


def start_server() -> None:
    """Start the fork server now, without waiting for it: it imports harness on the other core while the
    first tests run (tests/conftest.py calls this once the session collected a module that uses it).

    The server is a new `python -c` in the current folder, and Python 3.11's fork server drops the sys.path it
    is handed: started from any folder but the repository's root (`cd tests && pytest`), `tests` was not
    importable there, the preload failed silently and every forked process imported harness itself (30 ms
    more each, the crash tests 3-6 times slower). The repository's root is put on its PYTHONPATH."""
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(_REPO), old]) if old else str(_REPO)
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old


def _exit_status(code: object) -> int:
    """The status `sys.exit(code)` gives a process (None is 0, a message is printed and is 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


Target = str | multiprocessing.connection.Connection | None  # a path, a pipe's write end, or "as stdout"


def _redirect(fd: int, target: Target) -> None:
    if target is None:
        os.dup2(1, fd)
    elif isinstance(target, str):
        opened = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOCTTY, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    else:
        os.dup2(target.fileno(), fd)
        target.close()


def _stream(fd: int, encoding: str, errors: str, unbuffered: bool, *, line: bool) -> io.TextIOWrapper:
    binary = open(fd, "wb", buffering=0 if unbuffered else -1, closefd=False)  # noqa: SIM115
    return io.TextIOWrapper(binary, encoding=encoding, errors=errors, line_buffering=line,  # type: ignore[arg-type]
                            write_through=unbuffered)


def _harness(argv: list[str], cwd: str, env: dict[str, str], stdout: Target, stderr: Target) -> None:
    """The forked process: `harness ARGV`, then exit as the interpreter would."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    tempfile.tempdir = None  # found anew from $TMPDIR, as a new interpreter finds it
    _redirect(1, stdout)
    _redirect(2, stderr)
    # New streams on the new files, buffered as the interpreter buffers them (stderr by line; neither with
    # PYTHONUNBUFFERED): the fork server's own were made for its start-up environment.
    unbuffered = bool(env.get("PYTHONUNBUFFERED"))
    sys.stdout = sys.__stdout__ = _stream(1, sys.stdout.encoding, "strict", unbuffered, line=False)
    sys.stderr = sys.__stderr__ = _stream(2, sys.stderr.encoding, "backslashreplace", unbuffered, line=True)
    sys.argv = ["harness", *argv]
    from harness.cli import main

    status = 0
    try:
        main.main(args=list(argv), prog_name="harness")
    except SystemExit as exc:
        status = _exit_status(exc.code)
    except KeyboardInterrupt:
        # As the interpreter does: die of the signal.
        sys.stderr.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    except BaseException:
        traceback.print_exc()
        status = 1
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


def _env(env: Mapping[str, str] | None) -> dict[str, str]:
    return dict(os.environ if env is None else env)


class HarnessProcess:
    """`harness ARGS` started in its own process, as `subprocess.Popen` starts one: `.pid`, `.poll()`,
    `.wait(timeout)`, `.send_signal()`, `.kill()`, `.returncode`, and `.result(timeout)` for the whole
    `CompletedProcess` at the end. `env` replaces the environment (default: this process's).

    stdout and stderr go to files by default, so a process that writes much never waits for a reader.
    `stream="stderr"` makes `.stderr` read its stderr as it comes (`stderr=PIPE, text=True`); `stream="stdout"`
    makes `.stdout` read both, stderr into stdout (`stdout=PIPE, stderr=STDOUT, text=True`). `stderr_to` names
    a file to write stderr to instead (a terminal's device, say)."""

    def __init__(self, args: Sequence[str], *, cwd: Path | str | None = None,
                 env: Mapping[str, str] | None = None, stream: Literal["stderr", "stdout"] | None = None,
                 stderr_to: str | None = None) -> None:
        self.args = ["harness", *args]
        # In the temporary folder of the session's start: a test may point `tempfile.tempdir` elsewhere meanwhile
        # (nowhere, even), and the work of tests/early.py starts processes then.
        self._folder = tempfile.TemporaryDirectory(prefix="harness-proc-", dir=_TMP)
        self._out = Path(self._folder.name) / "stdout"
        self._err = Path(self._folder.name) / "stderr"
        out: Target = str(self._out)
        err: Target = stderr_to or str(self._err)
        if stream is not None:
            reader, writer = CONTEXT.Pipe(duplex=False)
            if stream == "stdout":
                out, err = writer, None
            else:
                err = writer
        self._proc = CONTEXT.Process(target=_harness, daemon=False,
                                     args=(list(args), str(cwd or os.getcwd()), _env(env), out, err))
        try:
            self._proc.start()
        except BaseException:
            # Nothing started: what was opened for it is closed now, not left to the collector (a
            # ResourceWarning in whichever test runs then).
            if stream is not None:
                reader.close()
                writer.close()
            self._folder.cleanup()
            raise
        self.stdout: IO[str] | None = None
        self.stderr: IO[str] | None = None
        if stream is not None:
            writer.close()  # the process holds the only write end: its exit is the stream's end
            text = open(os.dup(reader.fileno()), encoding="utf-8", errors="replace")  # noqa: SIM115
            reader.close()
            if stream == "stdout":
                self.stdout = text
            else:
                self.stderr = text
        assert self._proc.pid is not None
        self.pid: int = self._proc.pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        self.returncode = self._proc.exitcode
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self._proc.join(timeout)
        if self.poll() is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def result(self, timeout: float | None = 180) -> subprocess.CompletedProcess[str]:
        """Wait for the end (killing it past `timeout`) and return what it printed and its status."""
        try:
            status = self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.wait(10)
            raise
        stdout = self.stdout.read() if self.stdout else self._out.read_text(encoding="utf-8", errors="replace")
        stderr = (self.stderr.read() if self.stderr else "" if self.stdout or not self._err.exists()
                  else self._err.read_text(encoding="utf-8", errors="replace"))
        return subprocess.CompletedProcess(self.args, status, stdout, stderr)

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def close(self) -> None:
        """Kill it if it still runs, and free what it used."""
        if self.poll() is None:
            self.kill()
            self.wait(10)
        for stream in (self.stdout, self.stderr):
            if stream is not None:
                stream.close()
        self._proc.close()
        self._folder.cleanup()

    def __enter__(self) -> HarnessProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def run(args: Sequence[str], *, cwd: Path | str | None = None, env: Mapping[str, str] | None = None,
        timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`harness ARGS` in its own process, to the end: as `subprocess.run([..., *args], capture_output=True,
    text=True, timeout=timeout)`."""
    with HarnessProcess(args, cwd=cwd, env=env) as proc:
        return proc.result(timeout)
