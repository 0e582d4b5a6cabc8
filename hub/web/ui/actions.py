"""What an agent does to a conversation: reply, note, assign, transfer, status, priority,
snooze, tags, retry a failed delivery, say they are typing, and the same in bulk. Each checks
the role and the object (a conversation the agent may not see is answered 404), writes the change
and its event in one transaction, then wakes the event bus."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.agent.replies import NoRecipient, note_with_mentions, send_reply
from hub.agent.snooze import clear_snooze, snooze
from hub.config.settings import PRIORITIES
from hub.core.authz import may_assign, visible_conversation
from hub.core.conversations import assign, log_event, set_status
from hub.core.errors import (
    ASSIGN_FORBIDDEN,
    forbidden,
    invalid_field,
    not_found,
    ui_conflict,
    ui_no_recipient,
)
from hub.core.tickets import change_priority
from hub.db.inbox_models import ConversationTag
from hub.db.models import Agent, Conversation, ConversationStatus, Direction, Message, Role, Team
from hub.platform.events import publish
from hub.reports.record import Reports
from hub.web.keys import hub_of
from hub.web.requests import path_id, row_id
from hub.web.ui import collision
from hub.web.ui.render import NOTICES, see_other, wants_json
from hub.web.ui.viewer import Viewer, viewer_of
from hub.web.uploads import PostedForm, read_form, store_uploads

MAX_TEXT = 65_536
MAX_TAGS = 20
_TAG = re.compile(r"^[a-z0-9][a-z0-9 _\-]{0,63}$")
SETTABLE_STATUSES = ("open", "pending", "resolved")


def _text(posted: MultiDictProxy[Any], field: str = "text") -> str:
    text = str(posted.get(field, "")).replace("\r\n", "\n")
    if not text.strip():
        raise invalid_field(field, "must not be empty")
    if len(text) > MAX_TEXT:
        raise invalid_field(field, f"is longer than {MAX_TEXT} characters")
    return text


def _done(request: web.Request, conversation_id: int, notice: str) -> web.StreamResponse:
    hub_of(request).events.wake()
    if wants_json(request):
        return web.json_response({"ok": True, "notice": NOTICES.get(notice, "")})
    see_other(f"/ui/conversations/{conversation_id}", notice)


async def assignee_from(session: AsyncSession, viewer: Viewer, raw: str) -> int | None:
    if raw in ("", "none"):
        return None
    if raw == "me":
        return viewer.agent_id
    agent = await session.get(Agent, ident) if (ident := row_id(raw)) is not None else None
    if agent is None or not agent.active or agent.role == Role.MARKETER:
        raise invalid_field("agent", f"agent {raw} does not exist or cannot take conversations")
    return agent.id


async def reassign(
    session: AsyncSession,
    viewer: Viewer,
    conversation: Conversation,
    target: int | None,
    now: datetime,
) -> None:
    if not await may_assign(session, viewer.principal, conversation, target):
        raise forbidden(ASSIGN_FORBIDDEN)
    previous = conversation.assignee_id
    await assign(session, conversation, target, now, actor_id=viewer.agent_id)
    await publish(session, "assignment", conversation, now, agent_ids=[previous])


async def change_status(
    session: AsyncSession,
    reports: Reports,
    viewer: Viewer,
    conversation: Conversation,
    status: str,
    now: datetime,
) -> None:
    if status not in SETTABLE_STATUSES:
        raise invalid_field("status", "must be one of " + ", ".join(SETTABLE_STATUSES))
    await clear_snooze(session, conversation.id)
    previous = conversation.status
    await set_status(
        session, conversation, ConversationStatus(status), now, actor_id=viewer.agent_id
    )
    await reports.status_changed(session, conversation, previous, now, viewer.agent_id)


def parse_tags(raw: str) -> list[str]:
    tags = []
    for part in raw.split(","):
        tag = " ".join(part.strip().lower().split())
        if not tag:
            continue
        if not _TAG.match(tag):
            raise invalid_field("tags", f"{tag[:70]!r} is not a tag (letters, digits, - and _)")
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise invalid_field("tags", f"at most {MAX_TAGS} tags at once")
    return tags


async def add_tags(session: AsyncSession, conversation: Conversation, tags: list[str]) -> None:
    existing = set(
        (
            await session.scalars(
                select(ConversationTag.tag).where(
                    ConversationTag.conversation_id == conversation.id
                )
            )
        ).all()
    )
    for tag in tags:
        if tag not in existing:
            session.add(ConversationTag(conversation_id=conversation.id, tag=tag))
            existing.add(tag)


async def _action(request: web.Request) -> tuple[Viewer, MultiDictProxy[Any], int]:
    viewer = viewer_of(request)
    if not viewer.principal.handles_conversations:
        raise forbidden("work on conversations")
    return viewer, await request.post(), path_id(request, "conversation")


async def _composed(request: web.Request) -> tuple[Viewer, PostedForm, int]:
    """A reply or note form: text fields plus the files chosen in the composer."""
    viewer = viewer_of(request)
    if not viewer.principal.handles_conversations:
        raise forbidden("work on conversations")
    form = await read_form(request, hub_of(request).settings.attachments, 4 * MAX_TEXT + 4096)
    return viewer, form, path_id(request, "conversation")


async def post_reply(request: web.Request) -> web.StreamResponse:
    hub = hub_of(request)
    viewer, form, conversation_id = await _composed(request)
    posted = form.fields
    text = _text(posted)
    route = str(posted.get("route", ""))
    identity_id = row_id(route)
    now = hub.clock.now()
    async with hub.db.writer() as session:
        conversation = await visible_conversation(session, viewer.principal, conversation_id)
        agent = await session.get(Agent, viewer.agent_id)
        assert agent is not None
        try:
            message = await send_reply(
                session, hub.settings, hub.renderer, conversation, agent, text, now, identity_id
            )
        except NoRecipient as exc:
            raise ui_no_recipient(exc.channel) from None
        await publish(session, "message", conversation, now, message_id=message.id)
        await store_uploads(session, message, form.files, agent.id, hub.settings.attachments, now)
        await collision.signal(session, conversation, agent.id, viewer.name, now, stopped=True)
        await session.commit()
    hub.dispatcher.wake()
    return _done(request, conversation_id, "reply")


async def post_note(request: web.Request) -> web.StreamResponse:
    hub = hub_of(request)
    viewer, form, conversation_id = await _composed(request)
    text = _text(form.fields)
    now = hub.clock.now()
    async with hub.db.writer() as session:
        conversation = await visible_conversation(session, viewer.principal, conversation_id)
        agent = await session.get(Agent, viewer.agent_id)
        assert agent is not None
        message = await note_with_mentions(session, conversation, agent, text, now)
        await store_uploads(session, message, form.files, agent.id, hub.settings.attachments, now)
        await session.commit()
    return _done(request, conversation_id, "note")


async def post_assign(request: web.Request) -> web.StreamResponse:
    hub = hub_of(request)
    viewer, posted, conversation_id = await _action(request)
    now = hub.clock.now()
    async with hub.db.writer() as session:
        conversation = await visible_conversation(session, viewer.principal, conversation_id)
        target = await assignee_from(session, viewer, str(posted.get("agent", "")))
        await reassign(session, viewer, conversation, target, now)
        await session.commit()
    return _done(request, conversation_id, "assigned")


async def post_team(request: web.Request) -> web.StreamResponse:
    hub = hub_of(request)
    viewer, posted, conversation_id = await _action(request)
    raw = str(posted.get("team", ""))
    now = hub.clock.now()
    async with hub.db.writer() as session:
        conversation = await visible_conversation(session, viewer.principal, conversation_id)
        team = await session.get(Team, ident) if (ident := row_id(raw)) is not None else None
        if team is None:
            raise invalid_field("team", f"team {raw[:20]} does not exist")
        previous = conversation.team_id
        if previous != team.id:
            conversation.team_id = team.id
            conversation.last_activity_at = now
            await log_event(
                session, conversation, f"Moved to team {team.name}", now, viewer.agent_id
            )
            await publish(session, "team", conversation, now, team_ids=[previous])
        await session.commit()
    return _done(request, conversation_id, "team")


async def post_status(request: web.Request) -> web.StreamResponse:
    hub = hub_of(request)
    viewer, posted, conversation_id = await _action(request)
    now = hub.clock.now()
    async with hub.db.writer() as session:
        conversation = await visible_conversation(session, viewer.principal, conversation_id)
        status = str(posted.get("status", ""))
        await change_status(session, hub.reports, viewer, conversation, status, now)
        await session.commit()
    return _done(request, conversation_id, "status")


async def post_priority(request: web.Request) -> web.StreamResponse:
    hub = hub_of(request)
    viewer, posted, conversation_id = await _action(request)
    priority = str(posted.get("priority", ""))
    if priority not in PRIORITIES:
        raise invalid_field("priority", "must be one of " + ", ".join(PRIORITIES))
    now = hub.clock.now()
    async with hub.db.writer() as session:
        conversation = await visible_conversation(session, viewer.principal, conversation_id)
        await change_priority(session, hub.settings, conversation, priority, now, viewer.agent_id)
        await session.commit()
    return _done(request, conversation_id, "priority")


def snooze_until(choice: str, custom: str, now: datetime) -> datetime:
    presets = {"1h": timedelta(hours=1), "4h": timedelta(hours=4), "week": timedelta(days=7)}
    if choice in presets:
        return now + presets[choice]
    if choice == "tomorrow":
        return (now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    try:
        until = datetime.fromisoformat(custom)
    except ValueError:
        raise invalid_field("until", "must be a date and time like 2026-05-01T09:00") from None
    until = until.replace(tzinfo=now.tzinfo) if until.tzinfo is None else until
    if until <= now:
        raise invalid_field("until", "must be in the future")
    return until


async def post_snooze(request: web.Request) -> web.StreamResponse:
    hub = hub_of(request)
    viewer, posted, conversation_id = await _action(request)
    now = hub.clock.now()
    until = snooze_until(str(posted.get("choice", "")), str(posted.get("until", "")), now)
    async with hub.db.writer() as session:
        conversation = await visible_conversation(session, viewer.principal, conversation_id)
        await snooze(session, conversation, until, now, viewer.agent_id)
        await session.commit()
    return _done(request, conversation_id, "snoozed")


async def post_tags(request: web.Request) -> web.StreamResponse:
    hub = hub_of(request)
    viewer, posted, conversation_id = await _action(request)
    added = parse_tags(str(posted.get("add", "")))
    removed = str(posted.get("remove", "")).strip().lower()
    now = hub.clock.now()
    async with hub.db.writer() as session:
        conversation = await visible_conversation(session, viewer.principal, conversation_id)
        await add_tags(session, conversation, added)
        if removed:
            await session.execute(
                delete(ConversationTag).where(
                    ConversationTag.conversation_id == conversation.id,
                    ConversationTag.tag == removed,
                )
            )
        await publish(session, "tags", conversation, now)
        await session.commit()
    return _done(request, conversation_id, "tags")


async def post_typing(request: web.Request) -> web.StreamResponse:
    """An agent is writing a reply (or stopped): stored as a short-lived event, so agents
    served by other processes are warned too."""
    hub = hub_of(request)
    viewer, posted, conversation_id = await _action(request)
    now = hub.clock.now()
    async with hub.db.writer() as session:
        conversation = await visible_conversation(session, viewer.principal, conversation_id)
        stopped = posted.get("state") == "stop"
        await collision.signal(
            session, conversation, viewer.agent_id, viewer.name, now, stopped=stopped
        )
        writing = await collision.others(session, conversation_id, viewer.agent_id, now)
        await session.commit()
    hub_of(request).events.wake()
    return web.json_response({"others": writing})


async def post_retry(request: web.Request) -> web.StreamResponse:
    hub = hub_of(request)
    viewer = viewer_of(request)
    message_id = path_id(request, "message")
    async with hub.db.writer() as session:
        message = await session.get(Message, message_id)
        if message is None or message.direction != Direction.OUTBOUND:
            raise not_found("message", message_id)
        conversation = await visible_conversation(
            session, viewer.principal, message.conversation_id
        )
        if not await hub.dispatcher.retry_now(session, message_id):
            raise ui_conflict("only a message whose delivery failed can be sent again")
        await publish(session, "delivery", conversation, hub.clock.now(), message_id=message_id)
        await session.commit()
    hub.dispatcher.wake()
    return _done(request, conversation.id, "retry")


async def apply_bulk(request: web.Request, ids: list[int], action: str, value: str) -> None:
    hub, viewer = hub_of(request), viewer_of(request)
    if not viewer.principal.handles_conversations:
        raise forbidden("work on conversations")
    if not ids:
        raise invalid_field("ids", "select at least one conversation")
    if len(ids) > 200:
        raise invalid_field("ids", "at most 200 conversations at once")
    if action not in ("assign", "status", "tag"):
        raise invalid_field("action", "must be one of assign, status, tag")
    tags = parse_tags(value) if action == "tag" else []
    now = hub.clock.now()
    async with hub.db.writer() as session:
        target = await assignee_from(session, viewer, value) if action == "assign" else None
        for conversation_id in ids:
            conversation = await visible_conversation(session, viewer.principal, conversation_id)
            if action == "assign":
                await reassign(session, viewer, conversation, target, now)
            elif action == "status":
                await change_status(session, hub.reports, viewer, conversation, value, now)
            else:
                await add_tags(session, conversation, tags)
                await publish(session, "tags", conversation, now)
        await session.commit()
    hub_of(request).events.wake()


def add_routes(router: web.UrlDispatcher) -> None:
    for name, handler in (
        ("reply", post_reply),
        ("note", post_note),
        ("assign", post_assign),
        ("team", post_team),
        ("status", post_status),
        ("priority", post_priority),
        ("snooze", post_snooze),
        ("tags", post_tags),
        ("typing", post_typing),
    ):
        router.add_post(f"/ui/conversations/{{id}}/{name}", handler)
    router.add_post("/ui/messages/{id}/retry", post_retry)
