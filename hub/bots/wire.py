"""The wire formats bots speak. Our own webhook format: the hub POSTs an event
``{"event", "bot", "conversation": {"id", "channel", "state"}, "message"?, "button"?,
"handoff"?, "sent_at"}``; the bot may answer ``{"messages": [message…], "handoff": bool,
"reason"?}`` where a message is ``{"text", "buttons", "image"?}`` or a card ``{"card": {"title",
"text", "image", "buttons"}}``. Rasa REST: ``{"sender", "message", "metadata"}`` to
``/webhooks/rest/webhook``, answered by a list of ``{"text", "buttons": [{"title",
"payload"}], "image"?, "attachment"?, "custom"?}`` (``{"custom": {"handoff": true}}`` hands
over, ``{"custom": {"card": {…}}}`` is a card). Everything is checked before anything is sent:
a reply beyond the limits is refused whole (``ReplyProblem`` names the field)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_MESSAGES = 20
MAX_BUTTONS = 10
MAX_TEXT = 4096
MAX_TITLE = 64
MAX_CARD_TITLE = 256
MAX_URL = 2000
LINK = ("https://", "http://")


class ReplyProblem(ValueError):
    """A bot reply that cannot be delivered: ``field`` names the part, the message the problem."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field


@dataclass(frozen=True, slots=True)
class Button:
    title: str
    payload: str | None = None  # a quick reply: pressed, it comes back as button.pressed
    url: str | None = None  # a link button


@dataclass(frozen=True, slots=True)
class RichMessage:
    """Text and buttons; a card adds a ``title`` and/or an ``image`` (an http(s) URL). An image
    alone is a message with only ``image``."""

    text: str
    buttons: tuple[Button, ...] = ()
    title: str | None = None
    image: str | None = None

    @property
    def card(self) -> dict[str, str] | None:
        """The card part as stored with the message (``raw.card``), None for plain text."""
        if self.title is None and self.image is None:
            return None
        return {k: v for k, v in (("title", self.title), ("image", self.image)) if v}


@dataclass(frozen=True, slots=True)
class BotReply:
    messages: tuple[RichMessage, ...] = ()
    handoff: bool = False
    reason: str | None = None
    understood: bool = True  # False: the bot's fallback ("did not understand"), see progress.py


def _button(raw: Any, where: str) -> Button:
    if not isinstance(raw, Mapping):
        raise ReplyProblem(where, "a button is an object with a title")
    title, payload, url = raw.get("title"), raw.get("payload"), raw.get("url")
    if not isinstance(title, str) or not title.strip():
        raise ReplyProblem(f"{where}.title", "a button needs a title")
    if len(title) > MAX_TITLE:
        raise ReplyProblem(f"{where}.title", f"longer than {MAX_TITLE} characters")
    unknown = set(raw) - {"title", "payload", "url", "type"}
    if unknown:
        raise ReplyProblem(f"{where}.{sorted(unknown)[0]}", "unknown element")
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        return Button(title.strip(), url=url)
    if url is not None:
        raise ReplyProblem(f"{where}.url", "a link button needs an http(s) URL")
    if not isinstance(payload, str) or not payload:
        payload = title.strip()
    return Button(title.strip(), payload=payload[:MAX_TITLE])


def _image(raw: Any, where: str) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.startswith(LINK) or any(c.isspace() for c in raw):
        raise ReplyProblem(where, "an image is an http(s) URL")
    if len(raw) > MAX_URL:
        raise ReplyProblem(where, f"longer than {MAX_URL} characters")
    return raw


def _card(raw: Any, where: str) -> dict[str, Any]:
    """A card's parts as a message's: its text and buttons, plus title and image."""
    if not isinstance(raw, Mapping):
        raise ReplyProblem(where, "a card is an object with a title, text, image or buttons")
    unknown = set(raw) - {"title", "text", "image", "buttons"}
    if unknown:
        raise ReplyProblem(f"{where}.{sorted(unknown)[0]}", "unknown element")
    title = raw.get("title")
    if title is not None and not isinstance(title, str):
        raise ReplyProblem(f"{where}.title", "a card's title is a string")
    if title is not None and len(title) > MAX_CARD_TITLE:
        raise ReplyProblem(f"{where}.title", f"longer than {MAX_CARD_TITLE} characters")
    return {"title": (title or "").strip() or None, **{k: raw[k] for k in raw if k != "title"}}


