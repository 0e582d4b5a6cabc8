"""Typed application keys and the container of services the handlers use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web
from jinja2 import Environment

from channels.base import Channel
from channels.email.capture import CaptureServer
from hub.config.settings import Settings
from hub.inbound.ingest import Ingestor
from hub.outbound.outbox import Dispatcher
from hub.outbound.templates import FollowupRenderer
from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.events import EventBus
from hub.platform.supervisor import Supervisor
from hub.routing.service import Routing
from hub.web.ratelimit import RateLimiter


@dataclass(frozen=True, slots=True)
class Hub:
    settings: Settings
    clock: Clock
    db: Database
    channels: Mapping[str, Channel]
    ingestor: Ingestor
    dispatcher: Dispatcher
    renderer: FollowupRenderer
    pages: Environment
    form_limiter: RateLimiter
    capture: CaptureServer | None
    events: EventBus  # the process's one poller of the event log (inbox streams, widget sockets)
    supervisor: Supervisor  # runs every long-running worker of the process
    routing: Routing | None = None


@dataclass(frozen=True, slots=True)
class Startup:
    """What ``create_app`` was given; the hub's services are built from it at start-up."""

    settings: Settings
    clock: Clock


HUB = web.AppKey("hub", Hub)
STARTUP = web.AppKey("startup", Startup)


def hub_of(request: web.Request) -> Hub:
    return request.app[HUB]
