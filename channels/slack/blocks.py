"""A bot's rich message as Slack Block Kit (https://api.slack.com/block-kit): the card's title
as a bold section, its image as an image block, the text in sections (3000 characters each:
longer text is split over several), and the buttons in one actions block — a quick reply
carries its payload as the button's ``value`` (pressed, it comes back as a ``block_actions``
interactivity request), a link button its ``url``. ``text`` stays the notification's fallback."""

from __future__ import annotations

from typing import Any

from channels import text_parts
from channels.base import OutboundMessage

MAX_SECTION = 3000  # a section's text
MAX_BUTTON_TEXT = 75  # a button's plain_text
MAX_ACTIONS = 25  # elements of an actions block
ACTION_PREFIX = "relaydesk_choice_"  # action_id of our quick replies (and link buttons)

Block = dict[str, Any]


def escape(text: str) -> str:
    """mrkdwn's three control characters (https://api.slack.com/reference/surfaces/formatting)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def split(text: str, limit: int = MAX_SECTION) -> list[str]:
    """A section holds at most 3000 characters."""
    return text_parts.split_text(text, limit)


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _plain(text: str) -> dict[str, Any]:
    cut = text if len(text) <= MAX_BUTTON_TEXT else text[: MAX_BUTTON_TEXT - 1] + "…"
    return {"type": "plain_text", "text": cut, "emoji": True}


def drawn(message: OutboundMessage) -> bool:
    """Whether the message needs blocks (buttons or a card), or is plain text."""
    return bool(message.choices or message.card)


def blocks(message: OutboundMessage) -> list[Block]:
    made: list[Block] = []
    card = message.card
    if card is not None and card.title:
        made.append(_section(f"*{escape(card.title)}*"))
    if card is not None and card.image:
        image: Block = {
            "type": "image",
            "image_url": card.image,
            "alt_text": (card.title or "image")[:2000],
        }
        made.append(image)
    made += [_section(escape(part)) for part in split(message.text.strip())]
    elements = []
    for index, choice in enumerate(message.choices[:MAX_ACTIONS]):
        button: Block = {
            "type": "button",
            "text": _plain(choice.title),
            "action_id": f"{ACTION_PREFIX}{index}",
        }
        if choice.url:
            button["url"] = choice.url
        else:
            button["value"] = choice.payload or choice.title
        elements.append(button)
    if elements:
        made.append({"type": "actions", "block_id": "relaydesk_choices", "elements": elements})
    return made


def fallback(message: OutboundMessage) -> str:
    """The ``text`` of a message with blocks: shown in notifications."""
    card = message.card
    words = message.text.strip() or (card.title if card and card.title else "")
    return words or ", ".join(choice.title for choice in message.choices) or "image"
