"""Chart geometry for server-rendered SVG (no inline styles or scripts: the CSP forbids
them). Python computes coordinates; `components/admin_bar_chart.html` and
`admin_line_chart.html` draw them with classes, a <title>/<desc>, value labels and both
axes: days (or hours) along x, a labelled value scale with gridlines along y."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

WIDTH = 480
NO_VALUE = "\u2013"  # an en dash: no data for this slot
HEIGHT = 200
PAD_TOP = 22
PAD_BOTTOM = 34
PAD_X = 22  # room for the first and last axis labels
PAD_LEFT = 58  # room for the y axis' value labels
TICKS = 4  # gridlines above the baseline


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    text: str  # the value as shown
    x: float
    y: float
    width: float
    height: float
    show_label: bool


@dataclass(frozen=True)
class Point:
    label: str
    value: float | None
    text: str
    x: float
    y: float
    show_label: bool


@dataclass(frozen=True)
class Tick:
    """A y-axis gridline and its label."""

    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    kind: str  # bar | line
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - PAD_BOTTOM
    bars: list[Bar] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    empty: bool = False
    ticks: list[Tick] = field(default_factory=list)
    x_label: str = ""
    y_label: str = ""
    left: float = PAD_LEFT

    @property
    def polyline(self) -> str:
        return " ".join(f"{point.x:.1f},{point.y:.1f}" for point in self.points
                        if point.value is not None)


def _label_every(count: int) -> int:
    return max(1, -(-count // 8))  # at most ~8 axis labels


def _nice_top(value: float, min_step: float = 1) -> float:
    """A ceiling for the y axis whose TICKS gridlines fall on round values (1, 2, 2.5 or 5
    times a power of ten, never finer than `min_step`: whole orders, whole seconds)."""
    wanted = max(value / TICKS, min_step)
    magnitude = 10 ** math.floor(math.log10(wanted))
    step = next(factor * magnitude for factor in (1, 2, 2.5, 5, 10)
                if wanted <= factor * magnitude + 1e-9)
    return step * TICKS


def _ticks(top: float, fmt: Callable[[float], str]) -> list[Tick]:
    plot_height = HEIGHT - PAD_TOP - PAD_BOTTOM
    return [Tick(y=round(PAD_TOP + plot_height - plot_height * index / TICKS, 1),
                 text=fmt(top * index / TICKS)) for index in range(TICKS + 1)]


def bar_chart(chart_id: str, title: str, description: str, labels: Sequence[str],
              values: Sequence[float | None], fmt: Callable[[float], str] = str, *,
              x_label: str = "", y_label: str = "",
              axis_fmt: Callable[[float], str] | None = None, min_step: float = 1) -> Chart:
    count = max(1, len(values))
    plot_height = HEIGHT - PAD_TOP - PAD_BOTTOM
    top = _nice_top(max([value for value in values if value is not None] or [0]), min_step)
    slot = (WIDTH - PAD_LEFT - PAD_X) / count
    every = _label_every(count)
    bars = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = 0.0 if value is None else plot_height * value / top
        bars.append(Bar(
            label=label, value=value, text=NO_VALUE if value is None else fmt(value),
            x=round(PAD_LEFT + index * slot + slot * 0.1, 1),
            y=round(PAD_TOP + plot_height - height, 1),
            width=round(slot * 0.8, 1), height=round(height, 1),
            show_label=index % every == 0))
    return Chart(chart_id, title, description, "bar", bars=bars,
                 empty=all(not value for value in values),
                 ticks=_ticks(top, axis_fmt or fmt), x_label=x_label, y_label=y_label)


def line_chart(chart_id: str, title: str, description: str, labels: Sequence[str],
               values: Sequence[float | None], fmt: Callable[[float], str] = str,
               top: float | None = None, *, x_label: str = "", y_label: str = "") -> Chart:
    count = len(values)
    plot_height = HEIGHT - PAD_TOP - PAD_BOTTOM
    known = [value for value in values if value is not None]
    ceiling = top or _nice_top(max(known or [0]))
    step = (WIDTH - PAD_LEFT - PAD_X) / max(1, count - 1) if count > 1 else 0
    every = _label_every(count)
    points = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = PAD_TOP + plot_height - (0 if value is None else plot_height * value / ceiling)
        text = NO_VALUE if value is None else fmt(value)
        points.append(Point(label=label, value=value, text=text,
                            x=round(PAD_LEFT + index * step if count > 1 else WIDTH / 2, 1),
                            y=round(y, 1), show_label=index % every == 0))
    return Chart(chart_id, title, description, "line", points=points, empty=not known,
                 ticks=_ticks(ceiling, fmt), x_label=x_label, y_label=y_label)


def percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def count(value: float) -> str:
    return f"{value:.0f}"
