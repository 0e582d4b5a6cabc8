"""Who is writing a reply where, across processes. A typing signal is a stored "typing" event:
the event bus of every process delivers it to its open pages, and a page render reads the
signals of the last ``TYPING_SECONDS`` back from the table. A signal is ephemeral: a stream
that reconnects does not replay one older than that."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.inbox_models import Event
from hub.db.models import Conversation
from hub.platform.events import LiveEvent, publish

KIND = "typing"
TYPING_SECONDS = 8.0


async def signal(
    session: AsyncSession,
    conversation: Conversation,
    agent_id: int,
    name: str,
    now: datetime,
    *,
    stopped: bool = False,
) -> None:
    """Record that the agent is writing (or stopped writing) a reply, in the caller's
    transaction."""
    await publish(session, KIND, conversation, now, agent_id=agent_id, name=name, stopped=stopped)


async def others(
    session: AsyncSession, conversation_id: int, agent_id: int, now: datetime
) -> list[str]:
    """Names of the other agents writing a reply to the conversation right now."""
    since = now - timedelta(seconds=TYPING_SECONDS)
    latest: dict[int, tuple[str, bool]] = {}
    for payload in await session.scalars(
        select(Event.payload)
        .where(
            Event.created_at >= since,
            Event.kind == KIND,
            Event.conversation_id == conversation_id,
        )
        .order_by(Event.id)
    ):
        writer = payload.get("agent_id")
        if isinstance(writer, int):
            latest[writer] = (str(payload.get("name", "")), bool(payload.get("stopped")))
    return sorted(
        name for key, (name, stopped) in latest.items() if key != agent_id and not stopped
    )


def expired(event: LiveEvent, now: datetime) -> bool:
    """A typing signal too old to replay."""
    if event.kind != KIND or event.created_at is None:
        return False
    return event.created_at < now - timedelta(seconds=TYPING_SECONDS)
