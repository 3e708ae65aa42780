"""Charts drawn on the server as inline SVG: no script, no CDN, nothing for the content security policy to block.

Each chart is laid out here, in user units of a ``viewBox`` 360 wide (a 390 px phone shows it at about its
natural size; wider screens scale it up). Every piece of text gets a measured box, and the layouts are built so
that no two boxes overlap and none leaves the chart: labels sit on their own line above their bar, a value
that does not fit after its bar goes inside it, and time labels are thinned until they fit side by side.
``Chart.boxes`` exposes those boxes so tests can check the promise.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from markupsafe import Markup, escape

WIDTH = 360
FONT = 13
SMALL = 12
PALETTE = ("#0d6efd", "#d63384", "#198754", "#fd7e14", "#6f42c1")
PAD = 4


# Advance widths of ASCII characters in hundredths of an em, as Chromium draws them in DejaVu Sans (the widest
# of the usual sans-serif fallbacks; the common others draw narrower).
_ASCII_WIDTHS = [
    ("'ijl", 28),
    ('IJ', 30),
    (' ,.', 32),
    ('/:;\\|', 34),
    ('f', 35),
    ('-', 36),
    ('()[]t', 39),
    ('!', 40),
    ('r', 41),
    ('"', 46),
    ('*_`', 50),
    ('s', 52),
    ('?z', 53),
    ('c', 55),
    ('L', 56),
    ('Fk', 58),
    ('vxy', 59),
    ('P', 60),
    ('TYao', 61),
    ('e', 62),
    ('ESbdghnpqu', 63),
    ('$0123456789{}', 64),
    ('K', 66),
    ('AV', 68),
    ('BRXZ', 69),
    ('C', 70),
    ('U', 73),
    ('HN', 75),
    ('D', 77),
    ('&G', 78),
    ('OQ', 79),
    ('w', 82),
    ('#+<=>^~', 84),
    ('M', 86),
    ('%', 95),
    ('m', 97),
    ('W', 99),
    ('@', 100),
]
ASCII_EM = {ch: width / 100 for chars, width in _ASCII_WIDTHS for ch in chars}


def text_width(text: str, size: float = FONT) -> float:
    """Width of ``text`` at font ``size``, a little more than browsers draw (checked in Chromium), so measured
    boxes never undershoot: ASCII from measured widths plus 5 %, CJK and ambiguous-width characters (such as
    the ellipsis) 1.1 em, anything else 1 em."""
    em = 0.0
    for ch in text:
        if ch in ASCII_EM:
            em += ASCII_EM[ch] * 1.05
        elif unicodedata.east_asian_width(ch) in ("W", "F", "A"):
            em += 1.1
        else:
            em += 1.0
    return em * size


def fit(text: str, width: float, size: float = FONT) -> str:
    """``text`` shortened with an ellipsis until it is at most ``width`` wide."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


@dataclass(frozen=True)
class Box:
    """A rectangle in chart units (x, y is the top left)."""
    x: float
    y: float
    w: float
    h: float

    def overlaps(self, other: Box) -> bool:
        return self.x < other.x + other.w and other.x < self.x + self.w and \
            self.y < other.y + other.h and other.y < self.y + self.h

    def inside(self, width: float, height: float) -> bool:
        return self.x >= 0 and self.y >= 0 and self.x + self.w <= width + 0.01 and self.y + self.h <= height + 0.01


@dataclass
class Chart:
    """A laid-out chart: SVG elements, its size and the boxes of its texts."""
    chart_id: str
    title: str
    height: float = 0
    width: float = WIDTH
    parts: list[str] = field(default_factory=list)
    boxes: list[tuple[str, Box]] = field(default_factory=list)

    def text(self, text: str, x: float, y: float, *, size: float = FONT, anchor: str = "start",
             fill: str = "#212529", weight: str = "normal") -> Box:
        """Place ``text`` with its baseline at ``y``; returns (and records) its box."""
        w = text_width(text, size)
        left = x - w if anchor == "end" else x - w / 2 if anchor == "middle" else x
        box = Box(left, y - size * 0.9, w, size * 1.15)
        self.boxes.append((text, box))
        bold = ' font-weight="bold"' if weight == "bold" else ""
        self.parts.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
                          f'fill="{fill}"{bold}>{escape(text)}</text>')
        return box

    def rect(self, x: float, y: float, w: float, h: float, fill: str, tip: str = "") -> None:
        title = f"<title>{escape(tip)}</title>" if tip else ""
        self.parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" rx="2" '
                          f'fill="{fill}">{title}</rect>')

    def raw(self, element: str) -> None:
        self.parts.append(element)

    def svg(self) -> Markup:
        """The chart as an inline ``<svg>`` that scales to its container's width."""
        return Markup(f'<svg id="{escape(self.chart_id)}" class="tb-chart" role="img" aria-label="{escape(self.title)}" '
                      f'width="100%" viewBox="0 0 {self.width:.0f} {self.height:.0f}" '
                      f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg" '
                      f'font-family="system-ui, sans-serif"><title>{escape(self.title)}</title>'
                      + "".join(self.parts) + "</svg>")

    def __html__(self) -> str:
        return str(self.svg())


