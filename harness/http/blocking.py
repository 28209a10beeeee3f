"""A blocked network: every outgoing connection and name lookup fails while inside (strict scenario replays).

A replay is answered from its cassette; a socket opened during one is a bug in the function or a fixture,
and under CI it must fail loudly rather than reach the internet.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Any

from ..errors import HarnessError


class NetworkBlockedError(HarnessError):
    """A socket connection attempted while the network is blocked (a strict scenario replay)."""


@contextlib.contextmanager
def blocked_network() -> Iterator[None]:
    """Every outgoing connection and name lookup fails while inside (restored afterwards)."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NetworkBlockedError(f"network access attempted during a replay: {args[1:] or args!r}",
                                  hint="a replay must be answered from its cassette")

    saved = (socket.socket.connect, socket.socket.connect_ex, socket.create_connection, socket.getaddrinfo)
    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse
    socket.getaddrinfo = refuse
    try:
        yield
    finally:
        (socket.socket.connect, socket.socket.connect_ex,  # type: ignore[method-assign]
         socket.create_connection, socket.getaddrinfo) = saved
