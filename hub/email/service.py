"""Start-up and shutdown of the inbound email side: one SMTP listener per configured address
(shared by the mailboxes that name it) and one IMAP poller per mailbox with ``imap`` set.
hub/assembly.py starts it after the ingestor, so the ingestor is up before mail arrives and the
listeners stop before it does."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from channels.base import Channel
from channels.email.adapter import EmailChannelConfig, ImapConfig
from hub.campaigns.optout import unsubscribe_mailbox
from hub.config.settings import Settings
from hub.email.directory import MailboxDirectory, email_channels
from hub.email.imap import ImapPoller
from hub.email.inbox import EmailInbox
from hub.email.receiver import SmtpReceiver
from hub.email.state import MailboxStates
from hub.inbound.ingest import Ingestor
from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.supervisor import Supervisor


class EmailService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        clock: Clock,
        channels: Mapping[str, Channel],
        ingestor: Ingestor,
        supervisor: Supervisor,
    ) -> None:
        self.settings = settings
        self.supervisor = supervisor
        self.states = MailboxStates(db, clock)
        self.inbox = EmailInbox(db, channels, ingestor, clock, settings.campaigns.soft_bounce_limit)
        self.receivers: list[SmtpReceiver] = []
        self.pollers: dict[str, ImapPoller] = {}

    def _build(self) -> None:
        configs = email_channels(self.settings.channels)
        directory = MailboxDirectory.build(self.settings.channels)
        listeners: dict[tuple[str, int], list[str]] = {}
        for name, config in configs.items():
            listen = config.listen()
            if listen is not None:
                if not listeners:  # the first listening mailbox takes unsubscribe mail too
                    directory = directory.with_alias(unsubscribe_mailbox(self.settings), name)
                listeners.setdefault(listen, []).append(name)
            if config.imap is not None:
                self.pollers[name] = ImapPoller(
                    name, config.imap, self.inbox, self.states, self._imap_config(name)
                )
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
                    hostname=self.settings.mail_domain,
                )
            )

    def _imap_config(self, name: str) -> Callable[[], ImapConfig | None]:
        """The mailbox's IMAP settings as they are now (the settings overlay swaps the
        channel configs in place when an admin replaces a password)."""

        def current() -> ImapConfig | None:
            config = self.settings.channels.get(name)
            return config.imap if isinstance(config, EmailChannelConfig) else None

        return current

    def receiver_for(self, channel: str) -> SmtpReceiver | None:
        return next((r for r in self.receivers if channel in r.channels), None)

    async def start(self) -> None:
        self._build()
        for receiver in self.receivers:
            await receiver.start()
        # The hub's supervisor runs the pollers (and stops them with its other workers).
        await self.supervisor.add(*(poller.worker for poller in self.pollers.values()))

    async def stop(self) -> None:
        for receiver in self.receivers:
            await receiver.stop()
