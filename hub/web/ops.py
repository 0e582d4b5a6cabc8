"""``GET /metrics`` for Prometheus: this process's figures in the text format, for a scraper
that shows the configured bearer token and/or comes from an allowed address
(``[operations]``). With neither configured the endpoint does not exist (404), so nothing is
exposed by default; a request that fails the check is refused with 403 (wrong address) or 401
(token missing or wrong), as JSON."""

from __future__ import annotations

import hmac
import ipaddress

from aiohttp import web

from hub.config.operations import OperationsSettings
from hub.core.errors import ApiError, forbidden, unauthorized
from hub.platform.metrics import CONTENT_TYPE
from hub.reports.live_texts import METRICS_ADDRESS_FORBIDDEN
from hub.web.keys import hub_of


def _allowed_address(settings: OperationsSettings, remote: str | None) -> bool:
    if not settings.metrics_allow:
        return True
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(entry, strict=False) for entry in settings.metrics_allow
    )


def _token_ok(settings: OperationsSettings, header: str) -> bool:
    if settings.metrics_token is None:
        return True
    scheme, _, token = header.partition(" ")
    expected = settings.metrics_token.encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected)


def check_scraper(request: web.Request, settings: OperationsSettings) -> None:
    """Refuse a caller who may not read the metrics (before anything is read or counted)."""
    if not settings.metrics_enabled:
        raise web.HTTPNotFound()
    if not _allowed_address(settings, request.remote):
        raise forbidden(METRICS_ADDRESS_FORBIDDEN)
    if not _token_ok(settings, request.headers.get("Authorization", "")):
        raise unauthorized()


async def metrics(request: web.Request) -> web.Response:
    hub = hub_of(request)
    try:
        check_scraper(request, hub.settings.operations)
    except ApiError as exc:
        return web.json_response(exc.body(), status=exc.status, headers=exc.headers())
    await hub.metrics.refresh(hub.db, hub.clock.now())
    return web.Response(
        body=hub.metrics.render(),
        headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"},
    )


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/metrics", metrics)
