"""The piece of a found message shown under a search hit: the words around the first match,
the matches marked. Marks travel as control characters, never as HTML, so message text is
escaped like any other text where it is shown."""

from __future__ import annotations

import re

SNIPPET_WORDS = 24
START, STOP = "\x02", "\x03"
WORD = re.compile(r"\w+", re.UNICODE)


def snippet(
    content: str, words: list[str], size: int = SNIPPET_WORDS, *, prefix: bool = True
) -> str:
    """Up to ``size`` words of ``content`` around the first match, matches between START and
    STOP, as the index matched them: every word whole, the last also as a prefix when
    ``prefix``."""
    tokens = list(WORD.finditer(content))
    if not tokens:
        return ""
    whole, last = set(words[:-1]), words[-1]

    def hit(token: str) -> bool:
        low = token.lower()
        return low in whole or (low.startswith(last) if prefix else low == last)

    first = next((n for n, token in enumerate(tokens) if hit(token.group())), 0)
    start = max(0, first - size // 4)
    chosen = tokens[start : start + size]
    out = ["…" if start > 0 else ""]
    cursor = chosen[0].start()
    for token in chosen:
        out.append(content[cursor : token.start()])
        out.append(f"{START}{token.group()}{STOP}" if hit(token.group()) else token.group())
        cursor = token.end()
    out.append("…" if start + size < len(tokens) else content[cursor:])
    return " ".join("".join(out).split())


def pieces(snippet: str) -> tuple[tuple[str, bool], ...]:
    """A marked snippet as (text, highlighted) pieces."""
    out: list[tuple[str, bool]] = []
    rest = snippet
    while rest:
        before, start, after = rest.partition(START)
        if before:
            out.append((before.replace(STOP, ""), False))
        if not start:
            break
        marked, _, rest = after.partition(STOP)
        if marked:
            out.append((marked, True))
    return tuple(out)
