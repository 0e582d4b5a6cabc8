"""Which addresses the hub's outgoing requests to bots and webhook receivers may reach (SSRF
protection; ``[outgoing]`` settings, hub/config/outgoing.py).

A URL an admin registers must be ``http://`` or ``https://``; its host, if it is an address,
and the addresses its name resolves to now must be public (``refusal``). That is a courtesy to
the admin: names can change. The guarantee is made when each connection is opened: the HTTP
client's connector hands every address it is about to connect to (after DNS, on every
redirect, for IP literals too) to ``Targets.socket_for``, which refuses a non-public one, so a
name that resolves to 127.0.0.1 or 169.254.169.254 at delivery time (DNS rebinding) reaches
nothing."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from channels.outgoing import AddrInfo, Refused
from hub.config.outgoing import OutgoingSettings
from hub.config.settings import Settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
RESOLVE_SECONDS = 2.0
NAT64 = ipaddress.ip_network("64:ff9b::/96")
HOW_TO_ALLOW = "outgoing.allowed_networks"
__all__ = ["Refused", "Targets", "kind_of"]


def _embedded(ip: Address) -> Address:
    """The IPv4 address an IPv6 address carries to (mapped, 6to4, NAT64), else itself."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip in NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def kind_of(ip: Address) -> str | None:
    """What makes an address non-public ("a loopback address", ...); None when it is public."""
    ip = _embedded(ip)
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True, slots=True)
class Targets:
    """The policy of one hub: ``allow_private`` lets anything through (tests, the demo);
    ``allowed`` are networks let through although not public."""

    allow_private: bool = False
    allowed: tuple[Network, ...] = ()

    @classmethod
    def of(cls, settings: OutgoingSettings) -> Targets:
        networks = tuple(ipaddress.ip_network(n, strict=False) for n in settings.allowed_networks)
        return cls(settings.allow_private_targets, networks)

    def address_problem(self, address: str) -> str | None:
        """Why the hub may not connect to this address ("10.0.0.1 is a private address")."""
        why = self._why(address)
        return None if why is None else f"{why[0]} is {why[1]}"

    def _why(self, address: str) -> tuple[str, str] | None:
        if self.allow_private:
            return None
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return address[:60], "not an IP address"
        if any(ip in network for network in self.allowed if ip.version == network.version):
            return None
        kind = kind_of(ip)
        return None if kind is None else (str(ip), kind)

    def socket_for(self, addr_info: AddrInfo) -> socket.socket:
        """The connector's socket factory: a socket for a public address, or ``Refused``."""
        family, kind, proto, _, sockaddr = addr_info
        problem = self.address_problem(str(sockaddr[0]))
        if problem is not None:
            raise Refused(f"refused to connect: {problem} (see {HOW_TO_ALLOW})")
        return socket.socket(family=family, type=kind, proto=proto)

    async def refusal(self, url: str | None) -> str | None:
        """Why a bot or webhook URL cannot be registered; None when it can. A name is resolved
        (briefly): one non-public address refuses it; a name that does not resolve yet is
        accepted (each connection is checked anyway)."""
        if not url:
            return None
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "must be an http:// or https:// URL with a host"
        if self.allow_private:
            return None
        host = parts.hostname
        if _is_address(host):
            problem = self.address_problem(host)
            return None if problem is None else f"{problem}: not allowed ({HOW_TO_ALLOW})"
        for address in sorted(await _resolved(host)):
            why = self._why(address)
            if why is not None:
                return f"{host} resolves to {why[0]}, {why[1]}: not allowed ({HOW_TO_ALLOW})"
        return None


def configured_urls(settings: Settings) -> dict[str, str]:
    """The URLs the config file tells the hub to make requests to, by setting: external bot
    connectors, API channel callbacks, the Slack API base URL."""
    found = {f"bots.connectors.{name}.url": c.url for name, c in settings.bots.connectors.items()}
    for name, config in settings.channels.items():
        for key, url in config.outgoing_urls().items():
            found[f"channels.{name}.{key}"] = url
    return found


async def configured_refusals(settings: Settings, targets: Targets) -> list[str]:
    """One line per configured URL the hub will not connect to ("channels.api.callback_url:
    10.0.0.5 is a private address: not allowed (outgoing.allowed_networks)"); names are
    resolved at once, each briefly."""
    urls = configured_urls(settings)
    if targets.allow_private or not urls:
        return []
    problems = await asyncio.gather(*(targets.refusal(url) for url in urls.values()))
    return [f"{key}: {why}" for key, why in zip(urls, problems, strict=True) if why]


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


async def _resolved(host: str) -> Iterable[str]:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_SECONDS):
            found = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError, UnicodeError):
        return ()
    return {str(info[4][0]) for info in found}
