"""Ids and cursors as requests carry them: plain ASCII digits within PostgreSQL's integer range,
and the opaque keyset cursor of the conversation list."""

from __future__ import annotations

import base64
from datetime import datetime

from aiohttp import web

from hub.core.errors import invalid_query, not_found

# Row ids are 32-bit integers on PostgreSQL; a larger number can name no row (and must not reach
# the database, which would refuse it as out of range).
MAX_ID = 2**31 - 1


def whole_number(raw: str) -> int | None:
    """``raw`` as an int if it is plain ASCII digits (``isdigit`` alone accepts "²")."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:  # "٤٢" is digits to int()
        return None
    return int(raw)


def row_id(raw: str) -> int | None:
    """``raw`` as a row id, or None when it cannot be one."""
    number = whole_number(raw)
    return number if number is not None and number <= MAX_ID else None


def path_id(request: web.Request, what: str, key: str = "id") -> int:
    """The row id in the path's ``key``, or 404 naming ``what``: every route with an id in its
    path reads it here."""
    raw = request.match_info[key]
    number = row_id(raw)
    if number is None:
        raise not_found(what, raw[:40])
    return number


def encode_cursor(moment: datetime, ident: int) -> str:
    return base64.urlsafe_b64encode(f"{moment.isoformat()}|{ident}".encode()).decode()


def decode_cursor(raw: str) -> tuple[datetime, int]:
    try:
        moment, _, ident = base64.urlsafe_b64decode(raw.encode()).decode().partition("|")
        parsed = datetime.fromisoformat(moment)
        number = row_id(ident)
        if parsed.tzinfo is None or number is None:
            raise ValueError("naive time or bad id")
        return parsed, number
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_query("cursor", "is not a cursor this API gave out") from exc
