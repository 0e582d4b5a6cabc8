"""Which email channel a recipient address belongs to: ``support@``, an alias like ``billing@``,
or either with plus-addressing (``support+<token>@``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from channels.config import ChannelConfig
from channels.email.adapter import EmailChannelConfig
from channels.email.addresses import split_plus


@dataclass(frozen=True, slots=True)
class MailboxDirectory:
    by_address: Mapping[str, str]

    @classmethod
    def build(cls, channels: Mapping[str, ChannelConfig]) -> MailboxDirectory:
        found: dict[str, str] = {}
        for name, config in channels.items():
            if isinstance(config, EmailChannelConfig):
                for address in sorted(config.mailbox_addresses()):
                    found.setdefault(address, name)
        return cls(found)

    def with_alias(self, address: str, channel: str) -> MailboxDirectory:
        """Also receive mail for ``address`` (e.g. the unsubscribe mailbox) on ``channel``,
        unless a mailbox already has it."""
        return MailboxDirectory({address.lower(): channel, **self.by_address})

    def channel_for(self, address: str) -> str | None:
        """The channel instance receiving mail for ``address``, or None if it is not ours."""
        base, _tag = split_plus(address)
        return self.by_address.get(base)


def email_channels(channels: Mapping[str, ChannelConfig]) -> dict[str, EmailChannelConfig]:
    return {n: c for n, c in channels.items() if isinstance(c, EmailChannelConfig)}
