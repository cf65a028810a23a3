"""What differs between plans, as DataFrames (pure: no files, no pages, no maps).

- :func:`comparison_table`: one row per scenario: name, status, objective, gap, solve
  time, the varied sweep parameters, every headline KPI (see :mod:`hubopt.kpis`), error;
- :func:`hub_changes`, :func:`tier_changes`, :func:`lane_changes`: what changed between
  two plans (drawn by :func:`hubopt.present.maps.compare_map`, written by
  :func:`hubopt.compare.compare_runs`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from hubopt.result import Result
from hubopt.solvers import SOLVED_STATUSES
from hubopt.tiers import tier_worse

LEAD_COLUMNS = (
    "name",
    "status",
    "objective",
    "gap",
    "gap_money",
    "cost_delta_vs_base",
    "within_solver_gap",
    "solve_seconds",
    "build_seconds",
)
HEADLINE_KPIS = (
    "total_cost",
    "cost_per_unit_delivered",
    "demand_units",
    "delivered_units",
    "fill_rate",
    "on_time_rate",
    "mean_delivery_hours",
    "p95_delivery_hours",
    "open_hubs_max",
    "open_hubs_last_period",
    "throughput_utilisation",
    "average_stock_units",
    "inventory_turnover",
    "days_of_cover",
    "tonne_km",
    "co2_t",
    "co2_kg_per_unit",
    "unmet_units",
    "regions_24h_share",
    "peak_m3",
    "safety_stock_pooled_units",
    "safety_stock_unpooled_units",
    "pickup_units",
    "pickup_share",
    "pickup_customer_km_mean",
    "returned_units",
    "return_cost",
    "returns_share_of_throughput",
    "incremental_margin",
    "campaign_spend",
)
# the hub decision: hubs open in any period (";"-separated) and what changed against the base
HUB_COLUMNS = ("open_hubs", "hubs_vs_base")
TAIL_COLUMNS = (
    "wall_seconds",
    "bound",
    "backend",
    "skipped",
    "threads",
    "attempts",
    "note",
    "run_dir",
    "source",
    "input_hash",
    "error",
)
SUMMARY_KEYS = ("status", "objective", "bound", "gap", "backend", "build_seconds", "solve_seconds")


def comparison_row(
    base: dict[str, Any], summary: dict[str, Any], headline: dict[str, Any]
) -> dict[str, Any]:
    """One comparison row from a job's identity, a result summary (or manifest) and KPIs."""
    row = dict(base)
    row |= {key: summary.get(key) for key in SUMMARY_KEYS}
    row |= {key: headline.get(key) for key in HEADLINE_KPIS}
    row |= {k: v for k, v in headline.items() if k not in HEADLINE_KPIS}
    row.setdefault("error", "")
    return row


