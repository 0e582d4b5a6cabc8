"""An example Relaydesk bot (webhook format, see docs/bots.md): it verifies every event's
signature, echoes the customer's words with two quick replies and a link, answers a press, and
asks for a person when the customer presses "Talk to a person".

    RELAYDESK_BOT_SECRET=... python examples/echo_bot.py --port 8088

Register it as a ``webhook`` bot with the URL ``http://127.0.0.1:8088/events``. It depends on
aiohttp and the standard library only, so a bot author can copy it as it is."""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import time
from typing import Any

from aiohttp import web

REPLAY_WINDOW = 300  # seconds; the hub signs with its current time
SECRET_KEY = web.AppKey("secret", str)


def verify(secret: str, timestamp: str | None, signature: str | None, body: bytes) -> str | None:
    """None when the event comes from the hub and is fresh, else what is wrong.

    The signature is ``sha256=`` + hex HMAC-SHA256 of ``timestamp + "." + body`` (the raw
    bytes, before any JSON parsing) with the bot's secret. Compare with ``hmac.compare_digest``
    (constant time: an ordinary ``==`` leaks how many leading characters matched) and refuse
    timestamps outside the replay window, so a captured event cannot be sent again later."""
    if not timestamp or not signature:
        return "missing X-Relaydesk-Timestamp or X-Relaydesk-Signature"
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return "malformed timestamp"
    if abs(time.time() - int(timestamp)) > REPLAY_WINDOW:
        return "stale timestamp"
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    if not hmac.compare_digest(("sha256=" + mac.hexdigest()).encode(), signature.encode()):
        return "bad signature"
    return None


def answer(event: dict[str, Any]) -> dict[str, Any]:
    """What the bot says to one event (an empty object says nothing)."""
    kind = event.get("event")
    if kind == "button.pressed":
        if event["button"]["payload"] == "person":
            return {"messages": [{"text": "Connecting you to a colleague."}], "handoff": True,
                    "reason": "customer pressed the button"}  # fmt: skip
        return {"messages": [{"text": f"You chose {event['button']['payload']}."}]}
    if kind == "message.created":
        text = event["message"]["text"]
        return {
            "messages": [
                {
                    "text": f"You said: {text}",
                    "buttons": [
                        {"title": "Thanks, that's all", "payload": "done"},
                        {"title": "Talk to a person", "payload": "person"},
                        {"title": "Help centre", "url": "https://example.com/help"},
                    ],
                }
            ]
        }
    return {}  # conversation.opened, conversation.handoff, conversation.handback


async def events(request: web.Request) -> web.Response:
    body = await request.read()
    problem = verify(
        request.app[SECRET_KEY],
        request.headers.get("X-Relaydesk-Timestamp"),
        request.headers.get("X-Relaydesk-Signature"),
        body,
    )
    if problem is not None:
        return web.json_response({"error": problem}, status=401)
    return web.json_response(answer(json.loads(body)))


def make_app(secret: str) -> web.Application:
    app = web.Application()
    app[SECRET_KEY] = secret
    app.router.add_post("/events", events)
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8088)
    args = parser.parse_args()
    web.run_app(make_app(os.environ["RELAYDESK_BOT_SECRET"]), host=args.host, port=args.port)
