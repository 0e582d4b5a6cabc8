"""One recipient's message: the campaign's variant for the channel, rendered with the customer's
fields, plus what every campaign message carries (for email: a Message-ID of our own that
replies' ``In-Reply-To`` name, ``List-Unsubscribe`` headers and the visible unsubscribe link;
for chat: the STOP hint)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from hub.campaigns import render
from hub.campaigns.links import email_headers, preferences_url, recipient_token, unsubscribe_url
from hub.config.settings import Settings


class CustomerFields(Protocol):
    """What a template may show of a customer (a ``Customer`` row has all of it)."""

    @property
    def name(self) -> str: ...

    @property
    def company(self) -> str: ...

    @property
    def tier(self) -> str: ...

    @property
    def locale(self) -> str: ...

    @property
    def timezone(self) -> str: ...

    @property
    def attributes(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Person:
    name: str = ""
    company: str = ""
    tier: str = ""
    locale: str = ""
    timezone: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)


def sample_customer() -> Person:
    """Who the editor previews as when no customer is chosen."""
    return Person("Jane Cooper", "Acme Ltd", "gold", "en", "Europe/Berlin", {"plan": "pro"})


@dataclass(frozen=True, slots=True)
class Composed:
    text: str
    subject: str | None = None
    html: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    message_id: str | None = None  # email: our Message-ID (the recipient's message_ref)


def campaign_message_id(settings: Settings, campaign_id: int, recipient_id: int) -> str:
    return f"<rdc.{campaign_id}.{recipient_id}.{secrets.token_hex(4)}@{settings.mail_domain}>"


def compose(
    settings: Settings,
    content: Mapping[str, Mapping[str, str]],
    customer: CustomerFields,
    *,
    name: str,
    campaign_id: int,
    recipient_id: int,
    channel_kind: str,
    address: str,
    now: datetime,
) -> Composed:
    """The message for ``customer`` on a hub channel of ``channel_kind`` (email, telegram,
    slack, widget, memory). Raises ``render.RenderError``."""
    person = render.customer_context(
        name=customer.name or "",
        company=customer.company or "",
        tier=customer.tier or "",
        locale=customer.locale or "",
        timezone=customer.timezone or "",
        attributes=customer.attributes or {},
        address=address,
    )
    token = recipient_token(settings.secret_key, recipient_id, now)
    public = settings.web.public_url
    unsubscribe = unsubscribe_url(public, token)
    preferences = preferences_url(public, token)
    context = {
        "customer": person,
        "campaign": {"id": campaign_id, "name": name},
        "unsubscribe_url": unsubscribe,
        "preferences_url": preferences,
    }
    if channel_kind == "email":
        mailto = settings.campaigns.unsubscribe_address or f"unsubscribe@{settings.mail_domain}"
        mail = render.email(
            content.get("email", {}),
            context,
            unsubscribe=unsubscribe,
            preferences=preferences,
            headers=email_headers(public, mailto, token),
        )
        return Composed(
            mail.text,
            mail.subject,
            mail.html,
            mail.headers,
            campaign_message_id(settings, campaign_id, recipient_id),
        )
    text = render.chat_text(content.get("chat", {}).get("text", ""), context, channel_kind)
    return Composed(text)
