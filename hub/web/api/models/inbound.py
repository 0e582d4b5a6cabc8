"""Shapes of the API channel's inbound endpoint. The body is the channel's wire format: the API
channel's adapter (channels/api/adapter.py) reads it; ``InboundMessage`` documents it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from hub.web.api.models.common import Answer, Id, Params


class ChannelName(Params):
    channel: Annotated[str, Field(description="name of a configured channel of kind api")]


class Sender(BaseModel):
    address: str = Field(min_length=1, max_length=320)
    name: str = Field("", max_length=300)


class InboundMessage(BaseModel):
    """A customer message posted by an integrating system. Other top-level keys are kept with the
    message as its raw payload."""

    model_config = ConfigDict(extra="allow")

    external_id: str = Field(
        min_length=1,
        max_length=200,
        description="the sender system's id; a repeat is answered as a duplicate",
    )
    sender: Sender = Field(alias="from")
    text: str = Field(min_length=1, description="at most max_text_bytes")
    thread_key: str = Field("", max_length=500)
    subject: str = Field("", max_length=500)


class IngestResult(Answer):
    message_id: Id
    conversation_id: Id
    customer_id: Id
    duplicate: bool
