"""What a campaign message looks like for one customer on one channel.

Templates are Jinja2 in the immutable sandbox (marketers write them). Only the names in
``NAMES`` exist; a missing *field* of the customer renders empty, so
``{{ customer.first_name | default("there") }}`` greets a customer without a name. Every
template is compiled when the campaign is saved or sent (``check_template``: errors with their
line), never first at send time.

Chat text is a small Markdown subset (``**bold**``, ``*italic*`` or ``_italic_``,
``[label](https://url)``, line breaks) mapped to what each channel shows: Slack mrkdwn,
Telegram HTML (``telegram_html``; the Telegram adapter sends plain text today, so ``plain`` is
what Telegram, the widget and the memory channel get), plain text. Email gets the marketer's
HTML and text parts with the unsubscribe footer and the ``List-Unsubscribe`` headers."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import Template, TemplateSyntaxError, Undefined, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from hub.campaigns import texts

# The names a campaign template may use.
NAMES = frozenset({"customer", "campaign", "unsubscribe_url", "preferences_url"})
EMAIL_PARTS = ("subject", "html", "text")
CHAT_PARTS = ("text",)
MAX_TEMPLATE = 100_000


class RenderError(Exception):
    """A template that does not compile or render; ``line`` when Jinja2 knows it."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        super().__init__(problem if line is None else texts.at_line(line, problem))
        self.problem = problem
        self.line = line


@dataclass(frozen=True, slots=True)
class Email:
    subject: str
    html: str
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)


@lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(undefined=Undefined, autoescape=False)
    return env


@lru_cache(maxsize=256)
def _html_environment() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(undefined=Undefined, autoescape=True)


def check_template(source: str, *, html_part: bool = False) -> None:
    """Compile ``source``; raises ``RenderError`` naming the line of the first problem, or an
    unknown name (a typo like ``custmer.name``)."""
    if len(source) > MAX_TEMPLATE:
        raise RenderError(texts.TEMPLATE_TOO_LONG.format(limit=MAX_TEMPLATE))
    env = _html_environment() if html_part else _environment()
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        raise RenderError(exc.message or "syntax error", exc.lineno) from None
    unknown = sorted(meta.find_undeclared_variables(tree) - NAMES)
    if unknown:
        line = _line_of(source, unknown[0])
        raise RenderError(texts.unknown_name(unknown[0], sorted(NAMES)), line)


def _line_of(source: str, name: str) -> int | None:
    for number, line in enumerate(source.splitlines(), start=1):
        if re.search(rf"\b{re.escape(name)}\b", line):
            return number
    return None


@lru_cache(maxsize=512)
def compile_template(source: str, html_part: bool = False) -> Template:
    """The compiled template (cached: one campaign's 100,000 messages compile it once)."""
    check_template(source, html_part=html_part)
    env = _html_environment() if html_part else _environment()
    return env.from_string(source)


@lru_cache(maxsize=512)
def _globals(template: Template) -> dict[str, Any]:
    return dict(template.globals)


def render_template(source: str, context: Mapping[str, Any], *, html_part: bool = False) -> str:
    """``Template.render`` without its per-call merge of the globals (a third of its time)."""
    template = compile_template(source, html_part)
    try:
        try:
            frame = template.new_context({**_globals(template), **context}, shared=True)
            return template.environment.concat(template.root_render_func(frame))
        except Exception:
            template.environment.handle_exception()  # re-raised with the template's lines
    except TemplateSyntaxError as exc:
        raise RenderError(exc.message or "syntax error", exc.lineno) from None
    except Exception as exc:
        raise RenderError(f"{type(exc).__name__}: {exc}", _traceback_line(exc)) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _traceback_line(exc: BaseException) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def customer_context(
    *,
    name: str = "",
    company: str = "",
    tier: str = "",
    locale: str = "",
    timezone: str = "",
    attributes: Mapping[str, Any] | None = None,
    address: str = "",
) -> dict[str, Any]:
    """The ``customer`` of a template: fields the record lacks are left out (so that
    ``default(...)`` applies to them and they render empty otherwise)."""
    parts = name.split()
    values: dict[str, Any] = {
        "name": name.strip(),
        "first_name": parts[0] if parts else "",
        "last_name": parts[-1] if len(parts) > 1 else "",
        "company": company,
        "tier": tier,
        "locale": locale,
        "timezone": timezone,
        "address": address,
    }
    context = {key: value for key, value in values.items() if value}
    context["attributes"] = dict(attributes or {})
    return context


