"""Webhook stories: the routing stories' quiet Monday desk (a clock the test drives), a local
HTTP receiver that records every delivery it gets, and an admin who subscribes it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from hub.bots import signing
from hub.db.models import Role
from hub.integrations.catalog import EVENTS
from tests.hub.routing.conftest import make_desk  # noqa: F401  (the quiet Monday desk)
from tests.support.desk import Desk, auth
from tests.support.recorder import HttpRecorder, Recorded


@pytest.fixture
async def receiver() -> AsyncIterator[HttpRecorder]:
    recorder = HttpRecorder()
    await recorder.start()
    yield recorder
    await recorder.stop()


@dataclass
class Subscribed:
    id: int
    secret: str
    admin: str  # the admin's API token
    answer: dict[str, Any]


async def subscribe(
    desk: Desk, receiver: HttpRecorder, events: list[str] | None = None, name: str = "crm"
) -> Subscribed:
    """An admin subscribes the receiver (to every event unless told)."""
    _, admin = await desk.agent(f"{name}-admin@example.com", role=Role.ADMIN, capacity=0)
    made = await desk.client.post(
        "/api/v1/admin/webhooks",
        json={"name": name, "url": receiver.url("/hooks"), "events": events or list(EVENTS)},
        headers=auth(admin),
    )
    assert made.status == 201, await made.text()
    answer = await made.json()
    return Subscribed(answer["id"], answer["secret"], admin, answer)


def verified(request: Recorded, secret: str) -> dict[str, Any]:
    """The body of a delivery whose signature holds (it fails the test otherwise)."""
    stamp = request.headers[signing.TIMESTAMP]
    given = request.headers[signing.SIGNATURE]
    problem = signing.verify(secret, stamp, given, request.body, float(stamp))
    assert problem is None, problem
    body: dict[str, Any] = json.loads(request.body)
    assert request.headers["X-Relaydesk-Event"] == body["event"]
    assert request.headers["X-Relaydesk-Delivery"].isdigit()
    return body


def arrived(receiver: HttpRecorder, secret: str) -> list[dict[str, Any]]:
    return [verified(request, secret) for request in receiver.requests]


def names(bodies: list[dict[str, Any]]) -> list[str]:
    return [body["event"] for body in bodies]


async def deliver(desk: Desk) -> int:
    """One pass of the webhook worker (new events owed, due deliveries sent)."""
    return await desk.hub.webhooks.run_once()
