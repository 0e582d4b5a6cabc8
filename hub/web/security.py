"""The browser hardening every answer of the hub gets, in one place: a hook that runs just
before any response's headers are sent (pages, errors aiohttp renders itself, static files,
event streams, sockets), so no route can forget it.

- ``Content-Security-Policy``: scripts only from the hub itself (no inline script anywhere),
  no plugins, no ``<base>``, forms posting only to the hub, and ``frame-ancestors 'none'``;
  a route that must be framed (the widget page: its channel's allowed origins) sets its own.
- ``X-Frame-Options: DENY`` wherever the policy forbids framing (for browsers without CSP 2).
- ``X-Content-Type-Options: nosniff``; ``Referrer-Policy: same-origin`` (no address of a hub
  page, say an unsubscribe link, is sent to another site) unless the route chose its own.
- Cookies ``Secure`` when the browser reached the hub over https (see hub.web.client).
- A 429 always carries ``Retry-After`` (rate-limit errors set theirs; this adds a minute to
  any that did not)."""

from __future__ import annotations

from aiohttp import web

from hub.web.client import served_over_https
from hub.web.keys import HUB

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https: http:; frame-src 'self' about:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
REFERRER = "same-origin"  # stricter than strict-origin-when-cross-origin: no URL leaves the hub


def framed_by(origins: tuple[str, ...] | list[str]) -> str:
    """The ``frame-ancestors`` source list for a page that may be framed by ``origins``."""
    return " ".join(("'self'", *origins))


async def secure_response(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    policy = headers.setdefault("Content-Security-Policy", CSP)
    if "frame-ancestors" not in policy or "frame-ancestors 'none'" in policy:
        headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", REFERRER)
    if response.status == 429 and "Retry-After" not in headers:
        headers["Retry-After"] = "60"  # a limiter that forgot to say: a minute is the window
    app = request.app
    if response.cookies and HUB in app and served_over_https(request, app[HUB].settings):
        for morsel in response.cookies.values():
            morsel["secure"] = True


def setup(app: web.Application) -> None:
    app.on_response_prepare.append(secure_response)
