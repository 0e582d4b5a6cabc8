"""The people services below the web: one-time links expire and work once, staff mail goes out
on the job queue and forgets the link once sent, an agent deactivated with nobody to take over
leaves their conversation in the team's queue, and the first-run checklist reads what is
stored."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from channels.base import DeliveryResult, OutboundMessage
from channels.memory.adapter import MemoryChannel
from hub.admin.agents import AgentFields, PeopleContext, invite, update_agent
from hub.admin.checklist import checklist
from hub.admin.lifecycle import deactivate, reset_password
from hub.admin.password_links import use_link, valid_link
from hub.core.audit import record_change
from hub.core.errors import ApiError
from hub.db.models import Message, Presence, Role
from hub.db.routing_models import ConversationRouting, Job
from hub.platform.clock import ManualClock
from tests.support.desk import MakeDesk

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CONTEXT = PeopleContext("Relaydesk", "https://desk.example", "least_loaded", "mail")


def secret_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


async def test_an_invitation_link_works_once_and_expires_after_seven_days(
    make_desk: MakeDesk,
) -> None:
    clock = ManualClock(NOON)
    desk = await make_desk(clock, workers=False, memory=("mail",))
    admin, _ = await desk.agent("ada@example.com", role=Role.ADMIN, teams=())
    async with desk.db.writer() as session:
        one = await invite(session, CONTEXT, admin, "one@example.com", AgentFields(), clock.now())
        two = await invite(session, CONTEXT, admin, "two@example.com", AgentFields(), clock.now())
        await session.commit()
    assert one.link is not None and two.link is not None
    assert one.link.startswith("https://desk.example/ui/password/")
    assert one.agent.name == "one@example.com" and one.agent.state == "invited"

    clock.advance(timedelta(days=6, hours=23))
    async with desk.db.writer() as session:
        agent = await use_link(
            session, secret_of(one.link), "long-enough-1", "long-enough-1", clock.now()
        )
        await session.commit()
    assert agent.email == "one@example.com"
    async with desk.db.writer() as session:
        try:
            await use_link(
                session, secret_of(one.link), "again-again-1", "again-again-1", clock.now()
            )
        except ApiError as exc:
            assert exc.fields == {"link": exc.fields["link"]} and "not valid" in exc.message
        else:
            raise AssertionError("a used link worked twice")
    clock.advance(timedelta(hours=2))
    async with desk.db.reader() as session:
        assert await valid_link(session, secret_of(two.link), clock.now()) is None


async def test_staff_mail_goes_out_on_the_job_queue_and_forgets_the_link(
    make_desk: MakeDesk,
) -> None:
    clock = ManualClock(NOON)
    desk = await make_desk(clock, workers=False, memory=("mail",))
    admin, _ = await desk.agent("ada@example.com", role=Role.ADMIN, teams=())
    bob, _ = await desk.agent("bob@example.com", password="bobs-old-password")
    async with desk.db.writer() as session:
        reset = await reset_password(session, CONTEXT, admin, bob, clock.now())
        await session.commit()
    assert reset.mailed_to == "bob@example.com"
    assert reset.expires_at == NOON + timedelta(hours=24)
    assert desk.sent("mail") == []  # queued with the change, sent by the job runner
    await desk.run_jobs()
    [mail] = desk.sent("mail")
    assert mail.recipient.address == "bob@example.com"
    assert mail.subject == "Set a new password for Relaydesk"
    assert reset.link in mail.text
    async with desk.db.reader() as session:
        [job] = (await session.scalars(select(Job).where(Job.kind == "staff_mail"))).all()
    assert (job.state, job.payload) == ("done", {"to": "bob@example.com"})


class RefusingRelay(MemoryChannel):
    """A mail channel whose relay says "try later" until told otherwise."""

    refusing = True

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        if self.refusing:
            return DeliveryResult.failed("SMTP 451: try later")
        return await super().send(message)


async def test_an_unsent_staff_mail_is_retried(make_desk: MakeDesk) -> None:
    clock = ManualClock(NOON)
    relay = RefusingRelay("mail")
    desk = await make_desk(clock, workers=False, memory={"mail": relay})
    admin, _ = await desk.agent("ada@example.com", role=Role.ADMIN, teams=())
    async with desk.db.writer() as session:
        await invite(session, CONTEXT, admin, "kim@example.com", AgentFields(), clock.now())
        await session.commit()
    await desk.run_jobs()
    async with desk.db.reader() as session:
        [job] = (await session.scalars(select(Job).where(Job.kind == "staff_mail"))).all()
    assert (job.state, job.attempts) == ("pending", 1)
    assert job.last_error == "SMTP 451: try later"
    relay.refusing = False
    clock.advance(timedelta(hours=1))
    await desk.run_jobs()
    [mail] = desk.sent("mail")
    assert mail.recipient.address == "kim@example.com" and "/ui/password/" in mail.text


async def test_without_an_email_channel_the_link_is_only_shown(make_desk: MakeDesk) -> None:
    clock = ManualClock(NOON)
    desk = await make_desk(clock, workers=False, memory=("mail",))
    admin, _ = await desk.agent("ada@example.com", role=Role.ADMIN, teams=())
    unmailed = PeopleContext("Relaydesk", "http://127.0.0.1:8080", "least_loaded", None)
    async with desk.db.writer() as session:
        invited = await invite(
            session, unmailed, admin, "kim@example.com", AgentFields(), clock.now()
        )
        await session.commit()
    assert invited.link is not None and invited.mailed_to is None
    assert await desk.count(Job, Job.kind == "staff_mail") == 0


async def test_with_nobody_to_take_over_the_conversation_waits_in_the_queue(
    make_desk: MakeDesk,
) -> None:
    clock = ManualClock(NOON)
    desk = await make_desk(clock, workers=False, memory=("mail",))
    admin, _ = await desk.agent("ada@example.com", role=Role.ADMIN, teams=())
    leaver, _ = await desk.agent("leaver@example.com", presence=Presence.ONLINE)
    result = await desk.customer_writes("Where is my parcel?", channel="mail")
    await desk.agent("away@example.com", presence=Presence.AWAY)
    assert (await desk.conversation(result.conversation_id)).assignee_id == leaver
    async with desk.db.writer() as session:
        done = await deactivate(session, CONTEXT, admin, leaver, clock.now())
        await session.commit()
    assert (done.rerouted, done.queued, done.tokens_revoked) == (0, 1, 1)
    conversation = await desk.conversation(result.conversation_id)
    assert conversation.assignee_id is None
    async with desk.db.reader() as session:
        routing = await session.get(ConversationRouting, conversation.id)
        events = list(
            await session.scalars(
                select(Message.text).where(Message.conversation_id == conversation.id)
            )
        )
    assert routing is not None and routing.queued_at is not None
    assert "Unassigned: the assignee was deactivated; waiting in the queue" in events
    assert (await desk.agent_row(leaver)).open_count == 0


async def test_the_checklist_reads_channels_agents_and_hours_from_what_is_stored(
    make_desk: MakeDesk,
) -> None:
    clock = ManualClock(NOON)
    desk = await make_desk(clock, workers=False, memory=("mail",))
    admin, _ = await desk.agent("ada@example.com", role=Role.ADMIN, teams=())
    async with desk.db.reader() as session:
        items = await checklist(session, ["mail"], [])
    assert [(i.key, i.done) for i in items] == [
        ("channel", False),
        ("agents", False),
        ("hours", False),
    ]
    assert items[0].detail == "1 configured, no customer message yet"
    await desk.customer_writes("Hello", channel="mail")
    await desk.agent("bob@example.com")
    async with desk.db.writer() as session:
        await record_change(
            session,
            actor_id=admin,
            area="hours",
            action="edit",
            target="support",
            new={"mon": "09:00-17:00"},
            at=clock.now(),
        )
        await session.commit()
    async with desk.db.reader() as session:
        items = await checklist(session, ["mail"], [])
    assert [(i.key, i.done) for i in items] == [
        ("channel", True),
        ("agents", True),
        ("hours", True),
    ]
    assert items[0].detail == "Messages received on mail"


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    make_desk: MakeDesk,
) -> None:
    clock = ManualClock(NOON)
    desk = await make_desk(clock, workers=False, memory=("mail",))
    ada, _ = await desk.agent("ada@example.com", role=Role.ADMIN, teams=())
    grace, _ = await desk.agent("grace@example.com", role=Role.ADMIN, teams=())

    async def demote(actor: int, target: int) -> str:
        try:
            async with desk.db.writer() as session:
                await update_agent(session, actor, target, AgentFields(role="agent"), clock.now())
                await session.commit()
        except ApiError as exc:
            return exc.code
        return "done"

    outcomes = await asyncio.gather(demote(ada, grace), demote(grace, ada))
    assert sorted(outcomes) == ["done", "refused"]
    roles = {(await desk.agent_row(a)).role for a in (ada, grace)}
    assert roles == {Role.ADMIN, Role.AGENT}
