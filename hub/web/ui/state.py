"""What the agent web app keeps while the hub runs: the event bus, the page templates, the
sign-in rate limiters (who is typing where: hub.web.ui.collision)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hub.platform.events import EventBus
from hub.web.keys import HUB, Hub
from hub.web.ratelimit import RateLimiter

# Verified against when the email is unknown, so a failed sign-in takes as long either way.
DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$hi6q9MSDSVLFr4FbcT8m3g$"
    "LRJ09qswiDZM7cEX+X5hm6qh4b4jd+hutdn6oVCBWO0"
)


@dataclass(frozen=True, slots=True)
class UiState:
    bus: EventBus
    pages: Environment
    login_by_ip: RateLimiter
    login_by_email: RateLimiter
    dummy_hash: str
    session_ttl: timedelta = timedelta(hours=12)


UI = web.AppKey("ui", UiState)


def ui_of(request: web.Request) -> UiState:
    return request.app[UI]


def _ago(value: datetime | None, now: datetime) -> str:
    if value is None:
        return ""
    seconds = int((now - value).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            text = f"{seconds // size}{unit}"
            break
    else:
        text = "now" if seconds < 45 else "1m"
    if text == "now":
        return text
    return f"in {text}" if future else f"{text} ago"


def ui_environment(hub: Hub) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(hub.settings.templates_dir / "web")),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ago"] = _ago
    env.filters["stamp"] = lambda value: value.strftime("%Y-%m-%d %H:%M UTC") if value else ""
    return env


async def ui_context(app: web.Application) -> AsyncIterator[None]:
    hub = app[HUB]
    bus = hub.events
    app[UI] = UiState(
        bus=bus,
        pages=ui_environment(hub),
        login_by_ip=RateLimiter(20),
        login_by_email=RateLimiter(5),
        dummy_hash=DUMMY_HASH,
    )
    yield


async def close_streams(app: web.Application) -> None:
    """On shutdown, end open event streams so the server need not wait for them."""
    if UI in app:
        app[UI].bus.close_streams()
