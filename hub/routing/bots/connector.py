"""External bot connector: inbound messages are forwarded to a Rasa-style REST webhook
(``POST {"sender", "message", "metadata"}`` answered by a list of ``{"text"}`` and
``{"custom": {...}}`` items); the replies are relayed to the customer, and a ``custom`` item with
``"handoff": true`` hands the conversation to a person. The HTTP call runs outside any
transaction (the job's prepare step); relaying happens in the job's single commit.

Every connection is opened through the hub's outgoing-address check (hub/platform/targets.py,
``[outgoing]``): a connector whose URL is, or resolves to, an address the hub may not reach is
not called; the conversation goes to a person at once with the refusal as the reason, and the
refusal is logged (the hub also warns at start-up: ``Targets.configured_refusals``)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

from channels import outgoing
from hub.config.routing import ConnectorSettings
from hub.platform.jobs import JobView
from hub.platform.queue import RetryLater
from hub.platform.targets import Targets

log = logging.getLogger(__name__)

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
    def __init__(self, name: str, settings: ConnectorSettings, targets: Targets) -> None:
        self.name = name
        self.settings = settings
        self.targets = targets

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
        session = outgoing.session(self.settings.timeout_seconds, self.targets.socket_for)
        try:
            async with (
                session as client,
                client.post(self.settings.url, json=body) as response,
            ):
                if response.status >= 500 or response.status == 429:
                    raise RetryLater(f"bot answered HTTP {response.status}")
                if response.status >= 400:
                    return BotReply((), True, f"bot answered HTTP {response.status}")
                raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            refused = outgoing.refusal(exc)
            if refused is not None:  # the same address next time: no retry
                log.warning("bot connector %s not called: %s", self.name, refused)
                return BotReply((), True, f"bot not called: {refused}")
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
