"""The plan under verification: the solution's decisions joined with everything the checks
need, recomputed from the scenario's raw tables (demand after campaign uplift, windows,
arc geometry and unit costs, supply rows, the open/closed grid).

Only the solution's decisions are read: quantities, hubs open, stock, unmet demand. Its
derived columns (distances, transit hours, costs, CO2, on-time flags) and its cost table
are never trusted; they are what the checks compare against.
"""

from __future__ import annotations

import math
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hubopt.scenario.scenario import Scenario
from hubopt.scenario.schema import Campaign, Policy
from hubopt.solution import Solution
from hubopt.verify.legs import recompute_legs

STREAM_KEY = ["region_id", "product_id", "period", "channel", "campaign_id"]
BALANCE_KEY = ["hub_id", "product_id", "period"]

# The decision columns read from the solution's flow and inflow tables.
FLOW_DECISIONS = [
    "hub_id",
    "region_id",
    "product_id",
    "period",
    "channel",
    "mode_id",
    "pickup_id",
    "campaign_id",
    "quantity",
]
INFLOW_DECISIONS = ["source_id", "hub_id", "product_id", "period", "mode_id", "quantity"]


def tolerance(value: np.ndarray | float) -> np.ndarray | float:
    """Absolute slack allowed around ``value``: 1e-4 plus 1e-6 relative."""
    return 1e-4 + 1e-6 * np.abs(value)


def label(key: tuple[object, ...]) -> str:
    """An index key as the user wrote it, e.g. ``('S1', 'P', 1)`` (numpy scalars unwrapped)."""
    return str(tuple(k.item() if isinstance(k, np.generic) else k for k in key))


@dataclass(frozen=True)
class Plan:
    """A solution with its recomputed context.

    Attributes
    ----------
    scenario, solution:
        What is verified.
    streams:
        Demand rows after uplift: ``STREAM_KEY`` + ``demand, sigma, campaign_id,
        window_hours`` (units, hours).
    flows:
        The solution's outbound decisions + recomputed ``distance_km, transit_hours,
        unit_cost, co2_t_per_unit`` (hub -> region, or hub -> pickup point for pickup
        flows), the arc-rule flags, the stream's ``demand, sigma, campaign_id,
        window_hours``, ``late`` (transit beyond the window), and ``return_rate``,
        ``restock_share``, ``returned`` (units coming back to the hub in that period).
    inflows:
        The solution's inbound decisions + the same recomputed leg columns (zeros under
        free replenishment) and ``supply_unit_cost``.
    open:
        Hub x period grid of the open flags (every scenario hub, periods 1..T).
    observed_stock_period:
        A re-plan's T-1, whose end stock is the actual stock given (see
        :func:`hubopt.verify.flow.check_balance`); None for an ordinary plan.
    """

    scenario: Scenario
    solution: Solution
    streams: pd.DataFrame
    flows: pd.DataFrame
    inflows: pd.DataFrame
    open: pd.DataFrame
    observed_stock_period: int | None = None

    @property
    def policy(self) -> Policy:
        """The scenario's policy block."""
        return self.scenario.config.policy

    @property
    def hubs(self) -> pd.DataFrame:
        """The scenario's hub rows indexed by ``hub_id``, in :attr:`open` row order."""
        return self.scenario.tables.hubs.set_index("hub_id").reindex(self.open.index)

    def open_before(self) -> np.ndarray:
        """Hub x period: open at the end of the previous period (existing hubs before 1)."""
        existing = np.where(self.hubs["status"].to_numpy() == "existing", 1.0, 0.0)
        o = self.open.to_numpy()
        return np.concatenate([existing[:, None], o[:, :-1]], axis=1)

    def is_open(self, hub_ids: pd.Series, periods: pd.Series) -> np.ndarray:
        """Whether each (hub, period) is open in the plan (unknown hubs count as closed)."""
        stacked = self.open.stack()
        keys = pd.MultiIndex.from_arrays([hub_ids.to_numpy(), periods.to_numpy()])
        return stacked.reindex(keys).fillna(0.0).to_numpy() > 0.5

    def grid(self) -> pd.MultiIndex:
        """Every (hub, product, period) of the scenario, hub-major."""
        t = self.scenario.tables
        return pd.MultiIndex.from_product(
            [t.hubs["hub_id"], t.products["product_id"], range(1, self.scenario.periods + 1)],
            names=BALANCE_KEY,
        )

    def on_grid(self, frame: pd.DataFrame) -> pd.Series:
        """``frame``'s quantity summed per (hub, product, period) over :meth:`grid`."""
        return frame.groupby(BALANCE_KEY)["quantity"].sum().reindex(self.grid(), fill_value=0.0)


