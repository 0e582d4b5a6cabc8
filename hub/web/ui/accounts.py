"""Every agent sets their own presence, which routing reads. Going offline keeps assigned
conversations where they are; routing only stops giving new ones. (Admins manage agents in the
admin console: hub/web/ui/admin_agents.py.)"""

from __future__ import annotations

from aiohttp import web

from hub.core.errors import invalid_field
from hub.db.models import Agent, Presence
from hub.reports.presence import change_presence
from hub.web.keys import hub_of
from hub.web.ui.render import see_other
from hub.web.ui.viewer import viewer_of


async def set_presence(request: web.Request) -> web.StreamResponse:
    hub, viewer = hub_of(request), viewer_of(request)
    posted = await request.post()
    presence = str(posted.get("presence", ""))
    if presence not in {p.value for p in Presence}:
        raise invalid_field("presence", "must be one of online, away, offline")
    async with hub.db.writer() as session:
        agent = await session.get(Agent, viewer.agent_id)
        assert agent is not None
        await change_presence(session, agent, presence, hub.clock.now(), chosen=True)
        await session.commit()
    hub.presence.forget(viewer.agent_id)
    hub.events.wake()
    back = str(posted.get("back", ""))
    see_other(back if back.startswith("/ui/") else "/ui/inbox", "presence")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/ui/presence", set_presence)
