"""How the outbox delivers a reply on a widget channel, truthfully: sent once a live socket (in
this or another hub process) pushed it to the visitor's window; by email through the configured
mail channel when the visitor is away and left an address (its Message-ID and Reply-To carry the
conversation token, so their answer threads back); otherwise retried, and shown in the chat
whenever the visitor comes back."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import time
from collections.abc import Mapping

from sqlalchemy import select

from channels.base import Channel, DeliveryResult, IdentityKind, OutboundMessage, Party
from channels.web.widget import WidgetChannelConfig
from hub.config.settings import Settings
from hub.core.conversations import log_event
from hub.core.tickets import reply_subject, ticket_for
from hub.db.models import Conversation, Message
from hub.db.widget_models import WidgetDelivery, WidgetVisitor
from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.events import publish
from hub.widget.live import WidgetRegistry, socket_external_id
from hub.widget.visitors import presence

log = logging.getLogger(__name__)
MAX_REFERENCES = 20
POLL_SECONDS = 0.05


class WidgetDeliverer:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        channels: Mapping[str, Channel],
        registry: WidgetRegistry,
        clock: Clock,
    ) -> None:
        self.db = db
        self.settings = settings
        self.channels = channels
        self.registry = registry
        self.clock = clock

    async def _recorded(self, message_id: int) -> WidgetDelivery | None:
        async with self.db.reader() as session:
            return await session.get(WidgetDelivery, message_id)

    async def _await_record(self, message_id: int, seconds: float) -> WidgetDelivery | None:
        deadline = time.monotonic() + seconds
        while True:
            found = await self._recorded(message_id)
            if found is not None or time.monotonic() >= deadline:
                return found
            await asyncio.sleep(POLL_SECONDS)

    async def __call__(self, channel: str, message: OutboundMessage) -> DeliveryResult:
        config = self.settings.channels.get(channel)
        assert isinstance(config, WidgetChannelConfig)
        visitor_id = message.recipient.address
        done = await self._recorded(message.message_id)
        if done is not None:
            return DeliveryResult.sent(done.external_id)
        if self.registry.has_local(visitor_id):
            self.registry.wake_visitor(visitor_id)
            if await self.registry.wait_pushed(message.message_id, config.push_wait_seconds):
                return DeliveryResult.sent(socket_external_id(message.message_id))
        now = self.clock.now()
        async with self.db.reader() as session:
            seen = await presence(session, visitor_id, now)
            visitor = await session.scalar(
                select(WidgetVisitor).where(WidgetVisitor.visitor_id == visitor_id)
            )
        if seen.live:  # a socket in another process pushes it and records that
            found = await self._await_record(message.message_id, config.push_wait_seconds)
            if found is not None:
                return DeliveryResult.sent(found.external_id)
            return DeliveryResult.failed(
                "the visitor is connected but the reply was not pushed yet", retry_after=1.0
            )
        away = (now - seen.last_seen).total_seconds() if seen.last_seen else None
        if away is not None and away < config.offline_grace_seconds:
            wait = config.offline_grace_seconds - away
            return DeliveryResult.failed(
                f"the visitor left the chat {away:.0f} s ago; waiting {wait:.0f} s more for them "
                "to come back before sending by email",
                retry_after=max(wait, 0.1),
            )
        fallback = config.email_fallback_channel
        if visitor is None or not visitor.email or not fallback:
            reason = (
                "left no email address" if fallback else "the widget has no email_fallback_channel"
            )
            return DeliveryResult.failed(
                f"the visitor is not in the chat and {reason}; "
                "the reply shows in their chat window when they come back"
            )
        return await self._by_email(fallback, message, visitor)

    async def _by_email(
        self, fallback: str, message: OutboundMessage, visitor: WidgetVisitor
    ) -> DeliveryResult:
        mailer = self.channels.get(fallback)
        if mailer is None or message.conversation_id is None:
            return DeliveryResult.failed(f"email fallback channel {fallback} is not running")
        async with self.db.reader() as session:
            conversation = await session.get(Conversation, message.conversation_id)
            assert conversation is not None
            references = [
                value
                for value in reversed(
                    list(
                        await session.scalars(
                            select(Message.external_id)
                            .where(
                                Message.conversation_id == conversation.id,
                                Message.external_id.startswith("<"),
                            )
                            .order_by(Message.id.desc())
                            .limit(MAX_REFERENCES)
                        )
                    )
                )
                if value
            ]
            ticket = await ticket_for(session, conversation.id)
            # a chat reply carries no subject; the email it becomes does
            subject = message.subject or reply_subject(
                conversation, ticket.number if ticket else None
            )
        assert visitor.email is not None
        external_id = (
            f"<rd.{conversation.token}.{secrets.token_hex(6)}@{self.settings.mail_domain}>"
        )
        mail = dataclasses.replace(
            message,
            channel=fallback,
            recipient=Party(IdentityKind.EMAIL, visitor.email, visitor.name or None),
            external_id=external_id,
            subject=subject,
            in_reply_to=references[-1] if references else None,
            references=tuple(references),
            thread_key=None,
        )
        result = await mailer.send(mail)
        if not result.ok:
            return DeliveryResult.failed(
                f"the visitor is not in the chat; email to {visitor.email} failed: {result.error}",
                permanent=result.permanent,
                retry_after=result.retry_after,
            )
        now = self.clock.now()
        async with self.db.writer() as session:
            session.add(
                WidgetDelivery(
                    message_id=message.message_id,
                    via="email",
                    detail=f"sent by email to {visitor.email} through {fallback}",
                    external_id=external_id,
                    delivered_at=now,
                )
            )
            conversation = await session.get(Conversation, message.conversation_id)
            assert conversation is not None
            note = f"Reply sent by email to {visitor.email}: the visitor was not in the chat"
            await log_event(session, conversation, note, now)
            await publish(session, "delivery", conversation, now, message_id=message.message_id)
            await session.commit()
        return DeliveryResult.sent(external_id)
