"""Re-plans (``hubopt replan``): the frozen periods, the actual stock and the hubs that
must stay open, checked against the original plan."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hubopt.solution import Solution
from hubopt.verify.plan import tolerance


def check_replan(
    original: Solution,
    replanned: Solution,
    stock: pd.DataFrame,
    from_period: int,
    allow_closing: bool,
) -> list[str]:
    """A re-plan keeps every decision before T, holds the actual stock at T-1, and keeps
    hubs open at T-1 open at T unless closing is allowed. Returns the violations."""
    errors: list[str] = []
    frozen = from_period - 1

    def same(name: str, before: pd.Series, after: pd.Series) -> None:
        idx = before.index.union(after.index)
        diff = after.reindex(idx, fill_value=0.0) - before.reindex(idx, fill_value=0.0)
        for k in diff.index[
            np.abs(diff.to_numpy(float))
            > tolerance(before.reindex(idx, fill_value=0.0).to_numpy(float))
        ][:10]:
            errors.append(
                f"re-plan changed frozen {name} {k}: {before.get(k, 0):.4f} -> {after.get(k, 0):.4f}"
            )

    def early(frame: pd.DataFrame, last: int) -> pd.DataFrame:
        return frame[frame["period"] <= last]

    hub_key = ["hub_id", "period"]
    same(
        "hub status",
        early(original.hubs, frozen).set_index(hub_key)["open"].astype(float),
        early(replanned.hubs, frozen).set_index(hub_key)["open"].astype(float),
    )
    flow_key = ["hub_id", "region_id", "product_id", "period", "channel", "mode_id", "campaign_id"]
    same(
        "flow",
        early(original.flows, frozen).groupby(flow_key)["quantity"].sum(),
        early(replanned.flows, frozen).groupby(flow_key)["quantity"].sum(),
    )
    in_key = ["source_id", "hub_id", "product_id", "period", "mode_id"]
    same(
        "inflow",
        early(original.inflows, frozen).groupby(in_key)["quantity"].sum(),
        early(replanned.inflows, frozen).groupby(in_key)["quantity"].sum(),
    )
    stock_key = ["hub_id", "product_id", "period"]
    same(
        "stock",
        early(original.stock, frozen - 1).groupby(stock_key)["quantity"].sum(),
        early(replanned.stock, frozen - 1).groupby(stock_key)["quantity"].sum(),
    )
    at = (
        replanned.stock[replanned.stock["period"] == frozen]
        .groupby(["hub_id", "product_id"])["quantity"]
        .sum()
    )
    given = stock.groupby(["hub_id", "product_id"])["quantity"].sum()
    idx = at.index.union(given.index)
    diff = at.reindex(idx, fill_value=0.0) - given.reindex(idx, fill_value=0.0)
    for k in diff.index[
        np.abs(diff.to_numpy(float)) > tolerance(given.reindex(idx, fill_value=0.0).to_numpy(float))
    ][:10]:
        errors.append(
            f"re-plan stock {k} at period {frozen} is {at.get(k, 0):.4f}, the actual stock is {given.get(k, 0):.4f}"
        )
    if not allow_closing:
        status = replanned.hubs.pivot(index="hub_id", columns="period", values="open")
        if from_period in status.columns:
            closed = status.index[(status[frozen] > 0.5) & (status[from_period] < 0.5)]
            errors += [
                f"hub {h} open at period {frozen} closes at {from_period} although closing is not allowed"
                for h in closed[:10]
            ]
    return errors
