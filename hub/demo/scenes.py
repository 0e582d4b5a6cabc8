"""The demo's conversations: a living inbox on every configured channel, played through the real
ingest, routing, reply and status paths on a clock set in the past, so tickets, SLA clocks,
satisfaction answers and report facts are what the hub itself would have recorded.

Each scene is a short story: who writes on which channel, how long ago, what the agent answers,
whether it was resolved and how the customer rated it. Seeding runs once (the first scene's
message marks it); the demo's outgoing messages are recorded as delivered, none is sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import IdentityKind, InboundMessage, Party
from hub.agent.replies import send_reply
from hub.assembly import Hub
from hub.core.consent import record_consent
from hub.core.conversations import assign, set_status
from hub.db.campaign_models import ConsentSource, ConsentState
from hub.db.models import (
    Agent,
    Conversation,
    ConversationStatus,
    DeliveryState,
    Direction,
    Identity,
    Message,
    OutboxItem,
)
from hub.platform.clock import ManualClock
from hub.routing import csat

WIDGET_PAGE = "Visitor from Pricing | Demo Shop"


@dataclass(frozen=True, slots=True)
class Scene:
    """One conversation: ``ago`` is when the customer first wrote; ``replies`` alternate agent
    and customer texts after it (minutes after the start, text); ``resolved_after`` minutes
    closes it; ``score`` is the satisfaction answer."""

    key: str
    kind: str  # the channel kind it arrives on: email, form, api, widget
    name: str
    address: str
    subject: str
    text: str
    ago: timedelta
    agent: str = ""  # who answers (email); "" leaves it unanswered
    # (minutes after the start, "agent" or "customer", text)
    replies: tuple[tuple[int, str, str], ...] = ()
    resolved_after: int | None = None
    score: int | None = None


DAY = timedelta(days=1)
ALICE, BOB, SAM = (
    "alice@demo.relaydesk.local",
    "bob@demo.relaydesk.local",
    "sam@demo.relaydesk.local",
)

SCENES = (
    Scene("api-limits", "email", "Jane Cooper", "jane.cooper@example.com",
          "Question about API limits", "Hi, how many requests per minute does the API allow on "
          "our plan? We are planning a nightly sync.", 9 * DAY, ALICE,
          ((40, "agent", "Hi Jane, your plan allows 600 requests per minute; a nightly sync "
            "fits easily."), (55, "customer", "Perfect, thanks!")), 60, 5),
    Scene("password", "form", "Tom Baker", "tom@bakerandsons.example",
          "Cannot reset my password", "The reset link in your email says it has expired, "
          "every time I click it.", 6 * DAY, ALICE,
          ((25, "agent", "Sorry about that, Tom. I sent you a fresh link valid for 24 hours."),
           (90, "customer", "That one worked, I'm in.")), 120, 4),
    Scene("webhook", "api", "Northwind Integration", "integration@northwind.example",
          "Webhook signature mismatch", "Our endpoint rejects your callbacks: the signature "
          "header does not match what we compute.", 4 * DAY, SAM,
          ((180, "agent", "The signature covers the timestamp, a dot and the raw body: could "
            "your framework be re-serialising the JSON?"),
           (300, "customer", "That was it, fixed on our side.")), 320, 3),
    Scene("charged-twice", "email", "Jane Cooper", "jane.cooper@example.com",
          "Invoice 4411 charged twice", "Hello, our card was charged twice for invoice 4411 "
          "this month. Can you refund one of them?", 3 * DAY, BOB,
          ((70, "agent", "You're right, Jane: the second charge is refunded today, it takes "
            "3-5 business days to show."),), 80, 5),
    Scene("chat-resolved", "widget", "Lena Park", "lena.park@example.com",
          "Do you ship to Canada?", "Hi! Do you ship to Canada, and how long does it take?",
          3 * DAY, ALICE, ((4, "agent", "We do! Usually 5-7 business days."),), 10, 5),
    Scene("dark-mode", "form", "Ravi Shah", "ravi.shah@example.net",
          "Feature request: dark mode", "Any plans for a dark mode in the customer portal? "
          "My eyes would thank you.", 1 * DAY, ALICE,
          ((200, "agent", "It's on our roadmap for next quarter, I've added your vote."),),
          210, 3),
    Scene("customs", "api", "Priya Raman", "priya.raman@northwind.example",
          "Order 8812 stuck in customs", "Order 8812 has been held in customs for four days. "
          "Is there anything you need from us?", 2 * DAY, SAM,
          ((45, "agent", "Customs asked for the commercial invoice; could you confirm the "
            "declared value is 1,240 EUR?"),)),
    Scene("slow-export", "email", "Tom Baker", "tom@bakerandsons.example",
          "Export to CSV is very slow", "Exporting last year's orders to CSV takes over ten "
          "minutes and sometimes times out.", 5 * timedelta(hours=1), ALICE,
          ((30, "agent", "Thanks Tom, I can reproduce it and passed it to our engineers."),
           (50, "customer", "Great, please keep me posted."))),
    Scene("refund-request", "email", "Emma Schulz", "emma.schulz@example.de",
          "Refund for my cancelled order", "I cancelled order 9921 last week but have not "
          "received my refund yet.", timedelta(minutes=45)),
    Scene("site-down", "form", "Marco Rossi", "marco@rossi-design.example",
          "Checkout is down - urgent", "Our checkout page is down since 10 minutes, customers "
          "cannot pay. Urgent!", timedelta(minutes=10)),
    Scene("discount", "widget", WIDGET_PAGE, "", "Student discount?",
          "Hi, do you offer a student discount?", timedelta(minutes=6)),
    Scene("invoice-address", "email", "Priya Raman", "priya.raman@northwind.example",
          "Change the invoice address", "Please send future invoices to accounts@northwind."
          "example instead of my address.", timedelta(hours=3)),
)  # fmt: skip

# Customers who agreed to hear from us by email (the marketer's demo campaign audience).
CONSENTING = (
    "jane.cooper@example.com",
    "tom@bakerandsons.example",
    "priya.raman@northwind.example",
    "lena.park@example.com",
    "ravi.shah@example.net",
)


def _channel_of(hub: Hub, kind: str) -> str | None:
    return next((n for n, c in hub.settings.channels.items() if c.kind == kind), None)


def _inbound(scene: Scene, channel: str, number: int, text: str, at: datetime) -> InboundMessage:
    if scene.kind == "widget":
        visitor = "demo" + scene.key.replace("-", "")
        sender = Party(IdentityKind.WEB, visitor, scene.name)
        external = f"widget:{visitor}:{number}"
    else:
        sender = Party(IdentityKind.EMAIL, scene.address, scene.name)
        external = f"demo-{scene.key}-{number}"
    return InboundMessage(
        channel=channel,
        external_id=external,
        sender=sender,
        text=text,
        subject=scene.subject if number == 0 else None,
        received_at=at,
        raw={"demo": True},
    )


async def seeded(hub: Hub) -> bool:
    async with hub.db.reader() as session:
        found = await session.scalar(
            select(Message.id).where(Message.external_id.like("demo-%")).limit(1)
        )
    return found is not None


async def seed_conversations(hub: Hub, clock: ManualClock, now: datetime) -> int:
    """Play every scene whose channel is configured; returns how many were played (0 when the
    demo conversations are already there)."""
    if await seeded(hub):
        return 0
    played = []
    for scene in sorted(SCENES, key=lambda s: -s.ago.total_seconds()):
        channel = _channel_of(hub, scene.kind)
        if channel is not None:
            played.append(await _play(hub, clock, scene, channel, now - scene.ago))
    async with hub.db.writer() as session:
        await _consent(session, now)
        await _delivered(session, played)
        await session.commit()
    return len(played)


async def _play(hub: Hub, clock: ManualClock, scene: Scene, channel: str, start: datetime) -> int:
    clock.current = start
    pipeline = hub.ingestor.pipeline
    async with hub.db.writer() as session:
        result = await pipeline.ingest(session, _inbound(scene, channel, 0, scene.text, start))
        conversation = await session.get(Conversation, result.conversation_id)
        assert conversation is not None
        if scene.kind == "widget" and scene.address:
            await _visitor_email(session, conversation, scene, start)
        agent = await session.scalar(select(Agent).where(Agent.email == scene.agent))
        if agent is not None:
            await assign(session, conversation, agent.id, start, actor_id=agent.id)
        await session.commit()
    for number, (minutes, who, text) in enumerate(scene.replies, start=1):
        clock.current = at = start + timedelta(minutes=minutes)
        async with hub.db.writer() as session:
            if who == "customer":
                await pipeline.ingest(session, _inbound(scene, channel, number, text, at))
            else:
                conversation = await session.get(Conversation, result.conversation_id)
                agent = await session.scalar(select(Agent).where(Agent.email == scene.agent))
                assert conversation is not None and agent is not None
                await send_reply(session, hub.settings, hub.renderer, conversation, agent, text, at)
            await session.commit()
    waiting = (
        scene.resolved_after is None and bool(scene.replies) and scene.replies[-1][1] == "agent"
    )
    if scene.resolved_after is not None or waiting:  # else it stays open
        minutes = scene.resolved_after or scene.replies[-1][0]
        status = ConversationStatus.PENDING if waiting else ConversationStatus.RESOLVED
        clock.current = at = start + timedelta(minutes=minutes)
        async with hub.db.writer() as session:
            conversation = await session.get(Conversation, result.conversation_id)
            assert conversation is not None
            previous = conversation.status
            await set_status(session, conversation, status, at)
            await hub.reports.status_changed(session, conversation, previous, at)
            if scene.score is not None:
                answered = at + timedelta(hours=2)
                await csat.record(session, conversation.id, scene.score, "link", answered)
                await hub.reports.csat_answer(session, conversation, scene.score, answered)
            await session.commit()
    return result.conversation_id


async def _visitor_email(
    session: AsyncSession, conversation: Conversation, scene: Scene, at: datetime
) -> None:
    """The chat visitor left their email: it is one of their customer's identities."""
    session.add(
        Identity(
            customer_id=conversation.customer_id,
            kind=IdentityKind.EMAIL.value,
            address=scene.address,
            display_name=scene.name,
            created_at=at,
        )
    )
    await session.flush()


async def _consent(session: AsyncSession, now: datetime) -> None:
    identities = await session.scalars(
        select(Identity).where(Identity.kind == "email", Identity.address.in_(CONSENTING))
    )
    for identity in identities:
        await record_consent(
            session, identity.id, ConsentState.GRANTED, ConsentSource.FORM, now, note="demo"
        )


async def _delivered(session: AsyncSession, conversation_ids: list[int]) -> None:
    """The demo's acknowledgements and replies count as delivered: nothing is sent for them.
    The outbox rows are written before their messages, in the order the outbox's own sender
    writes them, so a mail being sent meanwhile makes this wait, not deadlock."""
    outbound = select(Message.id).where(
        Message.direction == Direction.OUTBOUND, Message.conversation_id.in_(conversation_ids)
    )
    sent = select(OutboxItem.id).where(OutboxItem.message_id.in_(outbound))
    await session.execute(update(OutboxItem).where(OutboxItem.id.in_(sent)).values(state="sent"))
    await session.execute(
        update(Message)
        .where(Message.id.in_(outbound), Message.delivery_state != DeliveryState.SENT)
        .values(delivery_state=DeliveryState.SENT)
    )
