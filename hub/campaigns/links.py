"""Signed, recipient-bound links: unsubscribe (one click, RFC 8058) and the preference page.

A token names one ``campaign_recipients`` row and the day it was issued, signed with the hub's
secret (HMAC-SHA256, compared in constant time), so that it works without login or CSRF for
that recipient only, and for ``CampaignSettings.token_days`` days."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
PURPOSE = b"relaydesk-recipient-link\x00"


@dataclass(frozen=True, slots=True)
class RecipientLink:
    recipient_id: int
    issued: datetime


def _day(moment: datetime) -> int:
    return (moment.astimezone(UTC) - EPOCH).days


def _signature(secret: str, body: str) -> str:
    digest = hmac.new(secret.encode(), PURPOSE + body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:20]).decode().rstrip("=")


def recipient_token(secret: str, recipient_id: int, now: datetime) -> str:
    body = f"{recipient_id}.{_day(now)}"
    return f"{body}.{_signature(secret, body)}"


def read_token(secret: str, token: str, now: datetime, valid_days: int) -> RecipientLink | None:
    """The recipient a token was issued for, or None when it is forged, malformed or expired."""
    parts = token.split(".")
    if len(parts) != 3 or len(token) > 100:
        return None
    recipient, day, signature = parts
    if not (recipient.isascii() and recipient.isdigit() and day.isascii() and day.isdigit()):
        return None
    expected = _signature(secret, f"{recipient}.{day}")
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return None
    issued = EPOCH + timedelta(days=int(day))
    if now - issued > timedelta(days=valid_days + 1) or issued - now > timedelta(days=1):
        return None
    return RecipientLink(int(recipient), issued)


def unsubscribe_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/u/{token}"


def preferences_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/u/{token}/preferences"


def email_headers(public_url: str, mailto: str, token: str) -> dict[str, str]:
    """``List-Unsubscribe`` (https URL and mailto) and ``List-Unsubscribe-Post`` (RFC 8058)."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(public_url, token)}>, "
        f"<mailto:{mailto}?subject=unsubscribe%20{token}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
