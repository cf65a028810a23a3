"""``compare.html``: the batch comparison page, one self-contained HTML file.

A sortable table (a few lines of inline JavaScript, no CDN) with deltas against the base
(the first solved scenario) — a cost difference smaller than the two plans' combined gap
is marked "within solver gap" — links to each run's report and map, and inline-SVG
trade-off charts when a sweep varies parameters: cost vs on-time rate, cost vs CO2 and
cost vs each numeric parameter. Deltas are coloured by each column's direction of good
(green better, red worse, grey not judged), a hub-decision column shows the hubs opened
and closed against the base, and links are relative. With :class:`Changes` (two runs)
the page also shows what changed and links the side-by-side map. Rendered from
``templates/compare.html.j2`` (Jinja2, autoescape on).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hubopt.changes import hub_set
from hubopt.present.charts import trade_off_charts
from hubopt.present.format import finite, fmt_signed, fmt_value
from hubopt.present.templating import render
from hubopt.solvers import SOLVED_STATUSES as SOLVED
from hubopt.solvers.base import status_text


@dataclass(frozen=True)
class Column:
    """A shown column: key in the table, header, formatter, and how a delta is shown."""

    key: str
    header: str
    kind: str  # money, money_unit, pct, hours, num, num1, text
    delta: str | None = None  # "rel" (percent change), "pp" (percentage points), "abs"
    better: str | None = None  # "lower" or "higher" is an improvement; None: not judged


COLUMNS = (
    Column("total_cost", "Total cost", "money", "rel", "lower"),
    Column("on_time_rate", "On-time rate", "pct", "pp", "higher"),
    Column("fill_rate", "Fill rate", "pct", "pp", "higher"),
    Column("cost_per_unit_delivered", "Cost / unit", "money_unit", "rel", "lower"),
    Column("co2_t", "CO2 t", "num1", "rel", "lower"),
    Column("open_hubs_max", "Open hubs", "num", "abs"),
    Column("mean_delivery_hours", "Mean delivery", "hours", "abs", "lower"),
    Column("p95_delivery_hours", "P95 delivery", "hours", "abs", "lower"),
    Column("regions_24h_share", "Regions ≤ 24 h", "pct", "pp", "higher"),
    Column("throughput_utilisation", "Hub utilisation", "pct", "pp"),
    Column("inventory_turnover", "Turnover", "num1", "abs", "higher"),
    Column("gap", "Gap", "pct"),
    Column("gap_money", "Gap (money)", "money"),
    Column("solve_seconds", "Solve s", "num1"),
)


@dataclass(frozen=True)
class Changes:
    """What changed between two plans (from :mod:`hubopt.changes`), for the two-run page."""

    a: str
    b: str
    hubs: pd.DataFrame
    tiers: pd.DataFrame
    lanes: pd.DataFrame
    map_file: str  # the side-by-side map, relative to the page


def direction_legend() -> dict[str, str]:
    """Which columns are better lower, better higher, or not judged (the page's legend)."""
    return {
        "lower": ", ".join(c.header for c in COLUMNS if c.better == "lower"),
        "higher": ", ".join(c.header for c in COLUMNS if c.better == "higher"),
        "neither": ", ".join(c.header for c in COLUMNS if c.better is None and c.delta is not None),
    }


def judgement(column: Column, change: float) -> str:
    """``better``, ``worse`` or ``neutral``: a change judged by the column's direction of
    good (a fall in on-time rate is worse, a fall in cost is better)."""
    if column.better is None or change == 0:
        return "neutral"
    improved = change < 0 if column.better == "lower" else change > 0
    return "better" if improved else "worse"


def render_compare_page(
    table: pd.DataFrame,
    title: str = "Scenario comparison",
    out_dir: Path | None = None,
    changes: Changes | None = None,
) -> str:
    """The comparison page of a batch (``table`` from :func:`hubopt.changes.comparison_table`);
    with ``changes`` (two runs), the what-changed tables and a link to the side-by-side map."""
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
        headers=[
            "Scenario",
            "Status",
            *params,
            *(c.header for c in columns),
            "Hub decision",
            "Pages",
            "Error",
        ],
        legend=direction_legend(),
        rows=[
            _row(table, index, row, params, columns, base, out_dir)
            for index, row in table.iterrows()
        ],
        trade_offs=trade_off_charts(solved, params),
        changes=None if changes is None else _changes(changes),
    )


