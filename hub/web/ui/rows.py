"""What one inbox row shows, loaded for a whole page at once (a handful of IN-list queries)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.bots.notice import waiting_reasons
from hub.db.inbox_models import ConversationTag
from hub.db.models import Agent, Conversation, Customer, Direction, Message, Team, Ticket

PREVIEW_CHARS = 140
# What of a message the preview reads: enough for its first PREVIEW_CHARS once the whitespace
# is collapsed, so that a long mail (a quoted history, 50 KB of it) is neither read whole nor
# split into all its words for a page of 50 rows.
PREVIEW_READ = 2_000


@dataclass(frozen=True, slots=True)
class Row:
    conversation: Conversation
    customer_name: str
    preview: str
    last_direction: str
    assignee: str
    team: str
    ticket_number: int | None
    sla_due: datetime | None
    tags: tuple[str, ...]
    handoff: str | None = None  # a bot handed it over and it waits for a person: why

    @property
    def awaiting_reply(self) -> bool:
        """The customer wrote last (bots, automated messages, failed replies do not count)."""
        return self.conversation.last_party == "customer"

    @property
    def replied(self) -> bool:
        """An agent answered after the customer's last message (shown before the preview)."""
        return self.conversation.last_party == "agent" and self.last_direction == Direction.INBOUND


@dataclass(frozen=True, slots=True)
class Directory:
    """Agents and teams by id, for names and for the assign menus."""

    agents: dict[int, Agent]
    teams: dict[int, Team]

    def agent_name(self, agent_id: int | None) -> str:
        agent = self.agents.get(agent_id) if agent_id is not None else None
        return agent.name if agent else ""

    def team_name(self, team_id: int | None) -> str:
        team = self.teams.get(team_id) if team_id is not None else None
        return team.name if team else ""

    def assignable(self) -> list[Agent]:
        return sorted(
            (a for a in self.agents.values() if a.active and a.role != "marketer"),
            key=lambda a: a.name.lower(),
        )


async def load_directory(session: AsyncSession) -> Directory:
    agents = {a.id: a for a in (await session.scalars(select(Agent))).all()}
    teams = {t.id: t for t in (await session.scalars(select(Team).order_by(Team.name))).all()}
    return Directory(agents, teams)


async def load_rows(
    session: AsyncSession, conversations: list[Conversation], directory: Directory
) -> list[Row]:
    if not conversations:
        return []
    ids = [c.id for c in conversations]
    customer_ids = {c.customer_id for c in conversations}
    names = {
        row[0]: row[1]
        for row in await session.execute(
            select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids))
        )
    }
    # The customer's last message (automated acknowledgements and bot answers are never the
    # preview); a conversation the customer has not written in shows our last reply.
    shown = {c.id: c.last_customer_message_id or c.last_party_message_id for c in conversations}
    previews = {
        row[0]: (row[1], row[2])
        for row in await session.execute(
            select(
                Message.conversation_id,
                func.substr(Message.text, 1, PREVIEW_READ),
                Message.direction,
            ).where(Message.id.in_([key for key in shown.values() if key is not None]))
        )
    }
    tickets: dict[int, int] = {}
    for ticket_row in await session.execute(
        select(Ticket.conversation_id, Ticket.number)
        .where(Ticket.conversation_id.in_(ids))
        .order_by(Ticket.id)
    ):
        tickets[ticket_row[0]] = ticket_row[1]
    tags: dict[int, list[str]] = defaultdict(list)
    for conversation_id, tag in await session.execute(
        select(ConversationTag.conversation_id, ConversationTag.tag)
        .where(ConversationTag.conversation_id.in_(ids))
        .order_by(ConversationTag.tag)
    ):
        tags[conversation_id].append(tag)
    handoffs = await waiting_reasons(session, ids)
    rows = []
    for conversation in conversations:
        text, direction = previews.get(conversation.id, ("", ""))
        rows.append(
            Row(
                conversation=conversation,
                customer_name=names.get(conversation.customer_id) or "Unknown customer",
                preview=" ".join(text.split())[:PREVIEW_CHARS],
                last_direction=direction,
                assignee=directory.agent_name(conversation.assignee_id),
                team=directory.team_name(conversation.team_id),
                ticket_number=tickets.get(conversation.id),
                sla_due=conversation.sla_due_at,
                tags=tuple(tags.get(conversation.id, ())),
                handoff=handoffs.get(conversation.id),
            )
        )
    return rows
