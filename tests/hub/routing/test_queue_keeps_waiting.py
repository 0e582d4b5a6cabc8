"""A conversation nobody can take stays in the queue through every pass of the job runner
until someone is available, and then goes to them."""

from __future__ import annotations

from hub.db.models import Presence
from tests.support.desk import MakeDesk


async def test_waiting_conversation_survives_passes_with_nobody_free(make_desk: MakeDesk) -> None:
    desk = await make_desk()
    sam_id, _ = await desk.agent("sam@example.com", presence=Presence.OFFLINE)
    opened = await desk.customer_writes("My screen flickers")
    assert (await desk.conversation(opened.conversation_id)).assignee_id is None

    await desk.run_jobs()  # nobody is free: it must stay queued
    await desk.run_jobs()
    late_id, _ = await desk.agent("late@example.com")  # online now
    await desk.run_jobs()

    assert (await desk.conversation(opened.conversation_id)).assignee_id == late_id
    assert sam_id != late_id
