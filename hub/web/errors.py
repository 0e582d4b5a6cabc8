"""How a failed request is answered: API paths get the one JSON error shape, pages a short
text; an unexpected error is logged once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from hub.core.errors import INTERNAL, ApiError, too_large
from hub.web.keys import HUB

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
JSON_PREFIXES = ("/api/", "/webhooks/", "/healthz")


def _wants_json(request: web.Request) -> bool:
    return request.path.startswith(JSON_PREFIXES)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return web.json_response(exc.body(), status=exc.status, headers=exc.headers())
    except web.HTTPRequestEntityTooLarge as exc:
        if _wants_json(request):
            error = too_large(request.app[HUB].settings.web.max_body_bytes)
            return web.json_response(error.body(), status=413)
        raise exc
    except web.HTTPException as exc:
        if _wants_json(request) and exc.status >= 400:
            code = exc.reason.lower().replace(" ", "_")
            body = {"error": {"code": code, "message": exc.reason}}
            headers = {k: v for k, v in exc.headers.items() if k.lower() != "content-type"}
            return web.json_response(body, status=exc.status, headers=headers)
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json(request):
            return web.json_response(INTERNAL.body(), status=500)
        return web.Response(status=500, text="Something went wrong on our side. Try again later.")
