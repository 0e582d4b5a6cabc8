"""External bot connector: inbound messages are forwarded to a Rasa-style REST webhook
(``POST {"sender", "message", "metadata"}`` answered by a list of ``{"text"}`` and
``{"custom": {...}}`` items); the replies are relayed to the customer, and a ``custom`` item with
``"handoff": true`` hands the conversation to a person. The HTTP call runs outside any
transaction (the job's prepare step); relaying happens in the job's single commit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from hub.config.routing import ConnectorSettings
from hub.platform.jobs import JobView
from hub.platform.queue import RetryLater

MAX_REPLIES = 20


@dataclass(frozen=True, slots=True)
class BotReply:
    texts: tuple[str, ...]
    handoff: bool
    error: str | None = None


def parse_reply(body: Any) -> BotReply:
    if not isinstance(body, list):
        return BotReply((), True, "bot answered something other than a JSON list")
    texts: list[str] = []
    handoff = False
    for item in body[:MAX_REPLIES]:
        if not isinstance(item, dict):
            continue
        text = item.get("text")
        if isinstance(text, str) and text.strip():
            texts.append(text)
        custom = item.get("custom")
        if isinstance(custom, dict) and custom.get("handoff") is True:
            handoff = True
    return BotReply(tuple(texts), handoff)


class BotConnector:
    def __init__(self, name: str, settings: ConnectorSettings) -> None:
        self.name = name
        self.settings = settings

    async def ask(self, view: JobView) -> BotReply:
        """Forward one message; a network failure is retried, then handed to a person."""
        body = {
            "sender": str(view.payload["sender"]),
            "message": str(view.payload["text"]),
            "metadata": {
                "conversation_id": view.conversation_id,
                "channel": view.payload.get("channel"),
            },
        }
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_seconds)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as client,
                client.post(self.settings.url, json=body) as response,
            ):
                if response.status >= 500 or response.status == 429:
                    raise RetryLater(f"bot answered HTTP {response.status}")
                if response.status >= 400:
                    return BotReply((), True, f"bot answered HTTP {response.status}")
                raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            if view.attempts < 3:
                raise RetryLater(f"bot unreachable: {exc or type(exc).__name__}") from None
            return BotReply((), True, f"bot unreachable: {exc or type(exc).__name__}")
        except RetryLater:
            if view.attempts < 3:
                raise
            return BotReply((), True, "bot kept failing")
        try:
            return parse_reply(json.loads(raw or b"[]"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return BotReply((), True, "bot answered invalid JSON")