def message(raw: Any, where: str) -> RichMessage | None:
    """One message of a reply; None for an item that carries nothing to show."""
    if not isinstance(raw, Mapping):
        raise ReplyProblem(where, "a message is an object")
    unknown = set(raw) - {"text", "buttons", "image", "card"}
    if unknown:
        raise ReplyProblem(f"{where}.{sorted(unknown)[0]}", "unknown element")
    title = None
    if "card" in raw:
        if set(raw) != {"card"}:
            extra = sorted(set(raw) - {"card"})[0]
            raise ReplyProblem(f"{where}.card", f"a card carries its own {extra}")
        where = f"{where}.card"
        raw = _card(raw["card"], where)
        title = raw.get("title")
    text = raw.get("text")
    buttons = raw.get("buttons") or []
    if text is not None and not isinstance(text, str):
        raise ReplyProblem(f"{where}.text", "text must be a string")
    if not isinstance(buttons, list):
        raise ReplyProblem(f"{where}.buttons", "buttons must be a list")
    if len(buttons) > MAX_BUTTONS:
        raise ReplyProblem(f"{where}.buttons", f"more than {MAX_BUTTONS} buttons")
    if text is not None and len(text) > MAX_TEXT:
        raise ReplyProblem(f"{where}.text", f"longer than {MAX_TEXT} characters")
    image = _image(raw.get("image"), f"{where}.image")
    parsed = tuple(_button(b, f"{where}.buttons[{i}]") for i, b in enumerate(buttons))
    if not (text or "").strip() and not parsed and not title and not image:
        return None
    return RichMessage((text or "").strip(), parsed, title, image)


def webhook_reply(body: Any) -> BotReply:
    if body is None or body == {}:
        return BotReply()
    if not isinstance(body, Mapping):
        raise ReplyProblem("body", "the answer is a JSON object")
    unknown = set(body) - {"messages", "handoff", "reason", "understood"}
    if unknown:
        raise ReplyProblem(sorted(unknown)[0], "unknown element")
    items = body.get("messages") or []
    if not isinstance(items, list) or len(items) > MAX_MESSAGES:
        raise ReplyProblem("messages", f"a list of at most {MAX_MESSAGES} messages")
    found = [message(item, f"messages[{i}]") for i, item in enumerate(items)]
    reason = body.get("reason")
    return BotReply(
        tuple(m for m in found if m is not None),
        body.get("handoff") is True,
        str(reason)[:300] if reason else None,
        body.get("understood") is not False,
    )


def _rasa_attachment(raw: Any) -> str | None:
    """The image URL of a Rasa ``attachment`` (a URL, or ``{"type": "image", "payload":
    {"src"}}`` as Rasa's channels send it); None for other attachments, which are left out."""
    if isinstance(raw, str) and raw.startswith(LINK):
        return raw
    if isinstance(raw, Mapping) and raw.get("type") == "image":
        payload = raw.get("payload")
        src = payload.get("src") or payload.get("url") if isinstance(payload, Mapping) else None
        return src if isinstance(src, str) else None
    return None


def _rasa_item(item: Mapping[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in item.items() if k in ("text", "buttons", "image")}
    custom = item.get("custom")
    if isinstance(custom, Mapping) and "card" in custom:
        if shown:
            raise ReplyProblem("custom.card", "a card carries its own text, buttons and image")
        return {"card": custom["card"]}
    if "image" not in shown and item.get("attachment") is not None:
        found = _rasa_attachment(item.get("attachment"))
        if found is not None:
            shown["image"] = found
    return shown


def rasa_reply(body: Any) -> BotReply:
    if not isinstance(body, list):
        raise ReplyProblem("body", "a Rasa REST answer is a JSON list")
    found: list[RichMessage] = []
    handoff, understood = False, True
    for index, item in enumerate(body[:MAX_MESSAGES]):
        if not isinstance(item, Mapping):
            continue
        custom = item.get("custom")
        if isinstance(custom, Mapping) and custom.get("handoff") is True:
            handoff = True
        understood = understood and not rasa_fallback(item)
        try:
            shown = _rasa_item(item)
        except ReplyProblem as exc:
            raise ReplyProblem(f"[{index}].{exc.field}", str(exc)) from None
        one = message(shown, f"[{index}]") if shown else None
        if one is not None:
            found.append(one)
    return BotReply(tuple(found), handoff, understood=understood)


RASA_FALLBACKS = frozenset({"nlu_fallback", "utter_default", "action_default_fallback"})


def rasa_fallback(item: Mapping[str, Any]) -> bool:
    """Rasa's "did not understand": the ``nlu_fallback`` intent or the ``utter_default``
    response, named by the item (``response``/``template``/``utter_action``) or in its
    ``custom`` (``intent``, ``response``, or ``"understood": false``)."""
    custom = item.get("custom")
    named = [item.get(k) for k in ("response", "template", "utter_action")]
    if isinstance(custom, Mapping):
        if custom.get("understood") is False:
            return True
        named += [custom.get("intent"), custom.get("response")]
    return any(isinstance(n, str) and n in RASA_FALLBACKS for n in named)


def rasa_body(sender: str, text: str, conversation_id: int, channel: str) -> dict[str, Any]:
    return {
        "sender": sender,
        "message": text,
        "metadata": {"conversation_id": conversation_id, "channel": channel},
    }
