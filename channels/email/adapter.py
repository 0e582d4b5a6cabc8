"""The email channel: outbound through a pooled SMTP relay connection (aiosmtplib), optionally
DKIM-signed; inbound RFC 822 parsing. The SMTP receiver and the IMAP poller that feed it live in
the hub (hub/email/), since they store what they receive."""

from __future__ import annotations

from pathlib import Path

import aiosmtplib
from pydantic import BaseModel, ConfigDict, Field, model_validator

from channels.base import DeliveryResult, InboundMessage, InboundRequest, OutboundMessage
from channels.config import ChannelConfig
from channels.email.outgoing import build_email, dkim_sign, to_bytes
from channels.email.parse import parse_rfc822
from channels.email.plain_mail import fits, write_mail
from channels.email.smtp_pool import SmtpPool

MB = 1024 * 1024


class ImapConfig(BaseModel):
    """An existing mailbox the hub reads over IMAP."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str
    port: int = Field(993, ge=1, le=65535)
    username: str
    password: str
    use_tls: bool = True
    mailbox: str = "INBOX"
    idle: bool = True
    poll_seconds: float = Field(60.0, gt=0)
    idle_seconds: float = Field(25 * 60.0, gt=0)
    timeout_seconds: float = Field(30.0, gt=0)
    max_backoff_seconds: float = Field(300.0, gt=0)


class EmailChannelConfig(ChannelConfig):
    address: str
    display_name: str = "Support"
    # More addresses delivered into this mailbox (plus-addressing works for each).
    aliases: tuple[str, ...] = ()
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    starttls: bool = False
    use_tls: bool = False
    timeout_seconds: float = Field(30.0, gt=0)
    smtp_connections: int = Field(4, ge=1, le=64)
    # Inbound SMTP: "host:port" the hub listens on for this mailbox ("" for none).
    inbound_smtp: str = ""
    max_message_bytes: int = Field(25 * MB, ge=1024)
    max_attachment_bytes: int = Field(10 * MB, ge=0)
    imap: ImapConfig | None = None
    max_auto_replies_per_hour: int = Field(3, ge=0)
    dkim_selector: str = ""
    dkim_domain: str = ""
    dkim_private_key_file: str = ""

    @model_validator(mode="after")
    def _check(self) -> EmailChannelConfig:
        if "@" not in self.address:
            raise ValueError("address: must be a mail address like support@example.com")
        if self.inbound_smtp:
            host, _, port = self.inbound_smtp.rpartition(":")
            if not host or not port.isdigit() or int(port) > 65535:
                raise ValueError("inbound_smtp: must look like 127.0.0.1:2526")
        if bool(self.dkim_selector) != bool(self.dkim_private_key_file):
            raise ValueError("dkim_selector and dkim_private_key_file go together")
        return self

    def mailbox_addresses(self) -> frozenset[str]:
        return frozenset(a.strip().lower() for a in (self.address, *self.aliases))

    def listen(self) -> tuple[str, int] | None:
        if not self.inbound_smtp:
            return None
        host, _, port = self.inbound_smtp.rpartition(":")
        return host.strip("[]"), int(port)


class EmailChannel:
    def __init__(self, name: str, config: EmailChannelConfig) -> None:
        self.name = name
        self.config = config
        self.pool = SmtpPool(self._client, size=config.smtp_connections)
        self._dkim_key: bytes | None = None

    def _client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=self.config.smtp_host,
            port=self.config.smtp_port,
            username=self.config.smtp_username or None,
            password=self.config.smtp_password or None,
            start_tls=self.config.starttls,
            use_tls=self.config.use_tls,
            timeout=self.config.timeout_seconds,
        )

    def parse(self, request: InboundRequest) -> list[InboundMessage]:
        envelope_to = tuple(
            a.strip().lower() for a in request.headers.get("X-Envelope-To", "").split(",") if a
        )
        return [
            parse_rfc822(
                self.name,
                request.body,
                envelope_from=request.headers.get("X-Envelope-From"),
                envelope_to=envelope_to,
                own_addresses=self.config.mailbox_addresses(),
                attachment_cap=self.config.max_attachment_bytes,
            )
        ]

    def render(self, message: OutboundMessage) -> bytes:
        if fits(message):
            data = write_mail(self.config.address, self.config.display_name, message)
        else:
            mail = build_email(self.config.address, self.config.display_name, message)
            data = to_bytes(mail)
        return self._sign(data)

    def _sign(self, data: bytes) -> bytes:
        if self.config.dkim_selector:
            if self._dkim_key is None:
                self._dkim_key = Path(self.config.dkim_private_key_file).read_bytes()
            domain = self.config.dkim_domain or self.config.address.rpartition("@")[2]
            data = dkim_sign(data, self.config.dkim_selector, domain, self._dkim_key)
        return data

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        try:
            data = self.render(message)
        except (OSError, ValueError) as exc:
            return DeliveryResult.failed(f"cannot compose the mail: {exc}", permanent=True)
        return await self._deliver(message, data)

    async def send_bulk(self, message: OutboundMessage) -> DeliveryResult:
        """A campaign message (text and HTML, extra headers, no attachments or threading),
        composed by the fast writer and sent over the same pooled connections."""
        try:
            data = write_mail(
                self.config.address, self.config.display_name, message, reply_to=False
            )
            data = self._sign(data)
        except (OSError, ValueError) as exc:
            return DeliveryResult.failed(f"cannot compose the mail: {exc}", permanent=True)
        return await self._deliver(message, data)

    async def _deliver(self, message: OutboundMessage, data: bytes) -> DeliveryResult:
        try:
            await self.pool.send(self.config.address, [message.recipient.address], data)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            # A 4xx here is greylisting or a full mailbox: temporary, so retried.
            refused = exc.recipients
            detail = "; ".join(f"SMTP {r.code}: {r.message} ({r.recipient})" for r in refused)
            permanent = bool(refused) and all(500 <= r.code < 600 for r in refused)
            return DeliveryResult.failed(f"recipient refused: {detail}", permanent=permanent)
        except aiosmtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.code < 600
            return DeliveryResult.failed(f"SMTP {exc.code}: {exc.message}", permanent=permanent)
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            return DeliveryResult.failed(f"SMTP server unreachable: {exc or type(exc).__name__}")
        return DeliveryResult.sent(message.external_id)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.pool.close()
