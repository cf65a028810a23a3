"""Inline SVG charts for the report and comparison pages (no JavaScript, no CDN)."""

from __future__ import annotations

import pandas as pd

from hubopt.present.format import COST_LABELS, esc, finite, fmt_axis, fmt_money, fmt_num, fmt_pct

SERIES_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")


def cost_chart_svg(costs: pd.DataFrame, currency: str = "", width: int = 640) -> str:
    """Horizontal bars of the cost components (non-zero ones), largest first, with values."""
    rows = costs[costs["cost"].abs() > 1e-9].sort_values("cost", ascending=False)
    if not len(rows):
        return "<p class='muted'>No costs.</p>"
    label_w, value_w, bar_h, gap = 150, 150, 20, 8
    plot_w = width - label_w - value_w
    top = float(rows["cost"].abs().max())
    height = len(rows) * (bar_h + gap)
    parts = [
        f"<svg class='chart' role='img' aria-label='Cost by component' viewBox='0 0 {width} {height}' "
        f"width='{width}' height='{height}' style='max-width:100%;height:auto'>"
    ]
    for i, row in enumerate(rows.itertuples()):
        y = i * (bar_h + gap)
        w = max(1.0, plot_w * abs(float(row.cost)) / top)
        label = COST_LABELS.get(str(row.component), str(row.component))
        share = f" · {fmt_pct(row.share)}" if "share" in rows.columns else ""
        parts.append(
            f"<text x='{label_w - 8}' y='{y + bar_h * 0.72:.1f}' text-anchor='end' class='lbl'>{esc(label)}</text>"
            f"<rect x='{label_w}' y='{y}' width='{w:.1f}' height='{bar_h}' rx='3' fill='#2c7fb8'><title>{esc(label)}: {fmt_num(row.cost)}</title></rect>"
            f"<text x='{label_w + w + 6:.1f}' y='{y + bar_h * 0.72:.1f}' class='val'>{esc(fmt_money(row.cost, currency))}{share}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def stacked_bar_svg(
    values: list[float], colors: list[str], titles: list[str], width: int = 220, height: int = 14
) -> str:
    """One horizontal 100 % stacked bar."""
    total = float(sum(values))
    if total <= 0:
        return ""
    x = 0.0
    parts = [
        f"<svg class='stack' viewBox='0 0 {width} {height}' width='{width}' height='{height}'>"
    ]
    for value, color, title in zip(values, colors, titles, strict=True):
        w = width * value / total
        if w > 0:
            parts.append(
                f"<rect x='{x:.2f}' y='0' width='{w:.2f}' height='{height}' fill='{color}'><title>{title}</title></rect>"
            )
        x += w
    parts.append("</svg>")
    return "".join(parts)


def trade_off_charts(solved: pd.DataFrame, params: list[str]) -> list[str]:
    """SVG charts: cost vs on-time rate, cost vs CO2, and cost vs each numeric parameter.

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
            charts.append(
                scatter_svg(x, cost, labels, series, f"Cost vs {axis}", axis, "Total cost", kind)
            )
    for param in numeric:
        others = [p for p in varied if p != param]
        groups = (
            [", ".join(f"{p}={row[p]}" for p in others) for _, row in solved.iterrows()]
            if others
            else ["all"] * len(solved)
        )
        x = [finite(v) for v in solved[param]]
        charts.append(
            scatter_svg(
                x, cost, labels, groups, f"Cost vs {param}", param, "Total cost", "num", True
            )
        )
    return charts


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        return [low]
    step = (high - low) / (count - 1)
    return [low + i * step for i in range(count)]


def scatter_svg(
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
) -> str:
    """A scatter chart (points coloured by ``series``; joined in x order when ``connect``)."""
    points = [
        (px, py, lab, ser)
        for px, py, lab, ser in zip(x, y, labels, series, strict=True)
        if px is not None and py is not None
    ]
    left, right, top, bottom = 78, 14, 12, 64
    inner_w, inner_h = width - left - right, height - top - bottom
    if not points:
        return ""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    pad_x = (x1 - x0) * 0.08 or abs(x0) * 0.05 or 1.0
    pad_y = (y1 - y0) * 0.08 or abs(y0) * 0.05 or 1.0
    x0, x1, y0, y1 = x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y

    def sx(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * inner_w

    def sy(v: float) -> float:
        return top + inner_h - (v - y0) / (y1 - y0) * inner_h

    parts = [
        f"<rect x='{left}' y='{top}' width='{inner_w}' height='{inner_h}' fill='#fafafa' stroke='#ddd'/>"
    ]
    for value in _ticks(x0 + pad_x, x1 - pad_x):
        parts.append(
            f"<text x='{sx(value):.1f}' y='{top + inner_h + 15}' font-size='10' text-anchor='middle'>"
            f"{esc(fmt_axis(value, x_kind))}</text>"
        )
    for value in _ticks(y0 + pad_y, y1 - pad_y):
        parts.append(
            f"<line x1='{left}' x2='{left + inner_w}' y1='{sy(value):.1f}' y2='{sy(value):.1f}' stroke='#eee'/>"
            f"<text x='{left - 5}' y='{sy(value) + 3:.1f}' font-size='10' text-anchor='end'>"
            f"{esc(fmt_axis(value))}</text>"
        )
    names = list(dict.fromkeys(p[3] for p in points))
    color = {name: SERIES_COLORS[i % len(SERIES_COLORS)] for i, name in enumerate(names)}
    if connect:
        for name in names:
            line = sorted((p[0], p[1]) for p in points if p[3] == name)
            if len(line) > 1:
                path = " ".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in line)
                parts.append(
                    f"<polyline points='{path}' fill='none' stroke='{color[name]}' stroke-width='1.5'/>"
                )
    for px, py, label, name in points:
        parts.append(
            f"<circle cx='{sx(px):.1f}' cy='{sy(py):.1f}' r='5' fill='{color[name]}' "
            f"fill-opacity='0.85' stroke='#fff'><title>{esc(label)}: {esc(fmt_axis(py))}"
            f"</title></circle>"
        )
    parts.append(
        f"<text x='{left + inner_w / 2:.0f}' y='{top + inner_h + 32}' font-size='11' "
        f"text-anchor='middle'>{esc(x_label)}</text>"
        f"<text x='14' y='{top + inner_h / 2:.0f}' font-size='11' text-anchor='middle' "
        f"transform='rotate(-90 14 {top + inner_h / 2:.0f})'>{esc(y_label)}</text>"
    )
    legend_x = left
    for name in names[:6]:
        parts.append(
            f"<circle cx='{legend_x + 5}' cy='{height - 12}' r='4' fill='{color[name]}'/>"
            f"<text x='{legend_x + 12}' y='{height - 8}' font-size='10'>{esc(name)}</text>"
        )
        legend_x += 12 + 6 * len(name) + 14
    svg = (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"role='img' aria-label='{esc(title)}'>{''.join(parts)}</svg>"
    )
    return f"<div class='chart'><h3>{esc(title)}</h3>{svg}</div>"