def build_plan(
    scenario: Scenario, solution: Solution, observed_stock_period: int | None = None
) -> Plan:
    """Join the solution's decisions with their recomputed context (see :class:`Plan`)."""
    footprint = solution.footprint
    chosen = footprint[footprint["included"].astype(int) == 1] if len(footprint) else footprint
    included = set(zip(chosen["campaign_id"], chosen["region_id"], strict=True))
    streams = recompute_streams(scenario, included)
    periods = range(1, scenario.periods + 1)
    open_grid = (
        solution.hubs.pivot_table(index="hub_id", columns="period", values="open", aggfunc="max")
        .reindex(index=scenario.tables.hubs["hub_id"], columns=periods)
        .fillna(0.0)
        .astype(float)
    )
    return Plan(
        scenario=scenario,
        solution=solution,
        streams=streams,
        flows=_outbound(scenario, solution, streams),
        inflows=_inbound(scenario, solution),
        open=open_grid,
        observed_stock_period=observed_stock_period,
    )


def _outbound(scenario: Scenario, solution: Solution, streams: pd.DataFrame) -> pd.DataFrame:
    flows = solution.flows.reindex(columns=FLOW_DECISIONS).reset_index(drop=True)
    flows["pickup_id"] = flows["pickup_id"].fillna("").astype(str)
    via = flows["pickup_id"].to_numpy() != ""
    parts = []
    for mask, to, column in (
        (~via, ("regions", "region_id"), "region_id"),
        (via, ("pickup_points", "pickup_id"), "pickup_id"),
    ):
        rows = flows[mask].rename(columns={"hub_id": "from", column: "to"})
        parts.append(recompute_legs(scenario, rows, ("hubs", "hub_id"), to, "outbound"))
    legs = pd.concat(parts).sort_index() if via.any() else parts[0]
    legs = legs.reset_index(drop=True)
    rate, restock = return_rates(scenario, flows)
    info = streams.set_index(STREAM_KEY)[["demand", "sigma", "window_hours"]]
    info = info.reindex(pd.MultiIndex.from_frame(flows[STREAM_KEY])).reset_index(drop=True)
    out = pd.concat([flows, legs, info], axis=1)
    out["late"] = out["transit_hours"].to_numpy() > out["window_hours"].to_numpy(float) + 1e-6
    out["return_rate"] = rate
    out["restock_share"] = restock
    out["returned"] = out["quantity"].to_numpy() * rate
    return out


