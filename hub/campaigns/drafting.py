"""Writing a campaign: save a draft (name, segment, content variants, channel fallback) with
every problem named by its field, check what stops it from being sent, open and list
campaigns."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.campaigns import render, texts
from hub.campaigns.snapshot import KIND_ALIASES, KINDS, outlets
from hub.campaigns.views import (
    EDITABLE,
    CampaignContext,
    CampaignDraft,
    CampaignError,
    CampaignView,
    authorize,
    load_campaign,
)
from hub.core.authz import Principal
from hub.core.customer_filters import members
from hub.core.errors import not_found
from hub.db.campaign_models import Campaign, CampaignState, Consent, ConsentState, Segment

CONTENT_PARTS = {"email": render.EMAIL_PARTS, "chat": render.CHAT_PARTS}


def check_content(content: Mapping[str, Any], problems: dict[str, str]) -> None:
    if not isinstance(content, Mapping):
        problems["content"] = texts.UNKNOWN_CONTENT.format(part="content")
        return
    for variant, parts in content.items():
        allowed = CONTENT_PARTS.get(variant)
        if allowed is None or not isinstance(parts, Mapping):
            problems[f"content.{variant}"] = texts.UNKNOWN_CONTENT.format(part=variant)
            continue
        for part, source in parts.items():
            where = f"content.{variant}.{part}"
            if part not in allowed or not isinstance(source, str):
                problems[where] = texts.UNKNOWN_CONTENT.format(part=f"{variant}.{part}")
                continue
            try:
                render.check_template(source, html_part=part == "html")
            except render.RenderError as exc:
                problems[where] = str(exc)


def _check_fallback(fallback: tuple[str, ...], problems: dict[str, str]) -> None:
    seen: set[str] = set()
    for index, kind in enumerate(fallback):
        normal = KIND_ALIASES.get(kind, kind)
        if normal not in KINDS:
            problems[f"fallback[{index}]"] = texts.UNKNOWN_KIND.format(
                kind=kind, known=", ".join(KINDS)
            )
        elif normal in seen:
            problems[f"fallback[{index}]"] = texts.REPEATED_KIND.format(kind=kind)
        seen.add(normal)


async def check_draft(session: AsyncSession, draft: CampaignDraft) -> dict[str, str]:
    """Every problem of a draft as saved (name, segment, fallback, templates with their line);
    empty when it can be saved. A draft may still lack a segment or a variant."""
    problems: dict[str, str] = {}
    if not isinstance(draft.name, str) or not draft.name.strip() or len(draft.name) > 200:
        problems["name"] = texts.NAME_MISSING
    if draft.segment_id is not None and await session.get(Segment, draft.segment_id) is None:
        problems["segment_id"] = texts.unknown_segment(draft.segment_id)
    _check_fallback(tuple(draft.fallback), problems)
    check_content(draft.content, problems)
    return problems


async def check_sendable(
    session: AsyncSession, context: CampaignContext, campaign_id: int, now: datetime
) -> dict[str, str]:
    """Every problem that stops ``campaign_id`` from being sent: those of the draft, no
    segment, and a missing or empty variant for a channel kind its audience consented on
    (email needs a subject and a body; chat kinds need the chat text)."""
    row = await session.get(Campaign, campaign_id)
    if row is None:
        raise not_found("campaign", campaign_id)
    view = CampaignView.of(row)
    draft = CampaignDraft(view.name, view.segment_id, view.content, view.fallback)
    problems = await check_draft(session, draft)
    if view.segment_id is None:
        problems.setdefault("segment_id", texts.SEGMENT_MISSING)
        return problems
    segment = await session.get(Segment, view.segment_id)
    if segment is None:
        return problems
    routes = outlets(context.settings, context.channels)
    kinds = set(
        await session.scalars(
            select(Consent.kind)
            .where(
                Consent.state == ConsentState.GRANTED.value,
                Consent.customer_id.in_(members(segment.definition, now)),
            )
            .distinct()
        )
    )
    needed = sorted(kind for kind in kinds if kind in routes)
    email = view.content.get("email", {})
    if "email" in needed:
        if not email.get("subject", "").strip():
            problems.setdefault("content.email.subject", texts.SUBJECT_MISSING)
        if not (email.get("text", "").strip() or email.get("html", "").strip()):
            problems.setdefault("content.email.text", texts.VARIANT_EMPTY)
    chat_kinds = [kind for kind in needed if kind != "email"]
    if chat_kinds and not view.content.get("chat", {}).get("text", "").strip():
        problems.setdefault(
            "content.chat.text", texts.NO_VARIANT.format(kinds=", ".join(chat_kinds))
        )
    return problems


def _store(row: Campaign, draft: CampaignDraft, now: datetime) -> None:
    row.name = draft.name.strip()
    row.segment_id = draft.segment_id
    row.fallback = [KIND_ALIASES.get(kind, kind) for kind in draft.fallback]
    row.content = {
        variant: {part: str(source) for part, source in parts.items()}
        for variant, parts in draft.content.items()
    }
    row.updated_at = now


async def create_campaign(
    session: AsyncSession, principal: Principal, draft: CampaignDraft, now: datetime
) -> CampaignView:
    """A new draft; raises ``CampaignError`` with every problem (nothing is written then)."""
    authorize(principal)
    problems = await check_draft(session, draft)
    if problems:
        raise CampaignError(problems)
    row = Campaign(
        state=CampaignState.DRAFT.value,
        recipient_count=0,
        created_by=principal.agent_id,
        created_at=now,
    )
    _store(row, draft, now)
    session.add(row)
    await session.flush()
    return CampaignView.of(row)


async def update_campaign(
    session: AsyncSession,
    principal: Principal,
    campaign_id: int,
    draft: CampaignDraft,
    now: datetime,
) -> CampaignView:
    """Save a draft (or a scheduled campaign, which stays scheduled); 409 once it was sent."""
    row = await load_campaign(session, principal, campaign_id)
    if row.state not in EDITABLE:
        raise CampaignError(
            {"state": texts.NOT_DRAFT.format(state=row.state)}, status=409, code="conflict"
        )
    problems = await check_draft(session, draft)
    if problems:
        raise CampaignError(problems)
    _store(row, draft, now)
    await session.flush()
    return CampaignView.of(row)


async def get_campaign(
    session: AsyncSession, principal: Principal, campaign_id: int
) -> CampaignView:
    return CampaignView.of(await load_campaign(session, principal, campaign_id))


async def list_campaigns(
    session: AsyncSession,
    principal: Principal,
    *,
    state: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[CampaignView]:
    """Newest first."""
    authorize(principal)
    query = select(Campaign).order_by(Campaign.id.desc()).limit(limit).offset(offset)
    if state is not None:
        query = query.where(Campaign.state == state)
    return [CampaignView.of(row) for row in await session.scalars(query)]
