"""The conversation page's "Hand back to the bot" button (CSRF-checked like every form)."""

from __future__ import annotations

from aiohttp import web

from hub.bots.service import BotService
from hub.core.authz import visible_conversation
from hub.core.errors import forbidden
from hub.web.keys import hub_of
from hub.web.requests import path_id
from hub.web.ui.render import see_other, wants_json
from hub.web.ui.viewer import viewer_of


async def post_handback(request: web.Request) -> web.StreamResponse:
    hub = hub_of(request)
    viewer = viewer_of(request)
    if not viewer.principal.handles_conversations:
        raise forbidden("work on conversations")
    conversation_id = path_id(request, "conversation")
    await request.post()
    assert hub.routing is not None
    service = hub.routing.engine.plugin
    assert isinstance(service, BotService)
    async with hub.db.writer() as session:
        conversation = await visible_conversation(session, viewer.principal, conversation_id)
        await service.hand_back(session, conversation, None, hub.clock.now())
        await session.commit()
    hub.events.wake()
    if wants_json(request):
        return web.json_response({"ok": True})
    see_other(f"/ui/conversations/{conversation_id}", "handed_back")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/ui/conversations/{id}/handback", post_handback)
