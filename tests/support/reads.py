"""What the hub asked its database: every statement on every engine of a desk
(``statements_heard``), and whether it read a message back (the statements that load a
message with its recipient, what the outbox runs for a row it has to read)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from sqlalchemy import event

from channels.base import OutboundMessage
from hub.outbound import handed_over
from tests.support.desk import Desk


@contextmanager
def statements_heard(desk: Desk, hear: Callable[[str], None]) -> Iterator[None]:
    """``hear`` is given each statement the desk's engines run while the block runs."""

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        hear(statement)

    engines = [engine.sync_engine for engine in desk.hub.db.engines]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", note)
    try:
        yield
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", note)


@contextmanager
def message_reads(desk: Desk) -> Iterator[list[str]]:
    """The message-with-recipient reads run while the block runs."""
    reads: list[str] = []

    def hear(statement: str) -> None:
        if statement.startswith("SELECT messages.") and "JOIN identities" in statement:
            reads.append(statement)

    with statements_heard(desk, hear):
        yield reads


async def as_stored(desk: Desk, sent: OutboundMessage) -> OutboundMessage | None:
    """What a read of the stored message gives the channel (None when it is gone), and
    ``sent``, both without the delivery checkpoint (a per-send value), to compare."""
    assert sent.message_id is not None
    async with desk.hub.db.reader() as session:
        stored = await handed_over.read(desk.hub.db, session, sent.message_id)
    return None if stored is None else replace(stored, checkpoint=sent.checkpoint)
