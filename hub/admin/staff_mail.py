"""Mail to the hub's own people (an invitation, a password reset link), queued in the caller's
transaction as a job on the one job queue and sent by the job runner through the first
configured email channel, retried with backoff like every other delivery. Once sent, the job
keeps who it went to but not the text (the link in it is a secret)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Channel, DeliveryResult, IdentityKind, OutboundMessage, Party
from hub.config.settings import Settings
from hub.db.routing_models import Job
from hub.platform.jobs import JobHandler, JobView, Outcome, enqueue
from hub.platform.queue import RetryLater

KIND = "staff_mail"


def mail_channel(settings: Settings, channels: Mapping[str, Channel] | None = None) -> str | None:
    """The channel staff mail goes through: the first configured email channel (that runs)."""
    for name, config in settings.channels.items():
        if config.kind == "email" and (channels is None or name in channels):
            return name
    return None


async def queue_mail(
    session: AsyncSession, *, to: str, name: str, subject: str, text: str, now: datetime
) -> None:
    await enqueue(
        session,
        KIND,
        now,
        payload={"to": to, "name": name, "subject": subject, "text": text},
        now=now,
    )


class StaffMailer:
    """The job handler that sends staff mail."""

    def __init__(self, settings: Settings, channels: Mapping[str, Channel]) -> None:
        self.settings = settings
        self.channels = channels

    def handlers(self) -> dict[str, JobHandler]:
        return {KIND: JobHandler(self._applied, self._send)}

    async def _send(self, job: JobView) -> DeliveryResult:
        name = mail_channel(self.settings, self.channels)
        if name is None:
            raise RetryLater("no email channel is configured", permanent=True)
        payload: Mapping[str, Any] = job.payload
        result = await self.channels[name].send(
            OutboundMessage(
                message_id=-job.id,
                channel=name,
                recipient=Party(IdentityKind.EMAIL, str(payload["to"]), str(payload["name"])),
                text=str(payload["text"]),
                subject=str(payload["subject"]),
                automated=True,
            )
        )
        if not result.ok:
            raise RetryLater(result.error or "not sent", permanent=result.permanent)
        return result

    async def _applied(
        self, session: AsyncSession, job: Job, result: DeliveryResult, now: datetime
    ) -> Outcome:
        to = str(job.payload.get("to", ""))
        job.payload = {"to": to}  # the link in the text is a secret: gone once delivered
        return Outcome("done", f"mailed to {to}")
