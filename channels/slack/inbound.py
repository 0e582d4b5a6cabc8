"""Events API deliveries through a slack-bolt ``AsyncApp``: Bolt checks the v0 signature (and
its 5-minute window), answers ``url_verification`` and ``ssl_check`` and drops this app's own
events; every other verified delivery goes to a last middleware that translates it and hands
the messages to the hub's sink. Bolt runs with ``process_before_response``, so the answer to
Slack is made only after the sink returned, that is after the messages were committed."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncBoltRequest
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from channels import strict_json
from channels.base import ChannelRejected, InboundMessage, InboundRequest
from channels.slack.actions import presses
from channels.slack.config import SlackChannelConfig
from channels.slack.events import translate

Sink = Callable[[list[InboundMessage]], Awaitable[None]]
REPLAY_WINDOW = 5 * 60  # seconds a signed request stays acceptable
DELIVERY = "relaydesk_delivery"
BAD_SIGNATURE = (
    "X-Slack-Signature does not match the body and signing secret, or "
    "X-Slack-Request-Timestamp is missing or more than 5 minutes off"
)


@dataclass(frozen=True, slots=True)
class SlackAnswer:
    status: int
    body: str
    content_type: str
    messages: int


@dataclass
class _Delivery:
    """One request's way to the hub, and what came back."""

    sink: Sink
    handled: bool = False
    stored: int = 0
    error: Exception | None = None


class EventsEndpoint:
    def __init__(self, name: str, config: SlackChannelConfig) -> None:
        self.name = name
        self.config = config
        self.secret = config.signing_secret.encode()

        # Bolt passes listener arguments by parameter name, so these are plain functions.
        async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
            # From the config, without an auth.test call: if Slack's Web API is down, events
            # must still be stored rather than answered 200 and lost.
            return AuthorizeResult(
                enterprise_id=enterprise_id,
                team_id=team_id,
                bot_token=config.bot_token,
                bot_user_id=config.bot_user_id or None,
            )

        async def to_hub(body: dict[str, Any], context: AsyncBoltContext) -> BoltResponse:
            delivery: _Delivery = context[DELIVERY]
            delivery.handled = True
            try:
                if body.get("type") == "block_actions":  # interactivity sent to this URL
                    messages = presses(name, body)
                else:
                    messages = translate(name, config, body)
                await delivery.sink(messages)
                delivery.stored = len(messages)
            except Exception as exc:  # re-raised to the caller once Bolt has returned
                delivery.error = exc
            return BoltResponse(status=200, body="")

        self.app = AsyncApp(
            name=f"relaydesk-{name}",
            signing_secret=config.signing_secret,
            # Only for Bolt's request context; the token comes from ``authorize``. Replies go
            # through the adapter's own client.
            client=AsyncWebClient(base_url=config.base_url),
            authorize=authorize,
            process_before_response=True,
        )
        self.app.middleware(to_hub)

    def verify(self, request: InboundRequest) -> None:
        """Slack's v0 signature over the raw bytes (whatever they are), compared in constant
        time, with a timestamp at most 5 minutes off; nothing of the body is read before."""
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= REPLAY_WINDOW
        base = b"v0:" + timestamp.encode() + b":" + request.body
        expected = "v0=" + hmac.new(self.secret, base, hashlib.sha256).hexdigest()
        if not fresh or not hmac.compare_digest(expected.encode(), signature.encode()):
            raise ChannelRejected(401, "invalid_signature", BAD_SIGNATURE)

    def decode(self, request: InboundRequest) -> Mapping[str, Any]:
        """The verified JSON envelope (for callers that do not go through Bolt)."""
        self.verify(request)
        try:
            payload = strict_json.loads(request.body)
        except strict_json.JsonRefused as exc:
            raise ChannelRejected(400, "invalid_json", f"body is not valid JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise ChannelRejected(400, "invalid_json", "body must be a JSON object")
        return payload

    def check_body(self, request: InboundRequest) -> None:
        """Signature first, then the body as Bolt will read it (JSON, or a form whose
        ``payload`` is JSON) through the strict reader, so Bolt never meets a number, a NaN or
        a nesting it would crash on."""
        self.verify(request)
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise ChannelRejected(400, "invalid_json", "body is not UTF-8 text") from None
        content_type = request.headers.get("Content-Type", "")
        if content_type.startswith("application/json") or text.lstrip().startswith("{"):
            documents = [text]
        else:
            documents = parse_qs(text).get("payload", [])[:1]
        for document in documents:
            try:
                strict_json.loads(document)
            except strict_json.JsonRefused as exc:
                message = f"body is not valid JSON: {exc.problem}"
                raise ChannelRejected(400, "invalid_json", message) from None

    async def handle(self, request: InboundRequest, sink: Sink) -> SlackAnswer:
        delivery = _Delivery(sink)
        self.check_body(request)
        try:
            bolt_request = AsyncBoltRequest(
                body=request.body.decode("utf-8"),
                query=dict(request.query),
                headers=dict(request.headers),
                context={DELIVERY: delivery},
            )
        except (UnicodeDecodeError, ValueError, TypeError, AttributeError):
            self.decode(request)  # raises: bad signature first, else the JSON problem
            raise ChannelRejected(400, "invalid_json", "body must be a JSON object") from None
        response = await self.app.async_dispatch(bolt_request)
        if delivery.error is not None:
            raise delivery.error
        if response.status == 401:
            raise ChannelRejected(401, "invalid_signature", BAD_SIGNATURE)
        if response.status >= 400 and not delivery.handled:
            raise ChannelRejected(
                response.status, "rejected", f"Slack request rejected: {response.body or '-'}"
            )
        content_type = response.headers.get("content-type", ["text/plain"])[0]
        return SlackAnswer(
            response.status, response.body, content_type.split(";")[0], delivery.stored
        )