def param_names(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The sweep parameter labels found in the rows, in first-seen order."""
    names: list[str] = []
    for row in rows:
        names += [k for k in row.get("params") or {} if k not in names]
    return names


def gap_money(objective: Any, bound: Any) -> float | None:
    """How far above the proven lower bound a plan may be, in money (None when unknown)."""
    try:
        value, low = float(objective), float(bound)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(value) and math.isfinite(low)):
        return None
    return max(0.0, value - low)


def within_solver_gap(
    objective_a: Any, bound_a: Any, objective_b: Any, bound_b: Any
) -> tuple[float | None, bool | None]:
    """The cost difference B − A, and whether it is smaller than the two plans' combined gap.

    Each plan's true optimum lies between its bound and its objective, so a difference
    smaller than ``gap_money(A) + gap_money(B)`` may be solver noise rather than a real
    effect of the scenario change. ``(None, None)`` when either plan lacks a finite bound.
    """
    gap_a, gap_b = gap_money(objective_a, bound_a), gap_money(objective_b, bound_b)
    if gap_a is None or gap_b is None:
        return None, None
    delta = float(objective_b) - float(objective_a)
    return delta, bool(abs(delta) < gap_a + gap_b)


def gap_marks(frame: pd.DataFrame) -> pd.DataFrame:
    """Per row: ``gap_money``, ``cost_delta_vs_base`` and ``within_solver_gap``.

    The base is the first solved row (as on the comparison page); the base row itself and
    unsolved rows get no delta and no mark.
    """
    solved = frame["status"].isin(SOLVED_STATUSES)
    empty = [None] * len(frame)
    out = pd.DataFrame(
        {"gap_money": empty, "cost_delta": empty, "within": empty}, index=frame.index, dtype=object
    )
    out["gap_money"] = [
        gap_money(o, b) for o, b in zip(frame["objective"], frame["bound"], strict=True)
    ]
    if solved.any():
        base = frame.index[solved.to_numpy()][0]
        for index in frame.index[solved.to_numpy()]:
            if index == base:
                continue
            delta, within = within_solver_gap(
                frame.at[base, "objective"],
                frame.at[base, "bound"],
                frame.at[index, "objective"],
                frame.at[index, "bound"],
            )
            out.at[index, "cost_delta"], out.at[index, "within"] = delta, within
    return out


def comparison_table(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Rows -> a DataFrame with a stable column order; ``attrs["params"]`` lists parameters.

    Columns: :data:`LEAD_COLUMNS`, the parameters, :data:`HEADLINE_KPIS`, the hub
    decision (:data:`HUB_COLUMNS`: open hubs, and hubs opened / closed against the base,
    the first solved row), any other headline KPI, then :data:`TAIL_COLUMNS`.
    ``gap_money``, ``cost_delta_vs_base`` and ``within_solver_gap`` come from
    :func:`gap_marks`.
    """
    params = param_names(rows)
    flat = []
    for row in rows:
        values = {k: v for k, v in row.items() if k != "params"}
        values |= {p: (row.get("params") or {}).get(p) for p in params}
        flat.append(values)
    frame = pd.DataFrame(flat)
    known = [*LEAD_COLUMNS, *params, *HEADLINE_KPIS, *HUB_COLUMNS]
    extra = [c for c in frame.columns if c not in known and c not in TAIL_COLUMNS]
    columns = [*known, *extra, *TAIL_COLUMNS]
    frame = frame.reindex(columns=columns)
    marks = gap_marks(frame)
    for column, mark in zip(
        ("gap_money", "cost_delta_vs_base", "within_solver_gap"), marks.columns, strict=True
    ):
        frame[column] = marks[mark].astype(object)
    frame["error"] = [e if isinstance(e, str) else "" for e in frame["error"]]
    frame["hubs_vs_base"] = hubs_vs_base(frame)
    frame.attrs["params"] = params
    return frame


def hub_set(text: Any) -> set[str] | None:
    """The hub ids of an ``open_hubs`` cell, or None when unknown (no plan, old run)."""
    if not isinstance(text, str):
        return None
    return {h for h in text.split(";") if h}


def hubs_vs_base(frame: pd.DataFrame) -> pd.Series:
    """Per row: ``opened H-A, H-B; closed H-C`` against the first solved row, ``same``, or
    ``base`` for the base row itself ("" without a plan)."""
    solved = frame.index[frame["status"].isin(SOLVED_STATUSES)]
    base = hub_set(frame.at[solved[0], "open_hubs"]) if len(solved) else None
    out = []
    for index, text in frame["open_hubs"].items():
        hubs = hub_set(text)
        if hubs is None or base is None:
            out.append("")
        elif index == solved[0]:
            out.append("base")
        else:
            parts = []
            if hubs - base:
                parts.append("opened " + ", ".join(sorted(hubs - base)))
            if base - hubs:
                parts.append("closed " + ", ".join(sorted(base - hubs)))
            out.append("; ".join(parts) or "same")
    return pd.Series(out, index=frame.index, dtype=object)


def result_row(result: Result) -> dict[str, Any]:
    """The comparison row of one in-memory result."""
    headline = result.kpis.headline if result.solution is not None else {}
    row = comparison_row({"name": result.scenario.name}, result.summary(), headline)
    if result.scenario.path is not None:
        row["source"] = str(result.scenario.path)
    return row


# ---- what changed between two plans ----------------------------------------------------


def _open_hubs(result: Result) -> set[str]:
    if result.solution is None:
        return set()
    hubs = result.solution.hubs
    return set(hubs.loc[hubs["open"] > 0.5, "hub_id"].astype(str))


def hub_changes(a: Result, b: Result) -> pd.DataFrame:
    """Hubs open (in any period) in exactly one plan: ``change`` is opened or closed (A -> B)."""
    open_a, open_b = _open_hubs(a), _open_hubs(b)
    hubs = b.problem.hubs
    rows = []
    for _, hub in hubs.iterrows():
        hub_id = str(hub["hub_id"])
        if (hub_id in open_a) != (hub_id in open_b):
            rows.append(
                {
                    "hub_id": hub_id,
                    "name": hub.get("name"),
                    "lat": float(hub["lat"]),
                    "lon": float(hub["lon"]),
                    "change": "opened" if hub_id in open_b else "closed",
                }
            )
    return pd.DataFrame(rows, columns=["hub_id", "name", "lat", "lon", "change"])


def tier_changes(a: Result, b: Result) -> pd.DataFrame:
    """Regions whose delivery-promise tier differs: ``tier_a``, ``tier_b`` and the hours."""
    columns = ["region_id", "fastest_hours", "tier"]
    ra = a.kpis.regions[columns] if a.solution is not None else pd.DataFrame(columns=columns)
    rb = b.kpis.regions[["region_id", "name", "fastest_hours", "tier"]]
    merged = rb.merge(ra, on="region_id", how="left", suffixes=("_b", "_a"))
    merged["tier_a"] = merged["tier_a"].fillna("none")
    changed = merged[merged["tier_a"] != merged["tier_b"]].copy()
    changed["better"] = [
        tier_worse(str(ta), str(tb))
        for ta, tb in zip(changed["tier_a"], changed["tier_b"], strict=True)
    ]
    coords = b.problem.regions.set_index("region_id")[["lat", "lon"]]
    changed[["lat", "lon"]] = coords.reindex(changed["region_id"]).to_numpy(float)
    order = [
        "region_id",
        "name",
        "tier_a",
        "tier_b",
        "fastest_hours_a",
        "fastest_hours_b",
        "better",
        "lat",
        "lon",
    ]
    return changed[order].reset_index(drop=True)


def lane_changes(a: Result, b: Result, top: int = 20) -> pd.DataFrame:
    """The ``top`` hub -> region lanes whose shipped units changed most (``delta`` = B - A)."""
    keys = ["hub_id", "region_id"]

    def volumes(result: Result) -> pd.DataFrame:
        if result.solution is None or not len(result.solution.flows):
            return pd.DataFrame(columns=[*keys, "quantity"])
        return result.solution.flows.groupby(keys, as_index=False)["quantity"].sum()

    merged = volumes(a).merge(volumes(b), on=keys, how="outer", suffixes=("_a", "_b"))
    merged[["quantity_a", "quantity_b"]] = (
        merged[["quantity_a", "quantity_b"]].astype(float).fillna(0.0)
    )
    merged["delta"] = merged["quantity_b"] - merged["quantity_a"]
    merged = merged[merged["delta"].abs() > 1e-6]
    merged = merged.reindex(merged["delta"].abs().sort_values(ascending=False).index).head(top)
    hubs = b.problem.hubs.set_index("hub_id")[["lat", "lon"]]
    regions = b.problem.regions.set_index("region_id")[["lat", "lon"]]
    merged[["hub_lat", "hub_lon"]] = hubs.reindex(merged["hub_id"]).to_numpy(float)
    merged[["region_lat", "region_lon"]] = regions.reindex(merged["region_id"]).to_numpy(float)
    return merged.reset_index(drop=True)
