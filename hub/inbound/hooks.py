"""What areas add to the one ingest path, handed to the pipeline when it is built: the router
that decides for every stored message, and each channel area's own steps (mail threading, the
raw mail kept next to its message, mail-loop protection). The generic path imports no area;
an area that needs a step here registers it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import InboundMessage
from hub.config.settings import Priority, Settings
from hub.db.models import Conversation, Customer, Identity, Message


class Decision(Protocol):
    """What ingest needs of the router's decision for a new conversation."""

    @property
    def open_ticket(self) -> bool: ...
    @property
    def priority(self) -> Priority: ...
    @property
    def category(self) -> str: ...


class Acknowledger(Protocol):
    """Sends the acknowledgement of a new conversation (the routing area's, on the one
    automated-send path)."""

    async def send(
        self,
        session: AsyncSession,
        inbound: InboundMessage,
        customer: Customer,
        conversation: Conversation,
        ticket_number: int,
        now: datetime,
        *,
        allowed: AutoReplyGuard | None = None,
    ) -> None: ...


class Router(Protocol):
    """Decides for new conversations and hears of every stored customer message."""

    async def route_new(
        self,
        session: AsyncSession,
        inbound: InboundMessage,
        customer: Customer,
        conversation: Conversation,
        now: datetime,
    ) -> Decision: ...

    async def preload(self, session: AsyncSession, conversation_ids: set[int]) -> list[object]: ...

    async def after_inbound(
        self, session: AsyncSession, message: Message, conversation: Conversation, now: datetime
    ) -> None: ...

    @property
    def acknowledgements(self) -> Acknowledger: ...


StoredIds = tuple[int, int, int]  # message, conversation, customer


class FindStored(Protocol):
    async def __call__(
        self, session: AsyncSession, inbound: InboundMessage
    ) -> StoredIds | None: ...


class FindConversation(Protocol):
    async def __call__(
        self, session: AsyncSession, inbound: InboundMessage, customer_id: int | None, now: datetime
    ) -> Conversation | None: ...


class Record(Protocol):
    async def __call__(
        self,
        session: AsyncSession,
        message: Message,
        inbound: InboundMessage,
        conversation: Conversation,
        now: datetime,
        settings: Settings,
    ) -> None: ...


class AutoReplyGuard(Protocol):
    async def __call__(
        self,
        session: AsyncSession,
        settings: Settings,
        via: str,
        conversation: Conversation,
        now: datetime,
    ) -> bool: ...


class BeforeAcknowledging(Protocol):
    async def __call__(
        self, session: AsyncSession, identity_ids: Sequence[int], now: datetime
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class ChannelHooks:
    """One channel area's steps; each leaves other channels' messages alone."""

    # The message needs this area's steps, so the batch never writes it in bulk.
    claims: Callable[[InboundMessage], bool]
    # The same message stored before under another id (e.g. one mail through two mailboxes).
    find_stored: FindStored
    # The conversation the message joins by the channel's own evidence (e.g. mail headers).
    find_conversation: FindConversation
    # Right after the message is added to the session, before any flush.
    record: Record
    # May an automatic reply go out through ``via`` now (e.g. mail-loop protection)?
    auto_reply_allowed: AutoReplyGuard
    # Known customers' identities a batch is about to acknowledge, new conversations written:
    # what ``auto_reply_allowed`` will ask of each may be read for all at once.
    before_acknowledging: BeforeAcknowledging | None = None


class Take(Protocol):
    async def __call__(
        self,
        session: AsyncSession,
        inbound: InboundMessage,
        customer: Customer,
        identity: Identity,
        now: datetime,
    ) -> Conversation | None: ...


class AfterTaken(Protocol):
    async def __call__(
        self,
        session: AsyncSession,
        message: Message,
        inbound: InboundMessage,
        conversation: Conversation,
        now: datetime,
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class Interceptor:
    """An area's step that takes a customer message out of support before it is threaded
    (e.g. an opt-out word): no routing, ticket or acknowledgement, nothing reopened."""

    # A cheap look at the message alone; True keeps it off the batch's bulk path.
    claims: Callable[[InboundMessage], bool]
    # Decides with the database: the conversation (closed, never routed) the message is kept
    # in, or None to leave the message to the usual path.
    take: Take
    # Once the message is stored there (e.g. an automated answer).
    after: AfterTaken


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A customer message the batch stored (either way: ORM or bulk), as areas hear of it."""

    message_id: int
    conversation_id: int
    customer_id: int
    identity_id: int | None
    channel: str
    sender_kind: str
    reply_to_ids: tuple[str, ...]
    automated: bool


class AfterStored(Protocol):
    """Hears of every new customer message of a batch at once, in its transaction."""

    async def __call__(
        self, session: AsyncSession, stored: Sequence[StoredMessage], now: datetime
    ) -> None: ...


def _never(_inbound: InboundMessage) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class IngestHooks:
    router: Router
    channels: tuple[ChannelHooks, ...] = ()
    # A customer message the router may act on even in a quiet conversation (a survey answer).
    router_claims: Callable[[InboundMessage], bool] = _never
    # Steps that may take a message out of support before it is threaded.
    interceptors: tuple[Interceptor, ...] = ()
    # Steps that hear of every stored customer message (e.g. replies to a campaign).
    after_stored: tuple[AfterStored, ...] = ()

    def claims(self, inbound: InboundMessage) -> bool:
        """A channel area's or an interceptor's own steps may apply: never the bulk path."""
        return any(channel.claims(inbound) for channel in self.channels) or self.intercepts(inbound)

    def intercepts(self, inbound: InboundMessage) -> bool:
        """An interceptor may take the message out of support."""
        return any(interceptor.claims(inbound) for interceptor in self.interceptors)

    async def stored(
        self, session: AsyncSession, stored: Sequence[StoredMessage], now: datetime
    ) -> None:
        if stored:
            for hook in self.after_stored:
                await hook(session, stored, now)

    async def before_acknowledging(
        self, session: AsyncSession, identity_ids: Sequence[int], now: datetime
    ) -> None:
        for channel in self.channels:
            if channel.before_acknowledging is not None:
                await channel.before_acknowledging(session, identity_ids, now)

    async def find_stored(self, session: AsyncSession, inbound: InboundMessage) -> StoredIds | None:
        for channel in self.channels:
            found = await channel.find_stored(session, inbound)
            if found is not None:
                return found
        return None

    async def find_conversation(
        self, session: AsyncSession, inbound: InboundMessage, customer_id: int | None, now: datetime
    ) -> Conversation | None:
        for channel in self.channels:
            found = await channel.find_conversation(session, inbound, customer_id, now)
            if found is not None:
                return found
        return None

    async def record(
        self,
        session: AsyncSession,
        message: Message,
        inbound: InboundMessage,
        conversation: Conversation,
        now: datetime,
        settings: Settings,
    ) -> None:
        for channel in self.channels:
            await channel.record(session, message, inbound, conversation, now, settings)

    async def auto_reply_allowed(
        self,
        session: AsyncSession,
        settings: Settings,
        via: str,
        conversation: Conversation,
        now: datetime,
    ) -> bool:
        for channel in self.channels:
            if not await channel.auto_reply_allowed(session, settings, via, conversation, now):
                return False
        return True
