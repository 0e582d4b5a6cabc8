"""Where every received mail goes, whatever carried it (SMTP, IMAP, the CLI): parse with the
channel's adapter, then either the bounce path or the ingest pipeline. Returns only once the
mail is committed, so the caller may acknowledge it to the sender or the IMAP server."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from channels.base import Channel, InboundRequest
from hub.campaigns.bounces import suppress_bounces
from hub.email.bounces import record_bounce
from hub.email.known import KnownMail
from hub.email.store import details_of
from hub.email.threading import ARRIVING
from hub.inbound.ingest import Ingestor
from hub.platform.clock import Clock
from hub.platform.database import Database


@dataclass(frozen=True, slots=True)
class Delivered:
    message_id: int | None
    conversation_id: int | None
    customer_id: int | None
    duplicate: bool
    bounce: bool = False
    parse_error: str | None = None

    def json(self) -> dict[str, object]:
        return {
            "message_id": self.message_id,
            "conversation_id": self.conversation_id,
            "customer_id": self.customer_id,
            "duplicate": self.duplicate,
            "bounce": self.bounce,
            "parse_error": self.parse_error,
        }


class EmailInbox:
    def __init__(
        self,
        db: Database,
        channels: Mapping[str, Channel],
        ingestor: Ingestor,
        clock: Clock,
        soft_bounce_limit: int = 3,
    ) -> None:
        """``soft_bounce_limit``: soft bounces in a row that suppress an address for
        campaigns (a hard bounce suppresses it at once)."""
        self.soft_bounce_limit = soft_bounce_limit
        self.db = db
        self.channels = channels
        self.ingestor = ingestor
        self.clock = clock
        self.known = KnownMail(db)

    async def deliver(
        self,
        channel: str,
        raw: bytes,
        *,
        envelope_from: str | None = None,
        envelope_to: tuple[str, ...] = (),
    ) -> Delivered:
        """Store one mail (or find it already stored). Raises ``IngestUnavailable`` when the
        database cannot take it; nothing is stored then and the sender should retry."""
        headers = {"X-Envelope-To": ",".join(envelope_to)}
        if envelope_from is not None:
            headers["X-Envelope-From"] = envelope_from
        [inbound] = self.channels[channel].parse(InboundRequest(body=raw, headers=headers))
        details = details_of(inbound)
        known = await self.known.find(inbound.external_id)
        if known is not None:
            return Delivered(
                known.message_id, known.conversation_id, known.customer_id, duplicate=True
            )
        if details is not None and details.report is not None:
            async with self.db.writer() as session:
                now = self.clock.now()
                outcome = await record_bounce(session, inbound, details, now)
                if not outcome.duplicate:
                    await suppress_bounces(session, details.report, now, self.soft_bounce_limit)
                await session.commit()
            return Delivered(
                outcome.message_id,
                outcome.conversation_id,
                outcome.customer_id,
                outcome.duplicate,
                bounce=True,
            )
        with ARRIVING.delivering(inbound):
            result = await self.ingestor.submit(inbound)
        return Delivered(
            result.message_id,
            result.conversation_id,
            result.customer_id,
            result.duplicate,
            parse_error=inbound.parse_error,
        )
