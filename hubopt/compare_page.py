"""``compare.html``: the batch comparison page, one self-contained HTML file.

A sortable table (a few lines of inline JavaScript, no CDN) with deltas against the base
(the first solved scenario), links to each run's report and map, and inline-SVG
trade-off charts when a sweep varies parameters: cost vs on-time rate, cost vs CO2 and
cost vs each numeric parameter. Every string from data goes through
:func:`hubopt.review.esc`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hubopt.compare import finite
from hubopt.review import esc, fmt_hours, fmt_money, fmt_num, fmt_pct

SERIES_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")
SOLVED = ("optimal", "feasible")


@dataclass(frozen=True)
class Column:
    """A shown column: key in the table, header, formatter, and how a delta is shown."""

    key: str
    header: str
    kind: str  # money, pct, hours, num, num1, text
    delta: str | None = None  # "rel" (percent change), "pp" (percentage points), "abs"


COLUMNS = (
    Column("total_cost", "Total cost", "money", "rel"),
    Column("on_time_rate", "On-time rate", "pct", "pp"),
    Column("fill_rate", "Fill rate", "pct", "pp"),
    Column("cost_per_unit_delivered", "Cost / unit", "num", "rel"),
    Column("co2_t", "CO2 t", "num1", "rel"),
    Column("open_hubs_max", "Open hubs", "num", "abs"),
    Column("mean_delivery_hours", "Mean delivery", "hours", "abs"),
    Column("p95_delivery_hours", "P95 delivery", "hours", "abs"),
    Column("regions_24h_share", "Regions ≤ 24 h", "pct", "pp"),
    Column("throughput_utilisation", "Hub utilisation", "pct", "pp"),
    Column("inventory_turnover", "Turnover", "num1", "abs"),
    Column("gap", "Gap", "pct"),
    Column("solve_seconds", "Solve s", "num1"),
)

_CSS = """
body{font:14px/1.45 -apple-system,'Segoe UI',Roboto,'Noto Sans KR',sans-serif;color:#222;
 margin:24px auto;max-width:1400px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#666;margin:0 0 16px}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{padding:5px 8px;border-bottom:1px solid #e4e4e4;vertical-align:top}
th{background:#f5f5f5;text-align:left;cursor:pointer;white-space:nowrap;position:sticky;top:0}
th.sorted-asc::after{content:' ▲'}th.sorted-desc::after{content:' ▼'}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.base td{background:#f3f8fd}
.d{display:block;font-size:11px;color:#777}.d.up{color:#b2182b}.d.down{color:#2166ac}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:12px;color:#fff}
.ok{background:#1a9850}.bad{background:#d73027}.warn{background:#f46d43}
.err{color:#b2182b;max-width:380px;font-size:12px;white-space:pre-wrap}
.charts{display:flex;flex-wrap:wrap;gap:18px}
.chart{border:1px solid #e4e4e4;border-radius:6px;padding:6px}
.chart h3{font-size:14px;margin:2px 6px 4px}
a{color:#2166ac}
"""

_SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var asc = !th.classList.contains('sorted-asc');
      table.querySelectorAll('th').forEach(function (h) { h.classList.remove('sorted-asc', 'sorted-desc'); });
      th.classList.add(asc ? 'sorted-asc' : 'sorted-desc');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute('data-v'), y = b.cells[col].getAttribute('data-v');
        var nx = parseFloat(x), ny = parseFloat(y);
        var r = (isNaN(nx) || isNaN(ny)) ? String(x).localeCompare(String(y)) : nx - ny;
        if (isNaN(nx) !== isNaN(ny)) r = isNaN(nx) ? 1 : -1;
        return asc ? r : -r;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def render_compare_page(
    table: pd.DataFrame, title: str = "Scenario comparison", out_dir: Path | None = None
) -> str:
    """The comparison page of a batch (``table`` from :func:`hubopt.compare.comparison_table`)."""
    params = list(table.attrs.get("params") or [])
    solved = table[table["status"].isin(SOLVED)]
    base = solved.index[0] if len(solved) else None
    failed = len(table) - len(solved)
    summary = f"{len(table)} scenario(s): {len(solved)} solved, {failed} not solved."
    if base is not None:
        summary += f" Deltas are against the base <b>{esc(table.at[base, 'name'])}</b>."
    body = [
        f"<h1>{esc(title)}</h1>",
        f"<p class='sub'>{summary}</p>",
        _table_html(table, params, base, out_dir),
    ]
    charts = trade_off_charts(solved, params)
    if charts:
        body += ["<h2>Trade-offs</h2>", f"<div class='charts'>{''.join(charts)}</div>"]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
        + "".join(body)
        + f"<script>{_SORT_JS}</script></body></html>"
    )


# ---- table -----------------------------------------------------------------------------


def _fmt(kind: str, value: Any) -> str:
    if kind == "money":
        return fmt_money(value)
    if kind == "pct":
        return fmt_pct(value)
    if kind == "hours":
        return fmt_hours(value)
    if kind == "num1":
        return fmt_num(value, 1)
    if kind == "num":
        return fmt_num(value)
    return esc(value)


def _delta(column: Column, value: Any, base_value: Any) -> str:
    now, then = finite(value), finite(base_value)
    if column.delta is None or now is None or then is None or now == then:
        return ""
    change = now - then
    if column.delta == "rel":
        text = f"{change / abs(then):+.1%}" if then else f"{change:+,.0f}"
    elif column.delta == "pp":
        text = f"{100 * change:+.1f} pp"
    else:
        text = f"{change:+,.1f}"
    if not any(ch in "123456789" for ch in text):
        return ""  # rounds to zero: no delta worth showing
    return f"<span class='d {'up' if change > 0 else 'down'}'>{esc(text)}</span>"


def _badge(status: str) -> str:
    kind = "ok" if status in SOLVED else ("warn" if status == "time_limit" else "bad")
    return f"<span class='badge {kind}'>{esc(status)}</span>"


def _links(row: pd.Series, out_dir: Path | None) -> str:
    run_dir = row.get("run_dir")
    if not isinstance(run_dir, str) or not run_dir:
        return ""
    folder = Path(run_dir)
    links = []
    for page in ("report.html", "map.html"):
        if (folder / page).is_file():
            href = folder / page
            if out_dir is not None:
                with contextlib.suppress(ValueError):
                    href = href.relative_to(out_dir.resolve())
            links.append(f"<a href='{esc(href.as_posix())}'>{page.split('.')[0]}</a>")
    return " · ".join(links)


def _table_html(table: pd.DataFrame, params: list[str], base: Any, out_dir: Path | None) -> str:
    columns = [c for c in COLUMNS if c.key in table.columns]
    head = ["Scenario", "Status", *[esc(p) for p in params], *[c.header for c in columns]]
    head += ["Pages", "Error"]
    rows = []
    for index, row in table.iterrows():
        cells = [
            f"<td data-v='{esc(row['name'])}'>{esc(row['name'])}</td>",
            f"<td data-v='{esc(row['status'])}'>{_badge(str(row['status']))}</td>",
        ]
        for param in params:
            value = row.get(param)
            shown = "" if value is None or value != value else value
            cells.append(f"<td class='n' data-v='{esc(shown)}'>{esc(shown)}</td>")
        for column in columns:
            value = row.get(column.key)
            number = finite(value)
            delta = (
                _delta(column, value, table.at[base, column.key])
                if base is not None and index != base
                else ""
            )
            sort_value = "" if number is None else repr(number)
            cells.append(
                f"<td class='n' data-v='{sort_value}'>{_fmt(column.kind, value)}{delta}</td>"
            )
        cells.append(f"<td data-v=''>{_links(row, out_dir)}</td>")
        error = str(row.get("error") or "")
        short = error if len(error) <= 400 else error[:397] + "..."
        cells.append(
            f"<td class='err' data-v='{esc(short)}' title='{esc(error)}'>{esc(short)}</td>"
        )
        style = " class='base'" if index == base else ""
        rows.append(f"<tr{style}>{''.join(cells)}</tr>")
    header = "".join(f"<th>{h}</th>" for h in head)
    return (
        f"<table class='sortable' id='comparison'><thead><tr>{header}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


# ---- trade-off charts ------------------------------------------------------------------


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


def _tick_text(kind: str, value: float) -> str:
    if kind == "pct":
        return fmt_pct(value)
    size = abs(value)
    if size >= 1e9:
        return f"{value / 1e9:,.2f} bn"
    if size >= 1e6:
        return f"{value / 1e6:,.1f} m"
    if size >= 1e3:
        return f"{value:,.0f}"
    return f"{value:.3g}"


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
            f"{esc(_tick_text(x_kind, value))}</text>"
        )
    for value in _ticks(y0 + pad_y, y1 - pad_y):
        parts.append(
            f"<line x1='{left}' x2='{left + inner_w}' y1='{sy(value):.1f}' y2='{sy(value):.1f}' stroke='#eee'/>"
            f"<text x='{left - 5}' y='{sy(value) + 3:.1f}' font-size='10' text-anchor='end'>"
            f"{esc(_tick_text('num', value))}</text>"
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
            f"fill-opacity='0.85' stroke='#fff'><title>{esc(label)}: {esc(_tick_text('num', py))}"
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
