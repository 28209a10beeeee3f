"""Running the application under uvicorn: bind, say where on one stderr line, stop cleanly on a signal.

The socket is bound before uvicorn starts (so `--port 0` picks a free port and the line names it, and a
port in use is a one-line error, exit 2). The line `harness serve: listening on http://HOST:PORT ...` is
printed once the application has started (schedules running). SIGINT or SIGTERM stops it: no new
connections, requests in flight answered, runs in flight given the grace period (then interrupted and
marked failed), queued webhooks delivered; exit 0. A second signal interrupts the runs at once (still a clean
stop); a third stops waiting for anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import socket
import sys
from collections.abc import Callable, Iterator

import uvicorn

from ..errors import ConfigError
from .app import build_app
from .runtime import Runtime


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and without it
    # every keep-alive answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {host} is already in use", hint="stop what uses it, or pass "
                              "--port N (0 picks a free port)") from None
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                          hint="check --host and --port") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in str(host) else str(host)
    return f"http://{shown}:{port}"


class _Server(uvicorn.Server):
    """uvicorn's server with our own signal handling (no re-raise of the signal after the stop), woken by a
    stop at once, and stopping at once when idle."""

    on_started: Callable[[], None] | None = None
    _wake: asyncio.Event | None = None

    def stop(self) -> None:
        """Ask for the stop (from the server's event loop): the main loop wakes now, not at its next tick."""
        self.should_exit = True
        if self._wake is not None:
            self._wake.set()

    async def main_loop(self) -> None:
        # uvicorn's ticks (every 0.1 s: its date header, request limits, the stop flag), except that a stop
        # does not wait for the next one.
        self._wake = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.server_state.connections or self.server_state.tasks or self.force_exit:
            await super().shutdown(sockets=sockets)  # connections asked to close, the grace, then cancelled
            return
        # Idle: nothing to ask to close or wait for (uvicorn's stop sleeps 0.1 s first, whatever is open).
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for server in self.servers:
            await server.wait_closed()
        await self.lifespan.shutdown()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit and self.on_started is not None:
            self.on_started()


def serve(runtime: Runtime, sock: socket.socket, *, announce: Callable[[str], None] | None = None) -> None:
    """Serve on the bound socket `sock` until SIGINT/SIGTERM (blocking)."""
    url = url_of(sock)
    config = uvicorn.Config(build_app(runtime), log_config=None, access_log=False, lifespan="on",
                            timeout_graceful_shutdown=max(1, int(runtime.config.grace_s)), log_level="warning")
    server = _Server(config)
    mode = "live" if runtime.config.live else "replay"

    def started() -> None:
        line = f"harness serve: listening on {url} ({mode}; Ctrl-C to stop)"
        (announce or (lambda text: print(text, file=sys.stderr, flush=True)))(line)

    server.on_started = started

    async def main() -> None:
        loop = asyncio.get_running_loop()

        signals = 0

        def stop(sig: signal.Signals) -> None:
            # 1st: a clean stop with the grace period; 2nd: interrupt the runs now (still a clean stop);
            # 3rd: stop waiting for anything.
            nonlocal signals
            signals += 1
            server.stop()
            if signals == 2:
                runtime.runner.hurry()
            elif signals > 2:
                server.force_exit = True

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop, sig)
        try:
            await server.serve(sockets=[sock])
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.remove_signal_handler(sig)

    try:
        asyncio.run(main())
    finally:
        sock.close()
    if server.started is False and not server.should_exit:
        raise ConfigError("harness serve did not start (see the messages above)")
