"""What campaigns take out of the one ingest path before a message reaches support:

- a STOP word (``CampaignSettings.stop_words``, the whole reply, case-insensitive) from a chat
  identity with a consent record: consent revoked on that identity (source ``stop_word``), the
  recipient row of the campaign it answers marked unsubscribed, one automated confirmation on
  the same chat;
- the mailto: of ``List-Unsubscribe`` (subject ``unsubscribe <token>`` with a valid token):
  the token's recipient unsubscribed, no answer.

Either message is kept in a conversation created closed (no team, ticket, acknowledgement or
thread key, so nothing threads into it later): the customer's history shows it, and a retry of
the same message is a duplicate. Anything else (a STOP from someone never asked, a bad token)
takes the usual path."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import InboundMessage
from hub.campaigns import texts
from hub.campaigns.optout import recipient_of, revoke, unsubscribe
from hub.config.settings import Settings
from hub.core.conversations import announce_created, log_event
from hub.db.campaign_models import CampaignRecipient, Consent, ConsentSource
from hub.db.models import Conversation, ConversationStatus, Customer, Identity, Message
from hub.inbound.hooks import Interceptor
from hub.outbound.automated import AutomatedSender, Purpose, Text

CHAT_KINDS = frozenset({"telegram", "slack", "web"})
_MAILTO = re.compile(r"^\s*unsubscribe\s+(\S{5,100})\s*$", re.IGNORECASE)


def _word(text: str) -> str:
    return text.strip().rstrip(".!").strip().casefold()


def _closed_conversation(
    inbound: InboundMessage, customer: Customer, identity: Identity, subject: str, now: datetime
) -> Conversation:
    return Conversation(
        token=secrets.token_hex(8),
        customer_id=customer.id,
        identity_id=identity.id,
        channel=inbound.channel,
        thread_key=None,
        subject=subject[:500],
        status=ConversationStatus.RESOLVED,
        priority="normal",
        created_at=now,
        first_inbound_at=now,
        last_inbound_at=now,
        last_activity_at=now,
        resolved_at=now,
    )


class OptOutIntake:
    """The two interceptors, built once with the hub's settings and its automated sender."""

    def __init__(self, settings: Settings, automated: AutomatedSender) -> None:
        self.settings = settings
        self.automated = automated
        self.words = frozenset(_word(word) for word in settings.campaigns.stop_words)

    @property
    def interceptors(self) -> tuple[Interceptor, ...]:
        return (
            Interceptor(self.is_stop_word, self.take_stop_word, self.confirm_stop),
            Interceptor(self.is_mailto, self.take_mailto, self.after_mailto),
        )

    # --- STOP words on chat channels ----------------------------------------------------------

    def is_stop_word(self, inbound: InboundMessage) -> bool:
        return inbound.sender.kind.value in CHAT_KINDS and _word(inbound.text) in self.words

    async def take_stop_word(
        self,
        session: AsyncSession,
        inbound: InboundMessage,
        customer: Customer,
        identity: Identity,
        now: datetime,
    ) -> Conversation | None:
        has_consent = await session.scalar(
            select(Consent.id).where(Consent.identity_id == identity.id)
        )
        if has_consent is None:
            return None  # never asked: a word for support like any other
        window = timedelta(hours=self.settings.campaigns.reply_window_hours)
        answered = await session.scalar(
            select(CampaignRecipient)
            .where(
                CampaignRecipient.identity_id == identity.id,
                CampaignRecipient.sent_at >= now - window,
            )
            .order_by(CampaignRecipient.sent_at.desc())
            .limit(1)
        )
        text = inbound.text.strip()[:100]
        await revoke(
            session,
            identity.id,
            ConsentSource.STOP_WORD,
            now,
            campaign_id=answered.campaign_id if answered else None,
            note=texts.OPT_OUT_NOTE.format(text=text, channel=inbound.channel),
        )
        if answered is not None and answered.unsubscribed_at is None:
            answered.unsubscribed_at = now
        conversation = _closed_conversation(inbound, customer, identity, texts.STOP_SUBJECT, now)
        session.add(conversation)
        await session.flush()
        await announce_created(session, conversation, now)
        return conversation

    async def confirm_stop(
        self,
        session: AsyncSession,
        message: Message,
        inbound: InboundMessage,
        conversation: Conversation,
        now: datetime,
    ) -> None:
        await log_event(
            session,
            conversation,
            texts.STOP_EVENT.format(channel=inbound.channel, text=inbound.text.strip()[:100]),
            now,
        )
        raw: dict[str, object] = {"campaign_opt_out": True}
        if inbound.thread_key:
            raw["thread_key"] = inbound.thread_key  # the same chat the word came from
        await self.automated.send(
            session,
            conversation,
            Text(texts.STOP_CONFIRMATION, texts.STOP_SUBJECT),
            Purpose(event="Opt-out confirmation", raw=raw),
            now,
        )

    # --- the mailto: unsubscribe --------------------------------------------------------------

    def is_mailto(self, inbound: InboundMessage) -> bool:
        return inbound.sender.kind.value == "email" and bool(_MAILTO.match(inbound.subject or ""))

    async def take_mailto(
        self,
        session: AsyncSession,
        inbound: InboundMessage,
        customer: Customer,
        identity: Identity,
        now: datetime,
    ) -> Conversation | None:
        found = _MAILTO.match(inbound.subject or "")
        if found is None:
            return None
        addressed = await recipient_of(session, self.settings, found.group(1), now)
        if addressed is None:
            return None  # not our token: someone wrote to us, support reads it
        await unsubscribe(session, addressed.recipient, now, note=texts.MAILTO_NOTE)
        subject = inbound.subject or texts.STOP_SUBJECT
        conversation = _closed_conversation(inbound, customer, identity, subject, now)
        session.add(conversation)
        await session.flush()
        await announce_created(session, conversation, now)
        await log_event(
            session, conversation, texts.MAILTO_EVENT.format(campaign=addressed.campaign_name), now
        )
        return conversation

    async def after_mailto(
        self,
        session: AsyncSession,
        message: Message,
        inbound: InboundMessage,
        conversation: Conversation,
        now: datetime,
    ) -> None:
        """Nothing is answered: the mail was sent by the customer's mail program."""
