"""Reading and checking request input for the JSON API."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from aiohttp import web

from hub.errors import invalid_field, invalid_json, invalid_query, not_found


async def json_object(request: web.Request, allowed: set[str]) -> dict[str, Any]:
    try:
        payload = json.loads(await request.read())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise invalid_json(str(exc)) from None
    if not isinstance(payload, dict):
        raise invalid_json("expected a JSON object")
    unknown = sorted(set(payload) - allowed)
    if unknown:
        raise invalid_field(unknown[0], "is not a known field")
    return payload


def path_id(request: web.Request, what: str) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise not_found(what, raw)
    return int(raw)


def int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise invalid_query(name, f"must be a whole number from {low} to {high}")
    return int(raw)


def encode_cursor(moment: datetime, ident: int) -> str:
    return base64.urlsafe_b64encode(f"{moment.isoformat()}|{ident}".encode()).decode()


def decode_cursor(raw: str) -> tuple[datetime, int]:
    try:
        moment, _, ident = base64.urlsafe_b64decode(raw.encode()).decode().partition("|")
        parsed = datetime.fromisoformat(moment)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed, int(ident)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_query("cursor", "is not a cursor this API gave out") from exc
