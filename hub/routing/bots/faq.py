"""The FAQ bot: questions matched against a knowledge base with rapidfuzz; answered above the
confidence threshold, handed to a person below it or when the customer asks for one."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.routing import FaqSettings
from hub.db.routing_models import FaqEntry
from hub.routing.rules import normalize


@dataclass(frozen=True, slots=True)
class FaqAnswer:
    entry_id: int | None
    answer: str | None
    score: float
    handoff: bool
    reason: str


@dataclass(frozen=True, slots=True)
class _Entry:
    id: int
    key: str
    answer: str
    locale: str


class FaqBot:
    def __init__(self, settings: FaqSettings) -> None:
        self.settings = settings
        self._phrases = [normalize(p) for p in settings.handoff_phrases]
        self._version: tuple[int, int] = (-1, -1)
        self._entries: list[_Entry] = []

    async def entries(self, session: AsyncSession) -> list[_Entry]:
        """The knowledge base, reloaded when entries were added or removed."""
        count, top = (
            await session.execute(select(func.count(FaqEntry.id), func.max(FaqEntry.id)))
        ).one()
        version = (int(count), int(top or 0))
        if version != self._version:
            rows = (await session.scalars(select(FaqEntry).order_by(FaqEntry.id))).all()
            self._entries = [_Entry(r.id, normalize(r.question), r.answer, r.locale) for r in rows]
            self._version = version
        return self._entries

    def wants_person(self, text: str) -> bool:
        key = normalize(text)
        return any(fuzz.partial_ratio(phrase, key) >= 90 for phrase in self._phrases)

    def match(self, text: str, entries: list[_Entry], locale: str = "") -> FaqAnswer:
        if self.wants_person(text):
            return FaqAnswer(None, None, 0.0, True, "the customer asked for a person")
        language = locale.split("-")[0].lower()
        pool = [e for e in entries if not e.locale or e.locale == language] or entries
        found = process.extractOne(
            normalize(text), [e.key for e in pool], scorer=fuzz.WRatio, score_cutoff=0
        )
        if found is None:
            return FaqAnswer(None, None, 0.0, True, "the knowledge base is empty")
        _, score, index = found
        entry = pool[index]
        if score < self.settings.threshold:
            reason = f"best match scored {score:.1f} (threshold {self.settings.threshold:.0f})"
            return FaqAnswer(entry.id, None, round(score, 1), True, reason)
        return FaqAnswer(entry.id, entry.answer, round(score, 1), False, "matched")
