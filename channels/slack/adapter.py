"""The Slack channel: Events API in (see inbound.py), replies out with chat.postMessage into
the customer's thread, paced to Slack's per-channel limit and its ``Retry-After``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from channels.base import DeliveryResult, InboundMessage, InboundRequest, OutboundMessage
from channels.pacing import Pacer
from channels.slack.config import SlackChannelConfig
from channels.slack.events import translate
from channels.slack.inbound import EventsEndpoint, Sink, SlackAnswer

# Looks up the thread key ("{channel}:{thread_ts}") of a hub conversation, for replies that
# carry none.
ThreadLookup = Callable[[int], Awaitable[str | None]]
# Web API errors that may pass; any other ``ok: false`` is final.
TRANSIENT = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}


def retry_after(headers: Mapping[str, str], default: float = 1.0) -> float:
    """Seconds from a ``Retry-After`` header (Slack sends whole seconds)."""
    try:
        return max(float(headers.get("Retry-After", default)), 0.0)
    except ValueError:
        return default


class SlackChannel:
    def __init__(self, name: str, config: SlackChannelConfig) -> None:
        self.name = name
        self.config = config
        self.client = AsyncWebClient(
            token=config.bot_token,
            base_url=config.base_url,
            timeout=int(config.timeout_seconds),
        )
        self.events = EventsEndpoint(name, config)
        self.pacer = Pacer(config.messages_per_second)
        self._thread_lookup: ThreadLookup | None = None
        self._session: aiohttp.ClientSession | None = None

    def use_thread_lookup(self, lookup: ThreadLookup) -> None:
        self._thread_lookup = lookup

    def parse(self, request: InboundRequest) -> list[InboundMessage]:
        return translate(self.name, self.config, self.events.decode(request))

    async def handle_events(self, request: InboundRequest, sink: Sink) -> SlackAnswer:
        return await self.events.handle(request, sink)

    async def _target(self, message: OutboundMessage) -> tuple[str, str | None]:
        key = message.thread_key
        if not key and self._thread_lookup is not None and message.conversation_id is not None:
            key = await self._thread_lookup(message.conversation_id)
        if not key:  # no thread known: a direct message to the customer
            return message.recipient.address, None
        channel, _, thread_ts = key.partition(":")
        return channel, thread_ts or None

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        if not message.text.strip():
            return DeliveryResult.failed("nothing to send: empty text", permanent=True)
        channel, thread_ts = await self._target(message)
        slot = self.pacer.reserve(
            channel, self.config.channel_interval_seconds, self.config.max_pacing_wait_seconds
        )
        if not slot.granted:
            return DeliveryResult.failed(
                f"paced: Slack allows about one message a second in {channel}",
                retry_after=slot.wait,
            )
        if slot.wait > 0:
            await asyncio.sleep(slot.wait)
        await self.pacer.turn(channel, self.config.channel_interval_seconds)
        try:
            response = await self.client.chat_postMessage(
                channel=channel, text=message.text, thread_ts=thread_ts
            )
        except SlackApiError as exc:
            return self._failure(channel, exc)
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            return DeliveryResult.failed(f"Slack unreachable: {exc or type(exc).__name__}")
        posted_channel = response.get("channel") or channel
        return DeliveryResult.sent(f"{posted_channel}:{response.get('ts')}")

    def _failure(self, channel: str, exc: SlackApiError) -> DeliveryResult:
        status = exc.response.status_code
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        error = str(data.get("error") or f"HTTP {status}")
        if status == 429 or error == "ratelimited":
            seconds = retry_after(exc.response.headers)
            self.pacer.pause(channel, seconds)
            return DeliveryResult.failed(
                f"Slack rate limit (429): retry after {seconds:g} s", retry_after=seconds
            )
        if status >= 500 or error in TRANSIENT:
            return DeliveryResult.failed(f"Slack error: {error}")
        return DeliveryResult.failed(f"Slack refused: {error}", permanent=True)

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.config.timeout_seconds)
            )
            self.client.session = self._session

    async def stop(self) -> None:
        if self._session is not None:
            self.client.session = None
            await self._session.close()
            self._session = None
