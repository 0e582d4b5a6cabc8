"""Readable plain text from customer HTML, for HTML-only mail and for the reply splitter.

Block elements become line breaks, list items get a bullet, links keep their target, and the
content of ``<blockquote>`` is prefixed with ``> `` so quoted history looks like it does in
plain-text mail. Scripts, styles and the document head are dropped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = {
    "address",
    "article",
    "aside",
    "div",
    "dl",
    "dt",
    "dd",
    "fieldset",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tr",
    "ul",
}
_SKIP = {"script", "style", "head", "title", "xml", "template"}
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


class _TextBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip_depth = 0
        self.quote_depth = 0
        self.pre_depth = 0
        self.href: str | None = None
        self.link_text: list[str] = []

    def _flush(self, force: bool = False) -> None:
        text = "".join(self.current)
        if self.pre_depth == 0:
            text = _SPACES.sub(" ", text).strip()
        if text or force:
            self.lines.append("> " * self.quote_depth + text if text else ">" * self.quote_depth)
        self.current = []

    def _blank(self) -> None:
        self._flush()
        if self.lines and self.lines[-1].strip("> "):
            self.lines.append(">" * self.quote_depth)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
        elif tag == "br":
            self._flush(force=True)
        elif tag == "blockquote":
            self._blank()
            self.quote_depth += 1
        elif tag == "li":
            self._flush()
            self.current.append("- ")
        elif tag in ("td", "th"):
            self.current.append(" ")
        elif tag == "a":
            self.href = dict(attrs).get("href")
            self.link_text = []
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.current.append(f"[{alt}]")
        elif tag in _BLOCK:
            if tag == "pre":
                self.pre_depth += 1
            self._blank() if tag in ("p", "h1", "h2", "h3", "table") else self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag == "blockquote":
            self._flush()
            self.quote_depth = max(0, self.quote_depth - 1)
            self._blank()
        elif tag == "a":
            label = "".join(self.link_text).strip()
            href = self.href or ""
            if href.startswith(("http://", "https://")) and label and href.rstrip("/") not in label:
                self.current.append(f" <{href}>")
            self.href = None
        elif tag in _BLOCK or tag == "li":
            if tag == "pre":
                self.pre_depth = max(0, self.pre_depth - 1)
            self._blank() if tag in ("p", "h1", "h2", "h3", "table") else self._flush()

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            for index, piece in enumerate(data.split("\n")):
                if index:
                    self._flush(force=True)
                self.current.append(piece)
            return
        self.current.append(data.replace("\n", " "))
        if self.href is not None:
            self.link_text.append(data)

    def text(self) -> str:
        self._flush()
        joined = "\n".join(line.rstrip() for line in self.lines)
        return re.sub(r"\n{3,}", "\n\n", joined).strip()


def html_to_text(html: str) -> str:
    """Plain text an agent can read; never raises on malformed markup."""
    builder = _TextBuilder()
    try:
        builder.feed(html)
        builder.close()
    except Exception:  # HTMLParser is lenient; this guards against pathological input only
        return re.sub(r"<[^>]+>", "", html).strip()
    return builder.text()