def bar_chart(chart_id: str, title: str, rows: list[tuple[str, int]]) -> Chart:
    """Horizontal bars, one per (label, value): the label on its own line, the bar below it."""
    chart = Chart(chart_id, title)
    top = max((v for _, v in rows), default=0) or 1
    y = 0.0
    for label, value in rows:
        label = str(label)
        chart.text(fit(label, WIDTH), 0, y + FONT)
        bar_y = y + FONT + 5
        w = value / top * WIDTH
        chart.rect(0, bar_y, w, 16, PALETTE[0], f"{label}: {value}")
        shown = str(value)
        vw = text_width(shown, SMALL)
        if w + PAD + vw <= WIDTH:
            chart.text(shown, w + PAD, bar_y + 12.5, size=SMALL)
        else:  # no room after the bar: inside it, right-aligned
            chart.text(shown, w - PAD, bar_y + 12.5, size=SMALL, anchor="end", fill="#ffffff")
        y = bar_y + 16 + 10
    chart.height = max(y, 1)
    return chart


def _ticks(top: int) -> list[int]:
    """Round gridline values from 0 to at least ``top``: at most five, in steps of 1, 2 or 5 times a power of 10."""
    top = max(top, 1)
    power = 1
    while True:
        for mult in (1, 2, 5):
            step = mult * power
            if -(-top // step) <= 4:
                return list(range(0, step * -(-top // step) + 1, step))
        power *= 10


def trend_chart(chart_id: str, title: str, periods: list[str], series: list[tuple[str, list[int]]]) -> Chart:
    """Lines over time, one per (name, values per period), with a legend that wraps and time labels thinned
    until they fit."""
    chart = Chart(chart_id, title)
    # legend, wrapped onto as many lines as it needs
    x, y = 0.0, FONT
    series = [(str(name), list(values)) for name, values in series]
    for i, (name, _values) in enumerate(series):
        w = 14 + text_width(name, SMALL) + 12
        if x > 0 and x + w > WIDTH:
            x, y = 0.0, y + FONT + 6
        chart.rect(x, y - 9, 10, 10, PALETTE[i % len(PALETTE)])
        chart.text(name, x + 14, y, size=SMALL)
        x += w
    top_value = max((v for _, values in series for v in values), default=0)
    ticks = _ticks(top_value)
    axis_w = max(text_width(str(t), SMALL) for t in ticks) + PAD
    plot_top, plot_h = y + 12, 130
    plot_left = axis_w + 2
    scale_top = ticks[-1] or 1

    def ypos(value: float) -> float:
        return plot_top + plot_h - value / scale_top * plot_h

    for t in ticks:
        chart.raw(f'<line x1="{plot_left:.1f}" x2="{WIDTH - PAD:.1f}" y1="{ypos(t):.1f}" y2="{ypos(t):.1f}" '
                  f'stroke="#dee2e6" stroke-width="1"/>')
        chart.text(str(t), axis_w, ypos(t) + 4, size=SMALL, anchor="end", fill="#6c757d")
    n = len(periods)
    # points start and end half a time label in, so the end labels sit centred under their points
    inset = max((text_width(p, SMALL) for p in periods), default=0) / 2
    first_x = max(plot_left + 4, inset)
    step_x = (WIDTH - inset - first_x) / max(n - 1, 1)

    def xpos(i: int) -> float:
        return first_x + (i * step_x if n > 1 else (WIDTH - inset - first_x) / 2)

    for s, (name, values) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        points = " ".join(f"{xpos(i):.1f},{ypos(v):.1f}" for i, v in enumerate(values))
        chart.raw(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, v in enumerate(values):
            chart.raw(f'<circle cx="{xpos(i):.1f}" cy="{ypos(v):.1f}" r="3" fill="{colour}">'
                      f'<title>{escape(name)} {escape(periods[i])}: {v}</title></circle>')
    # time labels: every k-th (the latest always), the smallest k whose boxes keep a gap between them
    label_y = plot_top + plot_h + SMALL + 6

    def placed(every: int) -> list[tuple[int, float]]:
        spots = []
        for i in range(n):
            if (n - 1 - i) % every == 0:
                half = text_width(periods[i], SMALL) / 2
                spots.append((i, min(max(xpos(i), half), WIDTH - half)))  # the end labels stay inside
        return spots

    def fits(spots: list[tuple[int, float]]) -> bool:
        return all(cx_b - text_width(periods[b], SMALL) / 2 >= cx_a + text_width(periods[a], SMALL) / 2 + PAD
                   for (a, cx_a), (b, cx_b) in zip(spots, spots[1:]))

    every = 1
    while every < n and not fits(placed(every)):
        every += 1
    for i, cx in placed(every):
        chart.text(periods[i], cx, label_y, size=SMALL, anchor="middle", fill="#6c757d")
    chart.height = label_y + 6
    return chart


def funnel_chart(chart_id: str, title: str, steps: list[tuple[str, int | None, float | None]]) -> Chart:
    """A funnel: one centred bar per (label, count, conversion from the step before), narrowing with the count;
    the label, count and conversion on the line above each bar."""
    chart = Chart(chart_id, title)
    top = max((c or 0 for _, c, _ in steps), default=0) or 1
    y = 0.0
    for i, (label, count, rate) in enumerate(steps):
        label = str(label)
        shown = "—" if count is None else str(count)
        if rate is not None:
            shown += f" · {rate * 100:.0f} %"
        label_w = text_width(shown, FONT)
        chart.text(fit(label, WIDTH - label_w - 3 * PAD), 0, y + FONT)
        chart.text(shown, WIDTH, y + FONT, anchor="end", weight="bold")
        bar_y = y + FONT + 5
        w = max((count or 0) / top * WIDTH, 2)
        chart.rect((WIDTH - w) / 2, bar_y, w, 16, PALETTE[i % len(PALETTE)], f"{label}: {shown}")
        y = bar_y + 16 + 9
    chart.height = max(y, 1)
    return chart


def init_app(app) -> None:
    """Make the chart builders available to every template."""
    app.jinja_env.globals.update(bar_chart=bar_chart, trend_chart=trend_chart, funnel_chart=funnel_chart)
