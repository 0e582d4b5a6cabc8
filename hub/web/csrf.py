"""CSRF protection for HTML forms: a signed, expiring token sent both as a cookie and as a hidden
field (double submit). The token's nonce doubles as the submission id, so a resubmitted form is
recognised as the same message."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from aiohttp import web

COOKIE = "rd_csrf"
FIELD = "csrf_token"
MAX_AGE = 4 * 3600


def _mac(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue(secret: str, now: float | None = None) -> str:
    payload = f"{secrets.token_hex(12)}.{int(now if now is not None else time.time())}"
    return f"{payload}.{_mac(secret, payload)}"


def nonce_of(token: str) -> str:
    return token.split(".", 1)[0]


def valid(secret: str, token: str, now: float | None = None) -> bool:
    parts = token.split(".")
    if not token.isascii() or len(parts) != 3 or not parts[1].isdigit():
        return False
    payload = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_mac(secret, payload).encode(), parts[2].encode()):
        return False
    age = (now if now is not None else time.time()) - int(parts[1])
    return 0 <= age <= MAX_AGE


def check(request: web.Request, form_token: str, secret: str) -> bool:
    cookie = request.cookies.get(COOKIE, "")
    same = hmac.compare_digest(cookie.encode(), form_token.encode())
    return bool(cookie) and same and valid(secret, form_token)


def set_cookie(response: web.StreamResponse, token: str, secure: bool) -> None:
    response.set_cookie(
        COOKIE, token, max_age=MAX_AGE, httponly=True, samesite="Strict", secure=secure
    )
