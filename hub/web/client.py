"""Who is calling and how: the client's address and whether the page was served over https.
Behind a reverse proxy listed in ``security.trusted_proxies`` the proxy's ``X-Forwarded-For``
and ``X-Forwarded-Proto`` are believed; from anyone else they are ignored (a client could
otherwise pick the address it is throttled under)."""

from __future__ import annotations

import functools
import ipaddress

from aiohttp import web

from hub.config.settings import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=16)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def client_address(request: web.Request, settings: Settings) -> str:
    """The address sign-in throttling and the session list name the client by: the peer, or
    behind trusted proxies the nearest address in X-Forwarded-For that is not one of them."""
    remote = request.remote or ""
    networks = _networks(settings.security.trusted_proxies)
    if not networks or not _trusted(remote, networks):
        return remote
    hops = [
        hop.strip()
        for header in request.headers.getall("X-Forwarded-For", [])
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not _is_address(hop):
            return remote  # a hop we cannot read: throttle the proxy's peer rather than trust it
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else remote


def served_over_https(request: web.Request, settings: Settings) -> bool:
    """True when the browser reached the hub over https: the public URL says so, the
    connection is TLS, or a trusted proxy says X-Forwarded-Proto: https."""
    if settings.web.public_url.lower().startswith("https:") or request.secure:
        return True
    networks = _networks(settings.security.trusted_proxies)
    if not networks or not _trusted(request.remote or "", networks):
        return False
    # the last value is the one our own proxy wrote (a client may have sent one before it)
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
    return proto == "https"
