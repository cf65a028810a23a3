"""``compare.html``: the batch comparison page, one self-contained HTML file.

A sortable table (a few lines of inline JavaScript, no CDN) with deltas against the base
(the first solved scenario), links to each run's report and map, and inline-SVG
trade-off charts when a sweep varies parameters: cost vs on-time rate, cost vs CO2 and
cost vs each numeric parameter. Every string from data goes through
:func:`hubopt.present.format.esc`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hubopt.present.charts import trade_off_charts
from hubopt.present.format import esc, finite, fmt_value
from hubopt.solvers import SOLVED_STATUSES as SOLVED


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
    """The comparison page of a batch (``table`` from :func:`hubopt.changes.comparison_table`)."""
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
                f"<td class='n' data-v='{sort_value}'>{esc(fmt_value(column.kind, value))}{delta}</td>"
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
