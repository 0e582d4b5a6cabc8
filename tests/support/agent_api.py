"""Helpers for tests of the JSON API: posting to the API channel the way an integrating system
does, and taking a full picture of the database to prove a refused request changed nothing."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from channels.api.adapter import ApiChannelConfig
from hub.db.models import (
    Agent,
    ApiToken,
    Conversation,
    Counter,
    Customer,
    DuplicateCandidate,
    Identity,
    Message,
    OutboxItem,
    OutboxState,
    Ticket,
)
from hub.web.keys import Hub
from tests.support.desk import Desk, auth
from tests.support.poll import eventually

CORE_TABLES = (
    Agent,
    ApiToken,
    Customer,
    Identity,
    DuplicateCandidate,
    Conversation,
    Message,
    Ticket,
    OutboxItem,
    Counter,
)


def inbound_token(hub: Hub, channel: str = "api") -> str:
    config = hub.settings.channels[channel]
    assert isinstance(config, ApiChannelConfig)
    return config.token


def payload(
    external_id: str,
    address: str = "jane@example.com",
    text: str = "Hello, my order has not arrived.",
    *,
    name: str = "Jane Cooper",
    thread_key: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": external_id,
        "from": {"address": address, "name": name},
        "text": text,
    }
    if thread_key is not None:
        body["thread_key"] = thread_key
    return body


async def post_inbound(
    client: TestClient[Any, Any],
    body: dict[str, Any] | bytes,
    *,
    token: str,
    channel: str = "api",
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/inbound/{channel}"
    if isinstance(body, bytes):
        headers["Content-Type"] = "application/json"
        response = await client.post(url, data=body, headers=headers)
    else:
        response = await client.post(url, json=body, headers=headers)
    return response.status, await response.json()


BOOKKEEPING = frozenset({"last_used_at"})


async def db_state(hub: Hub) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the core tables, in primary-key order (without bookkeeping that a read
    writes: when a token was last used)."""
    state: dict[str, list[tuple[Any, ...]]] = {}
    async with hub.db.reader() as session:
        for model in CORE_TABLES:
            table = model.__table__
            columns = [column for column in table.columns if column.name not in BOOKKEEPING]
            rows = await session.execute(select(*columns).order_by(*table.primary_key.columns))
            state[table.name] = [tuple(row) for row in rows]
    return state


async def settled(hub: Hub) -> dict[str, list[tuple[Any, ...]]]:
    """Wait until the outbox has nothing pending (acknowledgements sent), then take the state."""

    async def idle() -> bool:
        async with hub.db.reader() as session:
            pending = await session.scalar(
                select(func.count())
                .select_from(OutboxItem)
                .where(OutboxItem.state == OutboxState.PENDING)
            )
        return pending == 0

    # Generous: on a loaded CI machine a pass can take seconds; a stuck outbox still fails.
    await eventually(idle, timeout=30.0, what="outbox idle")
    return await db_state(hub)


async def call(
    client: TestClient[Any, Any],
    method: str,
    path: str,
    token: str | None,
    body: Any = None,
) -> tuple[int, Any]:
    """One agent API call; ``body`` bytes are sent as they are, anything else as JSON."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if isinstance(body, bytes):
        headers["Content-Type"] = "application/json"
        response = await client.request(method, path, data=body, headers=headers)
    elif body is not None:
        response = await client.request(method, path, json=body, headers=headers)
    else:
        response = await client.request(method, path, headers=headers)
    return response.status, await response.json()


async def start_conversation(
    client: TestClient[Any, Any], hub: Hub, external_id: str, address: str, text: str, **extra: Any
) -> dict[str, Any]:
    """A customer message through the API channel; returns the ingest result."""
    status, result = await post_inbound(
        client, payload(external_id, address, text, **extra), token=inbound_token(hub)
    )
    assert status == 201, result
    return dict(result)


async def pending_after_reply(desk: Desk, token: str, sender: str = "jane@example.com") -> int:
    """A customer writes, an agent answers through the API and sets the conversation pending;
    the job runner's pass schedules what that status change triggers. The conversation's id."""
    opened = await desk.customer_writes("My order never arrived", sender=sender)
    conversation = f"/api/v1/conversations/{opened.conversation_id}"
    reply = await desk.client.post(
        f"{conversation}/messages", json={"text": "Which order?"}, headers=auth(token)
    )
    assert reply.status == 201
    pending = await desk.client.patch(conversation, json={"status": "pending"}, headers=auth(token))
    assert pending.status == 200
    await desk.run_jobs()  # the status change schedules the follow-ups
    return int(opened.conversation_id)
