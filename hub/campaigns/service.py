"""What a marketer does with a campaign: write a draft, check it, preview it as a customer, send
a test to themselves, send it now or schedule it, pause, resume, cancel, retry the failed or
unconfirmed recipients, and follow its progress.

Every function takes the caller's session and does its work in the caller's transaction (the
caller commits, then calls ``context.wake()`` so the sender starts at once). Every function
checks the role (marketers and admins; anybody else gets a 403) and the object (an unknown
campaign is a 404). Bad input raises ``CampaignError`` naming the field (``name``,
``segment_id``, ``fallback[1]``, ``content.email.html``, ``scheduled_at``…); ``fields`` holds
every problem found, for inline form errors; ``.api_error()`` is the 4xx the web layer answers.

The web pages and the typed API (hub/web) and the CLI (hub/cli_campaigns.py) call these."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Channel, IdentityKind, OutboundMessage, Party
from hub.campaigns import render, texts
from hub.campaigns.compose import CustomerFields, compose, sample_customer
from hub.campaigns.snapshot import KIND_ALIASES, KINDS, outlets, take_snapshot
from hub.config.settings import Settings
from hub.core.authz import Principal
from hub.core.customer_filters import members
from hub.core.errors import ApiError, forbidden, not_found
from hub.db.campaign_models import (
    Campaign,
    CampaignRecipient,
    CampaignState,
    Consent,
    ConsentState,
    RecipientState,
    Segment,
)
from hub.db.models import Agent, Customer, Identity, Role

MANAGERS = (Role.MARKETER, Role.ADMIN)
CONTENT_PARTS = {"email": render.EMAIL_PARTS, "chat": render.CHAT_PARTS}
EDITABLE = (CampaignState.DRAFT, CampaignState.SCHEDULED)
DONE = (
    RecipientState.SENT,
    RecipientState.FAILED,
    RecipientState.SKIPPED,
    RecipientState.UNCONFIRMED,
    RecipientState.CANCELLED,
)


class CampaignError(Exception):
    """Bad input or a state that does not allow the action; ``field`` names the first problem,
    ``fields`` all of them (field → problem)."""

    def __init__(
        self,
        fields: Mapping[str, str],
        *,
        status: int = 422,
        code: str = "invalid_field",
    ) -> None:
        first = next(iter(fields.items()))
        super().__init__(f"{first[0]}: {first[1]}")
        self.field, self.problem = first
        self.fields = dict(fields)
        self.status = status
        self.code = code

    def api_error(self) -> ApiError:
        return ApiError(self.status, self.code, str(self), self.fields)


@dataclass(frozen=True, slots=True)
class CampaignContext:
    """What the engine needs besides the session: settings, the hub's channel objects, and a
    way to wake the sender (after the caller's commit)."""

    settings: Settings
    channels: Mapping[str, Channel]
    wake: Callable[[], None] = lambda: None


@dataclass(frozen=True, slots=True)
class CampaignDraft:
    """What the editor saves. ``content``: ``{"email": {"subject", "html", "text"},
    "chat": {"text"}}`` (either may be left out); ``fallback``: identity kinds (email,
    telegram, slack, web) in the order tried (empty: the configured default)."""

    name: str
    segment_id: int | None
    content: Mapping[str, Mapping[str, str]]
    fallback: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CampaignView:
    id: int
    name: str
    state: str
    segment_id: int | None
    fallback: tuple[str, ...]
    content: Mapping[str, Mapping[str, str]]
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    recipient_count: int
    created_by: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Campaign) -> CampaignView:
        return cls(
            id=row.id,
            name=row.name,
            state=row.state,
            segment_id=row.segment_id,
            fallback=tuple(row.fallback or ()),
            content={k: dict(v) for k, v in (row.content or {}).items()},
            scheduled_at=_aware(row.scheduled_at),
            started_at=_aware(row.started_at),
            finished_at=_aware(row.finished_at),
            recipient_count=row.recipient_count,
            created_by=row.created_by,
            created_at=_aware(row.created_at) or row.created_at,
            updated_at=_aware(row.updated_at) or row.updated_at,
        )


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a send stands. ``states``: recipients per state; ``skipped``: per reason;
    ``channels``: per hub channel, recipients per state. ``accounted``: every recipient is
    sent, failed, skipped, unconfirmed or cancelled (the campaign is then finished)."""

    campaign_id: int
    state: str
    recipients: int
    states: Mapping[str, int]
    skipped: Mapping[str, int]
    channels: Mapping[str, Mapping[str, int]]

    def count(self, state: RecipientState) -> int:
        return self.states.get(state.value, 0)

    @property
    def accounted(self) -> bool:
        return sum(self.count(state) for state in DONE) == self.recipients


@dataclass(frozen=True, slots=True)
class Preview:
    """One channel's message as the chosen customer would get it."""

    channel_kind: str  # email, telegram, slack, web
    text: str
    subject: str | None = None
    html: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TestResult:
    ok: bool
    address: str
    channel: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RecipientOutcome:
    """One line of the per-recipient export."""

    recipient_id: int
    customer_id: int
    customer_name: str
    address: str | None
    channel: str | None
    state: str
    skip_reason: str | None
    error: str | None
    message_ref: str | None
    attempts: int
    queued_at: datetime
    sent_at: datetime | None
    replied_at: datetime | None
    unsubscribed_at: datetime | None
    bounced_at: datetime | None


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def authorize(principal: Principal) -> None:
    """Marketers and admins manage campaigns; anybody else gets a 403."""
    if principal.role not in MANAGERS:
        raise forbidden("open campaigns (they are for marketers and admins)")


