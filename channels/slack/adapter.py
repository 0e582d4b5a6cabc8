"""The Slack channel: Events API in (see inbound.py), button presses in (actions.py), replies
out with chat.postMessage into the customer's thread (a bot's buttons and cards as Block Kit,
blocks.py), paced to Slack's per-channel limit and its ``Retry-After``. Every request (the Web
API at ``base_url``, file downloads and uploads) goes over one session whose connections the
hub's injected socket factory opens (channels/outgoing.py): an address the hub may not reach
fails for good, naming the address."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from functools import partial

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from channels import outgoing
from channels.base import (
    Attachment,
    DeliveryResult,
    InboundMessage,
    InboundRequest,
    OutboundMessage,
)
from channels.downloads import FetchedFile, FetchFailed, FetchTooLarge, read_capped
from channels.pacing import Pacer
from channels.slack.actions import payload_of, presses
from channels.slack.blocks import blocks, drawn, fallback
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


def _unreachable(exc: BaseException) -> FetchFailed:
    """A file fetch that did not reach Slack; final when the hub refused the address."""
    refused = outgoing.refusal(exc)
    if refused is not None:
        return FetchFailed(f"Slack not reached: {refused}", permanent=True)
    return FetchFailed(f"Slack unreachable: {exc or type(exc).__name__}")


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
        self._socket_factory: outgoing.SocketFactory | None = None

    def use_socket_factory(self, factory: outgoing.SocketFactory) -> None:
        """Open every connection to Slack through ``factory`` (the hub's outgoing check)."""
        self._socket_factory = factory

    def use_thread_lookup(self, lookup: ThreadLookup) -> None:
        self._thread_lookup = lookup

    def parse(self, request: InboundRequest) -> list[InboundMessage]:
        return translate(self.name, self.config, self.events.decode(request))

    def parse_actions(self, request: InboundRequest) -> list[InboundMessage]:
        """An interactivity request: signature checked first, then its button presses."""
        self.events.verify(request)
        return presses(self.name, payload_of(request))

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
        files = [a for a in message.attachments if a.content is not None]
        if not message.has_content():
            return DeliveryResult.failed("nothing to send: empty text", permanent=True)
        await self.start()  # the client's requests go over this session only
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
        calls = self._calls(channel, thread_ts, message, files)
        # The parts an earlier try delivered (kept by the hub on the message, so a retry after
        # a failure part-way or a crash resumes after them: hub/outbound/parts.py).
        done = list(message.delivered)
        try:
            for call in calls[len(done) :]:
                done.append(await call())
                if message.checkpoint is not None and len(done) < len(calls):
                    await message.checkpoint(tuple(done))
        except SlackApiError as exc:
            return self._failure(channel, exc, tuple(done))
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            refused = outgoing.refusal(exc)
            return DeliveryResult.failed(
                f"Slack not reached: {refused}"
                if refused
                else f"Slack unreachable: {exc or type(exc).__name__}",
                permanent=refused is not None,
                delivered=tuple(done),
            )
        # The posted text (or the first file of a reply of files alone) stands for the message.
        return DeliveryResult.sent(done[0] if done else None, delivered=tuple(done))

    def _calls(
        self,
        channel: str,
        thread_ts: str | None,
        message: OutboundMessage,
        files: list[Attachment],
    ) -> list[Callable[[], Awaitable[str]]]:
        """The message's parts in order, each a call returning its key: the text (Block Kit
        for buttons and cards), then one upload per file."""

        async def post() -> str:
            if drawn(message):  # buttons, a card: Block Kit
                response = await self.client.chat_postMessage(
                    channel=channel,
                    text=fallback(message),
                    blocks=blocks(message),
                    thread_ts=thread_ts,
                )
            else:
                response = await self.client.chat_postMessage(
                    channel=channel, text=message.text, thread_ts=thread_ts
                )
            return f"{response.get('channel') or channel}:{response.get('ts')}"

        def upload(attachment: Attachment) -> Callable[[], Awaitable[str]]:
            async def call() -> str:
                return f"{channel}:file:{await self._upload(channel, thread_ts, attachment)}"

            return call

        calls: list[Callable[[], Awaitable[str]]] = []
        if drawn(message) or message.text.strip():
            calls.append(post)
        calls.extend(upload(attachment) for attachment in files)
        return calls

    async def _upload(self, channel: str, thread_ts: str | None, attachment: Attachment) -> str:
        """files.getUploadURLExternal, the bytes to its upload URL, then
        files.completeUploadExternal sharing the file into the thread (slack-sdk's v2 flow).
        Returns the Slack file id."""
        response = await self.client.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts,
            content=attachment.content,
            filename=attachment.filename,
            title=attachment.filename,
        )
        shared = response.get("file")
        return str(shared.get("id") or "") if isinstance(shared, dict) else ""

    async def fetch_file(self, file_ref: str, max_bytes: int) -> FetchedFile:
        """A file a customer shared: files.info (its size checked against ``max_bytes``), then
        ``url_private_download`` with the bot token as Bearer."""
        await self.start()
        try:
            info = await self.client.files_info(file=file_ref)
        except SlackApiError as exc:
            failure = self._failure(None, exc)
            raise FetchFailed(
                failure.error or "Slack error",
                permanent=failure.permanent,
                retry_after=failure.retry_after,
            ) from None
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            raise _unreachable(exc) from None
        found = info.get("file")
        found = found if isinstance(found, dict) else {}
        size = found.get("size")
        if isinstance(size, int) and size > max_bytes:
            raise FetchTooLarge(size, max_bytes)
        url = found.get("url_private_download") or found.get("url_private")
        if not isinstance(url, str) or not url:
            raise FetchFailed("Slack gave no download URL for the file", permanent=True)
        return await self._download(url, str(found.get("mimetype") or ""), max_bytes)

    async def _download(self, url: str, mimetype: str, max_bytes: int) -> FetchedFile:
        session = self._session
        if session is None:
            raise FetchFailed("the Slack channel is not started")
        headers = {"Authorization": f"Bearer {self.config.bot_token}"}
        try:
            async with session.get(url, headers=headers) as response:
                if response.status == 429:
                    seconds = retry_after(response.headers)
                    raise FetchFailed(
                        f"Slack rate limit (429): retry after {seconds:g} s", retry_after=seconds
                    )
                if response.status >= 400:
                    raise FetchFailed(
                        f"Slack answered HTTP {response.status} for the file",
                        permanent=400 <= response.status < 500,
                    )
                if response.content_type == "text/html" and not mimetype.startswith("text/"):
                    # A sign-in page instead of the file: the token lacks files:read.
                    raise FetchFailed(
                        "Slack sent a sign-in page instead of the file: "
                        "does the app have the files:read scope?"
                    )
                content = await read_capped(response, max_bytes)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _unreachable(exc) from None
        return FetchedFile(content, mimetype or None)

    def _failure(
        self, channel: str | None, exc: SlackApiError, delivered: tuple[str, ...] = ()
    ) -> DeliveryResult:
        """The outcome of a refused call (``delivered``: the parts that went out before it); a
        429 pauses ``channel`` (if any) for Retry-After."""
        failed = partial(DeliveryResult.failed, delivered=delivered)
        status = exc.response.status_code
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        error = str(data.get("error") or f"HTTP {status}")
        if status == 429 or error == "ratelimited":
            seconds = retry_after(exc.response.headers)
            if channel is not None:
                self.pacer.pause(channel, seconds)
            return failed(f"Slack rate limit (429): retry after {seconds:g} s", retry_after=seconds)
        if status >= 500 or error in TRANSIENT:
            return failed(f"Slack error: {error}")
        return failed(f"Slack refused: {error}", permanent=True)

    async def start(self) -> None:
        if self._session is None:
            self._session = outgoing.session(self.config.timeout_seconds, self._socket_factory)
            self.client.session = self._session

    async def stop(self) -> None:
        if self._session is not None:
            self.client.session = None
            await self._session.close()
            self._session = None
