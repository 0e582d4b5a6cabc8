"""The web chat widget's routes: the chat page (``GET /widget/{channel}``, standalone or in an
iframe), the embed script a site pastes in (``/widget/{channel}/embed.js``) and the visitor's
WebSocket (``/widget/{channel}/ws``): origin check and per-IP connection limit before the
upgrade, then the frame protocol in hub/web/widget_socket.py."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from channels.web.widget import WidgetChannel, WidgetChannelConfig, origin_of
from hub.assembly import Hub
from hub.core import errors
from hub.core.errors import ApiError
from hub.core.files import FileTooLarge
from hub.web.downloads import Download, download_response
from hub.web.keys import hub_of, pages_of
from hub.web.requests import row_id
from hub.web.uploads import ENVELOPE, read_multipart
from hub.web.widget_socket import WidgetLimits, WidgetSession
from hub.widget.files import store_visitor_file, visitor_file
from hub.widget.visitors import VisitorTokens

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = {"widget.js": "application/javascript", "widget.css": "text/css"}


@dataclass(frozen=True, slots=True)
class WidgetState:
    """What only the web side keeps for the widget: the visitors' tokens and the rate limits of
    each widget channel (the live sockets and file links are the hub's: hub.widgets)."""

    tokens: VisitorTokens
    _limits: dict[str, WidgetLimits] = field(default_factory=dict)

    def limits(self, channel: WidgetChannel) -> WidgetLimits:
        found = self._limits.get(channel.name)
        if found is None:
            found = self._limits[channel.name] = WidgetLimits.of(channel.name, channel.config)
        return found


WIDGET = web.AppKey("widget", WidgetState)


def _widget(hub: Hub, name: str) -> tuple[WidgetChannel, WidgetChannelConfig]:
    channel = hub.channels.get(name)
    if not isinstance(channel, WidgetChannel):
        raise web.HTTPNotFound(text="There is no chat here.")
    return channel, channel.config


def _error(error: ApiError) -> web.Response:
    return web.json_response(error.body(), status=error.status, headers=error.headers())


def _own_origins(request: web.Request, hub: Hub) -> set[str]:
    return {origin_of(hub.settings.web.public_url), f"{request.scheme}://{request.host}".lower()}


def origin_problem(request: web.Request, hub: Hub, config: WidgetChannelConfig) -> str | None:
    """Why the socket may not be opened from where it was requested, or None."""
    origin = request.headers.get("Origin")
    if origin is None:
        # Browsers always send Origin on a WebSocket; a request without one comes from our
        # own page's tooling or a non-browser client, unless the browser says it is cross-site.
        fetch_site = request.headers.get("Sec-Fetch-Site", "same-origin")
        if fetch_site in {"cross-site", "same-site"}:
            return "a cross-site request must carry an Origin header"
        return None
    if origin_of(origin) in _own_origins(request, hub) | set(config.allowed_origins):
        return None
    return f"origin {origin!r} may not use this chat (not in allowed_origins)"


async def chat_page(request: web.Request) -> web.Response:
    hub = hub_of(request)
    name = request.match_info["channel"]
    _channel, config = _widget(hub, name)
    template = pages_of(request).pages.get_template("widget.html")
    html = template.render(
        name=name,
        config=config,
        instance_name=hub.settings.instance_name,
        settings_json=json.dumps(
            {
                "channel": name,
                "title": config.title,
                "greeting": config.greeting,
                "maxChars": config.max_message_chars,
                "emailFallback": bool(config.email_fallback_channel),
                "maxFileBytes": hub.settings.attachments.max_bytes,
                "maxFiles": hub.settings.attachments.max_files,
            }
        ),
    )
    response = web.Response(text=html, content_type="text/html")
    ancestors = " ".join(("'self'", *config.allowed_origins))
    host = request.host
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
        f"connect-src 'self' ws://{host} wss://{host}; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors {ancestors}"
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


async def asset(request: web.Request) -> web.Response:
    hub = hub_of(request)
    _widget(hub, request.match_info["channel"])
    name = request.match_info["asset"]
    content_type = ASSETS.get(name)
    if content_type is None:
        raise web.HTTPNotFound(text="No such file.")
    body = (STATIC / name).read_text(encoding="utf-8")
    response = web.Response(text=body, content_type=content_type)
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


async def embed_script(request: web.Request) -> web.Response:
    """The script a site owner pastes in: a launcher button that opens the chat in an iframe."""
    hub = hub_of(request)
    name = request.match_info["channel"]
    _channel, config = _widget(hub, name)
    body = (STATIC / "widget-embed.js").read_text(encoding="utf-8")
    options = json.dumps({"channel": name, "title": config.title})
    response = web.Response(
        text=f"window.RelaydeskWidget = {options};\n{body}", content_type="application/javascript"
    )
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


async def demo_page(request: web.Request) -> web.Response:
    """A sample site page with the widget embedded: what a visitor sees, to try it at once."""
    hub = hub_of(request)
    name = request.match_info["channel"]
    _widget(hub, name)
    embed_url = f"{request.scheme}://{request.host}/widget/{name}/embed.js"
    template = pages_of(request).pages.get_template("widget_demo.html")
    html = template.render(name=name, embed_url=embed_url, instance_name=hub.settings.instance_name)
    response = web.Response(text=html, content_type="text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; frame-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


async def chat_socket(request: web.Request) -> web.StreamResponse:
    hub = hub_of(request)
    name = request.match_info["channel"]
    channel = hub.channels.get(name)
    if not isinstance(channel, WidgetChannel):
        return _error(errors.widget_unknown(name))
    config = channel.config
    problem = origin_problem(request, hub, config)
    if problem is not None:
        return _error(errors.widget_origin(problem))
    state = request.app[WIDGET]
    limits = state.limits(channel)
    wait = await limits.connections_by_ip.check(hub.db, request.remote or "")
    if wait:
        return _error(errors.rate_limited(wait))
    ws = web.WebSocketResponse(
        heartbeat=30.0, max_msg_size=max(4 * config.max_frame_bytes, 64 * 1024)
    )
    if not ws.can_prepare(request).ok:
        return _error(errors.widget_not_websocket())
    await ws.prepare(request)
    session = WidgetSession(hub, state.tokens, limits, channel, ws, request.remote)
    hub.metrics.stream_opened("widget")
    try:
        await session.run()
    finally:
        hub.metrics.stream_closed("widget")
        # aiohttp may cancel this handler once the peer is gone: finish the bookkeeping anyway.
        await asyncio.shield(asyncio.ensure_future(session.close()))
    return ws


async def _limited(hub: Hub, limits: WidgetLimits, visitor_id: str, remote: str) -> None:
    """The socket's message limits count uploads too."""
    for limiter, key in ((limits.messages_by_visitor, visitor_id), (limits.messages_by_ip, remote)):
        wait = await limiter.check(hub.db, key)
        if wait:
            raise errors.rate_limited(wait)


async def upload_file(request: web.Request) -> web.Response:
    """``POST /widget/{channel}/uploads``: one file (multipart, part ``file``) from the visitor
    named by the ``X-Widget-Token`` header; answers its id for the next message frame."""
    hub = hub_of(request)
    name = request.match_info["channel"]
    channel = hub.channels.get(name)
    if not isinstance(channel, WidgetChannel):
        raise errors.widget_unknown(name)
    problem = origin_problem(request, hub, channel.config)
    if problem is not None:
        raise errors.widget_origin(problem)
    state = request.app[WIDGET]
    visitor_id = state.tokens.verify(name, request.headers.get("X-Widget-Token", ""))
    if visitor_id is None:
        raise errors.widget_token()
    await _limited(hub, state.limits(channel), visitor_id, request.remote or "")
    cap = hub.settings.attachments
    declared = request.content_length
    if declared is not None and declared > cap.max_bytes + ENVELOPE:
        raise errors.file_too_large(None, cap.max_bytes)
    form = await read_multipart(request, cap, 4096)
    if len(form.files) != 1:
        raise errors.bad_upload("send exactly one file, in a part named file")
    upload = form.files[0]
    async with hub.db.writer() as session:
        try:
            row = await store_visitor_file(
                session,
                channel=name,
                visitor_id=visitor_id,
                filename=upload.filename,
                content_type=upload.content_type,
                content=upload.content,
                settings=cap,
                now=hub.clock.now(),
            )
        except FileTooLarge as exc:
            raise errors.file_too_large(exc.filename, exc.limit) from None
        await session.commit()
        body = {
            "id": row.id,
            "filename": row.filename,
            "content_type": row.content_type,
            "size": row.size,
        }
    return web.json_response(body, status=201)


async def download_file(request: web.Request) -> web.Response:
    """``GET /widget/{channel}/files/{message}/{position}?v=&s=``: a file of a message in the
    visitor's own conversations, by a link signed for them; anything else is 404."""
    hub = hub_of(request)
    name = request.match_info["channel"]
    if not isinstance(hub.channels.get(name), WidgetChannel):
        raise errors.widget_unknown(name)
    where = f"{request.match_info['message']}/{request.match_info['position']}"
    message_id = row_id(request.match_info["message"])
    position = row_id(request.match_info["position"])
    visitor_id, sig = request.query.get("v", ""), request.query.get("s", "")
    links = hub.widgets.links
    if (
        message_id is None
        or position is None
        or not links.verify(name, visitor_id, message_id, position, sig)
    ):
        raise errors.not_found("file", where)
    async with hub.db.reader() as session:
        found = await visitor_file(session, visitor_id, name, message_id, position)
    if found is None:
        raise errors.not_found("file", where)
    response = download_response(Download(found.filename, found.content_type, found.content))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def setup(app: web.Application, secret_key: str) -> None:
    app[WIDGET] = WidgetState(VisitorTokens(secret_key))
    app.router.add_get("/widget/{channel}", chat_page)
    app.router.add_get("/widget/{channel}/embed.js", embed_script)
    app.router.add_get("/widget/{channel}/demo", demo_page)
    app.router.add_get("/widget/{channel}/ws", chat_socket)
    app.router.add_post("/widget/{channel}/uploads", upload_file)
    app.router.add_get("/widget/{channel}/files/{message}/{position}", download_file)
    app.router.add_get("/widget/{channel}/{asset:widget\\.(?:js|css)}", asset)