async def _campaign(session: AsyncSession, principal: Principal, campaign_id: int) -> Campaign:
    authorize(principal)
    row = await session.get(Campaign, campaign_id)
    if row is None:
        raise not_found("campaign", campaign_id)
    return row


# --- drafts -------------------------------------------------------------------------------------
def _check_content(content: Mapping[str, Any], problems: dict[str, str]) -> None:
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
    _check_content(draft.content, problems)
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
    row = await _campaign(session, principal, campaign_id)
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
    return CampaignView.of(await _campaign(session, principal, campaign_id))


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


# --- preview and test ---------------------------------------------------------------------------
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
    row = await _campaign(session, principal, campaign_id)
    content = draft.content if draft is not None else row.content
    problems: dict[str, str] = {}
    _check_content(content, problems)
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
    row = await _campaign(session, principal, campaign_id)
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


# --- sending ------------------------------------------------------------------------------------
async def _require_sendable(
    session: AsyncSession, context: CampaignContext, row: Campaign, now: datetime
) -> None:
    problems = await check_sendable(session, context, row.id, now)
    if problems:
        raise CampaignError(problems)


async def send_now(
    session: AsyncSession,
    principal: Principal,
    context: CampaignContext,
    campaign_id: int,
    now: datetime,
) -> Progress:
    """Check the campaign, fix its recipients (one ``INSERT … SELECT`` and set-based
    updates, see snapshot.py) and mark it ``sending``. The sender starts once the caller
    commits (and calls ``context.wake()``)."""
    row = await _campaign(session, principal, campaign_id)
    if row.state not in EDITABLE:
        raise CampaignError(
            {"state": texts.CANNOT.format(state=row.state, action="sent")},
            status=409,
            code="conflict",
        )
    await _require_sendable(session, context, row, now)
    await start(session, context, row, now)
    return await progress(session, principal, campaign_id)