def return_rates(scenario: Scenario, flows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per flow row: the return rate (the product's ``return_rate``, else the channel's)
    and the channel's ``restock_share``."""
    t = scenario.tables
    channel = t.channels.set_index("channel_id")
    own = t.products.set_index("product_id")["return_rate"].reindex(flows["product_id"])
    by_channel = channel["return_rate"].reindex(flows["channel"]).to_numpy(float)
    rate = np.where(np.isnan(own.to_numpy(float)), by_channel, own.to_numpy(float))
    restock = channel["restock_share"].reindex(flows["channel"]).to_numpy(float)
    return rate, restock


def _inbound(scenario: Scenario, solution: Solution) -> pd.DataFrame:
    inflows = solution.inflows[INFLOW_DECISIONS].reset_index(drop=True)
    if not len(scenario.tables.sources):
        zeros = pd.DataFrame(
            0.0,
            index=inflows.index,
            columns=["distance_km", "transit_hours", "unit_cost", "co2_t_per_unit"],
        )
        flags = pd.DataFrame(
            False, index=inflows.index, columns=["bad_leg", "forbidden", "needs_lane", "too_far"]
        )
        return pd.concat([inflows, zeros, flags], axis=1).assign(supply_unit_cost=0.0)
    legs = recompute_legs(
        scenario,
        inflows.rename(columns={"source_id": "from", "hub_id": "to"}),
        ("sources", "source_id"),
        ("hubs", "hub_id"),
        "inbound",
    )
    out = pd.concat([inflows, legs], axis=1)
    keys = pd.MultiIndex.from_frame(inflows[["source_id", "product_id", "period"]])
    out["supply_unit_cost"] = supply_rows(scenario)["unit_cost"].reindex(keys).to_numpy(float)
    return out


def supply_rows(scenario: Scenario) -> pd.DataFrame:
    """The supply table indexed by (source, product, period); a blank period means every
    period (a row with its own period wins)."""
    sup = scenario.tables.supply
    every = (
        sup[sup["period"].isna()]
        .drop(columns="period")
        .merge(pd.DataFrame({"period": range(1, scenario.periods + 1)}), how="cross")
    )
    rows = pd.concat([sup[sup["period"].notna()].astype({"period": int}), every])
    rows = rows.drop_duplicates(["source_id", "product_id", "period"])
    return rows.set_index(["source_id", "product_id", "period"])


def campaign_scope(scenario: Scenario, campaign: Campaign) -> pd.Series:
    """Demand rows matching a campaign's regions, products, periods and channels."""
    t = scenario.tables
    demand, regions = t.demand, t.regions
    mask = pd.Series(True, index=demand.index)
    if isinstance(campaign.regions, dict):
        ok = pd.Series(True, index=regions.index)
        for attr, values in campaign.regions.items():
            ok &= regions[attr].astype(str).isin([str(v) for v in values])
        mask &= demand["region_id"].isin(regions.loc[ok, "region_id"])
    elif isinstance(campaign.regions, list):
        mask &= demand["region_id"].isin(campaign.regions)
    for key, col in (("products", "product_id"), ("periods", "period"), ("channels", "channel")):
        values = getattr(campaign, key)
        if values != "all":
            mask &= demand[col].isin(values)
    return mask


def recompute_streams(
    scenario: Scenario, included: AbstractSet[tuple[str, str]] = frozenset()
) -> pd.DataFrame:
    """Demand after uplift, with campaign and window, recomputed from the config.

    A demand row belongs to the first campaign whose regions, products, periods and
    channels all match; its window is the campaign's, else the channel's, else the
    policy default, else unbounded. A ``footprint: optimize`` campaign splits its rows:
    the base demand belongs to no campaign; the incremental ``(uplift - 1) x base``
    belongs to the campaign and is demand only in the ``included`` (campaign, region)
    pairs.
    """
    t, config = scenario.tables, scenario.config
    demand = t.demand.copy()
    demand["campaign_id"] = ""
    demand["uplift"] = 1.0
    for c in config.campaigns:
        mask = campaign_scope(scenario, c) & (demand["campaign_id"] == "")
        demand.loc[mask, "campaign_id"] = c.id
        demand.loc[mask, "uplift"] = c.uplift
    optimized = {c.id for c in config.campaigns if c.footprint == "optimize"}
    split = demand["campaign_id"].isin(optimized)
    extra = demand[split].copy()
    extra["uplift"] = (extra["uplift"] - 1.0) * [
        (c, r) in included for c, r in zip(extra["campaign_id"], extra["region_id"], strict=True)
    ]
    demand.loc[split, "campaign_id"] = ""
    demand.loc[split, "uplift"] = 1.0
    demand = pd.concat([demand, extra], ignore_index=True)
    demand["demand"] = demand["quantity"] * demand["uplift"]
    demand["sigma"] = demand["std"] * demand["uplift"]
    channel_window = t.channels.set_index("channel_id")["delivery_window_hours"]
    window = demand["channel"].map(channel_window).astype(float)
    if config.policy.default_delivery_window_hours is not None:
        window = window.fillna(config.policy.default_delivery_window_hours)
    own_window = {
        c.id: c.delivery_window_hours for c in config.campaigns if c.delivery_window_hours
    }
    own = demand["campaign_id"].map(own_window).astype(float)
    demand["window_hours"] = own.fillna(window).fillna(math.inf)
    return demand
