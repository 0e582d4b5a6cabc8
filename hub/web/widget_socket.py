"""One visitor's WebSocket: the frame protocol of the chat widget.

Client to hub (JSON text frames):
  {"type": "hello", "token": "<visitor token or omitted>", "since": <last message id seen>,
   "page": "<the site's page address>", "title": "<its title>"}   (page, title: optional; an
      unnamed visitor is shown to agents as "Visitor from <title or page>")
  {"type": "message", "id": "<client-made id>", "text": "...", "files": [<upload id>, ...]}
      (files uploaded first by POST /widget/{channel}/uploads; text may be empty with files)
  {"type": "email", "email": "jane@example.com", "name": "Jane"}
  {"type": "ping"}
Hub to client:
  {"type": "welcome", "token", "visitor_id", "title", "greeting", "email"}, then the history
  {"type": "message", "message": {"id", "from": "visitor"|"agent", "text", "author", ...,
      "files": [{"filename", "content_type", "size", "url"}]}}   url: a download signed for them
  {"type": "ack", "client_id", "id", "duplicate", "files"}   only once the message (and its
      files) are committed
  {"type": "email_saved", "email"}   {"type": "pong"}
  {"type": "typing", "name", "stopped"}               an agent is writing a reply
  {"type": "error", "code", "message", "client_id"?}  the socket stays open

A bad frame is answered with an error frame naming the problem; nothing is stored for it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from channels.web.widget import (
    FrameError,
    Hello,
    LeaveEmail,
    Ping,
    SendText,
    WidgetChannel,
    WidgetChannelConfig,
)
from hub.assembly import Hub
from hub.core import errors
from hub.inbound.ingest import IngestUnavailable
from hub.web.ratelimit import RateLimiter
from hub.widget.files import WidgetFileRefused, attach_reserved, file_entries, reserve_files
from hub.widget.live import LiveConnection
from hub.widget.texts import VISITOR, visitor_label
from hub.widget.visitors import VisitorTokens, leave_email, new_visitor_id, remember_visitor

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WidgetLimits:
    connections_by_ip: RateLimiter
    messages_by_ip: RateLimiter
    messages_by_visitor: RateLimiter

    @classmethod
    def of(cls, name: str, config: WidgetChannelConfig) -> WidgetLimits:
        """Counted in the database per channel, so every process shares them."""
        return cls(
            RateLimiter(f"widget-connect:{name}", config.ip_connections_per_minute),
            RateLimiter(f"widget-ip:{name}", config.ip_messages_per_minute),
            RateLimiter(f"widget-visitor:{name}", config.messages_per_minute),
        )


class WidgetSession:
    def __init__(
        self,
        hub: Hub,
        tokens: VisitorTokens,
        limits: WidgetLimits,
        channel: WidgetChannel,
        ws: web.WebSocketResponse,
        remote: str | None,
    ) -> None:
        self.hub = hub
        self.registry = hub.widgets.registry
        self.tokens = tokens
        self.limits = limits
        self.channel = channel
        self.ws = ws
        self.remote = remote or ""
        self.connection: LiveConnection | None = None
        self.name = ""
        self.label = VISITOR  # "Visitor from <page>" once the hello named the page

    async def _send(self, frame: dict[str, Any]) -> None:
        if self.connection is not None:
            await self.connection.send(frame)
        elif not self.ws.closed:
            await self.ws.send_json(frame)

    async def _error(self, code: str, message: str, client_id: str | None = None) -> None:
        frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
        if client_id is not None:
            frame["client_id"] = client_id
        await self._send(frame)

    async def run(self) -> None:
        async for received in self.ws:
            if received.type == WSMsgType.TEXT:
                try:
                    await self.handle(received.data)
                except FrameError as exc:
                    await self._error(exc.code, exc.message, exc.client_id)
                except ConnectionError:
                    raise
                except Exception:
                    log.exception("widget %s: frame handling failed", self.channel.name)
                    await self._error("internal", errors.WIDGET_INTERNAL)
            elif received.type == WSMsgType.BINARY:
                await self._error("binary_frame", "frames must be JSON text, not binary")
            elif received.type == WSMsgType.ERROR:
                log.info("widget socket error: %s", self.ws.exception())
                return

    async def close(self) -> None:
        if self.connection is not None:
            try:
                await self.registry.close(self.connection)
            except Exception:
                log.exception("widget %s: closing socket %s", self.channel.name, self.connection.id)

    async def handle(self, data: str) -> None:
        frame = self.channel.parse_frame(data)
        if isinstance(frame, Ping):
            await self._send({"type": "pong"})
            return
        if isinstance(frame, Hello):
            if self.connection is not None:
                raise FrameError("already_greeted", "hello was already sent on this socket")
            await self._hello(frame)
            return
        if self.connection is None:
            raise FrameError("hello_first", "send a hello frame first")
        if isinstance(frame, SendText):
            await self._message(self.connection, frame)
        elif isinstance(frame, LeaveEmail):
            await self._email(self.connection, frame)

    async def _hello(self, frame: Hello) -> None:
        name = self.channel.name
        visitor_id = self.tokens.verify(name, frame.token) if frame.token else None
        since = frame.since
        if frame.token and visitor_id is None:
            await self._error("invalid_token", errors.WIDGET_INVALID_TOKEN)
        if visitor_id is None:
            visitor_id, since = new_visitor_id(), 0
        visitor = await remember_visitor(self.hub.db, name, visitor_id, self.hub.clock.now())
        self.name = visitor.name
        self.label = visitor_label(frame.page, frame.title)
        connection = LiveConnection(self.registry, self.ws, name, visitor_id)
        await self.registry.open(connection)
        self.connection = connection
        config = self.channel.config
        await self._send(
            {
                "type": "welcome",
                "token": self.tokens.issue(name, visitor_id),
                "visitor_id": visitor_id,
                "title": config.title,
                "greeting": config.greeting,
                "email": visitor.email,
                "name": visitor.name,
            }
        )
        await connection.start(since)

    async def _limit(self, connection: LiveConnection, client_id: str | None) -> None:
        for limiter, key in (
            (self.limits.messages_by_visitor, connection.visitor_id),
            (self.limits.messages_by_ip, self.remote),
        ):
            wait = await limiter.check(self.hub.db, key)
            if wait:
                raise FrameError("rate_limited", errors.WIDGET_RATE.format(wait=wait), client_id)

    async def _message(self, connection: LiveConnection, frame: SendText) -> None:
        await self._limit(connection, frame.client_id)
        most = self.hub.settings.attachments.max_files
        if len(frame.files) > most:
            raise FrameError("too_many_files", f"at most {most} files per message", frame.client_id)
        try:  # the files are this visitor's and no other message's, before anything is stored
            await reserve_files(
                self.hub.db, self.channel.name, connection.visitor_id, frame.client_id, frame.files
            )
        except WidgetFileRefused as exc:
            raise FrameError("unknown_file", exc.message, frame.client_id) from None
        inbound = self.channel.inbound(connection.visitor_id, self.name or self.label, frame)
        connection.storing += 1
        try:
            try:
                result = await self.hub.ingestor.submit(inbound)
            except IngestUnavailable:
                raise FrameError(
                    "unavailable", errors.WIDGET_UNAVAILABLE, frame.client_id
                ) from None
            # Attached in a second commit; the ack below waits for it (a resend after a crash
            # in between is a duplicate that attaches them then).
            listed = await attach_reserved(
                self.hub.db, result.message_id, frame.files, self.hub.clock.now()
            )
            if self.registry.watch(connection, {result.conversation_id}):
                connection.wake()  # a new conversation: its first events came before the watch
            if len(connection.acked) > 1000:
                connection.acked.clear()
            connection.acked.add(result.message_id)
        finally:
            connection.storing -= 1
            connection.stored()
        await self._send(
            {
                "type": "ack",
                "client_id": frame.client_id,
                "id": result.message_id,
                "conversation_id": result.conversation_id,
                "duplicate": result.duplicate,
                # The message's files, with the visitor's download links.
                "files": file_entries(
                    self.registry.links,
                    self.channel.name,
                    connection.visitor_id,
                    result.message_id,
                    listed,
                ),
            }
        )

    async def _email(self, connection: LiveConnection, frame: LeaveEmail) -> None:
        await self._limit(connection, None)
        saved = await leave_email(
            self.hub.db, connection.visitor_id, frame.email, frame.name, self.hub.clock.now()
        )
        if frame.name:
            self.name = frame.name
        await self._send({"type": "email_saved", "email": saved.email})
