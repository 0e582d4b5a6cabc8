"""Mailbox addresses and the conversation tokens carried in them and in our Message-IDs.

Our reply address is ``support+<token>@domain``; our Message-IDs look like
``<rd.<token>.<random>@domain>`` (see hub/outbound.py)."""

from __future__ import annotations

import re
from email.utils import formataddr, getaddresses

TOKEN = re.compile(r"^[0-9a-f]{8,32}$")
_OWN_ID = re.compile(r"<rd\.([0-9a-f]{8,32})\.[0-9a-f]+@[^<>\s]+>")


def split_plus(address: str) -> tuple[str, str | None]:
    """``support+abc@x.org`` -> (``support@x.org``, ``abc``); addresses are lower-cased."""
    local, at, domain = address.strip().strip("<>").lower().rpartition("@")
    if not at:
        return address.lower(), None
    base, plus, tag = local.partition("+")
    return f"{base}@{domain}", (tag if plus and tag else None)


def token_from_tag(tag: str | None) -> str | None:
    return tag if tag is not None and TOKEN.match(tag) else None


def tokens_in_ids(ids: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Conversation tokens from our own Message-IDs among ``ids``."""
    found = [m.group(1) for value in ids for m in _OWN_ID.finditer(value)]
    return tuple(dict.fromkeys(found))


def reply_address(address: str, token: str) -> str:
    local, _, domain = address.rpartition("@")
    return f"{local.partition('+')[0]}+{token}@{domain}"


def addresses(value: str) -> list[tuple[str, str]]:
    """(name, lower-cased address) pairs of an address header; never raises."""
    try:
        pairs = getaddresses([value])
    except Exception:
        return []
    return [(name, addr.strip().lower()) for name, addr in pairs if "@" in addr]


def format_pair(name: str, address: str) -> str:
    return formataddr((name, address)) if name else address
