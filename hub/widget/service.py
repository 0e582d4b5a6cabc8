"""The widget's long-lived parts, built once by hub/assembly.py: the live sockets of this
process (the registry), the signer of the visitor's download links, and the outbox's delivery
hook on every widget channel (attached while the hub runs)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from channels.base import Channel
from channels.web.widget import WidgetChannel
from hub.config.settings import Settings
from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.events import EventBus
from hub.platform.supervisor import Supervisor
from hub.widget.delivery import WidgetDeliverer
from hub.widget.files import FileLinks
from hub.widget.live import WidgetRegistry


class WidgetService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        clock: Clock,
        channels: Mapping[str, Channel],
        events: EventBus,
        wake_outbox: Callable[[], None],
        supervisor: Supervisor,
    ) -> None:
        self.supervisor = supervisor
        self.links = FileLinks(settings.secret_key)
        self.registry = WidgetRegistry(db, clock, events, wake_outbox, self.links)
        self.deliverer = WidgetDeliverer(db, settings, channels, self.registry, clock)
        self.widgets = [c for c in channels.values() if isinstance(c, WidgetChannel)]

    async def start(self) -> None:
        if self.widgets:  # the hub's supervisor runs (and stops) the socket registry
            await self.supervisor.add(*self.registry.workers)
        for channel in self.widgets:
            channel.use_delivery(self.deliverer)

    async def stop(self) -> None:
        for channel in self.widgets:
            channel.use_delivery(None)
