"""Replies to a campaign: an email whose In-Reply-To/References names a campaign message, or a
chat message from a recipient within ``reply_window_hours`` after the campaign reached them on
that identity. The message opens or joins a support conversation as usual (threaded and routed
by the normal rules); this hook then marks the recipient row replied (with the conversation)
and writes "Reply to campaign …" on the conversation. Runs once per ingest batch with two
indexed queries, whatever the batch size; automated mail (out-of-office) is no reply."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.campaigns import texts
from hub.campaigns.bounces import message_refs
from hub.campaigns.intake import CHAT_KINDS
from hub.core.conversations import log_event
from hub.db.campaign_models import Campaign, CampaignRecipient, RecipientState
from hub.db.models import Conversation
from hub.inbound.hooks import StoredMessage


class ReplyLinker:
    def __init__(self, reply_window_hours: int) -> None:
        self.window = timedelta(hours=reply_window_hours)

    async def __call__(
        self, session: AsyncSession, stored: Sequence[StoredMessage], now: datetime
    ) -> None:
        people = [s for s in stored if not s.automated]
        links: dict[int, StoredMessage] = {}  # recipient row id -> the reply
        mails = [s for s in people if s.sender_kind == "email" and s.reply_to_ids]
        if mails:
            by_ref: dict[str, StoredMessage] = {}
            for mail in mails:
                for ref in message_refs(mail.reply_to_ids):
                    by_ref.setdefault(ref, mail)
            rows = await session.execute(
                select(CampaignRecipient.id, CampaignRecipient.message_ref).where(
                    CampaignRecipient.message_ref.in_(list(by_ref)),
                    CampaignRecipient.replied_at.is_(None),
                )
            )
            for row_id, ref_found in rows:
                if ref_found is not None:
                    links.setdefault(row_id, by_ref[ref_found])
        chats = {s.identity_id: s for s in people if s.sender_kind in CHAT_KINDS and s.identity_id}
        if chats:
            chat_rows = await session.execute(
                select(CampaignRecipient.id, CampaignRecipient.identity_id)
                .where(
                    CampaignRecipient.customer_id.in_({s.customer_id for s in chats.values()}),
                    CampaignRecipient.identity_id.in_(list(chats)),
                    CampaignRecipient.state == RecipientState.SENT,
                    CampaignRecipient.sent_at >= now - self.window,
                    CampaignRecipient.replied_at.is_(None),
                )
                .order_by(CampaignRecipient.sent_at.desc())
            )
            answered: set[int] = set()
            for row_id, identity_id in chat_rows:
                if (
                    identity_id is not None and identity_id not in answered
                ):  # the latest campaign the person answers
                    answered.add(identity_id)
                    links.setdefault(row_id, chats[identity_id])
        if links:
            await self._link(session, links, now)

    async def _link(
        self, session: AsyncSession, links: dict[int, StoredMessage], now: datetime
    ) -> None:
        rows = await session.execute(
            select(CampaignRecipient, Campaign.name)
            .join(Campaign, Campaign.id == CampaignRecipient.campaign_id)
            .where(CampaignRecipient.id.in_(list(links)))
        )
        for recipient, name in rows:
            reply = links[recipient.id]
            recipient.replied_at = now
            recipient.reply_conversation_id = reply.conversation_id
            conversation = await session.get(Conversation, reply.conversation_id)
            if conversation is not None:
                event = texts.REPLY_EVENT.format(campaign=name, campaign_id=recipient.campaign_id)
                await log_event(session, conversation, event, now)
        await session.flush()
