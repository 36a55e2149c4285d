"""Small SVG charts for the project's pages, drawn in Python (no JS, no libraries).

Every function returns a complete ``<svg>`` element as a string that a view may pass
through ``mark_safe``: all text that reaches the markup (titles, labels, series and
persona names) goes through :func:`html.escape`, and numbers are formatted by us.
Colours for text and axes are ``currentColor`` so the chart follows the page's theme.

- :func:`line_chart`: several series of (x, y) points, straight or step lines (the
  diffusion plot is a step line: a count holds until the next change);
- :func:`bar_chart`: stacked bars of (x, y) per series, with long x ranges (thousands
  of steps) summed into at most ``max_bars`` buckets.

Whole-number x (steps, turns) gets whole-number ticks, and a short run (one or two
steps) a bar of sensible width over each step's tick rather than one bar across the
chart. Lines that coincide stay apart to the eye: each series has its own dash pattern,
marker shape and stroke width (the first widest, drawn first), and the legend shows each
series' sample line and its last value.

With no data at all, both return a chart saying "no data yet" instead of failing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from html import escape

__all__ = ["PALETTE", "bar_chart", "line_chart", "nice_ticks"]

Point = tuple[float, float]

# Colour-blind-safe (Okabe-Ito, then Tol's muted), distinguishable on light and dark.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#882255",
    "#44AA99",
    "#999933",
)
_FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"'
_PAD_TOP = 34  # the title
_PAD_BOTTOM = 40  # tick labels and the x label
_PAD_LEFT = 58  # tick labels and the y label
_PAD_RIGHT = 12
_LEGEND_CHARS = 20
_LEGEND_ROW = 16  # the legend sits between the title and the plot, in rows of entries
_LEGEND_ROWS = 3  # at most; what does not fit is "+N more"
# Per series, in order: dash patterns ("" is solid) and marker shapes, so lines that lie on
# one another (two facts known by the same agents) still read as two lines.
DASHES = ("", "7 4", "2 3", "9 3 2 3", "4 4", "1 2")
MARKERS = ("circle", "square", "triangle", "diamond", "cross", "triangle-down")
_MAX_BAR_PX = 48  # a bar for one step is at most this wide, however few steps there are


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _fmt(value: float) -> str:
    """Tick labels: 1200 -> "1.2k", 3_000_000 -> "3M", 0.25 -> "0.25"."""
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:.3g}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:.3g}k"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3g}"


def _num(value: float) -> str:
    """Coordinates with two decimals at most: small markup, no exponent notation."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round tick values (1, 2, 2.5 or 5 times a power of ten) covering low..high."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0]
    if high < low:
        low, high = high, low
    if high == low:
        return [low]
    raw = (high - low) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        if value >= low - step * 1e-9:
            ticks.append(round(value, 10))
        value += step
    return ticks


def _whole(values: Iterable[float]) -> bool:
    return all(float(v).is_integer() for v in values)


def _whole_ticks(low: float, high: float, fallback: Iterable[float]) -> list[float]:
    """Whole-number ticks in low..high (about five), else the `fallback` values themselves:
    a step axis never says 0.2 or 1.5."""
    ticks = [t for t in nice_ticks(low, high) if float(t).is_integer() and low <= t <= high]
    if len(ticks) < 2:
        ticks = sorted({float(v) for v in fallback if low <= v <= high})
    return [float(t) for t in ticks]


def _cover(ticks: list[float], high: float) -> list[float]:
    """The ticks, with one more step on top when the highest value is above the last tick
    (a bar of 14 under ticks 0, 5, 10 gets a 15 above it, not an unlabelled top)."""
    if len(ticks) >= 2 and high > ticks[-1]:
        return [*ticks, round(ticks[-1] + (ticks[-1] - ticks[-2]), 10)]
    return ticks


def _marker(shape: str, x: float, y: float, r: float, colour: str) -> str:
    """A marker of `shape` centred on (x, y), about 2r across."""
    if shape == "circle":
        return f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(r)}" fill="{colour}"/>'
    if shape == "square":
        return (
            f'<rect x="{_num(x - r * 0.9)}" y="{_num(y - r * 0.9)}" width="{_num(r * 1.8)}" '
            f'height="{_num(r * 1.8)}" fill="{colour}"/>'
        )
    if shape == "cross":
        return (
            f'<path d="M{_num(x - r)} {_num(y - r)}L{_num(x + r)} {_num(y + r)}M{_num(x - r)} {_num(y + r)}'
            f'L{_num(x + r)} {_num(y - r)}" stroke="{colour}" stroke-width="2" stroke-dasharray="none" fill="none"/>'
        )
    points = {
        "triangle": [(0, -1.2), (1.1, 0.8), (-1.1, 0.8)],
        "triangle-down": [(0, 1.2), (1.1, -0.8), (-1.1, -0.8)],
        "diamond": [(0, -1.25), (1.1, 0), (0, 1.25), (-1.1, 0)],
    }[shape]
    coords = " ".join(f"{_num(x + dx * r)},{_num(y + dy * r)}" for dx, dy in points)
    return f'<polygon points="{coords}" fill="{colour}"/>'


