"""The adapters' HTTP sessions as the hub allows them to connect: a ``SocketFactory`` the hub
injects (``use_socket_factory``; the hub's policy is hub/platform/targets.py, ``[outgoing]``)
opens every connection a session makes, after DNS and on every redirect, and raises ``Refused``
for an address the hub may not reach. Without one (an adapter used on its own, in a test) the
session connects as aiohttp does.

A refused connection is final: trying again reaches the same address, so the adapters report it
as a permanent failure naming the address (``refusal``)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import aiohttp

AddrInfo = tuple[int | socket.AddressFamily, int | socket.SocketKind, int, str, tuple[Any, ...]]
SocketFactory = Callable[[AddrInfo], socket.socket]


class Refused(OSError):
    """A connection to an address the hub may not reach was refused (the message names it)."""


def session(timeout_seconds: float, socket_factory: SocketFactory | None) -> aiohttp.ClientSession:
    """A client session whose every connection goes through ``socket_factory`` (if any)."""
    timeout = aiohttp.ClientTimeout(total=timeout_seconds)
    if socket_factory is None:
        return aiohttp.ClientSession(timeout=timeout)
    connector = aiohttp.TCPConnector(socket_factory=socket_factory)
    return aiohttp.ClientSession(timeout=timeout, connector=connector)


def refusal(exc: BaseException) -> str | None:
    """The refusal behind a client error ("refused to connect: 10.0.0.5 is a private
    address ..."), or None when the connection failed for another reason."""
    seen: BaseException | None = exc
    for _ in range(8):  # the error, what it wraps (``os_error``) and what caused it
        if seen is None:
            break
        inner = getattr(seen, "os_error", None)
        for candidate in (seen, inner):
            if isinstance(candidate, Refused):
                return str(candidate)
        seen = seen.__cause__ or seen.__context__
    return None
