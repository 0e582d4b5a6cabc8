"""Customer email HTML, shown safely: sanitized again, put in a sandboxed iframe's ``srcdoc``
(no scripts can run there) under its own strict CSP, with remote images held back (their
``src`` moved to ``data-rd-src``) until the agent asks for them."""

from __future__ import annotations

import re

from hub.core.sanitize import sanitize_html

BLOCKED_IMAGES = "img-src data: cid:"
ALLOWED_IMAGES = "img-src data: cid: https: http:"
_CSP = "default-src 'none'; style-src 'unsafe-inline'; font-src data:; {images}"
_REMOTE_SRC = re.compile(r'(<img\b[^>]*?)\ssrc="(https?://[^"]*)"', re.IGNORECASE)
_STYLE = (
    "body{font:14px/1.55 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2733;"
    "margin:0;padding:2px;overflow-wrap:anywhere}img{max-width:100%;height:auto}"
    "img[data-rd-src]{display:inline-block;min-width:1.5em;min-height:1em;background:#eef1f5}"
    "blockquote{border-left:3px solid #d9dee5;margin:0 0 0 .25em;padding-left:.75em;color:#5b6675}"
    "table{max-width:100%}"
)


def email_document(html: str) -> tuple[str, int]:
    """The iframe document for ``html`` and how many remote images it holds back."""
    clean = sanitize_html(html)
    held, count = _REMOTE_SRC.subn(r'\1 data-rd-src="\2"', clean)
    csp = _CSP.format(images=BLOCKED_IMAGES)
    document = (
        '<!doctype html><html><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        f'<base target="_blank"><style>{_STYLE}</style></head><body>{held}</body></html>'
    )
    return document, count
