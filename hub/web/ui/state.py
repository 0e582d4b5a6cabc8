"""What the agent web app keeps besides the hub's services: the page templates and the session
length (who is typing where: hub.web.ui.collision). Sign-in throttling is in the database
(hub.core.signin), never in a process's memory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web
from jinja2 import Environment

from hub.web.keys import HUB

# Verified against when the email is unknown, so a failed sign-in takes as long either way.
DUMMY_HASH = (
    "$argon2id$v=19$m=19456,t=2,p=1$WfHyr5sR1CvZ7lZu7n0Xmg$"
    "MaNPbEEEy1g8QQQ4tHdhvMAyNZibL0JvS9m+KmfCU2I"
)


@dataclass(frozen=True, slots=True)
class UiState:
    pages: Environment
    dummy_hash: str
    session_ttl: timedelta = timedelta(hours=12)

    @classmethod
    def of(cls, pages: Environment) -> UiState:
        return cls(pages, DUMMY_HASH)


UI = web.AppKey("ui", UiState)


def ui_of(request: web.Request) -> UiState:
    return request.app[UI]


async def close_streams(app: web.Application) -> None:
    """On shutdown, end open event streams so the server need not wait for them."""
    if HUB in app:
        app[HUB].events.close_streams()
