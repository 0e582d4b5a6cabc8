"""Agent replies and private notes on a conversation. A reply goes through the conversation's
own reply route or through another identity of the customer; a note's @mentions reach the
named agents. The web pages and the API both call these and only translate HTTP."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.settings import Settings
from hub.core.notices import notify
from hub.core.tickets import reply_subject, ticket_for
from hub.db.inbox_models import Mention
from hub.db.models import Agent, Conversation, DeliveryState, Direction, Identity, Message
from hub.outbound.compose import queue_outbound, reply_route
from hub.outbound.templates import FollowupRenderer
from hub.platform.events import publish
from hub.routing.hooks import on_agent_reply

_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9][\w.\-]*)")


class NoRecipient(Exception):
    """The customer has no address the reply's channel can reach; ``channel`` names that
    channel, the identity's kind, or "chosen" for an identity not the customer's."""

    def __init__(self, channel: str) -> None:
        super().__init__(channel)
        self.channel = channel


@dataclass(frozen=True, slots=True)
class Route:
    """A way to answer: ``identity_id`` None means the conversation's own reply route."""

    identity_id: int | None
    channel: str
    label: str


def is_email(settings: Settings, via: str) -> bool:
    """Whether replies through ``via`` are emails (subject, signature, HTML part); every
    other channel is a chat that shows the agent's text as it is."""
    config = settings.channels.get(via)
    return config is not None and config.kind == "email"


def sending_channel(settings: Settings, kind: str) -> str | None:
    """The channel that reaches an identity of ``kind``: one of that very kind (email by an
    email channel) first, else any other that sends to such addresses."""
    able = [
        (config.kind != kind, name)
        for name, config in settings.channels.items()
        if config.kind not in ("form", "api") and config.recipient_kind().value == kind
    ]
    return min(able)[1] if able else None


async def reply_routes(
    session: AsyncSession, settings: Settings, conversation: Conversation
) -> list[Route]:
    via = reply_route(settings, conversation.channel)
    routes = [Route(None, via, f"{conversation.channel} (this conversation)")]
    identities = await session.scalars(
        select(Identity)
        .where(Identity.customer_id == conversation.customer_id)
        .order_by(Identity.id)
    )
    for identity in identities:
        channel = sending_channel(settings, identity.kind)
        if channel is not None and not identity.bouncing:
            # A chat visitor's address is their browser's hash: shown by name instead.
            shown = identity.display_name if identity.kind == "web" else identity.address
            routes.append(Route(identity.id, channel, f"{shown or channel} via {channel}"))
    return routes


async def send_reply(
    session: AsyncSession,
    settings: Settings,
    renderer: FollowupRenderer,
    conversation: Conversation,
    agent: Agent,
    text: str,
    now: datetime,
    identity_id: int | None = None,
) -> Message:
    """Queue the agent's answer: through the conversation's reply route, or to the customer's
    identity ``identity_id`` through the channel that reaches it. Raises ``NoRecipient``."""
    identity = None
    via = reply_route(settings, conversation.channel)
    if identity_id is not None:
        identity = await session.get(Identity, identity_id)
        if identity is None or identity.customer_id != conversation.customer_id:
            raise NoRecipient("chosen")
        found = sending_channel(settings, identity.kind)
        if found is None:
            raise NoRecipient(identity.kind)
        via = found
    ticket = await ticket_for(session, conversation.id)
    number = ticket.number if ticket else None
    body, subject, html = text.strip(), "", None  # a chat gets what the agent wrote
    if is_email(settings, via):
        context = {
            "text": text,
            "agent": {"name": agent.name},
            "instance_name": settings.instance_name,
            "ticket": {"number": number},
        }
        rendered = renderer.render("agent_reply", context)
        body, subject, html = rendered.text, reply_subject(conversation, number), rendered.html
    message = await queue_outbound(
        session,
        settings,
        conversation,
        via=via,
        text=body,
        subject=subject,
        html=html,
        now=now,
        author_agent_id=agent.id,
    )
    if message is None:
        raise NoRecipient(via)
    if identity is not None and message.identity_id != identity.id:
        message.identity_id = identity.id
        message.raw = {**message.raw, "to": identity.address}
    if conversation.first_response_at is None:
        conversation.first_response_at = now
    conversation.last_activity_at = now
    await on_agent_reply(session, conversation, message, now)
    return message


async def add_note(
    session: AsyncSession, conversation: Conversation, agent: Agent, text: str, now: datetime
) -> Message:
    note = Message(
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        direction=Direction.NOTE,
        channel=conversation.channel,
        author_agent_id=agent.id,
        text=text,
        attachments=[],
        raw={},
        delivery_state=DeliveryState.NONE,
        created_at=now,
    )
    session.add(note)
    conversation.last_activity_at = now
    await session.flush()
    return note


def mentioned_names(text: str) -> set[str]:
    return {name.lower().rstrip(".") for name in _MENTION.findall(text)}


async def mentioned_agents(session: AsyncSession, text: str) -> list[Agent]:
    """Agents named by ``@handle``: the part of their email before the @, or their first name."""
    names = mentioned_names(text)
    if not names:
        return []
    agents = (await session.scalars(select(Agent).where(Agent.active.is_(True)))).all()
    return [
        agent
        for agent in agents
        if agent.email.partition("@")[0].lower() in names
        or (agent.name.split() or [""])[0].lower() in names
    ]


async def note_with_mentions(
    session: AsyncSession, conversation: Conversation, agent: Agent, text: str, now: datetime
) -> Message:
    """A private note whose @mentions reach the named agents, in any team: a mention row (which
    lets them open the conversation), a notice and a live event."""
    message = await add_note(session, conversation, agent, text, now)
    mentioned = [a for a in await mentioned_agents(session, text) if a.id != agent.id]
    for other in mentioned:
        session.add(
            Mention(
                message_id=message.id,
                conversation_id=conversation.id,
                agent_id=other.id,
                created_at=now,
            )
        )
        notice = f"{agent.name} mentioned you in conversation #{conversation.id}: {text[:200]}"
        notify(session, other.id, "mention", notice, now, conversation.id)
    await publish(
        session,
        "note",
        conversation,
        now,
        agent_ids=[a.id for a in mentioned],
        message_id=message.id,
        mentioned=[a.id for a in mentioned],
    )
    return message
