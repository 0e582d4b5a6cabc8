"""Start-up and shutdown of the inbound email side: one SMTP listener per configured address
(shared by the mailboxes that name it) and one IMAP poller per mailbox with ``imap`` set."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from hub.email.directory import MailboxDirectory, email_channels
from hub.email.imap import ImapPoller
from hub.email.inbox import EmailInbox
from hub.email.receiver import SmtpReceiver
from hub.email.state import MailboxStates
from hub.web.keys import HUB, Hub


class EmailService:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.states = MailboxStates(hub.db, hub.clock)
        self.inbox = EmailInbox(hub.db, hub.channels, hub.ingestor, hub.clock)
        self.receivers: list[SmtpReceiver] = []
        self.pollers: dict[str, ImapPoller] = {}

    def _build(self) -> None:
        configs = email_channels(self.hub.settings.channels)
        directory = MailboxDirectory.build(self.hub.settings.channels)
        listeners: dict[tuple[str, int], list[str]] = {}
        for name, config in configs.items():
            listen = config.listen()
            if listen is not None:
                listeners.setdefault(listen, []).append(name)
            if config.imap is not None:
                self.pollers[name] = ImapPoller(name, config.imap, self.inbox, self.states)
        for (host, port), names in listeners.items():
            self.receivers.append(
                SmtpReceiver(
                    host,
                    port,
                    directory,
                    self.inbox,
                    self.states,
                    tuple(names),
                    {name: configs[name].max_message_bytes for name in names},
                    hostname=self.hub.settings.mail_domain,
                )
            )

    def receiver_for(self, channel: str) -> SmtpReceiver | None:
        return next((r for r in self.receivers if channel in r.channels), None)

    async def start(self) -> None:
        self._build()
        for receiver in self.receivers:
            await receiver.start()
        # The hub's supervisor runs the pollers (and stops them with its other workers).
        await self.hub.supervisor.add(*(poller.worker for poller in self.pollers.values()))

    async def stop(self) -> None:
        for receiver in self.receivers:
            await receiver.stop()


EMAIL = web.AppKey("email", EmailService)


async def email_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx entry; runs after the hub's, so the ingestor is up before mail arrives and
    the listeners stop before it does."""
    service = EmailService(app[HUB])
    app[EMAIL] = service
    await service.start()
    try:
        yield
    finally:
        await service.stop()
