"""Typed identifiers used across the hub; plain ints at runtime, distinct types for mypy."""

from __future__ import annotations

from typing import NewType

CustomerId = NewType("CustomerId", int)
IdentityId = NewType("IdentityId", int)
ConversationId = NewType("ConversationId", int)
MessageId = NewType("MessageId", int)
TicketId = NewType("TicketId", int)
AgentId = NewType("AgentId", int)
TeamId = NewType("TeamId", int)
ChannelName = NewType("ChannelName", str)
