"""Inline SVG charts for the report and comparison pages (no JavaScript, no CDN).

Each function returns the chart's geometry as plain data (positions, sizes, colours and
already formatted labels); the SVG markup is drawn by the macros in
``templates/charts.html.j2``, with Jinja2's autoescape on every label.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from hubopt.present.format import COST_LABELS, finite, fmt_axis, fmt_money, fmt_num, fmt_pct

SERIES_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")


@dataclass(frozen=True)
class Bar:
    """One horizontal bar with its label (left) and value text (right)."""

    label: str
    y: float
    width: float
    value_text: str
    title: str


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars, largest first."""

    width: int
    height: int
    label_width: int
    bar_height: int
    bars: list[Bar]


@dataclass(frozen=True)
class Segment:
    """One coloured piece of a 100 % stacked bar."""

    x: float
    width: float
    color: str
    title: str


@dataclass(frozen=True)
class StackedBar:
    """A horizontal 100 % stacked bar."""

    width: int
    height: int
    segments: list[Segment]


@dataclass(frozen=True)
class Tick:
    """An axis tick at pixel position ``at`` with its text."""

    at: float
    text: str


@dataclass(frozen=True)
class Point:
    """A scatter point at pixel (x, y) with its colour and hover text."""

    x: float
    y: float
    color: str
    title: str


@dataclass(frozen=True)
class Scatter:
    """A scatter chart: plot box, ticks, points, optional lines per series, legend."""

    title: str
    width: int
    height: int
    left: int
    top: int
    inner_width: int
    inner_height: int
    x_label: str
    y_label: str
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    points: list[Point]
    lines: list[tuple[str, str]] = field(default_factory=list)  # (colour, "x,y x,y ...")
    legend: list[tuple[float, str, str]] = field(default_factory=list)  # (x, colour, name)


def cost_bars(costs: pd.DataFrame, currency: str = "", width: int = 640) -> BarChart | None:
    """Bars of the non-zero cost components (``component``, ``cost``, optional ``share``)."""
    rows = costs[costs["cost"].abs() > 1e-9].sort_values("cost", ascending=False)
    if not len(rows):
        return None
    label_w, value_w, bar_h, gap = 150, 150, 20, 8
    plot_w = width - label_w - value_w
    top = float(rows["cost"].abs().max())
    bars = []
    for i, row in enumerate(rows.itertuples()):
        label = COST_LABELS.get(str(row.component), str(row.component))
        share = f" · {fmt_pct(row.share)}" if "share" in rows.columns else ""
        bars.append(
            Bar(
                label=label,
                y=i * (bar_h + gap),
                width=max(1.0, plot_w * abs(float(row.cost)) / top),
                value_text=f"{fmt_money(row.cost, currency)}{share}",
                title=f"{label}: {fmt_num(row.cost)}",
            )
        )
    return BarChart(width, len(rows) * (bar_h + gap), label_w, bar_h, bars)


def stacked_bar(
    values: list[float], colors: list[str], titles: list[str], width: int = 220, height: int = 14
) -> StackedBar | None:
    """One horizontal 100 % stacked bar (None when the values sum to zero)."""
    total = float(sum(values))
    if total <= 0:
        return None
    x, segments = 0.0, []
    for value, color, title in zip(values, colors, titles, strict=True):
        w = width * value / total
        if w > 0:
            segments.append(Segment(x, w, color, title))
        x += w
    return StackedBar(width, height, segments)


def trade_off_charts(solved: pd.DataFrame, params: list[str]) -> list[Scatter]:
    """Cost vs on-time rate, cost vs CO2, and cost vs each numeric parameter.

    Empty when no parameter varies or fewer than two scenarios solved.
    """
    varied = [p for p in params if p in solved.columns and solved[p].nunique(dropna=True) > 1]
    if len(solved) < 2 or not varied:
        return []
    numeric = [p for p in varied if all(finite(v) is not None for v in solved[p])]
    charts = []
    series_param = numeric[-1] if numeric else varied[-1]
    series = [f"{series_param}={v}" for v in solved[series_param]]
    labels = [", ".join(f"{p}={row[p]}" for p in varied) for _, row in solved.iterrows()]
    cost = [finite(v) for v in solved["total_cost"]]
    for key, axis, kind in (("on_time_rate", "On-time rate", "pct"), ("co2_t", "CO2 t", "num")):
        if key in solved.columns:
            x = [finite(v) for v in solved[key]]
            chart = scatter(x, cost, labels, series, f"Cost vs {axis}", axis, "Total cost", kind)
            if chart is not None:
                charts.append(chart)
    for param in numeric:
        others = [p for p in varied if p != param]
        groups = (
            [", ".join(f"{p}={row[p]}" for p in others) for _, row in solved.iterrows()]
            if others
            else ["all"] * len(solved)
        )
        x = [finite(v) for v in solved[param]]
        chart = scatter(
            x, cost, labels, groups, f"Cost vs {param}", param, "Total cost", "num", True
        )
        if chart is not None:
            charts.append(chart)
    return charts


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        return [low]
    step = (high - low) / (count - 1)
    return [low + i * step for i in range(count)]


def scatter(
    x: list[float | None],
    y: list[float | None],
    labels: list[str],
    series: list[str],
    title: str,
    x_label: str,
    y_label: str,
    x_kind: str = "num",
    connect: bool = False,
    width: int = 430,
    height: int = 300,
) -> Scatter | None:
    """A scatter chart (points coloured by ``series``; joined in x order when ``connect``)."""
    points = [
        (px, py, lab, ser)
        for px, py, lab, ser in zip(x, y, labels, series, strict=True)
        if px is not None and py is not None
    ]
    if not points:
        return None
    left, right, top, bottom = 78, 14, 12, 64
    inner_w, inner_h = width - left - right, height - top - bottom
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    pad_x = (x1 - x0) * 0.08 or abs(x0) * 0.05 or 1.0
    pad_y = (y1 - y0) * 0.08 or abs(y0) * 0.05 or 1.0
    x0, x1, y0, y1 = x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y

    def sx(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * inner_w

    def sy(v: float) -> float:
        return top + inner_h - (v - y0) / (y1 - y0) * inner_h

    names = list(dict.fromkeys(p[3] for p in points))
    color = {name: SERIES_COLORS[i % len(SERIES_COLORS)] for i, name in enumerate(names)}
    lines = []
    if connect:
        for name in names:
            line = sorted((p[0], p[1]) for p in points if p[3] == name)
            if len(line) > 1:
                lines.append((color[name], " ".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in line)))
    legend, legend_x = [], float(left)
    for name in names[:6]:
        legend.append((legend_x, color[name], name))
        legend_x += 12 + 6 * len(name) + 14
    return Scatter(
        title=title,
        width=width,
        height=height,
        left=left,
        top=top,
        inner_width=inner_w,
        inner_height=inner_h,
        x_label=x_label,
        y_label=y_label,
        x_ticks=[Tick(sx(v), fmt_axis(v, x_kind)) for v in _ticks(x0 + pad_x, x1 - pad_x)],
        y_ticks=[Tick(sy(v), fmt_axis(v)) for v in _ticks(y0 + pad_y, y1 - pad_y)],
        points=[
            Point(sx(px), sy(py), color[name], f"{label}: {fmt_axis(py)}")
            for px, py, label, name in points
        ],
        lines=lines,
        legend=legend,
    )
