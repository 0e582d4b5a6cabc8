"""Small input checks shared by adapters."""

from __future__ import annotations

import re

_EMAIL = re.compile(
    r"^[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def normalize_email(value: str) -> str | None:
    """Lower-cased address if it is a plausible mailbox address, else None."""
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        return None
    return value.lower()


def clean_line(value: str, limit: int) -> str:
    """One line of user text: control characters and surrounding space removed, cut to limit."""
    cleaned = "".join(ch for ch in value if ch.isprintable()).strip()
    return cleaned[:limit]
