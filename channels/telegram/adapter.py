"""The Telegram channel: webhook updates checked by their secret header and parsed with
python-telegram-bot's types; long polling for hosts without a public URL; replies through the
library's ``Bot`` (text, photos, documents) paced to Telegram's limits. Every connection (Bot
API calls, polling, file downloads) goes through the hub's socket factory when it hands one
(``use_socket_factory``, channels/telegram/transport.py): a refused address fails for good,
naming the address."""

from __future__ import annotations

import asyncio
import hmac
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, InputFile, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from channels import outgoing, strict_json, text_parts
from channels.base import (
    Attachment,
    ChannelRejected,
    Choice,
    DeliveryResult,
    InboundMessage,
    InboundRequest,
    OutboundMessage,
)
from channels.downloads import FetchedFile, FetchFailed, FetchTooLarge
from channels.pacing import Pacer
from channels.telegram.config import TelegramChannelConfig
from channels.telegram.keyboards import keyboard, shown
from channels.telegram.presses import pressed
from channels.telegram.transport import httpx_kwargs
from channels.telegram.updates import ALLOWED_UPDATES, translate

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT = 4096
PHOTO_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
# Looks up the thread key (the chat) of a hub conversation, for replies that carry none.
ThreadLookup = Callable[[int], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class PolledUpdate:
    update_id: int
    messages: list[InboundMessage]


class TelegramUnavailable(Exception):
    """A Bot API call the hub waits on (getUpdates, setWebhook) failed."""


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Telegram takes at most 4096 characters a message."""
    return text_parts.split_text(text, limit)


def unreached(exc: TelegramError) -> str | None:
    """What to say when the hub refused the address ("Telegram not reached: refused to
    connect: 10.0.0.5 is ..."; final, as the next try meets the same one), else None."""
    refused = outgoing.refusal(exc)
    return None if refused is None else f"Telegram not reached: {refused}"


def retry_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the int -> timedelta migration warning
        value: int | timedelta = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramChannel:
    def __init__(self, name: str, config: TelegramChannelConfig) -> None:
        self.name = name
        self.config = config
        self._connect(None)
        self.pacer = Pacer(config.messages_per_second)
        self._secrets: tuple[str, ...] = (config.webhook_secret,) if config.webhook_secret else ()
        self._thread_lookup: ThreadLookup | None = None

    def _connect(self, factory: outgoing.SocketFactory | None) -> None:
        """The Bot and its two HTTP clients (calls, getUpdates), connecting through
        ``factory`` if any; before ``start``."""
        config = self.config
        timeout = config.timeout_seconds

        def checked(pool_size: int) -> dict[str, Any] | None:
            return None if factory is None else httpx_kwargs(factory, pool_size)

        self._request = HTTPXRequest(
            connection_pool_size=config.connection_pool_size,
            read_timeout=timeout,
            write_timeout=timeout,
            connect_timeout=timeout,
            pool_timeout=timeout,
            httpx_kwargs=checked(config.connection_pool_size),
        )
        self._poll_request = HTTPXRequest(
            connection_pool_size=1,
            read_timeout=config.poll_timeout_seconds + timeout,
            httpx_kwargs=checked(1),
        )
        self.bot = Bot(
            config.bot_token,
            base_url=config.base_url,
            base_file_url=config.base_file_url,
            request=self._request,
            get_updates_request=self._poll_request,
        )

    # -- set-up by the hub ---------------------------------------------------------------
    def use_socket_factory(self, factory: outgoing.SocketFactory) -> None:
        """Open every connection to the Bot API through ``factory`` (the hub's outgoing
        check); called before ``start``."""
        self._connect(factory)

    def use_webhook_secret(self, secret: str | None) -> None:
        """Accept ``secret`` (the stored one) besides the configured one, if any."""
        configured = (self.config.webhook_secret,) if self.config.webhook_secret else ()
        self._secrets = configured + ((secret,) if secret else ())

    def use_thread_lookup(self, lookup: ThreadLookup) -> None:
        self._thread_lookup = lookup

    # -- inbound -------------------------------------------------------------------------
    def _authorize(self, request: InboundRequest) -> None:
        given = request.headers.get(SECRET_HEADER, "").encode()
        matches = [hmac.compare_digest(given, secret.encode()) for secret in self._secrets]
        if not any(matches):
            raise ChannelRejected(
                401, "unauthorized", f"missing or wrong {SECRET_HEADER} header for {self.name}"
            )

    def parse(self, request: InboundRequest) -> list[InboundMessage]:
        self._authorize(request)
        try:
            payload = strict_json.loads(request.body)
        except strict_json.JsonRefused as exc:
            raise ChannelRejected(400, "invalid_json", f"body is not valid JSON: {exc}") from None
        return self.parse_update(payload)

    def parse_update(self, payload: Any) -> list[InboundMessage]:
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            raise ChannelRejected(
                400, "invalid_update", "body must be a Telegram Update object with an update_id"
            )
        try:
            update = Update.de_json(payload, self.bot)
            return translate(self.name, self.config, update, payload)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            detail = f"{type(exc).__name__}: {exc}"
            raise ChannelRejected(
                400, "invalid_update", f"body is not a Telegram Update the hub can read ({detail})"
            ) from None

    @staticmethod
    def webhook_answer(messages: Sequence[InboundMessage]) -> dict[str, Any] | None:
        """A Bot API call to return in the webhook response: stop the button's spinner."""
        for message in messages:
            query_id = message.raw.get("callback_query_id")
            if query_id:
                return {"method": "answerCallbackQuery", "callback_query_id": query_id}
        return None

    async def fetch_updates(self, offset: int | None) -> list[PolledUpdate]:
        """One getUpdates long poll. Telegram forgets updates only when asked for ``offset``
        past them, so the caller moves ``offset`` once it has stored what came back."""
        try:
            updates = await self.bot.get_updates(
                offset=offset,
                timeout=self.config.poll_timeout_seconds,
                allowed_updates=list(ALLOWED_UPDATES),
            )
        except TelegramError as exc:
            said = unreached(exc) or f"{type(exc).__name__}: {exc}"
            raise TelegramUnavailable(said) from exc
        polled = []
        for update in updates:
            try:
                messages = self.parse_update(update.to_dict())
            except ChannelRejected as exc:
                log.error("telegram %s: skipping update %s: %s", self.name, update.update_id, exc)
                messages = []
            polled.append(PolledUpdate(update.update_id, messages))
        return polled

    async def answer_callbacks(self, messages: Sequence[InboundMessage]) -> None:
        answer = self.webhook_answer(messages)
        if answer is None:
            return
        try:
            await self.bot.answer_callback_query(answer["callback_query_id"])
        except TelegramError as exc:
            log.warning("telegram %s: answerCallbackQuery failed: %s", self.name, exc)

    async def retire_keyboards(self, messages: Sequence[InboundMessage]) -> None:
        """Take the quick replies off the messages whose buttons were pressed (links stay)."""
        if not self.config.remove_keyboard_after_press:
            return
        for message in messages:
            origin = pressed(message)
            if origin is None:
                continue
            rows = {"inline_keyboard": origin.links}
            markup = InlineKeyboardMarkup.de_json(rows, self.bot) if origin.links else None
            try:
                await self.bot.edit_message_reply_markup(
                    chat_id=origin.chat_id, message_id=origin.message_id, reply_markup=markup
                )
            except TelegramError as exc:  # e.g. "message is not modified": pressed before
                log.info("telegram %s: keyboard left in place: %s", self.name, exc)

    async def set_webhook(self, url: str, secret: str, *, drop_pending: bool = False) -> None:
        try:
            await self.bot.set_webhook(
                url,
                secret_token=secret,
                allowed_updates=list(ALLOWED_UPDATES),
                drop_pending_updates=drop_pending,
            )
        except TelegramError as exc:
            raise TelegramUnavailable(unreached(exc) or exc.message) from exc

    async def delete_webhook(self) -> None:
        """Polling needs it: Telegram refuses getUpdates while a webhook is set."""
        try:
            await self.bot.delete_webhook()
        except TelegramError as exc:
            raise TelegramUnavailable(unreached(exc) or exc.message) from exc

    async def fetch_file(self, file_ref: str, max_bytes: int) -> FetchedFile:
        """A file a customer sent: getFile (whose size is checked against ``max_bytes``), then
        the download from ``{base_file_url}<token>/<file_path>``."""
        try:
            found = await self.bot.get_file(file_ref)
            if found.file_size is not None and found.file_size > max_bytes:
                raise FetchTooLarge(found.file_size, max_bytes)
            content = bytes(await found.download_as_bytearray())
        except RetryAfter as exc:
            seconds = retry_seconds(exc)
            raise FetchFailed(
                f"Telegram flood control (429): retry after {seconds:g} s", retry_after=seconds
            ) from None
        except BadRequest as exc:
            if "too big" in exc.message.lower():  # the Bot API serves files up to 20 MB
                raise FetchTooLarge(max_bytes + 1, max_bytes) from None
            raise FetchFailed(f"Telegram refused: {exc.message}", permanent=True) from None
        except (Forbidden, InvalidToken) as exc:
            raise FetchFailed(f"Telegram refused: {exc.message}", permanent=True) from None
        except TelegramError as exc:
            refused = unreached(exc)
            if refused is not None:
                raise FetchFailed(refused, permanent=True) from None
            raise FetchFailed(f"Telegram unreachable: {exc.message}") from None
        if len(content) > max_bytes:
            raise FetchTooLarge(len(content), max_bytes)
        return FetchedFile(content)

    # -- outbound ------------------------------------------------------------------------
    async def _chat_id(self, message: OutboundMessage) -> str:
        if message.thread_key:
            return message.thread_key
        if self._thread_lookup is not None and message.conversation_id is not None:
            found = await self._thread_lookup(message.conversation_id)
            if found:
                return found
        return message.recipient.address

    async def _paced(self, chat_id: str, max_wait: float) -> float | None:
        """Wait for the chat's next slot; None when it is further off than ``max_wait``."""
        interval = (
            self.config.group_interval_seconds
            if chat_id.startswith("-")
            else self.config.chat_interval_seconds
        )
        slot = self.pacer.reserve(chat_id, interval, max_wait)
        if not slot.granted:
            return slot.wait
        if slot.wait > 0:
            await asyncio.sleep(slot.wait)
        await self.pacer.turn(chat_id, interval)
        return None

    async def _send_file(self, chat_id: str, attachment: Attachment) -> int:
        assert attachment.content is not None
        upload = InputFile(attachment.content, filename=attachment.filename)
        if attachment.content_type in PHOTO_TYPES:
            sent = await self.bot.send_photo(chat_id, upload)
        else:
            sent = await self.bot.send_document(chat_id, upload)
        return sent.message_id

    def _calls(self, chat_id: str, message: OutboundMessage) -> list[Callable[[], Awaitable[int]]]:
        """The Bot API calls that make up ``message``, in order: a photo card, the text's
        parts (the keyboard under the last), then the files."""
        calls: list[Callable[[], Awaitable[int]]] = []
        drawn = shown(message)
        parts = split_text(drawn.text)
        if drawn.photo is not None:
            choices = () if parts else message.choices
            calls.append(partial(self._send_photo, chat_id, drawn.photo, drawn.caption, choices))
        for index, part in enumerate(parts):
            choices = message.choices if index == len(parts) - 1 else ()
            calls.append(partial(self._send_text, chat_id, part, choices))
        for attachment in message.attachments:
            if attachment.content is not None:
                calls.append(partial(self._send_file, chat_id, attachment))
        return calls

    async def _deliver(self, chat_id: str, message: OutboundMessage, done: list[str]) -> None:
        """Send the parts not in ``done`` (those an earlier try delivered), adding each one's
        key to ``done`` as it goes out (and to the hub's checkpoint while more are to come);
        the first part sent has its slot already."""
        calls = self._calls(chat_id, message)
        for index, call in enumerate(calls[len(done) :]):
            if index > 0:
                await self._paced(chat_id, float("inf"))
            done.append(f"{chat_id}:{await call()}")
            if message.checkpoint is not None and len(done) < len(calls):
                await message.checkpoint(tuple(done))

    async def _send_photo(
        self, chat_id: str, url: str, caption: str | None, choices: tuple[Choice, ...]
    ) -> int:
        markup = keyboard(choices) if choices else None
        sent = await self.bot.send_photo(chat_id, url, caption=caption, reply_markup=markup)
        return sent.message_id

    async def _send_text(self, chat_id: str, text: str, choices: tuple[Choice, ...] = ()) -> int:
        markup = keyboard(choices) if choices else None
        sent = await self.bot.send_message(chat_id, text, reply_markup=markup)
        return sent.message_id

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        chat_id = await self._chat_id(message)
        if not message.has_content():
            return DeliveryResult.failed("nothing to send: empty text", permanent=True)
        wait = await self._paced(chat_id, self.config.max_pacing_wait_seconds)
        if wait is not None:
            return DeliveryResult.failed(
                f"paced: Telegram allows about one message a second to chat {chat_id}",
                retry_after=wait,
            )
        done = list(message.delivered)
        try:
            await self._deliver(chat_id, message, done)
        except TelegramError as exc:
            return self._failure(chat_id, exc, tuple(done))
        # The last part's id: it carries the keyboard, whose presses point back at it.
        return DeliveryResult.sent(done[-1] if done else None, delivered=tuple(done))

    def _failure(
        self, chat_id: str, exc: TelegramError, delivered: tuple[str, ...]
    ) -> DeliveryResult:
        """A refused or failed call; ``delivered``: the parts that went out before it."""
        failed = partial(DeliveryResult.failed, delivered=delivered)
        if isinstance(exc, RetryAfter):
            seconds = retry_seconds(exc)
            self.pacer.pause(chat_id, seconds)
            return failed(
                f"Telegram flood control (429): retry after {seconds:g} s", retry_after=seconds
            )
        if isinstance(exc, ChatMigrated):
            return failed(
                f"the group became supergroup {exc.new_chat_id}; reply from a new message there",
                permanent=True,
            )
        if isinstance(exc, Forbidden | BadRequest | InvalidToken):
            return failed(f"Telegram refused: {exc.message}", permanent=True)
        refused = unreached(exc)
        if refused is not None:
            return failed(refused, permanent=True)
        return failed(f"Telegram unreachable: {exc.message}")

    async def start(self) -> None:
        await self._request.initialize()
        await self._poll_request.initialize()

    async def stop(self) -> None:
        await self._request.shutdown()
        await self._poll_request.shutdown()
