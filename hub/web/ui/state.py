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
    "$argon2id$v=19$m=65536,t=3,p=4$hi6q9MSDSVLFr4FbcT8m3g$"
    "LRJ09qswiDZM7cEX+X5hm6qh4b4jd+hutdn6oVCBWO0"
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
