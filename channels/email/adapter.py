"""The email channel: outbound through SMTP (aiosmtplib); inbound RFC 822 parsing."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

import aiosmtplib
from pydantic import Field

from channels.base import DeliveryResult, InboundMessage, InboundRequest, OutboundMessage
from channels.config import ChannelConfig
from channels.email.parse import parse_rfc822


class EmailChannelConfig(ChannelConfig):
    address: str
    display_name: str = "Support"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    starttls: bool = False
    use_tls: bool = False
    timeout_seconds: float = Field(30.0, gt=0)


def build_email(config: EmailChannelConfig, message: OutboundMessage) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = formataddr((message.sender_name or config.display_name, config.address))
    mail["To"] = formataddr((message.recipient.name or "", message.recipient.address))
    mail["Subject"] = message.subject or ""
    if message.external_id:
        mail["Message-ID"] = message.external_id
    if message.in_reply_to:
        mail["In-Reply-To"] = message.in_reply_to
    if message.references:
        mail["References"] = " ".join(message.references)
    if message.automated:
        mail["Auto-Submitted"] = "auto-replied"
    mail["Date"] = format_datetime(datetime.now(UTC))
    for key, value in message.headers.items():
        mail[key] = value
    mail.set_content(message.text)
    if message.html:
        mail.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        if attachment.content is None:
            continue
        maintype, _, subtype = attachment.content_type.partition("/")
        mail.add_attachment(
            attachment.content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return mail


class EmailChannel:
    def __init__(self, name: str, config: EmailChannelConfig) -> None:
        self.name = name
        self.config = config

    def parse(self, request: InboundRequest) -> list[InboundMessage]:
        return [parse_rfc822(self.name, request.body)]

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        mail = build_email(self.config, message)
        try:
            await aiosmtplib.send(
                mail,
                hostname=self.config.smtp_host,
                port=self.config.smtp_port,
                username=self.config.smtp_username or None,
                password=self.config.smtp_password or None,
                start_tls=self.config.starttls,
                use_tls=self.config.use_tls,
                timeout=self.config.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            return DeliveryResult.failed(f"recipient refused: {exc}", permanent=True)
        except aiosmtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.code < 600
            return DeliveryResult.failed(f"SMTP {exc.code}: {exc.message}", permanent=permanent)
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            return DeliveryResult.failed(f"SMTP server unreachable: {exc or type(exc).__name__}")
        return DeliveryResult.sent(message.external_id)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