# --- the Markdown subset ---------------------------------------------------------------------
_TOKENS = re.compile(
    r"\[(?P<label>[^\]\n]+)\]\((?P<url>(?:https?://|mailto:)[^\s)]+)\)"
    r"|\*\*(?P<bold>[^*\s](?:[^*\n]*[^*\s])?)\*\*"
    r"|(?<![\w*])\*(?P<star>[^*\s](?:[^*\n]*[^*\s])?)\*(?![\w*])"
    r"|(?<![\w_])_(?P<under>[^_\s](?:[^_\n]*[^_\s])?)_(?![\w_])"
)


def _convert(text: str, *, escape: Any, bold: Any, italic: Any, link: Any) -> str:
    out: list[str] = []
    position = 0
    for match in _TOKENS.finditer(text):
        out.append(escape(text[position : match.start()]))
        if match.group("url"):
            out.append(link(match.group("label"), match.group("url")))
        elif match.group("bold"):
            out.append(bold(escape(match.group("bold"))))
        else:
            out.append(italic(escape(match.group("star") or match.group("under"))))
        position = match.end()
    out.append(escape(text[position:]))
    return "".join(out)


def _same(value: str) -> str:
    return value


def plain(text: str) -> str:
    """Markers removed; a link becomes ``label (url)``."""
    return _convert(
        text,
        escape=_same,
        bold=_same,
        italic=_same,
        link=lambda label, url: url if label == url else f"{label} ({url})",
    )


def slack_mrkdwn(text: str) -> str:
    """Slack's mrkdwn: ``*bold*``, ``_italic_``, ``<url|label>``; & < > escaped."""

    def escape(value: str) -> str:
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    return _convert(
        text,
        escape=escape,
        bold=lambda v: f"*{v}*",
        italic=lambda v: f"_{v}_",
        link=lambda label, url: f"<{url}|{escape(label).replace('|', '¦')}>",
    )


def telegram_html(text: str) -> str:
    """Telegram's HTML parse mode: ``<b>``, ``<i>``, ``<a href>``; & < > escaped."""
    return _convert(
        text,
        escape=lambda v: html.escape(v, quote=False),
        bold=lambda v: f"<b>{v}</b>",
        italic=lambda v: f"<i>{v}</i>",
        link=lambda label, url: f'<a href="{html.escape(url)}">{html.escape(label)}</a>',
    )


def markdown_html(text: str) -> str:
    """An HTML body from Markdown text (an email without an HTML part)."""
    body = _convert(
        text,
        escape=lambda v: html.escape(v, quote=False),
        bold=lambda v: f"<strong>{v}</strong>",
        italic=lambda v: f"<em>{v}</em>",
        link=lambda label, url: f'<a href="{html.escape(url)}">{html.escape(label)}</a>',
    )
    paragraphs = [p.replace("\n", "<br>\n") for p in re.split(r"\n\s*\n", body.strip()) if p]
    return "\n".join(f"<p>{p}</p>" for p in paragraphs)


# Which format each channel kind shows chat text in.
CHAT_FORMATS = {"slack": slack_mrkdwn, "telegram": plain, "widget": plain, "memory": plain}


def chat_text(source: str, context: Mapping[str, Any], channel_kind: str) -> str:
    """The chat message: the template rendered, mapped to the channel's format, with the
    opt-out hint."""
    rendered = render_template(source, context).strip()
    convert = CHAT_FORMATS.get(channel_kind, plain)
    return f"{convert(rendered)}\n\n{texts.CHAT_OPT_OUT}"


def email(
    variant: Mapping[str, str],
    context: Mapping[str, Any],
    *,
    unsubscribe: str,
    preferences: str,
    headers: Mapping[str, str],
) -> Email:
    """The email: subject, HTML part (from the text when the marketer wrote none) and text
    part, each with a visible unsubscribe link."""
    subject = " ".join(render_template(variant.get("subject", ""), context).split())
    text = render_template(variant.get("text", ""), context).strip()
    html_source = variant.get("html", "")
    body = (
        render_template(html_source, context, html_part=True)
        if html_source.strip()
        else markdown_html(text)
    )
    if not text:
        text = texts.html_to_text(body)
    text = plain(text) + "\n\n-- \n" + texts.email_footer_text(unsubscribe, preferences) + "\n"
    footer = texts.email_footer_html(html.escape(unsubscribe), html.escape(preferences))
    closing = body.lower().rfind("</body>")
    body = body[:closing] + footer + body[closing:] if closing >= 0 else body + "\n" + footer
    return Email(subject, body, text, dict(headers))
