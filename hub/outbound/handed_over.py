"""What the outbox hands a channel for one queued message: the text, the recipient, the mail
thread, the bot's buttons and card, the agent's name and files.

It is built from what is stored (``read``, for a row claimed from the queue), or, for a row
leased to this process by the transaction that wrote it (hub/platform/claimed_on_write.py),
from the objects that transaction wrote and loaded (``as_written``), with no read at all:
they are what was committed. When that session does not hold everything loaded (the
recipient was never loaded, an agent's name, stored files), the message is read as usual."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from channels.base import Attachment, Card, Choice, IdentityKind, OutboundMessage, Party
from hub.core.files import files_of
from hub.db.models import Agent, Identity, Message, OutboxItem, OutboxState
from hub.outbound import parts
from hub.platform.database import Database

# what ``build`` and ``as_written`` read of a message
_MESSAGE_COLUMNS = (
    *("id", "conversation_id", "channel", "text", "html", "subject", "raw", "external_id"),
    *("automated", "author_agent_id", "identity_id", "attachments"),
)
_IDENTITY_COLUMNS = ("kind", "address", "display_name")
T = TypeVar("T")


def build(
    db: Database,
    message: Message,
    identity: Identity | None,
    author: Agent | None,
    attachments: tuple[Attachment, ...],
) -> OutboundMessage:
    raw = message.raw or {}
    references = tuple(str(r) for r in raw.get("references") or ())
    in_reply_to = raw.get("in_reply_to")
    return OutboundMessage(
        message_id=message.id,
        channel=message.channel,
        recipient=Party(
            IdentityKind(identity.kind) if identity else IdentityKind.EMAIL,
            identity.address if identity else str(raw.get("to", "")),
            identity.display_name if identity else None,
        ),
        text=message.text,
        html=message.html,
        subject=message.subject or None,
        sender_name=author.name if author else None,
        thread_key=str(raw["thread_key"]) if raw.get("thread_key") else None,
        external_id=message.external_id,
        in_reply_to=str(in_reply_to) if in_reply_to else None,
        references=references,
        conversation_id=message.conversation_id,
        automated=message.automated,
        attachments=attachments,
        choices=tuple(
            Choice(str(b["title"]), b.get("payload"), b.get("url"))
            for b in (raw.get("buttons") or [])
            if raw.get("native_buttons")
        ),
        card=_card(raw),
        delivered=parts.delivered(raw),
        checkpoint=parts.checkpoint(db, message.id),
    )


async def read(
    db: Database, session: AsyncSession, message_id: int, *, waiting: bool = False
) -> OutboundMessage | None:
    """The message as stored (one statement with its recipient); None when it is gone, or,
    with ``waiting``, when its outbox row no longer waits to be sent (an erasure gave it up,
    another worker sent it): the outbox reads it this way right before a send."""
    query = (
        select(Message, Identity)
        .outerjoin(Identity, Identity.id == Message.identity_id)
        .where(Message.id == message_id)
    )
    if waiting:
        query = query.join(OutboxItem, OutboxItem.message_id == Message.id).where(
            OutboxItem.state == OutboxState.PENDING
        )
    found = (await session.execute(query)).first()
    if found is None:
        return None
    message, identity = found
    author = await session.get(Agent, message.author_agent_id) if message.author_agent_id else None
    return build(db, message, identity, author, await _attachments(session, message))


def as_written(db: Database, session: Session, item: OutboxItem) -> Callable[[], dict[str, Any]]:
    """Called as ``item`` is written: holds on to its message and recipient in ``session`` (the
    identity map holds them weakly) and returns what to add to its claim at the commit:
    ``{"outbound": ...}`` built from them, or ``{}`` when something would have to be read.
    The message is loaded, or added with the item (``item.message``, written in one flush)."""
    if item.message_id is None:
        message: Message | None = _written_with(session, item)
    else:
        message = _loaded(session, Message, item.message_id, _MESSAGE_COLUMNS)
    identity = None
    if message is not None and message.identity_id is not None:
        identity = _loaded(session, Identity, message.identity_id, _IDENTITY_COLUMNS)

    def at_commit() -> dict[str, Any]:
        if message is None or _loaded(session, Message, message.id, _MESSAGE_COLUMNS) is None:
            return {}
        if message.author_agent_id is not None:
            return {}  # the agent's name is read
        if any("file_id" in meta for meta in message.attachments or ()):
            return {}  # stored files are read
        if message.identity_id is not None and (
            identity is None or identity.id != message.identity_id
        ):
            return {}
        return {"outbound": build(db, message, identity, None, ())}

    return at_commit


def _written_with(session: Session, item: OutboxItem) -> Message | None:
    """The message added to ``session`` with ``item`` (its id is known at the commit)."""
    message = vars(item).get("message")
    return message if isinstance(message, Message) and message in session.new else None


def _loaded(session: Session, model: type[T], key: Any, columns: Iterable[str]) -> T | None:
    """The session's ``model`` row with ``key`` if every one of ``columns`` is loaded."""
    row = session.identity_map.get(identity_key(model, key))
    if not isinstance(row, model):
        return None
    state = inspect(row)
    if state.expired or not state.persistent or state.unloaded & set(columns):
        return None
    return row


async def _attachments(session: AsyncSession, message: Message) -> tuple[Attachment, ...]:
    """The files an agent attached (stored files), with their content, in listed order."""
    if not any("file_id" in meta for meta in message.attachments or ()):
        return ()
    return tuple(
        Attachment(row.filename, row.content_type, row.size, content=row.content)
        for row in await files_of(session, message.id)
    )


def _card(raw: Mapping[str, Any]) -> Card | None:
    """A bot's card or image, for channels that draw it (``raw.card``)."""
    card = raw.get("card")
    if not raw.get("native_buttons") or not isinstance(card, Mapping):
        return None
    return Card(card.get("title") or None, card.get("image") or None)
