"""Templates as the admin console edits them: acknowledgements, follow-ups and the satisfaction
survey (files under templates/followups, overridden per channel and locale by saved rows), each
checked in the sandboxed Jinja2 environment with sample data before it is saved (a template that
does not render is never saved; the problem names the part and line), audited in area
"templates". Canned responses are edited here too (hub/db/inbox_models.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.audit import record_change
from hub.core.tickets import next_number
from hub.db.routing_models import FollowupTemplate
from hub.outbound.templates import (
    GENERATION_COUNTER,
    PARTS,
    Source,
    TemplateProblem,
    TemplateRenderer,
    forget_saved,
)

KINDS = {
    "ack": "Acknowledgement",
    "ack_outside_hours": "Acknowledgement outside business hours",
    "csat_survey": "Satisfaction survey (CSAT)",
    "reminder": "Follow-up: reminder",
    "auto_resolved": "Follow-up: resolved for lack of answer",
}
FILES_ONLY = {"agent_reply"}  # the reply wrapper is read from files only


class TemplateRefused(ValueError):
    def __init__(self, problem: TemplateProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    name: str
    kind: str
    variants: tuple[str, ...]  # "channel/locale" of the saved variants ("any/any": the base)


def _file_names(directory: Path) -> set[str]:
    folder = directory / "followups"
    return {path.name.split(".")[0] for path in folder.glob("*.j2")} if folder.is_dir() else set()


async def catalog(session: AsyncSession, directory: Path) -> list[TemplateInfo]:
    saved: dict[str, set[str]] = {}
    for name, channel, locale in await session.execute(
        select(FollowupTemplate.name, FollowupTemplate.channel, FollowupTemplate.locale).distinct()
    ):
        saved.setdefault(name, set()).add(f"{channel or 'any'}/{locale or 'any'}")
    names = (_file_names(directory) | set(saved)) - FILES_ONLY
    order = list(KINDS)
    ranked = sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))
    return [
        TemplateInfo(
            name, KINDS.get(name, "Rule or follow-up template"), tuple(sorted(saved.get(name, ())))
        )
        for name in ranked
    ]


def _from_files(directory: Path, name: str, channel: str, locale: str) -> dict[str, str]:
    """Each part from the most specific file, as the renderer would pick it."""
    pairs = ((channel, locale), (channel, ""), ("", locale), ("", ""))
    middles = dict.fromkeys("".join(f".{piece}" for piece in pair if piece) for pair in pairs)
    parts: dict[str, str] = {}
    for part in PARTS:
        for middle in middles:
            path = directory / "followups" / f"{name}{middle}.{part}.j2"
            if path.is_file():
                parts[part] = path.read_text(encoding="utf-8")
                break
    return parts


async def load_variant(
    session: AsyncSession, directory: Path, name: str, channel: str, locale: str
) -> tuple[dict[str, str], bool]:
    """The parts of one variant and whether they are saved (else from the files)."""
    rows = (
        await session.scalars(
            select(FollowupTemplate).where(
                FollowupTemplate.name == name,
                FollowupTemplate.channel == channel,
                FollowupTemplate.locale == locale,
            )
        )
    ).all()
    if rows:
        return {row.part: row.source for row in rows}, True
    return _from_files(directory, name, channel, locale), False


async def save_variant(
    session: AsyncSession,
    renderer: TemplateRenderer,
    name: str,
    source: Source,
    parts: dict[str, str],
    actor_id: int,
    now: datetime,
) -> None:
    """Check and save one variant (in the caller's transaction); raises ``TemplateRefused``."""
    problem = renderer.problem(parts, name, source)
    if problem is not None:
        raise TemplateRefused(problem)
    old, saved = await load_variant(
        session, renderer.directory, name, source.channel, source.locale
    )
    await session.execute(
        delete(FollowupTemplate).where(
            FollowupTemplate.name == name,
            FollowupTemplate.channel == source.channel,
            FollowupTemplate.locale == source.locale,
        )
    )
    # Every process reads the rows again (the counter moves), and so does this transaction.
    await next_number(session, GENERATION_COUNTER)
    forget_saved(session)
    for part, text in parts.items():
        session.add(
            FollowupTemplate(
                name=name,
                channel=source.channel,
                locale=source.locale,
                part=part,
                source=text,
                saved_by=actor_id,
                updated_at=now,
            )
        )
    variant = f"{name} ({source.channel or 'any channel'}, {source.locale or 'any locale'})"
    await record_change(
        session,
        actor_id=actor_id,
        area="templates",
        action="change" if saved else "create",
        target=variant,
        old=old if saved else {"from files": old},
        new=parts,
        at=now,
    )
