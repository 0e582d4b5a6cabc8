"""The API channel: systems post customer messages as JSON; agent replies go back as HMAC-signed
JSON to the channel's callback URL, over connections the hub's injected socket factory opens
(channels/outgoing.py): a callback to an address the hub may not reach fails for good, naming
the address."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp
from pydantic import Field, ValidationInfo, field_validator

from channels import outgoing, strict_json
from channels.base import (
    ChannelRejected,
    DeliveryResult,
    IdentityKind,
    InboundMessage,
    InboundRequest,
    OutboundMessage,
    Party,
)
from channels.config import ChannelConfig
from channels.validation import clean_line, normalize_email

SIGNATURE_HEADER = "X-Relaydesk-Signature"
TIMESTAMP_HEADER = "X-Relaydesk-Timestamp"


class ApiChannelConfig(ChannelConfig):
    token: str = Field(min_length=16)
    callback_url: str = ""
    signing_secret: str = Field("", description="HMAC key for callbacks")
    identity_kind: IdentityKind = IdentityKind.EMAIL
    max_text_bytes: int = Field(64 * 1024, ge=1)
    timeout_seconds: float = Field(10.0, gt=0)

    @field_validator("callback_url")
    @classmethod
    def _callback_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("signing_secret")
    @classmethod
    def _signing_secret(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("callback_url") and not value:
            raise ValueError("is required when callback_url is set (callbacks are signed)")
        return value

    def recipient_kind(self) -> IdentityKind:
        return self.identity_kind

    def delivery_problem(self) -> str | None:
        return None if self.callback_url else "has no callback_url to post replies to"

    def outgoing_urls(self) -> Mapping[str, str]:
        return {"callback_url": self.callback_url} if self.callback_url else {}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _bad(field: str, problem: str) -> ChannelRejected:
    return ChannelRejected(422, "invalid_field", f"{field}: {problem}", {field: problem})


def _string(
    payload: dict[str, Any], field: str, *, required: bool, limit: int, prefix: str = ""
) -> str | None:
    value = payload.get(field)
    if value is None:
        if required:
            raise _bad(prefix + field, "is required")
        return None
    if not isinstance(value, str):
        raise _bad(prefix + field, "must be a string")
    if len(value) > limit:
        raise _bad(prefix + field, f"is longer than {limit} characters")
    return value


def unstorable(payload: Any) -> str | None:
    """The path of the first string (key or value) that no database can store as text: one with
    a NUL character or an unpaired surrogate (JSON allows both as escapes)."""
    pending: list[tuple[str, Any]] = [("", payload)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                inner = f"{path}.{key}" if path else str(key)
                pending.append((inner, key))
                pending.append((inner, item))
        elif isinstance(value, list):
            pending.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
        elif isinstance(value, str):
            if "\x00" in value:
                return path
            try:
                value.encode()
            except UnicodeEncodeError:
                return path
    return None


class ApiChannel:
    def __init__(self, name: str, config: ApiChannelConfig) -> None:
        self.name = name
        self.config = config
        self._session: aiohttp.ClientSession | None = None
        self._socket_factory: outgoing.SocketFactory | None = None

    def use_socket_factory(self, factory: outgoing.SocketFactory) -> None:
        """Open every callback connection through ``factory`` (the hub's outgoing check)."""
        self._socket_factory = factory

    def authorize(self, headers: Mapping[str, str]) -> None:
        """Check the bearer token; the web layer calls this before it reads the body, so a
        wrong token is refused as such whatever the body holds."""
        header = headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        expected = self.config.token.encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
            raise ChannelRejected(401, "unauthorized", "missing or wrong bearer token")

    def parse(self, request: InboundRequest) -> list[InboundMessage]:
        self.authorize(request.headers)
        try:
            payload = strict_json.loads(request.body)
        except strict_json.JsonRefused as exc:
            raise ChannelRejected(400, "invalid_json", f"body is not valid JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise ChannelRejected(400, "invalid_json", "body must be a JSON object")
        bad_text = unstorable(payload)
        if bad_text is not None:
            raise _bad(bad_text, "must not contain NUL characters or unpaired surrogates")
        external_id = _string(payload, "external_id", required=True, limit=200) or ""
        if not external_id.strip():
            raise _bad("external_id", "must not be empty")
        sender = payload.get("from")
        if not isinstance(sender, dict):
            raise _bad("from", "is required and must be an object with address and name")
        address = _string(sender, "address", required=True, limit=320, prefix="from.") or ""
        if self.config.identity_kind is IdentityKind.EMAIL:
            normalized = normalize_email(address)
            if normalized is None:
                raise _bad("from.address", "is not a valid email address")
            address = normalized
        else:
            address = address.strip()
            if not address:
                raise _bad("from.address", "must not be empty")
        name = _string(sender, "name", required=False, limit=300, prefix="from.")
        text = _string(payload, "text", required=True, limit=self.config.max_text_bytes) or ""
        if len(text.encode()) > self.config.max_text_bytes:
            raise _bad("text", f"is larger than {self.config.max_text_bytes} bytes")
        if not text.strip():
            raise _bad("text", "must not be empty")
        thread_key = _string(payload, "thread_key", required=False, limit=500)
        subject = _string(payload, "subject", required=False, limit=500)
        return [
            InboundMessage(
                channel=self.name,
                external_id=external_id.strip(),
                sender=Party(self.config.identity_kind, address, clean_line(name or "", 300)),
                text=text,
                subject=clean_line(subject, 500) if subject else None,
                thread_key=thread_key,
                received_at=datetime.now(UTC),
                raw=payload,
            )
        ]

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        if not self.config.callback_url:
            return DeliveryResult.failed(
                f"channel {self.name} has no callback_url configured", permanent=True
            )
        payload: dict[str, Any] = {
            "message_id": message.message_id,
            "conversation_id": message.conversation_id,
            "thread_key": message.thread_key,
            "to": {"address": message.recipient.address, "name": message.recipient.name},
            "subject": message.subject,
            "text": message.text,
            "automated": message.automated,
        }
        files = [a for a in message.attachments if a.content is not None]
        if files:  # inline, so the receiver needs no token to fetch them
            payload["attachments"] = [
                {
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "size": a.size,
                    "content_base64": base64.b64encode(a.content or b"").decode("ascii"),
                }
                for a in files
            ]
        body = json.dumps(payload).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.config.signing_secret, timestamp, body),
            "Idempotency-Key": f"relaydesk-{message.message_id}",
        }
        if self._session is None:
            await self.start()
        assert self._session is not None
        try:
            async with self._session.post(
                self.config.callback_url, data=body, headers=headers
            ) as response:
                if 200 <= response.status < 300:
                    return DeliveryResult.sent(f"relaydesk-{message.message_id}")
                error = f"callback answered HTTP {response.status}"
                if response.status == 429 or response.status >= 500 or response.status == 408:
                    retry_after = response.headers.get("Retry-After")
                    delay = float(retry_after) if retry_after and retry_after.isdigit() else None
                    return DeliveryResult.failed(error, retry_after=delay)
                return DeliveryResult.failed(error, permanent=True)
        except (aiohttp.ClientError, TimeoutError) as exc:
            refused = outgoing.refusal(exc)
            if refused is not None:  # the same address on every try
                return DeliveryResult.failed(f"callback not sent: {refused}", permanent=True)
            return DeliveryResult.failed(f"callback unreachable: {exc or type(exc).__name__}")

    async def start(self) -> None:
        if self._session is None:
            self._session = outgoing.session(self.config.timeout_seconds, self._socket_factory)

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