async def start(
    session: AsyncSession, context: CampaignContext, row: Campaign, now: datetime
) -> int:
    """Snapshot and mark sending (send_now, and the sender for a scheduled campaign whose
    moment came); returns the number of recipients."""
    segment = await session.get(Segment, row.segment_id) if row.segment_id else None
    assert segment is not None
    row.state = CampaignState.SENDING.value
    row.started_at = now
    row.updated_at = now
    count = await take_snapshot(session, row, segment, context.settings, context.channels, now)
    if count == 0 or not await _open_rows(session, row.id):
        row.state = CampaignState.FINISHED.value
        row.finished_at = now
    return count


async def schedule(
    session: AsyncSession,
    principal: Principal,
    context: CampaignContext,
    campaign_id: int,
    at: datetime,
    now: datetime,
) -> CampaignView:
    """Send at ``at`` (timezone-aware, in the future); the sender starts it then. Scheduling
    again moves the moment."""
    row = await _campaign(session, principal, campaign_id)
    if row.state not in EDITABLE:
        raise CampaignError(
            {"state": texts.CANNOT.format(state=row.state, action="scheduled")},
            status=409,
            code="conflict",
        )
    if at.tzinfo is None or at <= now:
        raise CampaignError({"scheduled_at": texts.NOT_SCHEDULABLE})
    await _require_sendable(session, context, row, now)
    row.state = CampaignState.SCHEDULED.value
    row.scheduled_at = at
    row.updated_at = now
    return CampaignView.of(row)


async def _move(
    session: AsyncSession,
    principal: Principal,
    campaign_id: int,
    now: datetime,
    allowed: tuple[CampaignState, ...],
    target: CampaignState,
    action: str,
) -> Campaign:
    row = await _campaign(session, principal, campaign_id)
    if row.state not in allowed:
        raise CampaignError(
            {"state": texts.CANNOT.format(state=row.state, action=action)},
            status=409,
            code="conflict",
        )
    row.state = target.value
    row.updated_at = now
    return row


async def pause(
    session: AsyncSession, principal: Principal, campaign_id: int, now: datetime
) -> CampaignView:
    """Stop claiming recipients; messages already handed to a provider finish (within a
    second or two nothing more goes out)."""
    row = await _move(
        session,
        principal,
        campaign_id,
        now,
        (CampaignState.SENDING,),
        CampaignState.PAUSED,
        "paused",
    )
    return CampaignView.of(row)


async def resume(
    session: AsyncSession, principal: Principal, campaign_id: int, now: datetime
) -> CampaignView:
    row = await _move(
        session,
        principal,
        campaign_id,
        now,
        (CampaignState.PAUSED,),
        CampaignState.SENDING,
        "resumed",
    )
    return CampaignView.of(row)


