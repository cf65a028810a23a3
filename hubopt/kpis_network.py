"""Capacity-realism KPIs: peak staffing, returns, risk-pooled safety stock, pickup points.

Definitions (also in docs/kpis.md):

- staffing: per hub and period with throughput above the base capacity, the peak volume
  (m3), its share of the peak capacity and its premium (``peak_cost_per_m3`` x peak m3) —
  the "extra shifts" table;
- returns per hub: units returned to it, their cost (trip back + processing), units put
  back into stock, returned m3 and their share of the hub's throughput (deliveries +
  returns, m3);
- safety stock per hub: z x the std of the demand it serves, pooled
  (z x sqrt(sum_k (sigma_k x share_k)^2) per product and period) and unpooled (z x sum_k
  sigma_k x share_k, what it would be without pooling), for the plan's own shares;
  per hub the mean over periods of the sum over products (units), and the units and
  share pooling saves;
- pickup points: per point the periods open, units handed over, utilisation (units /
  capacity over open periods), served regions and the units-weighted mean road km
  customers travel; headline pickup share = units through pickup points / delivered
  units, and the mean customer km.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hubopt.data.problem import ProblemData
from hubopt.solution import Solution

STAFFING_COLUMNS = [
    "hub_id",
    "name",
    "period",
    "throughput_m3",
    "throughput_capacity_m3",
    "peak_m3",
    "peak_capacity_m3",
    "peak_share",
    "peak_cost",
]


def compute_staffing(problem: ProblemData, solution: Solution) -> pd.DataFrame:
    """Hub-periods that use peak capacity: volume above the base, share of the peak, cost."""
    hubs = solution.hubs
    used = hubs[hubs["peak_m3"] > 1e-6].copy()
    rate = problem.hubs.set_index("hub_id")["peak_cost_per_m3"]
    used["peak_share"] = used["peak_m3"] / used["peak_capacity_m3"].replace(0, np.nan)
    used["peak_cost"] = used["peak_m3"] * rate.reindex(used["hub_id"]).to_numpy(float)
    return used[STAFFING_COLUMNS].reset_index(drop=True)


RETURNS_COLUMNS = [
    "hub_id",
    "delivered_units",
    "returned_units",
    "restocked_units",
    "return_cost",
    "returns_m3",
    "throughput_m3",
    "returns_share_of_throughput",
]


def compute_returns(problem: ProblemData, solution: Solution) -> pd.DataFrame:
    """Per hub that delivered anything: returns, their cost and share of its throughput."""
    flows = solution.flows
    by_hub = flows.groupby("hub_id", sort=True)
    out = pd.DataFrame(
        {
            "delivered_units": by_hub["quantity"].sum(),
            "returned_units": by_hub["returned_units"].sum(),
            "restocked_units": by_hub["restocked_units"].sum(),
            "return_cost": by_hub["return_cost"].sum(),
        }
    )
    volume = solution.hubs.groupby("hub_id")[["returns_m3", "throughput_m3"]].sum()
    out = out.join(volume, how="left")
    out["returns_share_of_throughput"] = out["returns_m3"] / out["throughput_m3"].replace(0, np.nan)
    return out.reset_index()[RETURNS_COLUMNS]


SAFETY_COLUMNS = [
    "hub_id",
    "safety_stock_pooled_units",
    "safety_stock_unpooled_units",
    "saved_units",
    "saved_share",
]


def compute_safety_stock(problem: ProblemData, solution: Solution) -> pd.DataFrame:
    """Per hub: pooled and unpooled safety-stock requirement of the plan (mean per period)."""
    z = problem.policy.safety_stock.z
    flows = solution.flows
    streams = problem.streams
    if z <= 0 or not len(flows):
        return pd.DataFrame(columns=SAFETY_COLUMNS)
    key = ["region_id", "product_id", "period", "channel", "campaign_id"]  # one stream
    info = streams.set_index(key).reindex(pd.MultiIndex.from_frame(flows[key]))
    share_sigma = (
        info["std"].to_numpy(float) * flows["quantity"].to_numpy() / info["quantity"].to_numpy()
    )
    per_stream = (
        flows[["hub_id", *key]]
        .assign(s=share_sigma)
        .groupby(["hub_id", "product_id", "period", "region_id", "channel", "campaign_id"])["s"]
        .sum()
    )
    by_hpt = per_stream.groupby(level=[0, 1, 2])
    need = pd.DataFrame(
        {
            "safety_stock_pooled_units": z
            * np.sqrt((per_stream**2).groupby(level=[0, 1, 2]).sum()),
            "safety_stock_unpooled_units": z * by_hpt.sum(),
        }
    )
    per_hub = need.groupby(level=0).sum() / problem.periods
    per_hub["saved_units"] = (
        per_hub["safety_stock_unpooled_units"] - per_hub["safety_stock_pooled_units"]
    )
    per_hub["saved_share"] = per_hub["saved_units"] / per_hub[
        "safety_stock_unpooled_units"
    ].replace(0, np.nan)
    per_hub.index.name = "hub_id"
    return per_hub.reset_index()[SAFETY_COLUMNS]


PICKUP_KPI_COLUMNS = [
    "pickup_id",
    "name",
    "periods_open",
    "units",
    "utilisation",
    "served_regions",
    "customer_km_mean",
]


def compute_pickup_points(problem: ProblemData, solution: Solution) -> pd.DataFrame:
    """Per pickup point: periods open, units, utilisation, regions served, mean km."""
    table = solution.pickup_points
    if not len(table):
        return pd.DataFrame(columns=PICKUP_KPI_COLUMNS)
    flows = solution.flows
    used = flows[flows["pickup_id"] != ""]
    by_point = table.groupby("pickup_id", sort=False)
    capacity_open = (table["capacity"] * table["open"]).groupby(table["pickup_id"]).sum()
    km = (used["quantity"] * used["customer_km"]).groupby(used["pickup_id"]).sum()
    out = pd.DataFrame(
        {
            "name": by_point["name"].first(),
            "periods_open": by_point["open"].sum(),
            "units": by_point["units"].sum(),
        }
    )
    out["utilisation"] = out["units"] / capacity_open.reindex(out.index).replace(0, np.nan)
    out["served_regions"] = (
        used.groupby("pickup_id")["region_id"]
        .agg(lambda ids: ";".join(sorted(set(ids))))
        .reindex(out.index, fill_value="")
    )
    out["customer_km_mean"] = km.reindex(out.index, fill_value=0.0) / out["units"].replace(
        0, np.nan
    )
    out.index.name = "pickup_id"
    return out.reset_index()[PICKUP_KPI_COLUMNS]


def pickup_headline(solution: Solution) -> dict[str, float]:
    """Pickup share of delivered units and the units-weighted mean km customers travel."""
    flows = solution.flows
    delivered = float(flows["quantity"].sum())
    used = flows[flows["pickup_id"] != ""]
    units = float(used["quantity"].sum())
    return {
        "pickup_units": units,
        "pickup_share": units / delivered if delivered else float("nan"),
        "pickup_customer_km_mean": float((used["quantity"] * used["customer_km"]).sum() / units)
        if units
        else float("nan"),
    }
