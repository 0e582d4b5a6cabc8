"""The agent web app: server-rendered pages under ``/ui`` with a little vendored JavaScript,
live through server-sent events. ``setup`` registers everything on the hub's application."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from jinja2 import Environment

from hub.web.ui import (
    account,
    accounts,
    actions,
    admin_agents,
    admin_bots,
    admin_channels,
    admin_home,
    admin_password,
    admin_routing,
    admin_settings,
    admin_sla,
    admin_teams,
    admin_templates,
    admin_webhooks,
    bot_actions,
    campaigns,
    campaigns_send,
    canned,
    conversation,
    customers,
    customers_insights,
    customers_privacy,
    customers_profile,
    inbox,
    live_ops,
    notices,
    report_bots,
    reports,
    search,
    segments,
    session,
    stream,
)
from hub.web.ui.state import UI, UiState, close_streams

STATIC = Path(__file__).resolve().parent.parent / "static"


def setup(app: web.Application, pages: Environment) -> None:
    """Routes, the session middleware (``/ui`` paths only) and the pages' own state."""
    app.middlewares.append(session.ui_middleware)
    app[UI] = UiState.of(pages)
    app.on_shutdown.append(close_streams)
    router = app.router
    for module in (
        session,
        inbox,
        conversation,
        actions,
        bot_actions,
        canned,
        accounts,
        account,
        notices,
        live_ops,
        stream,
        customers_insights,
        customers,
        customers_profile,
        customers_privacy,
        segments,
        reports,
        report_bots,
        search,
        admin_settings,
        admin_routing,
        admin_sla,
        admin_templates,
        admin_channels,
        admin_bots,
        admin_webhooks,
    ):
        module.add_routes(router)
    campaigns.add_routes(router)
    campaigns_send.add_routes(router)
    for admin in (admin_home, admin_agents, admin_teams, admin_password):
        admin.add_routes(router)
    router.add_static("/ui/static/", STATIC, name="ui-static", append_version=True)
