"""Shapes of the privacy API: the answer to an erase."""

from __future__ import annotations

from pydantic import Field

from hub.web.api.models.common import Answer, Id, Timestamp


class ErasureAnswer(Answer):
    customer_id: Id
    erased_at: Timestamp
    already_erased: bool = Field(description="erased before: this call changed nothing")
    counts: dict[str, int] = Field(
        description="how much was anonymised or deleted (customers, identities, conversations, "
        "messages, attachments)"
    )
