"""Reading and checking request input for the JSON API."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from aiohttp import web

from channels.api.adapter import unstorable
from hub.core.errors import invalid_field, invalid_json, invalid_query, not_found

# Row ids are 32-bit integers on PostgreSQL; a larger number can name no row (and must not reach
# the database, which would refuse it as out of range).
MAX_ID = 2**31 - 1


def whole_number(raw: str) -> int | None:
    """``raw`` as an int if it is plain ASCII digits (``isdigit`` alone accepts "²")."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return None
    return int(raw)


def row_id(raw: str) -> int | None:
    """``raw`` as a row id, or None when it cannot be one."""
    number = whole_number(raw)
    return number if number is not None and number <= MAX_ID else None


async def json_object(request: web.Request, allowed: set[str]) -> dict[str, Any]:
    try:
        payload = json.loads(await request.read())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise invalid_json(str(exc)) from None
    if not isinstance(payload, dict):
        raise invalid_json("expected a JSON object")
    unknown = sorted(set(payload) - allowed)
    if unknown:
        raise invalid_field(unknown[0], "is not a known field")
    bad_text = unstorable(payload)
    if bad_text is not None:
        raise invalid_field(bad_text, "must not contain NUL characters or unpaired surrogates")
    return payload


def path_id(request: web.Request, what: str) -> int:
    raw = request.match_info["id"]
    ident = row_id(raw)
    if ident is None:
        raise not_found(what, raw)
    return ident


def int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    number = whole_number(raw)
    if number is None or not low <= number <= high:
        raise invalid_query(name, f"must be a whole number from {low} to {high}")
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
