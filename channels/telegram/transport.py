"""The Telegram channel's connections as the hub allows them (channels/outgoing.py).

python-telegram-bot's ``HTTPXRequest`` runs on httpx, whose connections httpcore opens through
a network backend. ``CheckedBackend`` resolves the host, hands each address to the hub's
socket factory and connects only to an address it let through, by that address (nothing
resolves the name a second time). The factory's socket is its verdict and is closed: httpcore
has no public way to adopt a socket, so its own backend opens one to that very address. An
address the factory refuses becomes httpcore's connect error carrying the ``Refused`` as
``os_error`` (as aiohttp's connector errors do, where ``outgoing.refusal`` looks);
python-telegram-bot reports it as a ``NetworkError``.

httpx has no public way to give its transport a network backend (encode/httpx#3749), so
``checked_transport`` sets it on the transport's connection pool, and refuses to build a
transport if that pool no longer has one (an upgrade then fails loudly rather than connecting
unchecked). A proxy the environment names (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``), which
httpx honours by itself only without a transport of ours, is mounted the same way
(``httpx_kwargs``): the hub then connects to the proxy only, and the factory checks the
proxy's address."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
from httpx._utils import get_environment_proxies

from channels.outgoing import AddrInfo, Refused, SocketFactory

ConnectFailure = httpcore.ConnectError | httpcore.ConnectTimeout


class RefusedConnect(httpcore.ConnectError):
    """No address of the host may be reached: the first refusal is ``os_error``."""

    def __init__(self, refused: Refused) -> None:
        super().__init__(str(refused))
        self.os_error = refused


class CheckedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's own backend, opening TCP connections only to addresses ``factory`` allows."""

    def __init__(
        self, factory: SocketFactory, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self._factory = factory
        self._inner = inner if inner is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        try:
            async with asyncio.timeout_at(deadline):
                addresses = await _addresses(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        refused: Refused | None = None
        failure: ConnectFailure | None = None
        for address in addresses:
            try:
                self._factory(address).close()  # the verdict; the socket is opened below
            except Refused as exc:
                refused = refused or exc
                continue
            except OSError as exc:  # e.g. no IPv6 on this host
                failure = httpcore.ConnectError(f"{address[4][0]}: {exc}")
                continue
            left = None if deadline is None else max(deadline - loop.time(), 0.0)
            try:
                return await self._inner.connect_tcp(
                    str(address[4][0]), port, left, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        if failure is not None:  # an address that may be reached failed: worth a retry
            raise failure
        if refused is not None:
            raise RefusedConnect(refused)
        raise httpcore.ConnectError(f"{host} has no address")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def _addresses(host: str, port: int) -> list[AddrInfo]:
    loop = asyncio.get_running_loop()
    try:
        found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise httpcore.ConnectError(f"{host} not resolved: {exc}") from exc
    return list(found)


def checked_transport(
    factory: SocketFactory, limits: httpx.Limits, proxy: str | None = None
) -> httpx.AsyncHTTPTransport:
    """httpx's transport (through ``proxy``, if any) whose connections ``factory`` checks."""
    transport = httpx.AsyncHTTPTransport(limits=limits, proxy=proxy)
    pool: Any = getattr(transport, "_pool", None)
    if not hasattr(pool, "_network_backend"):
        raise RuntimeError("httpx/httpcore changed: cannot check the Telegram connections")
    pool._network_backend = CheckedBackend(factory)
    return transport


def httpx_kwargs(factory: SocketFactory, pool_size: int) -> dict[str, Any]:
    """``HTTPXRequest(httpx_kwargs=...)`` for a client whose every connection ``factory``
    checks, the environment's proxies included."""
    limits = httpx.Limits(max_connections=pool_size)
    mounts = {
        pattern: None if url is None else checked_transport(factory, limits, url)
        for pattern, url in get_environment_proxies().items()
    }  # None: not proxied (NO_PROXY), i.e. the client's own transport below
    return {"transport": checked_transport(factory, limits), "mounts": mounts}
