"""Bar charts as inline SVG, drawn on the server: every bar is a link to the conversations
behind it and carries its value as a title (tooltip and screen readers); the page shows the
same numbers in a table beside the chart. Scales with its box (viewBox), no script."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 640, 240
LEFT, BOTTOM, TOP = 44, 42, 12
COLOURS = ("#2f6fed", "#12805c", "#b54708", "#7a5af8", "#c4320a", "#0e9384")


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[float]
    links: Sequence[str | None] = ()


def _nice(top: float) -> float:
    if top <= 0:
        return 1.0
    step = 10 ** (len(str(int(top))) - 1)
    for factor in (1, 2, 2.5, 5, 10):
        if top <= step * factor:
            return float(step * factor)
    return float(step * 10)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    label_every: int = 1,
) -> Markup:
    """Grouped bars, one group per label; ``label_every`` thins crowded x labels."""
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    highest = max((v for s in series for v in s.values), default=0)
    whole = all(float(v).is_integer() for s in series for v in s.values)
    top = _nice(max(highest, 4) if whole else highest)  # whole counts: whole ticks
    groups = max(len(labels), 1)
    group_w = plot_w / groups
    bar_w = max(group_w * 0.8 / max(len(series), 1), 1.0)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in range(5):
        value = top * tick / 4
        y = TOP + plot_h - plot_h * tick / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">'
            f"{_fmt(value)}</text>"
        )
    for index, label in enumerate(labels):
        x0 = LEFT + group_w * index + group_w * 0.1
        for number, one in enumerate(series):
            value = one.values[index] if index < len(one.values) else 0
            height = plot_h * value / top if top else 0
            x = x0 + bar_w * number
            y = TOP + plot_h - height
            tip = escape(f"{one.name}, {label}: {_fmt(value)}")
            rect = (
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar_w - 1, 0.5):.1f}" '
                f'height="{max(height, 0):.1f}" fill="{COLOURS[number % len(COLOURS)]}">'
                f"<title>{tip}</title></rect>"
            )
            link = one.links[index] if index < len(one.links) else None
            if link and value:
                parts.append(f'<a href="{escape(link)}" aria-label="{tip}">{rect}</a>')
            else:
                parts.append(rect)
        if index % label_every == 0:
            cx = LEFT + group_w * index + group_w / 2
            parts.append(
                f'<text x="{cx:.1f}" y="{HEIGHT - BOTTOM + 16}" class="tick" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    legend_x = LEFT
    for number, one in enumerate(series if len(series) > 1 else ()):
        colour = COLOURS[number % len(COLOURS)]
        parts.append(
            f'<rect x="{legend_x}" y="{HEIGHT - 14}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{legend_x + 14}" y="{HEIGHT - 5}" class="tick">{escape(one.name)}</text>'
        )
        legend_x += 14 + 8 * len(one.name) + 16
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()