async def cancel(
    session: AsyncSession, principal: Principal, campaign_id: int, now: datetime
) -> CampaignView:
    """Cancel a scheduled, sending or paused campaign: every queued recipient becomes
    ``cancelled``; those in flight finish as sent, failed or unconfirmed."""
    allowed = (CampaignState.SCHEDULED, CampaignState.SENDING, CampaignState.PAUSED)
    row = await _move(
        session, principal, campaign_id, now, allowed, CampaignState.CANCELLED, "cancelled"
    )
    await session.execute(
        update(CampaignRecipient)
        .where(
            CampaignRecipient.campaign_id == campaign_id,
            CampaignRecipient.state == RecipientState.QUEUED.value,
        )
        .values(state=RecipientState.CANCELLED.value, locked_by=None, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    row.finished_at = now
    return CampaignView.of(row)


async def _requeue(
    session: AsyncSession,
    principal: Principal,
    campaign_id: int,
    now: datetime,
    state: RecipientState,
) -> int:
    row = await _campaign(session, principal, campaign_id)
    if row.state in (CampaignState.DRAFT, CampaignState.SCHEDULED, CampaignState.CANCELLED):
        raise CampaignError(
            {"state": texts.CANNOT.format(state=row.state, action="retried")},
            status=409,
            code="conflict",
        )
    result: Any = await session.execute(
        update(CampaignRecipient)
        .where(CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.state == state.value)
        .values(
            state=RecipientState.QUEUED.value,
            attempts=0,
            next_attempt_at=now,
            locked_by=None,
            locked_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    count = int(result.rowcount or 0)
    if count and row.state == CampaignState.FINISHED:
        row.state = CampaignState.SENDING.value
        row.finished_at = None
    row.updated_at = now
    return count


async def retry_failed(
    session: AsyncSession, principal: Principal, campaign_id: int, now: datetime
) -> int:
    """Queue the failed recipients again (a finished campaign sends again); returns how many."""
    return await _requeue(session, principal, campaign_id, now, RecipientState.FAILED)


async def retry_unconfirmed(
    session: AsyncSession, principal: Principal, campaign_id: int, now: datetime
) -> int:
    """Queue the unconfirmed recipients again: the marketer accepts that some of them may get
    the message twice (their send was in flight when a process died)."""
    return await _requeue(session, principal, campaign_id, now, RecipientState.UNCONFIRMED)


# --- results ------------------------------------------------------------------------------------
async def _open_rows(session: AsyncSession, campaign_id: int) -> bool:
    found = await session.scalar(
        select(CampaignRecipient.id)
        .where(
            CampaignRecipient.campaign_id == campaign_id,
            CampaignRecipient.state.in_(
                [RecipientState.QUEUED.value, RecipientState.SENDING.value]
            ),
        )
        .limit(1)
    )
    return found is not None


async def progress(session: AsyncSession, principal: Principal, campaign_id: int) -> Progress:
    """Counts per state, per skip reason and per channel (three grouped queries)."""
    row = await _campaign(session, principal, campaign_id)
    return await counts(session, row)


async def counts(session: AsyncSession, row: Campaign) -> Progress:
    cr = CampaignRecipient
    grouped = await session.execute(
        select(cr.channel, cr.state, cr.skip_reason, func.count())
        .where(cr.campaign_id == row.id)
        .group_by(cr.channel, cr.state, cr.skip_reason)
    )
    states: dict[str, int] = {}
    skipped: dict[str, int] = {}
    channels: dict[str, dict[str, int]] = {}
    total = 0
    for channel, state, reason, number in grouped:
        total += number
        states[state] = states.get(state, 0) + number
        if state == RecipientState.SKIPPED and reason:
            skipped[reason] = skipped.get(reason, 0) + number
        if channel:
            per = channels.setdefault(channel, {})
            per[state] = per.get(state, 0) + number
    return Progress(row.id, row.state, total, states, skipped, channels)


async def recipient_outcomes(
    session: AsyncSession, principal: Principal, campaign_id: int, *, chunk: int = 2000
) -> AsyncIterator[RecipientOutcome]:
    """Every recipient with its outcome, in id order, read in chunks (the CSV export)."""
    await _campaign(session, principal, campaign_id)
    cr = CampaignRecipient
    after = 0
    while True:
        rows = (
            await session.execute(
                select(cr, Customer.name, Identity.address)
                .join(Customer, Customer.id == cr.customer_id)
                .outerjoin(Identity, Identity.id == cr.identity_id)
                .where(cr.campaign_id == campaign_id, cr.id > after)
                .order_by(cr.id)
                .limit(chunk)
            )
        ).all()
        if not rows:
            return
        for recipient, name, address in rows:
            yield RecipientOutcome(
                recipient_id=recipient.id,
                customer_id=recipient.customer_id,
                customer_name=name,
                address=address,
                channel=recipient.channel,
                state=recipient.state,
                skip_reason=recipient.skip_reason,
                error=recipient.last_error,
                message_ref=recipient.message_ref,
                attempts=recipient.attempts,
                queued_at=recipient.queued_at,
                sent_at=recipient.sent_at,
                replied_at=recipient.replied_at,
                unsubscribed_at=recipient.unsubscribed_at,
                bounced_at=recipient.bounced_at,
            )
        after = rows[-1][0].id
        session.expunge_all()
