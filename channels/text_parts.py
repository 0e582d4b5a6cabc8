"""Long texts cut into the parts a provider takes (Telegram's 4096 characters a message,
Slack's 3000 a section): at a line break, else at a space, where one falls in the second half of
the allowance, else hard at the limit."""

from __future__ import annotations


def split_text(text: str, limit: int) -> list[str]:
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = max(rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit))
        cut = cut if cut > limit // 2 else limit
        parts.append(rest[:cut])
        rest = rest[cut:].lstrip("\n ")
    if rest.strip():
        parts.append(rest)
    return parts
