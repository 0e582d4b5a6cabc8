"""Follow-up templates (acknowledgements, later reminders and surveys), rendered in Jinja2's
sandbox because admins can edit them. ``NAME.subject.j2`` and ``NAME.txt.j2`` are required,
``NAME.html.j2`` is optional; ``NAME.LOCALE.*`` variants win when the customer's locale matches."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str | None


class TemplateMissing(LookupError):
    pass


class FollowupRenderer:
    def __init__(self, directory: Path) -> None:
        self._env = ImmutableSandboxedEnvironment(
            loader=FileSystemLoader(str(directory)),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def _render(self, names: list[str], context: dict[str, Any], required: bool) -> str | None:
        for name in names:
            try:
                template = self._env.get_template(name)
            except TemplateNotFound:
                continue
            return template.render(context)
        if required:
            raise TemplateMissing(f"follow-up template {names[-1]} not found")
        return None

    def render(self, name: str, context: dict[str, Any], locale: str = "en") -> Rendered:
        language = locale.split("-")[0].lower()

        def names(part: str) -> list[str]:
            return [f"followups/{name}.{language}.{part}.j2", f"followups/{name}.{part}.j2"]

        subject = self._render(names("subject"), context, required=False) or ""
        text = self._render(names("txt"), context, required=True) or ""
        html = self._render(names("html"), context, required=False)
        return Rendered(" ".join(subject.split()), text.strip() + "\n", html)
