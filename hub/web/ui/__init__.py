"""The agent web app: server-rendered pages under ``/ui`` with a little vendored JavaScript,
live through server-sent events. ``setup`` registers everything on the hub's application."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from hub.web.ui import accounts, actions, canned, conversation, inbox, session, stream
from hub.web.ui.state import close_streams, ui_context

STATIC = Path(__file__).resolve().parent.parent / "static"


def setup(app: web.Application) -> None:
    """Routes, the session middleware (``/ui`` paths only) and the app's services."""
    app.middlewares.append(session.ui_middleware)
    app.cleanup_ctx.append(ui_context)
    app.on_shutdown.append(close_streams)
    router = app.router
    for module in (session, inbox, conversation, actions, canned, accounts, stream):
        module.add_routes(router)
    router.add_static("/ui/static/", STATIC, name="ui-static", append_version=True)
