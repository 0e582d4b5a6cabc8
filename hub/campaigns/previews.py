"""Trying a campaign before it goes out: its message on a channel as a chosen customer (or a
sample one) would get it, and a test send of the email variant to the marketer's own address."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import IdentityKind, OutboundMessage, Party
from hub.campaigns import render, texts
from hub.campaigns.compose import CustomerFields, compose, sample_customer
from hub.campaigns.drafting import check_content
from hub.campaigns.snapshot import KIND_ALIASES, KINDS, outlets
from hub.campaigns.views import (
    CampaignContext,
    CampaignDraft,
    CampaignError,
    Preview,
    TestResult,
    load_campaign,
)
from hub.core.authz import Principal
from hub.core.errors import not_found
from hub.db.models import Agent, Customer


async def preview(
    session: AsyncSession,
    principal: Principal,
    context: CampaignContext,
    campaign_id: int,
    channel_kind: str,
    *,
    customer_id: int | None = None,
    draft: CampaignDraft | None = None,
    now: datetime | None = None,
) -> Preview:
    """The message on ``channel_kind`` (email, telegram, slack, web) as ``customer_id`` (a
    sample customer when None) would get it; of ``draft`` when given (the editor's live
    preview), else of the saved campaign. Template errors raise ``CampaignError``."""
    row = await load_campaign(session, principal, campaign_id)
    content = draft.content if draft is not None else row.content
    problems: dict[str, str] = {}
    check_content(content, problems)
    if problems:
        raise CampaignError(problems)
    kind = KIND_ALIASES.get(channel_kind, channel_kind)
    if kind not in KINDS:
        raise CampaignError(
            {"channel": texts.UNKNOWN_KIND.format(kind=channel_kind, known=", ".join(KINDS))}
        )
    customer: CustomerFields = sample_customer()
    if customer_id is not None:
        found = await session.get(Customer, customer_id)
        if found is None:
            raise not_found("customer", customer_id)
        customer = found
    route = outlets(context.settings, context.channels).get(kind)
    channel_kind_name = route.channel_kind if route else ("email" if kind == "email" else kind)
    try:
        message = compose(
            context.settings,
            content,
            customer,
            name=row.name,
            campaign_id=row.id,
            recipient_id=0,
            channel_kind=channel_kind_name,
            address="",
            now=now or datetime.now(UTC),
        )
    except render.RenderError as exc:
        part = "content.email" if kind == "email" else "content.chat"
        raise CampaignError({part: str(exc)}) from None
    return Preview(kind, message.text, message.subject, message.html, dict(message.headers))


async def test_send(
    session: AsyncSession,
    principal: Principal,
    context: CampaignContext,
    campaign_id: int,
    now: datetime,
    *,
    address: str | None = None,
    customer_id: int | None = None,
) -> TestResult:
    """Send the email variant to the marketer's own address (or ``address``) through the
    first email channel, subject marked ``[TEST]``; no recipient row is written. Rendered as
    ``customer_id`` (or a sample customer)."""
    row = await load_campaign(session, principal, campaign_id)
    agent = await session.get(Agent, principal.agent_id)
    target = (address or (agent.email if agent else "")).strip()
    if "@" not in target:
        raise CampaignError({"address": "must be an email address"})
    route = outlets(context.settings, context.channels).get("email")
    if route is None:
        raise CampaignError({"channel": texts.NO_TEST_CHANNEL})
    shown = await preview(
        session, principal, context, row.id, "email", customer_id=customer_id, now=now
    )
    headers = dict(shown.headers) | {"X-Relaydesk-Test": "yes"}
    message = OutboundMessage(
        message_id=-row.id,
        channel=route.channel,
        recipient=Party(IdentityKind.EMAIL, target, agent.name if agent else None),
        text=shown.text,
        html=shown.html,
        subject=texts.TEST_SUBJECT.format(subject=shown.subject or ""),
        headers=headers,
        automated=True,
    )
    result = await context.channels[route.channel].send(message)
    return TestResult(result.ok, target, route.channel, result.error)
