"""The web form channel: a public contact form served by the hub. Replies go out through the
channel named in ``reply_via`` (an email channel), since a form cannot answer by itself."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from pydantic import Field, model_validator

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

FIELDS = ("name", "email", "subject", "message")
# Control characters a browser never sends in a textarea (tab and newline are kept).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def message_text(value: str) -> str:
    """The message as stored: newlines normalized, stray control characters dropped."""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()


class FormChannelConfig(ChannelConfig):
    intro: str = "Tell us what you need and we will answer by email."
    success_message: str = "Thanks, we have your message and will answer by email."
    max_message_chars: int = Field(10_000, ge=10)

    @model_validator(mode="after")
    def _needs_reply_route(self) -> FormChannelConfig:
        if not self.reply_via:
            raise ValueError("reply_via: a form needs a channel to reply through (an email one)")
        return self


class FormChannel:
    def __init__(self, name: str, config: FormChannelConfig) -> None:
        self.name = name
        self.config = config

    def validate(self, form: dict[str, str]) -> dict[str, str]:
        """Field name -> problem, for every field that is not acceptable."""
        errors: dict[str, str] = {}
        if not clean_line(form.get("name", ""), 300):
            errors["name"] = "Please tell us your name."
        if normalize_email(form.get("email", "")) is None:
            errors["email"] = "Please enter a valid email address."
        if len(form.get("subject", "")) > 300:
            errors["subject"] = "The subject is too long (300 characters at most)."
        message = message_text(form.get("message", ""))
        if not message:
            errors["message"] = "Please write your message."
        elif len(message) > self.config.max_message_chars:
            limit = self.config.max_message_chars
            errors["message"] = f"The message is too long ({limit} characters at most)."
        return errors

    def parse(self, request: InboundRequest) -> list[InboundMessage]:
        form = {key: request.form.get(key, "") for key in (*FIELDS, "submission_id")}
        errors = self.validate(form)
        if errors:
            raise ChannelRejected(422, "invalid_form", "the form has errors", errors)
        email = normalize_email(form["email"])
        assert email is not None
        submission = clean_line(form["submission_id"], 64) or uuid.uuid4().hex
        name, subject = clean_line(form["name"], 300), clean_line(form["subject"], 300)
        text = message_text(form["message"])
        return [
            InboundMessage(
                channel=self.name,
                external_id=f"form:{submission}",
                sender=Party(IdentityKind.EMAIL, email, name),
                subject=subject or None,
                text=text,
                received_at=datetime.now(UTC),
                raw={"name": name, "email": email, "subject": subject, "message": text}
                | {"remote": request.remote},
            )
        ]

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        return DeliveryResult.failed(
            f"form channel {self.name} cannot send; replies go through reply_via", permanent=True
        )

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
