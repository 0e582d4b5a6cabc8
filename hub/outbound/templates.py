"""Templates of outbound messages (acknowledgements, follow-ups, surveys, rule templates and the
agent reply wrapper) per channel and locale, from admin-saved rows first, then files under
``templates/followups``; rendered in Jinja2's immutable sandbox (admins edit them) with undefined
names an error.

For a part (``subject``, ``txt``, ``html``) the most specific of ``NAME.CHANNEL.LANG``,
``NAME.CHANNEL``, ``NAME.LANG`` and ``NAME`` wins; a saved template beats a file of the same
specificity. A failure names the template and the admin who saved it, so it is reported to
them and never sent to a customer."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    DictLoader,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    TemplateSyntaxError,
    select_autoescape,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.routing_models import FollowupTemplate

PARTS = ("subject", "txt", "html")
SAMPLE_CONTEXT: dict[str, Any] = {
    "customer": {"name": "Jane Cooper", "locale": "en"},
    "conversation": {"id": 42, "subject": "Printer on fire"},
    "ticket": {"number": 1042},
    "message": {"text": "My printer is on fire.", "subject": "Printer on fire"},
    "agent": {"name": "Alice Agent"},
    "channel": {"name": "mail", "title": "Support mailbox"},
    "instance_name": "Relaydesk",
    "text": "Unplug it and step away.",
    "survey": {"links": {str(n): f"https://example.com/csat/42/{n}?sig=x" for n in range(1, 6)}},
    "inside_hours": True,
}


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str | None


class TemplateFailure(Exception):
    def __init__(self, name: str, message: str, saved_by: int | None) -> None:
        super().__init__(f"template {name}: {message}")
        self.name = name
        self.saved_by = saved_by


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    channel: str = ""
    locale: str = ""


def _file_name(name: str, channel: str, language: str, part: str) -> str:
    middle = "".join(f".{piece}" for piece in (channel, language) if piece)
    return f"followups/{name}{middle}.{part}.j2"


def _chain(name: str, channel: str, language: str, part: str) -> list[str]:
    return [
        _file_name(name, channel, language, part),
        _file_name(name, channel, "", part),
        _file_name(name, "", language, part),
        _file_name(name, "", "", part),
    ]


def _environment(directory: Path, saved: dict[str, str]) -> ImmutableSandboxedEnvironment:
    loaders = [DictLoader(saved), FileSystemLoader(str(directory))]
    return ImmutableSandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class TemplateRenderer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._files = _environment(directory, {})

    async def saved(self, session: AsyncSession, name: str) -> tuple[dict[str, str], int | None]:
        rows = (
            await session.scalars(select(FollowupTemplate).where(FollowupTemplate.name == name))
        ).all()
        sources = {_file_name(r.name, r.channel, r.locale, r.part): r.source for r in rows}
        saver = max(rows, key=lambda r: r.updated_at).saved_by if rows else None
        return sources, saver

    async def render(
        self,
        session: AsyncSession,
        name: str,
        context: dict[str, Any],
        channel: str = "",
        locale: str = "en",
    ) -> Rendered:
        saved, saver = await self.saved(session, name)
        return self.render_with(saved, name, context, channel, locale, saver)

    def render_with(
        self,
        saved: dict[str, str],
        name: str,
        context: dict[str, Any],
        channel: str = "",
        locale: str = "en",
        saver: int | None = None,
    ) -> Rendered:
        environment = _environment(self.directory, saved) if saved else self._files
        language = (locale or "en").split("-")[0].lower()
        try:
            parts = {
                part: self._part(environment, name, channel, language, part, context)
                for part in PARTS
            }
        except TemplateFailure:
            raise
        except Exception as exc:
            raise TemplateFailure(name, f"{type(exc).__name__}: {exc}", saver) from exc
        if parts["txt"] is None:
            raise TemplateFailure(name, "no text part (NAME.txt.j2) found", saver)
        return Rendered(
            " ".join((parts["subject"] or "").split()), parts["txt"].strip() + "\n", parts["html"]
        )

    def _part(
        self,
        environment: ImmutableSandboxedEnvironment,
        name: str,
        channel: str,
        language: str,
        part: str,
        context: dict[str, Any],
    ) -> str | None:
        for candidate in _chain(name, channel, language, part):
            try:
                template = environment.get_template(candidate)
            except TemplateNotFound:
                continue
            return template.render(context)
        return None

    def check(self, sources: dict[str, str], name: str, source: Source) -> Rendered:
        """Compile and render drafts with sample data (preview, and the check before saving)."""
        drafts = {
            _file_name(name, source.channel, source.locale, part): text
            for part, text in sources.items()
        }
        return self.render_with(drafts, name, dict(SAMPLE_CONTEXT), source.channel, source.locale)

    def problem(self, sources: dict[str, str], name: str, source: Source) -> TemplateProblem | None:
        """None when the drafts render with sample data; else the part, line and message of
        the first failure (for an editor to show beside the field)."""
        try:
            self.check(sources, name, source)
        except TemplateFailure as failure:
            found = failure
        else:
            return None
        environment = _environment(self.directory, {})
        for part in PARTS:
            text = sources.get(part)
            if not text:
                continue
            try:
                environment.from_string(text).render(dict(SAMPLE_CONTEXT))
            except TemplateSyntaxError as exc:
                return TemplateProblem(part, exc.lineno, exc.message or str(exc))
            except Exception as exc:  # what a template can raise is open-ended
                return TemplateProblem(part, _template_line(exc), f"{type(exc).__name__}: {exc}")
        return TemplateProblem("txt", None, str(found.__cause__ or found))


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    part: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.part} line {self.line}" if self.line else self.part
        return f"{where}: {self.message}"


def _template_line(exc: BaseException) -> int | None:
    """The template line of a render error (Jinja2 puts template frames in the traceback)."""
    frames = traceback.extract_tb(exc.__traceback__)
    lines = [frame.lineno for frame in frames if frame.filename == "<template>"]
    return lines[-1] if lines else None


class FollowupRenderer:
    """Files only, no saved rows or channel variants: the wrapper around an agent's reply."""

    def __init__(self, directory: Path) -> None:
        self._templates = TemplateRenderer(directory)

    def render(self, name: str, context: dict[str, Any], locale: str = "en") -> Rendered:
        return self._templates.render_with({}, name, context, "", locale)