def _changes(changes: Changes) -> dict[str, Any]:
    """The what-changed tables of the two-run page, formatted."""

    def text(value: Any) -> str:
        return value if isinstance(value, str) else ""

    return {
        "a": changes.a,
        "b": changes.b,
        "map_file": changes.map_file,
        "hubs": [
            {"hub_id": str(h.hub_id), "name": text(h.name), "change": str(h.change)}
            for h in changes.hubs.itertuples()
        ],
        "tiers": [
            {
                "region_id": str(t.region_id),
                "name": text(t.name),
                "tier_a": str(t.tier_a),
                "tier_b": str(t.tier_b),
                "hours_a": fmt_value("hours", t.fastest_hours_a),
                "hours_b": fmt_value("hours", t.fastest_hours_b),
                "better": bool(t.better),
            }
            for t in changes.tiers.itertuples()
        ],
        "lanes": [
            {
                "hub_id": str(r.hub_id),
                "region_id": str(r.region_id),
                "units_a": fmt_value("num", r.quantity_a),
                "units_b": fmt_value("num", r.quantity_b),
                "delta": fmt_signed(r.delta),
            }
            for r in changes.lanes.itertuples()
        ],
    }


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
        "status": status_text(status, finite(row.get("gap")) or 0.0),
        "status_kind": "ok" if status in SOLVED else ("warn" if status == "time_limit" else "bad"),
        "params": ["" if (v := row.get(p)) is None or v != v else v for p in params],
        "cells": cells,
        "hubs": _hubs(row),
        "links": _links(row, out_dir),
        "error": error,
        "error_short": error if len(error) <= 400 else error[:397] + "...",
        "base": index == base,
    }


def _hubs(row: pd.Series) -> dict[str, Any] | None:
    """The hub decision of a row: what changed against the base, and the open hubs."""
    hubs = hub_set(row.get("open_hubs"))
    if hubs is None:
        return None
    return {
        "change": str(row.get("hubs_vs_base") or ""),
        "count": len(hubs),
        "open": ", ".join(sorted(hubs)),
    }


def _delta(column: Column, value: Any, base_value: Any) -> tuple[str, str]:
    """The change against the base as text, and ``better``, ``worse`` or ``neutral`` by the
    column's direction of good (empty when there is no change)."""
    now, then = finite(value), finite(base_value)
    if column.delta is None or now is None or then is None or now == then:
        return "", ""
    change = now - then
    if column.delta == "rel":
        text = f"{change / abs(then):+.1%}" if then else fmt_signed(change)
    elif column.delta == "pp":
        text = f"{fmt_signed(100 * change, 1)} pp"
    else:
        text = fmt_signed(change, 1)
    if not any(ch in "123456789" for ch in text):
        return "", ""  # rounds to zero: no delta worth showing
    return text, judgement(column, change)


def _links(row: pd.Series, out_dir: Path | None) -> list[tuple[str, str]]:
    """(label, href) of the run's report and map, relative to the page when possible."""
    run_dir = row.get("run_dir")
    if not isinstance(run_dir, str) or not run_dir:
        return []
    folder = Path(run_dir)
    links = []
    for page in ("report.html", "map.html"):
        if (folder / page).is_file():
            links.append((page.split(".")[0], relative_href(folder / page, out_dir)))
    return links


def relative_href(target: Path, page_dir: Path | None) -> str:
    """A link from a page in ``page_dir`` to ``target``, relative (``../run/report.html``)
    so the folder can be moved or zipped; absolute only when no relative path exists."""
    if page_dir is None:
        return target.resolve().as_uri()
    try:
        return Path(os.path.relpath(target.resolve(), page_dir.resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return target.resolve().as_uri()
