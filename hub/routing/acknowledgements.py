"""The acknowledgement of a new conversation: the channel's ``ack_template`` (the outside-hours
template when the follow-up calendar is closed) sent on ``ack_via`` or the reply route; never
to automated mail, and within the auto-reply limit the ingest path passes in.

The conversation was opened by this message in this transaction, so all its messages (the
customer's and what its routing sent) are in the session: the mail thread is taken from there."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import InboundMessage
from hub.config.settings import Settings
from hub.core.calendar import BusinessCalendar, calendar_named
from hub.db.models import Conversation, Customer, Message
from hub.outbound.automated import AutomatedSender, AutoReplyCheck, Purpose, Template
from hub.outbound.compose import reply_route

ACKNOWLEDGEMENT = Purpose(
    "Acknowledgement", no_address="Acknowledgement not sent: no address for {via}"
)


class Acknowledgements:
    def __init__(self, settings: Settings, sender: AutomatedSender) -> None:
        self.settings = settings
        self.sender = sender

    @property
    def hours(self) -> BusinessCalendar:
        """Read each time: an admin may change the calendars while the hub runs."""
        settings = self.settings
        return calendar_named(
            settings.calendars, settings.followups.calendar or settings.routing.calendar
        )

    def template(self, name: str, now: datetime) -> str:
        """The outside-hours template when closed, if one is configured."""
        outside = self.settings.followups.outside_hours_template
        if outside and not self.hours.is_open(now):
            return outside
        return name

    async def send(
        self,
        session: AsyncSession,
        inbound: InboundMessage,
        customer: Customer,
        conversation: Conversation,
        ticket_number: int,
        now: datetime,
        *,
        allowed: AutoReplyCheck | None = None,
    ) -> None:
        """Acknowledge a new conversation, unless ``inbound`` is itself automated (an auto-reply,
        a bounce, a list: answering could start a mail loop) or its channel sends none."""
        config = self.settings.channels.get(inbound.channel)
        if inbound.automated or config is None or not config.ack_template:
            return
        context = {
            "customer": {"name": customer.name, "locale": customer.locale},
            "conversation": {"subject": conversation.subject, "id": conversation.id},
            "ticket": {"number": ticket_number},
            "message": {"text": inbound.text, "subject": inbound.subject or ""},
            "instance_name": self.settings.instance_name,
            "channel": {"name": inbound.channel, "title": config.title or inbound.channel},
            "inside_hours": self.hours.is_open(now),
        }
        template = Template(self.template(config.ack_template, now), context, customer.locale)
        via = config.ack_via or reply_route(self.settings, inbound.channel)
        await self.sender.send(
            session,
            conversation,
            template,
            ACKNOWLEDGEMENT,
            now,
            via=via,
            allowed=allowed,
            thread=_thread_in_session(session, conversation),
            flush=False,  # the message and its outbox row go in with the ingest's next flush
        )


def _thread_in_session(session: AsyncSession, conversation: Conversation) -> list[str]:
    """The mail ids of a conversation whose messages are all in the session, oldest first
    (those not yet written last, in the order they were added)."""
    messages = [
        row
        for row in session.sync_session
        if isinstance(row, Message)
        and row.conversation_id == conversation.id
        and (row.external_id or "").startswith("<")
    ]
    messages.sort(key=lambda m: (m.id is None, m.id or 0))
    return [m.external_id for m in messages if m.external_id]
