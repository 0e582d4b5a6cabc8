"""What agents read about widget visitors."""

from __future__ import annotations

from urllib.parse import urlsplit

VISITOR_FROM = "Visitor from {where}"
VISITOR = "Chat visitor"
MAX_LABEL_CHARS = 80


def visitor_label(page: str, title: str) -> str:
    """How a visitor who has not given a name is shown: by their page's title, else its
    address without the query ("shop.example.com/pricing")."""
    parts = urlsplit(page)
    where = title.strip() or (parts.netloc + parts.path).rstrip("/")
    if not where:
        return VISITOR
    if len(where) > MAX_LABEL_CHARS:
        where = where[: MAX_LABEL_CHARS - 1] + "…"
    return VISITOR_FROM.format(where=where)


def is_visitor_label(name: str) -> bool:
    return name == VISITOR or name.startswith(VISITOR_FROM.format(where=""))
