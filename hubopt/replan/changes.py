"""What a re-plan changed (:func:`replan_changes`): hub openings, stock, deliveries, late
and lost units per period against the original plan, and the summary of the change."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hubopt.result import Result

CHANGE_COLUMNS = [
    "kind",
    "period",
    "hub_id",
    "region_id",
    "product_id",
    "before",
    "after",
    "change",
]


def replan_changes(run: Result, replanned: Result, from_period: int) -> pd.DataFrame:
    """What moved from period T on: hubs, stock, deliveries, late and lost units, cost."""
    assert run.solution is not None and replanned.solution is not None
    old, new = run.solution, replanned.solution
    parts = []

    def compare(kind: str, before: pd.Series, after: pd.Series, keys: list[str]) -> None:
        both = pd.concat([before.rename("before"), after.rename("after")], axis=1).fillna(0.0)
        both = both[(both.index.get_level_values("period") >= from_period)]
        both["change"] = both["after"] - both["before"]
        both = both[np.abs(both["change"]) > 1e-6].reset_index()
        if len(both):
            parts.append(both.assign(kind=kind))

    hub_key = ["hub_id", "period"]
    compare(
        "hub_open",
        old.hubs.set_index(hub_key)["open"].astype(float),
        new.hubs.set_index(hub_key)["open"].astype(float),
        hub_key,
    )
    stock_key = ["hub_id", "product_id", "period"]
    compare(
        "stock",
        old.stock.groupby(stock_key)["quantity"].sum(),
        new.stock.groupby(stock_key)["quantity"].sum(),
        stock_key,
    )
    flow_key = ["hub_id", "region_id", "product_id", "period"]
    compare(
        "delivered",
        old.flows.groupby(flow_key)["quantity"].sum(),
        new.flows.groupby(flow_key)["quantity"].sum(),
        flow_key,
    )
    region_key = ["region_id", "product_id", "period"]
    late_old = old.flows[~old.flows["on_time"]].groupby(region_key)["quantity"].sum()
    late_new = new.flows[~new.flows["on_time"]].groupby(region_key)["quantity"].sum()
    compare("late", late_old, late_new, region_key)
    compare(
        "lost",
        old.unmet.groupby(region_key)["quantity"].sum(),
        new.unmet.groupby(region_key)["quantity"].sum(),
        region_key,
    )
    cost_old = old.period_costs.groupby("period")["cost"].sum()
    cost_new = new.period_costs.groupby("period")["cost"].sum()
    compare("cost", cost_old, cost_new, ["period"])
    if not parts:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    for column in ("hub_id", "region_id", "product_id"):
        if column not in out.columns:
            out[column] = ""
    out[["hub_id", "region_id", "product_id"]] = out[["hub_id", "region_id", "product_id"]].fillna(
        ""
    )
    order = {k: i for i, k in enumerate(("hub_open", "stock", "delivered", "late", "lost", "cost"))}
    out = out.sort_values(
        ["kind", "period", "hub_id", "region_id", "product_id"],
        key=lambda s: s.map(order) if s.name == "kind" else s,
        ignore_index=True,
    )
    return out[CHANGE_COLUMNS]


def hub_periods(rows: pd.DataFrame, order: dict[str, int]) -> list[str]:
    """``hub@period`` for each (``hub_id``, ``period``) row, once each: by period, then by
    the hubs' ``order`` (their rows in the scenario; so H2 before H10, period 2 before 10)."""
    keys = {
        (int(period), order.get(str(hub), len(order)), str(hub))
        for hub, period in zip(rows["hub_id"], rows["period"], strict=True)
    }
    return [f"{hub}@{period}" for period, _, hub in sorted(keys)]


def replan_summary(
    run: Result, replanned: Result, changes: pd.DataFrame, from_period: int
) -> dict[str, Any]:
    assert run.solution is not None and replanned.solution is not None
    before = run.solution.period_costs
    after = replanned.solution.period_costs
    remaining_before = float(before.loc[before["period"] >= from_period, "cost"].sum())
    remaining_after = float(after.loc[after["period"] >= from_period, "cost"].sum())
    hubs = changes[changes["kind"] == "hub_open"]
    order = {str(h): i for i, h in enumerate(run.problem.hubs["hub_id"])}
    return {
        "from_period": from_period,
        "remaining_cost_original": remaining_before,
        "remaining_cost_replanned": remaining_after,
        "remaining_cost_change": remaining_after - remaining_before,
        "hubs_opened": hub_periods(hubs[hubs["change"] > 0], order),
        "hubs_closed": hub_periods(hubs[hubs["change"] < 0], order),
        "late_units_change": float(changes.loc[changes["kind"] == "late", "change"].sum()),
        "lost_units_change": float(changes.loc[changes["kind"] == "lost", "change"].sum()),
        "delivered_units_change": float(
            changes.loc[changes["kind"] == "delivered", "change"].sum()
        ),
        "stock_rebalanced_units": float(
            changes.loc[changes["kind"] == "stock", "change"].abs().sum()
        ),
    }
