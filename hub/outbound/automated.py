"""The one way the hub speaks on its own: acknowledgements, follow-ups, satisfaction surveys, rule
templates and bot answers all pick the channel and recipient, render in the sandbox, respect the
caller's auto-reply limit and queue a message marked automated in the caller's transaction.
A template that fails is reported to the admin who saved it and on the conversation, and the
customer gets nothing."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.settings import Settings
from hub.core.conversations import log_event
from hub.core.notices import notify
from hub.db.models import Conversation, Message
from hub.outbound.compose import queue_outbound, reply_route
from hub.outbound.templates import Rendered, TemplateFailure, TemplateRenderer
from hub.platform.events import IdOf, publish

log = logging.getLogger(__name__)

# May ``via`` send one more automatic reply in this conversation? (False after logging why.)
AutoReplyCheck = Callable[[AsyncSession, Settings, str, Conversation, datetime], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class Template:
    """A template to render for the conversation's channel and the customer's locale."""

    name: str
    context: Mapping[str, Any]
    locale: str


@dataclass(frozen=True, slots=True)
class Text:
    """Words already written (a bot's answer): sent as they are."""

    text: str
    subject: str


@dataclass(frozen=True, slots=True)
class Purpose:
    """What the message is, as its failures are told: ``event`` names it on the conversation
    ("Acknowledgement not sent: ..."), ``notice`` to the admin ("Acknowledgement for conversation
    7 not sent: ..."); ``no_address`` is the event when nobody can be reached (``{via}`` filled
    in), None to leave that to the caller; ``raw`` marks the message (``{"bot": "faq"}``)."""

    event: str
    notice: str = ""
    no_address: str | None = None
    raw: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Sent:
    """The queued message, or None with ``failure`` the template error (already reported) or
    None when the limit held it back or nobody could be reached."""

    via: str
    message: Message | None = None
    failure: str | None = None


class AutomatedSender:
    """Holds nothing but settings and the template renderer the hub shares, so the routing
    engine (acknowledgements, rule templates, bots) and the follow-ups each build one."""

    def __init__(self, settings: Settings, templates: TemplateRenderer) -> None:
        self.settings = settings
        self.templates = templates

    async def send(
        self,
        session: AsyncSession,
        conversation: Conversation,
        content: Template | Text,
        purpose: Purpose,
        now: datetime,
        *,
        via: str | None = None,
        allowed: AutoReplyCheck | None = None,
        thread: Sequence[str] | None = None,
        flush: bool = True,
    ) -> Sent:
        """Queue one automated message on ``via`` (default: the conversation's reply route);
        ``thread`` and ``flush`` as ``queue_outbound`` takes them."""
        via = via or reply_route(self.settings, conversation.channel)
        if allowed is not None and not await allowed(
            session, self.settings, via, conversation, now
        ):
            return Sent(via)
        if isinstance(content, Text):
            rendered = Rendered(content.subject, content.text, None)
        else:
            try:
                rendered = await self.templates.render(
                    session,
                    content.name,
                    dict(content.context),
                    conversation.channel,
                    content.locale,
                )
            except TemplateFailure as exc:
                await self._failed(session, conversation, purpose, exc, now)
                return Sent(via, failure=str(exc))
        message = await queue_outbound(
            session,
            self.settings,
            conversation,
            via=via,
            text=rendered.text,
            subject=rendered.subject,
            html=rendered.html,
            now=now,
            automated=True,
            extra_raw=purpose.raw,
            thread=thread,
            flush=flush,
        )
        if message is None:
            if purpose.no_address is not None:
                await log_event(
                    session, conversation, purpose.no_address.replace("{via}", via), now
                )
            return Sent(via)
        # On the event log for integrations (webhooks); the pages hear of it when it is sent.
        await publish(session, "automated_message", conversation, now, message_id=IdOf(message))
        return Sent(via, message)

    async def _failed(
        self,
        session: AsyncSession,
        conversation: Conversation,
        purpose: Purpose,
        exc: TemplateFailure,
        now: datetime,
    ) -> None:
        log.error("%s not sent: %s", purpose.event, exc)
        notice = f"{purpose.notice or purpose.event} for conversation {conversation.id} not sent"
        notify(session, exc.saved_by, "template_error", f"{notice}: {exc}", now, conversation.id)
        await log_event(session, conversation, f"{purpose.event} not sent: {exc}", now)
