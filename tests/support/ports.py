"""Ports for the servers tests start in other processes (``relaydesk serve``, Dovecot, a
PostgreSQL cluster). A port the kernel hands out for port 0 comes from its ephemeral range, the
range every outgoing connection draws from too: between the pick and the server's bind, a
connection of this or another process (an earlier hub's, the database pool's) could take it,
and the server failed with "address already in use". These come from below that range, where
only a server asking for that very port can take it."""

from __future__ import annotations

import secrets
import socket
from pathlib import Path

RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST = 20_000  # above the well-known and most registered services' ports
TRIES = 200


def _ephemeral_start() -> int:
    try:
        return int(RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, outside the ephemeral range where the system allows."""
    start = _ephemeral_start()
    if start - LOWEST >= 1_000:
        for _ in range(TRIES):
            port = LOWEST + secrets.randbelow(start - LOWEST)
            with socket.socket() as probe:
                try:
                    probe.bind((host, port))
                except OSError:
                    continue
                return port
    with socket.socket() as probe:  # no room below the range: the kernel's choice
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
