"""The composition root: one function builds the hub from settings (database, clock, channels,
event bus, ingest, outbox, routing, the chat, email and widget sides, the snoozer, the capture
mail server) and starts and stops it in one explicit order. ``relaydesk serve`` (through
hub/app.py), every CLI command, the tests and bench/ all build their hub here, and this is the
one place that opens the database."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Channel
from channels.email.capture import CaptureServer
from channels.registry import build_channel
from hub.admin.settings_store import SettingsStore, settings_worker
from hub.admin.staff_mail import StaffMailer
from hub.agent.snooze import Snoozer
from hub.bots.service import RegisteredBots
from hub.campaigns.intake import OptOutIntake
from hub.campaigns.replies import ReplyLinker
from hub.campaigns.sender import CampaignSender
from hub.chat.files import ChatFileFetcher
from hub.chat.service import ChatService, file_sources
from hub.config.settings import Settings
from hub.core.staff import ensure_teams
from hub.email.hooks import EMAIL_INGEST
from hub.email.service import EmailService
from hub.inbound.ingest import Ingestor
from hub.inbound.pipeline import Pipeline
from hub.integrations.service import Webhooks
from hub.outbound.outbox import Dispatcher
from hub.outbound.templates import FollowupRenderer
from hub.platform.clock import Clock, SystemClock
from hub.platform.database import Database, open_database, unreachable
from hub.platform.events import EventBus
from hub.platform.metrics import Metrics
from hub.platform.migrate import upgrade, upgrade_async
from hub.platform.supervisor import Supervisor
from hub.platform.targets import Targets, configured_refusals
from hub.reports.presence_tracker import PresenceTracker
from hub.reports.record import Reports
from hub.routing.hooks import ingest_hooks
from hub.routing.service import Routing, build_routing
from hub.widget.service import WidgetService

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Hub:
    """Everything the hub runs, built once; handlers, commands and tests reach services here."""

    settings: Settings
    clock: Clock
    db: Database
    channels: Mapping[str, Channel]
    events: EventBus  # the process's one poller of the event log (inbox streams, widget sockets)
    ingestor: Ingestor
    dispatcher: Dispatcher
    renderer: FollowupRenderer
    routing: Routing
    snoozer: Snoozer
    chat: ChatService
    chat_files: ChatFileFetcher
    email: EmailService
    widgets: WidgetService
    campaigns: CampaignSender  # sends running campaigns; .context for the campaign service
    capture: CaptureServer | None
    supervisor: Supervisor  # runs every background worker of this process
    metrics: Metrics  # this process's Prometheus figures (GET /metrics)
    presence: PresenceTracker  # agents' activity and the away/offline sweep
    reports: Reports  # reporting facts and rollups (the web's status changes record through it)
    settings_store: SettingsStore  # settings admins changed in the database, applied in place
    webhooks: Webhooks  # outgoing webhooks: the event log fanned out to subscriptions


class _Service(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def migrate(settings: Settings) -> None:
    """``relaydesk migrate``: bring the schema up to date."""
    upgrade(settings.database.url)


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[Database]:
    """The one place the database is opened (migrated first when ``auto_migrate`` is set)."""
    if settings.database.auto_migrate:
        await upgrade_async(settings.database.url)
    db = open_database(
        settings.database.url,
        echo=settings.database.echo,
        synchronous=settings.database.sqlite_synchronous,
    )
    try:
        yield db
    finally:
        await db.dispose()


@asynccontextmanager
async def session_of(settings: Settings) -> AsyncIterator[AsyncSession]:
    """One write session for a command that needs nothing else; committed when the block
    ends without an error."""
    async with database(settings) as db, db.writer() as session:
        yield session
        await session.commit()


def _channels(settings: Settings, given: Mapping[str, Channel] | None) -> dict[str, Channel]:
    """The configured channels, each replaced by the instance in ``given`` of the same name;
    the other instances in ``given`` are added."""
    extra = dict(given or {})
    built = {
        name: extra.pop(name) if name in extra else build_channel(name, config)
        for name, config in settings.channels.items()
    }
    return built | extra


def _build(settings: Settings, clock: Clock, db: Database, channels: dict[str, Channel]) -> Hub:
    capture = None
    if settings.capture.enabled:
        capture = CaptureServer(settings.capture.host, settings.capture.port, settings.capture.keep)
    renderer = FollowupRenderer(settings.templates_dir)
    metrics = Metrics(settings.operations.process)
    reports = Reports(settings)
    dispatcher = Dispatcher(db, channels, settings.outbox, clock, metrics=metrics, reports=reports)
    events = EventBus(db, clock, listen_url=settings.database.listen_url)

    bots = RegisteredBots(settings, db, clock)
    targets = Targets.of(settings.outgoing)
    webhooks = Webhooks(db, clock, settings.webhooks, targets)
    for channel in channels.values():  # adapters that make HTTP requests connect through it
        use = getattr(channel, "use_socket_factory", None)
        if use is not None:
            use(targets.socket_for)

    def committed() -> None:
        """New rows to send and events to show: wake the outbox and the live streams now (and
        the job runner when a bot has events to get)."""
        dispatcher.wake()
        events.wake()
        bots.committed()
        webhooks.wake()

    staff_mail = StaffMailer(settings, channels).handlers()
    routing = build_routing(settings, db, clock, committed, staff_mail, bots)
    bots.wake = routing.jobs.wake_jobs
    hooks = replace(
        ingest_hooks(routing.engine, EMAIL_INGEST),
        interceptors=OptOutIntake(settings, routing.engine.automated).interceptors,
        after_stored=(ReplyLinker(settings.campaigns.reply_window_hours),),
    )
    pipeline = Pipeline(settings, clock, hooks)
    supervisor = Supervisor()
    ingestor = Ingestor(
        db, pipeline, settings.ingest.batch_size, committed, events.wake, metrics=metrics
    )
    return Hub(
        settings=settings,
        clock=clock,
        db=db,
        channels=channels,
        events=events,
        ingestor=ingestor,
        dispatcher=dispatcher,
        renderer=renderer,
        routing=routing,
        snoozer=Snoozer(db, clock, events, settings.jobs),
        chat=ChatService(db, channels, ingestor, supervisor),
        chat_files=ChatFileFetcher(
            db, file_sources(settings.attachments, channels), settings.chat_files, clock
        ),
        email=EmailService(settings, db, clock, channels, ingestor, supervisor),
        widgets=WidgetService(settings, db, clock, channels, events, dispatcher.wake, supervisor),
        campaigns=CampaignSender(db, settings, channels, clock, dispatcher.wake),
        capture=capture,
        supervisor=supervisor,
        metrics=metrics,
        presence=PresenceTracker(db, clock, settings.live, events.wake),
        reports=reports,
        settings_store=SettingsStore(settings),
        webhooks=webhooks,
    )


def _follow_channel_configs(hub: Hub) -> None:
    """A channel secret an admin replaced reaches the channel object at once (the adapters read
    their config when they use it)."""

    def apply(settings: Settings) -> None:
        for name, config in settings.channels.items():
            channel = hub.channels.get(name)
            current = getattr(channel, "config", None)
            if current is not None and current is not config and type(current) is type(config):
                channel.config = config  # type: ignore[union-attr]

    hub.settings_store.listeners.append(apply)


async def _ensure_teams(hub: Hub) -> None:
    """The teams routing names exist, so a rule can send a conversation there."""
    routing = hub.settings.routing
    slugs = {routing.default_team, *(r.team for r in routing.rules if r.team)}
    async with hub.db.writer() as session:
        await ensure_teams(session, slugs)
        await session.commit()


async def _start(stack: AsyncExitStack, *services: _Service) -> None:
    """Start each in turn; each stops when the stack closes, in reverse order."""
    for service in services:
        await service.start()
        stack.push_async_callback(service.stop)


@asynccontextmanager
async def assemble(
    settings: Settings,
    *,
    clock: Clock | None = None,
    channels: Mapping[str, Channel] | None = None,
    start_workers: bool = True,
) -> AsyncIterator[Hub]:
    """The running hub; everything stops, in reverse order, when the block ends.

    ``channels`` adds channel instances or replaces configured ones by name (tests pass
    in-memory ones). With ``start_workers=False`` the hub is built but nothing starts: no
    listener, poller or background loop, no start-up writes (commands that ingest a file or
    measure one part use it)."""
    async with database(settings) as db, AsyncExitStack() as stack:
        hub = _build(settings, clock or SystemClock(), db, _channels(settings, channels))
        _follow_channel_configs(hub)
        stack.push_async_callback(hub.routing.jobs.close)  # the job handlers' connections
        stack.push_async_callback(hub.webhooks.close)  # the webhook sender's connections
        try:
            await hub.settings_store.refresh(db)  # before anything reads a setting
        except (OSError, SQLAlchemyError) as exc:
            if not unreachable(exc):
                raise
            # The database is down: start on the file's settings (/readyz says 503); the
            # settings worker applies the stored ones once it is back.
            log.warning("stored settings not read, the database cannot be reached: %s", exc)
        if start_workers:
            await _ensure_teams(hub)
            for problem in await configured_refusals(settings, Targets.of(settings.outgoing)):
                log.warning("outgoing requests refused, fix the config: %s", problem)
            listeners = settings.operations.listeners  # one process of several runs these
            if hub.capture is not None and listeners:
                await _start(stack, hub.capture)
            await _start(stack, *hub.channels.values())
            # The background workers, then ingest; the supervisor stops them in reverse order
            # (so the ingestor drains while the outbox still runs).
            await hub.supervisor.add(
                hub.events.worker,
                hub.dispatcher.worker,
                *hub.routing.workers,
                hub.snoozer.worker,
                hub.presence.worker,
                *hub.chat_files.workers,
                hub.campaigns.worker,
                hub.webhooks.worker,
                settings_worker(hub.settings_store, db),
                hub.ingestor.worker,
            )
            await hub.supervisor.start()
            stack.push_async_callback(hub.supervisor.stop)
            # The channel areas that feed ingest (their pollers join the supervisor): messages
            # may arrive from here on.
            await hub.chat.start(pollers=listeners)
            if listeners:
                await _start(stack, hub.email)
            await _start(stack, hub.widgets)
        yield hub
