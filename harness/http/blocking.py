"""A blocked network: every outgoing connection and name lookup of a strict scenario replay fails.

A replay is answered from its cassette; a socket opened during one is a bug in the function or a fixture,
and under CI it must fail loudly rather than reach the internet.

The block belongs to the replay, not to the process: it holds in the context that entered
`blocked_network()` (the function's tasks, its `asyncio.to_thread` calls, and what runs in its event loop's
default executor, name lookups included: see `runner._ContextExecutor`), while the process's other threads
(a user's fixture server, a metrics exporter, a second replay) connect as they would. A thread the function
starts itself (`threading.Thread`, an executor of its own) does not carry the context, so is not blocked.
A Unix-domain socket is local IPC (multiprocessing, a database's socket), not the network: it is never
refused. The guards go in when the first block starts and come out when the last one ends, from whatever
thread; a patch another tool put over them meanwhile is left in place.
"""

from __future__ import annotations

import contextlib
import contextvars
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import HarnessError

_NAMES = ("connect", "connect_ex")  # methods of socket.socket
_FUNCTIONS = ("create_connection", "getaddrinfo")  # functions of the socket module

_BLOCKED: contextvars.ContextVar[bool] = contextvars.ContextVar("harness_network_blocked", default=False)
_LOCK = threading.Lock()
_ACTIVE = [0]  # blocks entered and not yet left, in any thread
_SAVED: dict[str, Any] = {}  # what the guards replaced, by name
_GUARDS: dict[str, Any] = {}  # the guards installed, by name


class NetworkBlockedError(HarnessError):
    """A socket connection attempted while the network is blocked (a strict scenario replay)."""


def _refuse(args: tuple[Any, ...]) -> None:
    raise NetworkBlockedError(f"network access attempted during a replay: {args[1:] or args!r}",
                              hint="a replay must be answered from its cassette")


def _method_guard(real: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(sock: socket.socket, *args: Any, **kwargs: Any) -> Any:
        if _BLOCKED.get() and getattr(sock, "family", None) != getattr(socket, "AF_UNIX", object()):
            _refuse((sock, *args))
        return real(sock, *args, **kwargs)

    return guarded


def _function_guard(real: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if _BLOCKED.get():
            _refuse(("socket", *args))
        return real(*args, **kwargs)

    return guarded


def _install() -> None:
    for name in _NAMES:
        _SAVED[name] = getattr(socket.socket, name)
        _GUARDS[name] = _method_guard(_SAVED[name])
        setattr(socket.socket, name, _GUARDS[name])
    for name in _FUNCTIONS:
        _SAVED[name] = getattr(socket, name)
        _GUARDS[name] = _function_guard(_SAVED[name])
        setattr(socket, name, _GUARDS[name])


def _uninstall() -> None:
    for owner, names in ((socket.socket, _NAMES), (socket, _FUNCTIONS)):
        for name in names:
            if getattr(owner, name) is _GUARDS[name]:  # not if another tool patched over it since
                setattr(owner, name, _SAVED[name])
    _SAVED.clear()
    _GUARDS.clear()


@contextlib.contextmanager
def blocked_network() -> Iterator[None]:
    """Every outgoing connection and name lookup made in this context fails while inside."""
    with _LOCK:
        if _ACTIVE[0] == 0:
            _install()
        _ACTIVE[0] += 1
    token = _BLOCKED.set(True)
    try:
        yield
    finally:
        _BLOCKED.reset(token)
        with _LOCK:
            _ACTIVE[0] -= 1
            if _ACTIVE[0] == 0:
                _uninstall()
