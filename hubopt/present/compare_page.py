"""``compare.html``: the batch comparison page, one self-contained HTML file.

A sortable table (a few lines of inline JavaScript, no CDN) with deltas against the base
(the first solved scenario) — a cost difference smaller than the two plans' combined gap
is marked "within solver gap" — links to each run's report and map, and inline-SVG
trade-off charts when a sweep varies parameters: cost vs on-time rate, cost vs CO2 and
cost vs each numeric parameter. Rendered from ``templates/compare.html.j2`` (Jinja2,
autoescape on).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hubopt.present.charts import trade_off_charts
from hubopt.present.format import finite, fmt_value
from hubopt.present.templating import render
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
    Column("gap_money", "Gap (money)", "money"),
    Column("solve_seconds", "Solve s", "num1"),
)


def render_compare_page(
    table: pd.DataFrame, title: str = "Scenario comparison", out_dir: Path | None = None
) -> str:
    """The comparison page of a batch (``table`` from :func:`hubopt.changes.comparison_table`)."""
    params = list(table.attrs.get("params") or [])
    solved = table[table["status"].isin(SOLVED)]
    base = solved.index[0] if len(solved) else None
    columns = [c for c in COLUMNS if c.key in table.columns]
    return render(
        "compare.html.j2",
        title=title,
        total=len(table),
        solved=len(solved),
        failed=len(table) - len(solved),
        base_name=None if base is None else str(table.at[base, "name"]),
        headers=["Scenario", "Status", *params, *(c.header for c in columns), "Pages", "Error"],
        rows=[
            _row(table, index, row, params, columns, base, out_dir)
            for index, row in table.iterrows()
        ],
        trade_offs=trade_off_charts(solved, params),
    )


def _row(
    table: pd.DataFrame,
    index: Any,
    row: pd.Series,
    params: list[str],
    columns: list[Column],
    base: Any,
    out_dir: Path | None,
) -> dict[str, Any]:
    status = str(row["status"])
    error = str(row.get("error") or "")
    cells = []
    for column in columns:
        value = row.get(column.key)
        number = finite(value)
        delta, direction = (
            _delta(column, value, table.at[base, column.key])
            if base is not None and index != base
            else ("", "")
        )
        within = column.key == "total_cost" and row.get("within_solver_gap") is True
        cells.append(
            {
                "text": fmt_value(column.kind, value),
                "sort": "" if number is None else repr(number),
                "delta": delta,
                "direction": direction,
                "note": "within solver gap" if within else "",
            }
        )
    return {
        "name": str(row["name"]),
        "status": status,
        "status_kind": "ok" if status in SOLVED else ("warn" if status == "time_limit" else "bad"),
        "params": ["" if (v := row.get(p)) is None or v != v else v for p in params],
        "cells": cells,
        "links": _links(row, out_dir),
        "error": error,
        "error_short": error if len(error) <= 400 else error[:397] + "...",
        "base": index == base,
    }


def _delta(column: Column, value: Any, base_value: Any) -> tuple[str, str]:
    """The change against the base as text, and ``up`` or ``down`` (empty when none)."""
    now, then = finite(value), finite(base_value)
    if column.delta is None or now is None or then is None or now == then:
        return "", ""
    change = now - then
    if column.delta == "rel":
        text = f"{change / abs(then):+.1%}" if then else f"{change:+,.0f}"
    elif column.delta == "pp":
        text = f"{100 * change:+.1f} pp"
    else:
        text = f"{change:+,.1f}"
    if not any(ch in "123456789" for ch in text):
        return "", ""  # rounds to zero: no delta worth showing
    return text, "up" if change > 0 else "down"


def _links(row: pd.Series, out_dir: Path | None) -> list[tuple[str, str]]:
    """(label, href) of the run's report and map, relative to the page when possible."""
    run_dir = row.get("run_dir")
    if not isinstance(run_dir, str) or not run_dir:
        return []
    folder = Path(run_dir)
    links = []
    for page in ("report.html", "map.html"):
        if (folder / page).is_file():
            href = folder / page
            if out_dir is not None:
                with contextlib.suppress(ValueError):
                    href = href.relative_to(out_dir.resolve())
            links.append((page.split(".")[0], href.as_posix()))
    return links
