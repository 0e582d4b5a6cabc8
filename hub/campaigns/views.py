"""What callers of the campaign engine see of a campaign (views, progress, previews, test and
per-recipient outcomes), the error every bad input raises, and who may open a campaign.

Every engine function (drafting, previews, send_control, retries, send_progress) takes the
caller's session and does its work in the caller's transaction (the caller commits, then calls
``context.wake()`` so the sender starts at once). Every function checks the role (marketers and
admins; anybody else gets a 403) and the object (an unknown campaign is a 404). Bad input
raises ``CampaignError`` naming the field (``name``, ``segment_id``, ``fallback[1]``,
``content.email.html``, ``scheduled_at``…); ``fields`` holds every problem found, for inline
form errors; ``.api_error()`` is the 4xx the web layer answers.

The web pages and the typed API (hub/web) and the CLI (hub/cli_campaigns.py) call them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Channel
from hub.config.settings import Settings
from hub.core.authz import Principal
from hub.core.errors import ApiError, forbidden, not_found
from hub.db.campaign_models import Campaign, CampaignState, RecipientState
from hub.db.models import Role

MANAGERS = (Role.MARKETER, Role.ADMIN)
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
            scheduled_at=aware(row.scheduled_at),
            started_at=aware(row.started_at),
            finished_at=aware(row.finished_at),
            recipient_count=row.recipient_count,
            created_by=row.created_by,
            created_at=aware(row.created_at) or row.created_at,
            updated_at=aware(row.updated_at) or row.updated_at,
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


def aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def authorize(principal: Principal) -> None:
    """Marketers and admins manage campaigns; anybody else gets a 403."""
    if principal.role not in MANAGERS:
        raise forbidden("open campaigns (they are for marketers and admins)")


async def load_campaign(session: AsyncSession, principal: Principal, campaign_id: int) -> Campaign:
    authorize(principal)
    row = await session.get(Campaign, campaign_id)
    if row is None:
        raise not_found("campaign", campaign_id)
    return row
