"""Charts drawn on the server as inline SVG (no script, no CDN): a share per day as a line,
with each point's value in its tooltip and an accessible text alternative."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, PAD = 320, 120, 24


def _percent(value: float | None) -> str:
    return "no data" if value is None else f"{100 * value:.1f} %"


def share_chart(*, title: str, points: Sequence[tuple[str, float | None]]) -> SafeString:
    """A line of shares (0–1) per day; days without data leave a gap."""
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    step = inner_w / max(1, len(points) - 1)
    segments: list[list[str]] = [[]]
    dots = []
    for index, (label, value) in enumerate(points):
        if value is None:
            segments.append([])
            continue
        x = PAD + index * step
        y = PAD + inner_h * (1 - max(0.0, min(1.0, value)))
        segments[-1].append(f"{x:.1f},{y:.1f}")
        dots.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{escape(label)}: '
            f"{_percent(value)}</title></circle>"
        )
    lines = "".join(
        f'<polyline fill="none" stroke="currentColor" stroke-width="2" points="{" ".join(s)}"/>'
        for s in segments
        if len(s) > 1
    )
    summary = "; ".join(f"{label} {_percent(value)}" for label, value in points)
    first, last = (escape(points[0][0]), escape(points[-1][0])) if points else ("", "")
    svg = (
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" aria-label="{escape(title)} per day: {escape(summary)}">'
        f'<line x1="{PAD}" y1="{PAD}" x2="{WIDTH - PAD}" y2="{PAD}" class="grid"/>'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        'class="axis"/>'
        f'<text x="2" y="{PAD + 4}" class="tick">100%</text>'
        f'<text x="2" y="{HEIGHT - PAD + 4}" class="tick">0%</text>'
        f'<text x="{PAD}" y="{HEIGHT - 6}" class="tick">{first}</text>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 6}" class="tick" text-anchor="end">{last}</text>'
        f"{lines}{''.join(dots)}</svg>"
    )
    return mark_safe(svg)  # noqa: S308 - every interpolated text is escaped above
