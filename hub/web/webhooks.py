"""Chat provider webhooks: Telegram updates and Slack Events API deliveries. Each is checked by
its adapter, ingested, and answered only after the commit, so a 2xx means the message is stored
and a provider retry (or a replayed update) finds it and stores nothing twice."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TypeVar

from aiohttp import web

from channels.base import ChannelRejected, InboundMessage, InboundRequest
from channels.slack.adapter import SlackChannel
from channels.telegram.adapter import TelegramChannel
from hub.assembly import Hub
from hub.chat.service import refresh_webhook_secret
from hub.core.errors import ApiError, unavailable, unknown_channel, wrong_channel_kind
from hub.inbound.ingest import IngestUnavailable
from hub.inbound.results import IngestResult
from hub.web.keys import hub_of

T = TypeVar("T")


def _channel(hub: Hub, name: str, kind: type[T], label: str) -> T:
    if name not in hub.settings.channels:
        raise unknown_channel(name)
    channel = hub.channels.get(name)
    if not isinstance(channel, kind):
        raise wrong_channel_kind(name, label)
    return channel


def _rejected(exc: ChannelRejected) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message, exc.fields)


async def store(hub: Hub, messages: Sequence[InboundMessage]) -> list[IngestResult]:
    """Ingest every message (one group commit when they arrive together)."""
    try:
        return list(await asyncio.gather(*(hub.ingestor.submit(m) for m in messages)))
    except IngestUnavailable:
        raise unavailable() from None


def _summary(results: Sequence[IngestResult]) -> dict[str, object]:
    return {
        "ok": True,
        "stored": sum(1 for r in results if not r.duplicate),
        "message_ids": [r.message_id for r in results],
    }


def _inbound(request: web.Request, body: bytes) -> InboundRequest:
    return InboundRequest(
        body=body, headers=request.headers, query=request.query, remote=request.remote
    )


async def telegram_webhook(request: web.Request) -> web.Response:
    hub = hub_of(request)
    name = request.match_info["channel"]
    channel = _channel(hub, name, TelegramChannel, "telegram")
    inbound = _inbound(request, await request.read())
    try:
        messages = channel.parse(inbound)
    except ChannelRejected as exc:
        # A secret set with `relaydesk telegram set-webhook` after this process started.
        if exc.status != 401 or not await refresh_webhook_secret(hub.db, name, channel):
            raise _rejected(exc) from None
        try:
            messages = channel.parse(inbound)
        except ChannelRejected as again:
            raise _rejected(again) from None
    results = await store(hub, messages)
    await channel.retire_keyboards(
        [m for m, r in zip(messages, results, strict=True) if not r.duplicate]
    )
    # Telegram runs a Bot API call given in the answer: here, stopping a button's spinner.
    return web.json_response(channel.webhook_answer(messages) or _summary(results))


async def slack_events(request: web.Request) -> web.Response:
    hub = hub_of(request)
    channel = _channel(hub, request.match_info["channel"], SlackChannel, "slack")

    async def sink(messages: list[InboundMessage]) -> None:
        await store(hub, messages)

    try:
        answer = await channel.handle_events(_inbound(request, await request.read()), sink)
    except ChannelRejected as exc:
        raise _rejected(exc) from None
    if answer.content_type == "application/json" or not answer.body:
        body = answer.body or '{"ok": true}'
        return web.Response(status=answer.status, text=body, content_type="application/json")
    return web.Response(status=answer.status, text=answer.body, content_type=answer.content_type)


async def slack_actions(request: web.Request) -> web.Response:
    """Interactivity: a press on a bot's button, stored before Slack hears 200 (empty)."""
    hub = hub_of(request)
    channel = _channel(hub, request.match_info["channel"], SlackChannel, "slack")
    try:
        messages = channel.parse_actions(_inbound(request, await request.read()))
    except ChannelRejected as exc:
        raise _rejected(exc) from None
    await store(hub, messages)
    return web.Response(status=200)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/webhooks/telegram/{channel}", telegram_webhook)
    router.add_post("/webhooks/slack/{channel}", slack_events)
    router.add_post("/webhooks/slack/{channel}/interactivity", slack_actions)
