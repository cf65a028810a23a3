"""Campaign KPIs: per campaign its units, on-time and fill rates, logistics cost (its
direct cost plus its volume share of the network's shared costs), margin and ROI, and its
delivery promise per tier (docs/kpis.md)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hubopt.data.problem import ProblemData
from hubopt.solution import Solution, realised_streams
from hubopt.tiers import DEFAULT_TIERS_HOURS, tier_of

# Cost components a campaign shares with the rest of the network, by outbound volume.
SHARED_COMPONENTS = ("fixed", "opening", "closing", "inbound_transport", "holding")


def _shared_costs(problem: ProblemData, solution: Solution) -> pd.Series:
    """Per period, the network costs campaigns share by volume, from the solution's cost table."""
    table = solution.period_costs
    shared = table[table["component"].isin(SHARED_COMPONENTS)].groupby("period")["cost"].sum()
    return shared.reindex(pd.RangeIndex(1, problem.periods + 1, name="period"), fill_value=0.0)


def _flow_m3(problem: ProblemData, flows: pd.DataFrame) -> pd.Series:
    vol = problem.products.set_index("product_id")["unit_volume"]
    return flows["quantity"] * vol.reindex(flows["product_id"]).to_numpy()


def compute_campaign_kpis(problem: ProblemData, solution: Solution) -> pd.DataFrame:
    """Per campaign: units, on-time, fill, logistics cost (direct + shared), margin, ROI."""
    rows = []
    flows = solution.flows
    m3 = _flow_m3(problem, flows)
    period_m3 = m3.groupby(flows["period"]).sum()
    shared = _shared_costs(problem, solution)
    carbon = problem.policy.carbon.price_per_t
    margin_unit = problem.products.set_index("product_id")["unit_margin"]
    streams = realised_streams(problem, solution)
    for c in problem.campaigns.itertuples():
        in_c = flows["campaign_id"] == c.campaign_id
        f = flows[in_c]
        units = float(streams.loc[streams["campaign_id"] == c.campaign_id, "quantity"].sum())
        direct = float(
            (
                f["transport_cost"]
                + f["handling_cost"]
                + f["return_cost"]
                + f["late_cost"]
                + carbon * f["co2_t"]
            ).sum()
        )
        share = (m3[in_c].groupby(f["period"]).sum() / period_m3).reindex(
            shared.index, fill_value=0
        )
        allocated = float((share * shared).sum())
        logistics = direct + allocated
        margin = float((f["quantity"] * margin_unit.reindex(f["product_id"]).to_numpy()).sum())
        spend = float(c.spend)
        on_time = float(f.loc[f["on_time"], "quantity"].sum())
        rows.append(
            {
                "campaign_id": c.campaign_id,
                "name": c.name,
                "units": units,
                "delivered_units": float(f["quantity"].sum()),
                "on_time_units": on_time,
                "on_time_rate": on_time / units if units else math.nan,
                "service_level_target": float(c.service_level),
                "delivery_window_hours": float(c.delivery_window_hours),
                "logistics_cost": logistics,
                "logistics_cost_per_unit": logistics / float(f["quantity"].sum())
                if len(f)
                else math.nan,
                "margin": margin,
                "spend": spend,
                "roi": (margin - spend - logistics) / (spend + logistics)
                if spend + logistics > 0
                else math.nan,
            }
        )
    columns = [
        "campaign_id",
        "name",
        "units",
        "delivered_units",
        "on_time_units",
        "on_time_rate",
        "service_level_target",
        "delivery_window_hours",
        "logistics_cost",
        "logistics_cost_per_unit",
        "margin",
        "spend",
        "roi",
    ]
    return pd.DataFrame(rows, columns=columns)


def compute_campaign_promise(
    problem: ProblemData,
    solution: Solution,
    tiers_hours: tuple[float, ...] | list[float] = DEFAULT_TIERS_HOURS,
) -> pd.DataFrame:
    """Per campaign and region it runs in: the promise that holds through its window.

    ``fastest_hours`` is, over the campaign's periods in that region, the slowest of the
    per-period fastest transits from a hub open in that period (so the promise holds in
    every campaign period); ``tier`` its tier; ``within_window`` whether it meets the
    campaign's delivery window; ``on_time_rate`` the share of the campaign's units there
    delivered within the window.
    """
    columns = [
        "campaign_id",
        "region_id",
        "demand_units",
        "on_time_units",
        "on_time_rate",
        "fastest_hours",
        "tier",
        "delivery_window_hours",
        "within_window",
    ]
    streams = realised_streams(problem, solution)
    streams = streams[streams["campaign_idx"] >= 0]
    if not len(streams):
        return pd.DataFrame(columns=columns)
    layout_periods = problem.periods
    hubs = solution.hubs
    open_hp = (
        pd.Index(problem.hubs["hub_id"])
        .get_indexer(hubs.loc[hubs["open"] > 0, "hub_id"])
        .astype(np.int64)
        * (layout_periods + 1)
        + hubs.loc[hubs["open"] > 0, "period"].to_numpy()
    )
    cells = streams[["campaign_idx", "region_idx", "period"]].drop_duplicates()
    pairs = cells.merge(
        problem.out_pairs[["hub_idx", "region_idx", "transit_hours"]], on="region_idx"
    )
    key = (
        pairs["hub_idx"].to_numpy().astype(np.int64) * (layout_periods + 1)
        + pairs["period"].to_numpy()
    )
    pairs = pairs[np.isin(key, open_hp)]
    per_period = pairs.groupby(["campaign_idx", "region_idx", "period"])["transit_hours"].min()
    per_period = per_period.reindex(
        pd.MultiIndex.from_frame(cells[["campaign_idx", "region_idx", "period"]]),
        fill_value=np.inf,
    )
    fastest = per_period.groupby(level=[0, 1]).max()
    flows = solution.flows[solution.flows["campaign_id"] != ""]
    units = streams.groupby(["campaign_id", "region_id"])["quantity"].sum()
    on_time = (
        flows[flows["on_time"]].groupby(["campaign_id", "region_id"])["quantity"].sum()
    ).reindex(units.index, fill_value=0.0)
    out = units.rename("demand_units").to_frame()
    out["on_time_units"] = on_time
    out["on_time_rate"] = out["on_time_units"] / out["demand_units"]
    campaign_ids = problem.campaigns["campaign_id"].to_numpy()
    region_ids = problem.regions["region_id"].to_numpy()
    hours = pd.Series(
        fastest.to_numpy(),
        index=pd.MultiIndex.from_arrays(
            [
                campaign_ids[fastest.index.get_level_values(0)],
                region_ids[fastest.index.get_level_values(1)],
            ]
        ),
    )
    out["fastest_hours"] = hours.reindex(out.index).to_numpy(float)
    out["tier"] = tier_of(out["fastest_hours"].to_numpy(float), tiers_hours)
    window = problem.campaigns.set_index("campaign_id")["delivery_window_hours"]
    out["delivery_window_hours"] = window.reindex(out.index.get_level_values(0)).to_numpy(float)
    out["within_window"] = out["fastest_hours"] <= out["delivery_window_hours"] + 1e-9
    return out.reset_index()[columns]