def _style(i: int) -> tuple[str, str, str, float]:
    """Series i's colour, dash pattern, marker shape and stroke width."""
    return PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)], MARKERS[i % len(MARKERS)], max(1.5, 3.5 - 0.75 * i)


def _bounds(values: Iterable[float], *, zero: bool = False) -> tuple[float, float]:
    values = list(values)
    low, high = min(values), max(values)
    if zero:
        low, high = min(low, 0.0), max(high, 0.0)
    if high == low:  # one value: give it some room so it sits mid-chart
        pad = abs(high) * 0.1 or 1.0
        low, high = (low - pad, high + pad) if not zero or low != 0 else (0.0, high + pad)
    return low, high


def _clean(points: Iterable[Sequence[float]]) -> list[Point]:
    """Finite (x, y) pairs sorted by x: NaN, infinities and junk are dropped, not drawn."""
    good = []
    for point in points:
        try:
            x, y = float(point[0]), float(point[1])
        except (TypeError, ValueError, IndexError):
            continue
        if math.isfinite(x) and math.isfinite(y):
            good.append((x, y))
    good.sort(key=lambda p: p[0])
    return good


def _open(width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_e(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" class="chart" {_FONT} font-size="11">',
        f"<title>{_e(title)}</title>",
        f"<desc>{_e(desc)}</desc>",
        # At the left (over the legend and the plot), where a phone's view of a wide chart
        # starts; a small chart (a list's thumbnail) keeps its width for the words.
        f'<text x="{_PAD_LEFT if width >= 400 else 6}" y="18" font-size="13" font-weight="600" '
        f'fill="currentColor" class="chart-title">{_e(title)}</text>',
    ]


def _empty(title: str, width: int, height: int, message: str = "no data yet") -> str:
    parts = _open(width, height, title, message)
    parts.append(
        f'<text x="{width / 2:g}" y="{height / 2 + 4:g}" text-anchor="middle" fill="currentColor" '
        f'opacity="0.6">{_e(message)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


class _Frame:
    """The plot area and the data -> pixel mapping."""

    def __init__(
        self,
        width: int,
        height: int,
        x_range: tuple[float, float],
        y_range: tuple[float, float],
        legend_rows: int = 0,
    ) -> None:
        self.width = width
        self.left = _PAD_LEFT
        self.right = width - _PAD_RIGHT
        self.top = _PAD_TOP + (legend_rows * _LEGEND_ROW + 8 if legend_rows else 0)
        self.bottom = height - _PAD_BOTTOM
        self.x0, self.x1 = x_range
        self.y0, self.y1 = y_range

    def px(self, x: float) -> float:
        return self.left + (x - self.x0) / (self.x1 - self.x0) * (self.right - self.left)

    def py(self, y: float) -> float:
        return self.bottom - (y - self.y0) / (self.y1 - self.y0) * (self.bottom - self.top)


def _axes(frame: _Frame, x_ticks: list[float], y_ticks: list[float], x_label: str, y_label: str) -> list[str]:
    parts = ['<g class="axes" fill="currentColor" stroke="currentColor">']
    for y in y_ticks:
        py = frame.py(y)
        parts.append(
            f'<line x1="{frame.left}" y1="{_num(py)}" x2="{_num(frame.right)}" y2="{_num(py)}" '
            f'stroke-opacity="0.15" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{frame.left - 6}" y="{_num(py + 4)}" text-anchor="end" stroke="none">{_e(_fmt(y))}</text>'
        )
    for x in x_ticks:
        px = frame.px(x)
        parts.append(
            f'<line x1="{_num(px)}" y1="{frame.bottom}" x2="{_num(px)}" y2="{frame.bottom + 4}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{_num(px)}" y="{frame.bottom + 16}" text-anchor="middle" stroke="none">{_e(_fmt(x))}</text>'
        )
    parts.append(
        f'<line x1="{frame.left}" y1="{frame.bottom}" x2="{_num(frame.right)}" y2="{frame.bottom}" stroke-width="1"/>'
    )
    parts.append(f'<line x1="{frame.left}" y1="{frame.top}" x2="{frame.left}" y2="{frame.bottom}" stroke-width="1"/>')
    middle_x = (frame.left + frame.right) / 2
    parts.append(
        f'<text x="{_num(middle_x)}" y="{frame.bottom + 32}" text-anchor="middle" stroke="none">{_e(x_label)}</text>'
    )
    middle_y = (frame.top + frame.bottom) / 2
    parts.append(
        f'<text x="14" y="{_num(middle_y)}" text-anchor="middle" stroke="none" '
        f'transform="rotate(-90 14 {_num(middle_y)})">{_e(y_label)}</text>'
    )
    parts.append("</g>")
    return parts


def _text_width(text: str) -> float:
    """About how wide `text` is at the charts' 11-unit font (CJK characters are square)."""
    return sum(11.0 if ord(ch) >= 0x2E80 else 6.4 for ch in text)


class _Legend:
    """Legend entries laid out left to right in rows above the plot (under the title), so a
    chart too wide for a phone shows its legend at the left, where the page starts.

    Bars get a colour swatch and the name; lines (`values` given) a sample of the line
    with its dash and marker, the name and the series' last value."""

    def __init__(self, names: list[str], width: int, height: int, values: list[str] | None = None) -> None:
        self.names, self.values = names, values
        self.placed: list[tuple[int, float, int, str]] = []  # (series index, x, row, shown text)
        self.more = 0
        left, right = float(_PAD_LEFT), float(width - _PAD_RIGHT)
        x, row = left, 0
        # At most three rows, and never more than half the room the plot has.
        max_rows = max(1, min(_LEGEND_ROWS, (height - _PAD_TOP - _PAD_BOTTOM) // 2 // _LEGEND_ROW))
        for i, name in enumerate(names if len(names) > 1 else []):
            value = values[i] if values is not None else None
            chars = _LEGEND_CHARS if value is None else max(4, _LEGEND_CHARS - len(value))
            short = name if len(name) <= chars else name[: chars - 1] + "…"
            label = short if value is None else f"{short}: {value}"
            entry = (32 if value is not None else 15) + _text_width(label) + 14
            if x > left and x + entry > right:
                if row + 1 >= max_rows:
                    self.more = len(names) - i
                    break
                x, row = left, row + 1
            self.placed.append((i, x, row, short))
            x += entry
        # "+N more" after the last entry shown, in place of it (and more) if it has no room.
        while self.more and self.placed and x + 60 > right:
            _, x, row, _ = self.placed.pop()
            self.more += 1
        self.rows = row + 1 if self.placed or self.more else 0
        self.more_at = (x, row)

    def svg(self) -> list[str]:
        if not self.placed:
            return []
        parts = ['<g class="legend">']
        for i, x, row, short in self.placed:
            name = self.names[i]
            y = _PAD_TOP + 2 + row * _LEGEND_ROW
            colour, dash, shape, stroke = _style(i)
            if self.values is None:
                parts.append(
                    f'<g class="legend-item" data-series="{_e(name)}"><title>{_e(name)}</title>'
                    f'<rect x="{_num(x)}" y="{y - 9}" width="10" height="10" fill="{colour}"/>'
                    f'<text x="{_num(x + 15)}" y="{y}" fill="currentColor">{_e(short)}</text></g>'
                )
                continue
            value = self.values[i]
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<g class="legend-item" data-series="{_e(name)}"><title>{_e(f"{name}: {value}")}</title>'
                f'<line x1="{_num(x)}" y1="{y - 4}" x2="{_num(x + 26)}" y2="{y - 4}" stroke="{colour}" '
                f'stroke-width="{_num(min(stroke, 2.5))}"{dash_attr}/>'
                f"{_marker(shape, x + 13, y - 4, 3.5, colour)}"
                f'<text x="{_num(x + 32)}" y="{y}" fill="currentColor">{_e(short)}: '
                f'<tspan class="legend-value" font-weight="600">{_e(value)}</tspan></text></g>'
            )
        if self.more:
            x, row = self.more_at
            parts.append(
                f'<text x="{_num(x)}" y="{_PAD_TOP + 2 + row * _LEGEND_ROW}" fill="currentColor" '
                f'opacity="0.7">+{self.more} more</text>'
            )
        parts.append("</g>")
        return parts


def _thin(points: list[Point], frame: _Frame) -> list[Point]:
    """At most a few points per pixel column (first, min, max, last), so a 10,000-point
    series draws the same picture with a path a browser handles easily."""
    columns = max(1, int(frame.right - frame.left))
    if len(points) <= columns * 4:
        return points
    kept: list[Point] = []
    bucket: list[Point] = []
    current = None
    for point in [*points, (math.inf, 0.0)]:
        column = int(frame.px(point[0])) if math.isfinite(point[0]) else None
        if column != current and bucket:
            chosen = {0, len(bucket) - 1}
            chosen.add(min(range(len(bucket)), key=lambda i: bucket[i][1]))
            chosen.add(max(range(len(bucket)), key=lambda i: bucket[i][1]))
            kept.extend(bucket[i] for i in sorted(chosen))
            bucket = []
        current = column
        bucket.append(point)
    return kept


# Series with at most this many points get a marker on each point.
MARKED_POINTS = 12


def line_chart(
    series: dict[str, list[tuple[float, float]]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    width: int = 640,
    height: int = 260,
    step: bool = False,
    y_bounds: tuple[float, float] | None = None,
) -> str:
    """Lines of (x, y) points, one per series, with axes, ticks and a legend.

    With `step`, each value holds until the next point (horizontal, then vertical).
    `y_bounds` widens the y axis to at least that range (0-100 for percentages), so
    a value is read against the scale it belongs to.
    """
    cleaned = {str(name): _clean(points) for name, points in series.items()}
    cleaned = {name: points for name, points in cleaned.items() if points}
    if not cleaned:
        return _empty(title, width, height)
    names = list(cleaned)
    xs = [x for points in cleaned.values() for x, _ in points]
    ys = [y for points in cleaned.values() for _, y in points]
    whole_x = _whole(xs)
    x_range = _bounds(xs)
    if whole_x and min(xs) == max(xs):
        # One step: an axis of whole steps around it (not -0.1..0.1, nor below step 0).
        x_range = (max(0.0, xs[0] - 1) if xs[0] >= 0 else xs[0] - 1, xs[0] + 1)
    y_ticks = _cover(nice_ticks(*_bounds(ys + list(y_bounds or ()), zero=min(ys) >= 0)), max(ys))
    y_range = (min(y_ticks[0], min(ys)), max(y_ticks[-1], max(ys)))
    legend = _Legend(names, width, height, [_fmt(points[-1][1]) for points in cleaned.values()])
    frame = _Frame(width, height, x_range, y_range, legend.rows)
    desc = f"{len(names)} series: " + "; ".join(
        f"{name}, {len(points)} points, last {_fmt(points[-1][1])}" for name, points in cleaned.items()
    )
    parts = _open(width, height, title, desc)
    x_ticks = nice_ticks(*x_range)
    if whole_x:
        # Whole-number x (turns, steps, days): a tick at 1.5 would name nothing.
        x_ticks = _whole_ticks(x_range[0], x_range[1], xs)
    parts += _axes(frame, x_ticks, y_ticks, x_label, y_label)
    parts.append('<g class="series" fill="none" stroke-linejoin="round">')
    for i, (name, points) in enumerate(cleaned.items()):
        # The first series widest and drawn first, the next ones narrower, dashed, on top:
        # a line that lies on another shows through its gaps and along its edges.
        colour, dash, shape, stroke = _style(i)
        drawn = points if step else _thin(points, frame)
        commands = [f"M{_num(frame.px(drawn[0][0]))} {_num(frame.py(drawn[0][1]))}"]
        for x, y in drawn[1:]:
            if step:
                commands.append(f"H{_num(frame.px(x))}V{_num(frame.py(y))}")
            else:
                commands.append(f"L{_num(frame.px(x))} {_num(frame.py(y))}")
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<path d="{"".join(commands)}" stroke="{colour}" stroke-width="{_num(stroke)}"{dash_attr}>'
            f"<title>{_e(name)}</title></path>"
        )
        if len(drawn) <= MARKED_POINTS:
            # Few points: mark each, with the series' own shape, the first series largest,
            # so series that coincide (equal accuracies, say) still all show.
            radius = max(1.5, 4.5 - 1.2 * i)
            parts.append(f'<g class="markers" data-shape="{shape}">')
            for x, y in drawn:
                parts.append(_marker(shape, frame.px(x), frame.py(y), radius, colour))
            parts.append("</g>")
    parts.append("</g>")
    parts += legend.svg()
    parts.append("</svg>")
    return "".join(parts)


def _buckets(xs: list[float], max_bars: int) -> tuple[float, float, int]:
    """(first x, bucket width, bucket count) covering xs in at most max_bars buckets.

    Whole-number x (steps) get whole-number bucket widths, so a bar is "steps a..b"."""
    low, high = min(xs), max(xs)
    if all(float(x).is_integer() for x in xs):
        whole = max(1, math.ceil((high - low + 1) / max_bars))
        return low, float(whole), int((high - low) // whole) + 1
    if high == low:
        return low, 1.0, 1
    width = (high - low) / max_bars
    return low, width, max_bars


def bar_chart(
    series: dict[str, list[tuple[float, float]]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    width: int = 640,
    height: int = 260,
    max_bars: int = 200,
) -> str:
    """Stacked bars of (x, y) per series; when x spans more than `max_bars` values, each
    bar is the sum over a bucket of x, and the x label says how wide a bucket is."""
    cleaned = {str(name): _clean(points) for name, points in series.items()}
    cleaned = {name: points for name, points in cleaned.items() if points}
    if not cleaned:
        return _empty(title, width, height)
    names = list(cleaned)
    xs = [x for points in cleaned.values() for x, _ in points]
    first, bucket, count = _buckets(xs, max(1, max_bars))
    sums = [[0.0] * count for _ in names]
    for row, points in zip(sums, cleaned.values(), strict=True):
        for x, y in points:
            row[min(count - 1, int((x - first) // bucket))] += y
    tops = [sum(row[i] for row in sums) for i in range(count)]
    highest = max(max(tops), 0.0)
    lowest = min(min(min(row) for row in sums), 0.0)
    y_ticks = nice_ticks(lowest, highest if highest > lowest else lowest + 1)
    if _whole(y for points in cleaned.values() for _, y in points):
        # Counts (calls, tokens): no tick at 0.2 of a call.
        whole_y = [t for t in y_ticks if float(t).is_integer()]
        y_ticks = whole_y if len(whole_y) >= 2 else [lowest, float(math.ceil(max(highest, lowest + 1)))]
    y_ticks = _cover(y_ticks, highest)
    y_range = (min(y_ticks[0], lowest), max(y_ticks[-1], highest))
    whole = bucket.is_integer()
    # One step per bar: each bar stands over its step's tick (the axis runs half a step
    # beyond the first and last), so one or two steps give bars over "0" and "1", not one
    # bar across a 0-1 axis.
    centred = whole and bucket == 1 and _whole(xs)
    x_range = (first - 0.5, first + count - 0.5) if centred else (first, first + bucket * count)
    legend = _Legend(names, width, height)
    frame = _Frame(width, height, x_range, y_range, legend.rows)
    if bucket != 1:
        x_label = f"{x_label} (each bar: {_fmt(bucket)}{'' if whole else ' wide'})"
    desc = f"{len(names)} series in {count} bars; " + "; ".join(
        f"{name}, total {_fmt(sum(row))}" for name, row in zip(names, sums, strict=True)
    )
    parts = _open(width, height, title, desc)
    if whole and _whole(xs):
        x_ticks = _whole_ticks(first, first + bucket * (count - (1 if centred else 0)), xs)
    else:
        x_ticks = nice_ticks(*x_range)
    parts += _axes(frame, x_ticks, y_ticks, x_label, y_label)
    slot_px = (frame.right - frame.left) / count
    bar_px = min(slot_px, _MAX_BAR_PX) if centred else slot_px
    gap = 1 if bar_px > 3 else 0
    parts.append('<g class="bars">')
    base = [0.0] * count
    for i, (name, row) in enumerate(zip(names, sums, strict=True)):
        colour = PALETTE[i % len(PALETTE)]
        parts.append(f'<g fill="{colour}"><title>{_e(name)}</title>')
        for b, value in enumerate(row):
            if value == 0:
                continue
            y_from, y_to = base[b], base[b] + value
            base[b] = y_to
            top, bottom = frame.py(max(y_from, y_to)), frame.py(min(y_from, y_to))
            left = frame.left + b * slot_px + (slot_px - bar_px) / 2
            label_from = first + b * bucket
            span = _fmt(label_from) if bucket == 1 else f"{_fmt(label_from)}–{_fmt(label_from + bucket - whole)}"
            parts.append(
                f'<rect x="{_num(left)}" y="{_num(top)}" width="{_num(max(0.5, bar_px - gap))}" '
                f'height="{_num(max(0.5, bottom - top))}"><title>{_e(f"{name} {span}: {_fmt(value)}")}</title></rect>'
            )
        parts.append("</g>")
    parts.append("</g>")
    parts += legend.svg()
    parts.append("</svg>")
    return "".join(parts)
