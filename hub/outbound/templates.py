"""Templates of outbound messages (acknowledgements, follow-ups, surveys, rule templates and the
agent reply wrapper) per channel and locale, from admin-saved rows first, then files under
``templates/followups``; rendered in Jinja2's immutable sandbox (admins edit them) with undefined
names an error.

For a part (``subject``, ``txt``, ``html``) the most specific of ``NAME.CHANNEL.LANG``,
``NAME.CHANNEL``, ``NAME.LANG`` and ``NAME`` wins; a saved template beats a file of the same
specificity. A failure names the template and the admin who saved it, so it is reported to
them and never sent to a customer.

Rendering is cheap on the ingest path: the saved rows of a template are read once per
transaction (an ingest batch; a save in it forgets them), and not at all while the counter
``followup_templates`` (moved by every save, read by routing with its ruleset version) stays
where it was when they were read; the sandboxed environment of a set of
saved sources is built once and kept with its compiled templates (keyed by the sources
themselves, so an admin's edit, in this process or another, is a new key), and which file or
row wins for a part is remembered until the template folder changes (a file's own edits are
noticed by Jinja2's reload check)."""

from __future__ import annotations

import traceback
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    DictLoader,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    select_autoescape,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.transaction_memo import memo
from hub.db.routing_models import FollowupTemplate

PARTS = ("subject", "txt", "html")
KEPT_ENVIRONMENTS = 64  # sets of saved sources kept compiled (least recently used dropped)
_SAVED_MEMO = "saved_templates"
_GENERATION_MEMO = "templates_generation"
GENERATION_COUNTER = "followup_templates"  # moved by every save (hub/admin/templates.py)
_UNKNOWN = object()  # the counter was not read in this transaction
_SAVED_HERE = object()  # a template was saved in this transaction: nothing kept or reused
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


@dataclass(slots=True)
class _Compiled:
    """An environment and, per (name, channel, language, part), the template that wins
    (None: no part), valid while the template folder's mtime is ``folder``."""

    environment: ImmutableSandboxedEnvironment
    folder: int = -1
    picked: dict[tuple[str, str, str, str], Template | None] = field(default_factory=dict)


def forget_saved(session: AsyncSession) -> None:
    """A template was saved in this transaction: read the saved rows again."""
    memo(session).pop(_SAVED_MEMO, None)
    memo(session)[_GENERATION_MEMO] = _SAVED_HERE


def note_generation(session: AsyncSession, value: int | None) -> None:
    """The ``followup_templates`` counter as this transaction read it (None: never saved)."""
    remembered = memo(session)
    if remembered.get(_GENERATION_MEMO) is not _SAVED_HERE:
        remembered[_GENERATION_MEMO] = value


class TemplateRenderer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._files = _Compiled(_environment(directory, {}))
        self._saved: OrderedDict[frozenset[tuple[str, str]], _Compiled] = OrderedDict()
        # Saved rows by name as read at a counter value (kept while the counter stays there).
        self._generation: object = _UNKNOWN
        self._kept: dict[str, tuple[dict[str, str], int | None]] = {}

    async def saved(self, session: AsyncSession, name: str) -> tuple[dict[str, str], int | None]:
        """The saved sources of ``name`` and who saved the latest, read once per transaction."""
        remembered: dict[str, tuple[dict[str, str], int | None]]
        remembered = memo(session).setdefault(_SAVED_MEMO, {})
        generation = memo(session).get(_GENERATION_MEMO, _UNKNOWN)
        known = generation is not _UNKNOWN and generation is not _SAVED_HERE
        found = remembered.get(name)
        if found is None and known and generation == self._generation:
            found = self._kept.get(name)
            if found is not None:
                remembered[name] = found
        if found is None:
            query = select(FollowupTemplate).where(FollowupTemplate.name == name)
            if any(isinstance(row, FollowupTemplate) for row in session.new):
                rows = (await session.scalars(query)).all()
            else:  # nothing pending changes the answer: leave the rest to the next flush
                with session.no_autoflush:
                    rows = (await session.scalars(query)).all()
            sources = {_file_name(r.name, r.channel, r.locale, r.part): r.source for r in rows}
            saver = max(rows, key=lambda r: r.updated_at).saved_by if rows else None
            found = remembered[name] = (sources, saver)
            if known:
                if generation != self._generation:
                    self._generation, self._kept = generation, {}
                self._kept[name] = found
        return dict(found[0]), found[1]

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

    def _compiled(self, saved: dict[str, str]) -> _Compiled:
        if not saved:
            return self._files
        key = frozenset(saved.items())
        compiled = self._saved.get(key)
        if compiled is None:
            compiled = self._saved[key] = _Compiled(_environment(self.directory, saved))
            while len(self._saved) > KEPT_ENVIRONMENTS:
                self._saved.popitem(last=False)
        else:
            self._saved.move_to_end(key)
        return compiled

    def _folder(self) -> int:
        try:
            return (self.directory / "followups").stat().st_mtime_ns
        except OSError:
            return 0

    def render_with(
        self,
        saved: dict[str, str],
        name: str,
        context: dict[str, Any],
        channel: str = "",
        locale: str = "en",
        saver: int | None = None,
    ) -> Rendered:
        compiled = self._compiled(saved)
        folder = self._folder()
        if folder != compiled.folder:  # a file added or removed: pick again
            compiled.picked.clear()
            compiled.folder = folder
        language = (locale or "en").split("-")[0].lower()
        try:
            parts = {
                part: self._part(compiled, name, channel, language, part, context) for part in PARTS
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
        compiled: _Compiled,
        name: str,
        channel: str,
        language: str,
        part: str,
        context: dict[str, Any],
    ) -> str | None:
        key = (name, channel, language, part)
        if key in compiled.picked:
            template = compiled.picked[key]
            if template is None:
                return None
            if template.is_up_to_date:
                return template.render(context)
        template = compiled.picked[key] = self._pick(compiled.environment, key)
        return None if template is None else template.render(context)

    @staticmethod
    def _pick(
        environment: ImmutableSandboxedEnvironment, key: tuple[str, str, str, str]
    ) -> Template | None:
        for candidate in _chain(*key):
            try:
                return environment.get_template(candidate)
            except TemplateNotFound:
                continue
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
        environment = self._files.environment
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
