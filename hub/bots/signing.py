"""Signing events for bots: HMAC-SHA256 over ``timestamp + "." + body`` with the bot's secret,
sent as ``X-Relaydesk-Timestamp`` (Unix seconds) and ``X-Relaydesk-Signature``
(``sha256=<hex>``). ``verify`` is what a bot runs (examples/echo_bot.py copies it): the
timestamp must be within the replay window and the digest is compared in constant time."""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP = "X-Relaydesk-Timestamp"
SIGNATURE = "X-Relaydesk-Signature"
REPLAY_WINDOW = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        TIMESTAMP: str(timestamp),
        SIGNATURE: signature(secret, timestamp, body),
        "Content-Type": "application/json",
    }


def verify(
    secret: str,
    timestamp: str | None,
    given: str | None,
    body: bytes,
    now: float,
    window: int = REPLAY_WINDOW,
) -> str | None:
    """None when the event is genuine and fresh, else what is wrong with it."""
    if not timestamp or not given:
        return "missing signature headers"
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return "malformed timestamp"
    if abs(now - int(timestamp)) > window:
        return "stale timestamp (outside the replay window)"
    expected = signature(secret, int(timestamp), body)
    if not hmac.compare_digest(expected.encode(), given.encode()):
        return "signature does not match"
    return None
