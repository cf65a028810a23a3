"""Decode a solver vector into tidy tables with the user's ids (never positions)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hubopt.data.problem import ProblemData, arc_unit_cost
from hubopt.model.index import inflow_keys, layout_of
from hubopt.model.matrix import MatrixModel
from hubopt.model.variables import assign_pairs, peak_hub_periods, unmet_streams

EPS = 1e-7

COST_COMPONENTS = (
    "fixed",
    "opening",
    "closing",
    "supply",
    "inbound_transport",
    "outbound_transport",
    "handling",
    "pickup_points",
    "peak",
    "returns",
    "holding",
    "lost_sales",
    "late",
    "carbon",
    "campaign_spend",
    "incremental_margin",
)
FOOTPRINT_COLUMNS = [
    "campaign_id",
    "region_id",
    "included",
    "incremental_units",
    "incremental_margin",
    "spend",
    "logistics_cost",
    "logistics_basis",
    "profit",
    "profit_per_unit",
]

# The plan tables of a Solution, in field order (every field but the cost table).
PLAN_TABLES = ("hubs", "flows", "inflows", "stock", "unmet", "assignments", "pickup_points")
PICKUP_COLUMNS = [
    "pickup_id",
    "name",
    "period",
    "open",
    "units",
    "capacity",
    "served_regions",
    "customer_km_mean",
]


@dataclass(frozen=True)
class Solution:
    """A plan as tables.

    Attributes
    ----------
    hubs:
        One row per hub and period: ``hub_id, period, open, opened, closed,
        throughput_m3 (deliveries and returns), returns_m3, throughput_capacity_m3,
        peak_m3, peak_capacity_m3, stock_m3, storage_capacity_m3`` (``peak_m3`` =
        throughput above the base capacity, at the hub's ``peak_cost_per_m3``).
    flows:
        Outbound shipments: ``hub_id, region_id, product_id, period, channel, mode_id,
        campaign_id, quantity, distance_km, transit_hours, window_hours, on_time,
        pickup_id, customer_km, returned_units, restocked_units, transport_cost,
        handling_cost, return_cost, late_cost, co2_t`` (costs and CO2 are totals for the
        row; ``return_cost`` is the returned units' trip back plus processing, ``co2_t``
        includes the trip back; ``pickup_id`` is empty for delivery).
    inflows:
        Inbound shipments: ``source_id, hub_id, product_id, period, mode_id, quantity,
        distance_km, transit_hours, supply_cost, transport_cost, co2_t`` (``source_id`` is
        empty for free replenishment).
    stock:
        End-of-period stock: ``hub_id, product_id, period, quantity``.
    unmet:
        Demand not delivered: ``region_id, product_id, period, channel, campaign_id,
        quantity, penalty_cost``.
    assignments:
        Single sourcing: ``region_id, hub_id`` (empty otherwise).
    pickup_points:
        One row per pickup point and period: ``pickup_id, name, period, open, units,
        capacity, served_regions`` (region ids joined by ``;``), ``customer_km_mean``
        (units-weighted road km customers travel); empty without pickup points.
    period_costs:
        The objective broken down once, when the plan is decoded: ``period, component,
        cost`` (money), one row per period and component of :data:`COST_COMPONENTS`, zeros
        included. Every other cost figure (:attr:`costs`, :attr:`objective`, the KPIs) is
        a sum over this table; see :func:`compute_period_costs`. ``incremental_margin``
        rows are negative (the objective is cost - incremental margin).
    footprint:
        One row per footprint candidate (campaign with ``footprint: optimize``, region):
        ``campaign_id, region_id, included`` (0/1), ``incremental_units`` and
        ``incremental_margin`` (what including the region adds), ``spend``
        (spend_per_region), ``logistics_cost`` (the incremental flows' own transport,
        handling, returns, late and carbon cost when included, ``logistics_basis`` =
        ``plan``; when excluded an ``estimate``: the units at the cheapest arc from a hub
        open in that period, ``NaN`` if none), ``profit`` = margin - spend - logistics
        and ``profit_per_unit``. Empty without such campaigns.
    """

    hubs: pd.DataFrame
    flows: pd.DataFrame
    inflows: pd.DataFrame
    stock: pd.DataFrame
    unmet: pd.DataFrame
    assignments: pd.DataFrame
    pickup_points: pd.DataFrame
    period_costs: pd.DataFrame
    footprint: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FOOTPRINT_COLUMNS))

    @property
    def costs(self) -> dict[str, float]:
        """Objective by component over the horizon (money), in :data:`COST_COMPONENTS` order."""
        totals = self.period_costs.groupby("component")["cost"].sum()
        return {name: float(totals.get(name, 0.0)) for name in COST_COMPONENTS}

    @property
    def objective(self) -> float:
        """Total cost (sum of the components)."""
        return float(self.period_costs["cost"].sum())

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by file stem, for writing: the plan, ``costs`` (component totals)
        ``period_costs`` and ``campaign_footprint``."""
        costs = self.costs
        return {
            "hubs": self.hubs,
            "flows": self.flows,
            "inflows": self.inflows,
            "stock": self.stock,
            "unmet": self.unmet,
            "assignments": self.assignments,
            "pickup_points": self.pickup_points,
            "costs": pd.DataFrame({"component": list(costs), "cost": list(costs.values())}),
            "period_costs": self.period_costs,
            "campaign_footprint": self.footprint,
        }


def realised_streams(problem: ProblemData, solution: Solution) -> pd.DataFrame:
    """The problem's streams with the incremental streams of excluded footprint candidates
    dropped: the demand the plan actually serves (for KPIs and maps)."""
    streams = problem.streams
    f = streams["footprint_idx"].to_numpy()
    if not (f >= 0).any():
        return streams
    fp = solution.footprint
    chosen = pd.MultiIndex.from_frame(fp.loc[fp["included"] == 1, ["campaign_id", "region_id"]])
    pairs = pd.MultiIndex.from_frame(streams[["campaign_id", "region_id"]])
    keep = (f < 0) | pairs.isin(chosen)
    return streams[keep]


def decode_solution(problem: ProblemData, model: MatrixModel, x: np.ndarray) -> Solution:
    """Turn the solution vector into :class:`Solution` tables."""
    layout = layout_of(problem)
    open_ = np.round(model.block(x, "open")).clip(0, 1)
    opened = model.block(x, "opened")
    closed = model.block(x, "closed") if "closed" in model.var_blocks else np.zeros_like(open_)
    ship = np.where(model.block(x, "ship") > EPS, model.block(x, "ship"), 0.0)
    inflow = np.where(model.block(x, "inflow") > EPS, model.block(x, "inflow"), 0.0)
    stock = np.where(model.block(x, "stock") > EPS, model.block(x, "stock"), 0.0)
    unmet = np.where(model.block(x, "unmet") > EPS, model.block(x, "unmet"), 0.0)
    peak = np.zeros(layout.n_hub_periods)
    peak[peak_hub_periods(problem)] = np.where(
        model.block(x, "peak") > EPS, model.block(x, "peak"), 0.0
    )
    flows = _flows(problem, ship)
    pickup_open = (
        np.round(model.block(x, "pickup_open")).clip(0, 1)
        if "pickup_open" in model.var_blocks
        else np.zeros(0)
    )
    inflows = _inflows(problem, inflow)
    h, p, t = layout.grid()
    stock_table = pd.DataFrame(
        {
            "hub_id": problem.hubs["hub_id"].to_numpy()[h],
            "product_id": problem.products["product_id"].to_numpy()[p],
            "period": t,
            "quantity": stock,
        }
    )
    vol = problem.products["unit_volume"].to_numpy(float)
    hub_rows = _hub_table(problem, open_, opened, closed, flows, stock * vol[p], peak)
    unmet_table = _unmet(problem, unmet)
    assignments = pd.DataFrame(columns=["region_id", "hub_id"])
    if "assign" in model.var_blocks:
        ah, ar = assign_pairs(problem)
        chosen = model.block(x, "assign") > 0.5
        assignments = pd.DataFrame(
            {
                "region_id": problem.regions["region_id"].to_numpy()[ar[chosen]],
                "hub_id": problem.hubs["hub_id"].to_numpy()[ah[chosen]],
            }
        ).sort_values(["region_id", "hub_id"], ignore_index=True)
    stock_table = stock_table[stock > 0].reset_index(drop=True)
    pickups = _pickup_table(problem, pickup_open, flows)
    include = np.round(model.block(x, "include")).clip(0, 1)
    footprint = _footprint(problem, include, ship, open_)
    period_costs = compute_period_costs(
        problem, hub_rows, flows, inflows, stock_table, unmet_table, pickups, footprint
    )
    return Solution(
        hub_rows,
        flows,
        inflows,
        stock_table,
        unmet_table,
        assignments,
        pickups,
        period_costs,
        footprint,
    )


def solution_from_tables(problem: ProblemData, tables: Mapping[str, pd.DataFrame]) -> Solution:
    """A :class:`Solution` from its written tables (a run folder read back).

    Only the plan tables (:data:`PLAN_TABLES`) and the footprint (``campaign_footprint``,
    optional: empty when absent) are read; the cost table is recomputed from them with
    :func:`compute_period_costs`, so a run folder written before ``period_costs`` existed
    reads back the same way.
    """
    plan = {stem: tables[stem] for stem in PLAN_TABLES if stem in tables}
    plan.setdefault("pickup_points", pd.DataFrame(columns=PICKUP_COLUMNS))  # older runs
    footprint = tables.get("campaign_footprint")
    if footprint is None:
        footprint = pd.DataFrame(columns=FOOTPRINT_COLUMNS)
    period_costs = compute_period_costs(
        problem,
        plan["hubs"],
        plan["flows"],
        plan["inflows"],
        plan["stock"],
        plan["unmet"],
        plan["pickup_points"],
        footprint,
    )
    return Solution(**plan, period_costs=period_costs, footprint=footprint)


def compute_period_costs(
    problem: ProblemData,
    hubs: pd.DataFrame,
    flows: pd.DataFrame,
    inflows: pd.DataFrame,
    stock: pd.DataFrame,
    unmet: pd.DataFrame,
    pickup_points: pd.DataFrame,
    footprint: pd.DataFrame,
) -> pd.DataFrame:
    """The objective by period and component, from the decoded plan tables (money).

    fixed = open x fixed_cost, opening = opened x opening_cost and closing = closed x
    closing_cost from the hub rows; peak = peak_m3 x peak_cost_per_m3 from the hub rows
    (0 for older runs without the column); pickup points = open x their fixed_cost; supply and inbound transport from the inflow rows;
    outbound transport, handling, returns and late from the flow rows; holding =
    end-of-period stock x holding_cost; lost sales from the unmet rows; carbon = carbon
    price x CO2 t of the flow and inflow rows; for the included footprint candidates
    (``footprint`` rows with ``included`` = 1), campaign spend = ``spend_per_region`` in
    the first period of the campaign's incremental demand and incremental margin =
    -(unit_margin x incremental units) in the period of those units. Each cost lands in
    the period of its row.
    Returns ``period, component, cost``, period-major, components in
    :data:`COST_COMPONENTS` order, zero rows included.
    """
    hub_data = problem.hubs.set_index("hub_id").reindex(hubs["hub_id"])
    holding_unit = problem.products.set_index("product_id")["holding_cost"]
    parts: dict[str, pd.Series] = {
        name: (hubs[column] * hub_data[f"{name}_cost"].to_numpy(float))
        .groupby(hubs["period"])
        .sum()
        for name, column in (("fixed", "open"), ("opening", "opened"), ("closing", "closed"))
    }
    peak_m3 = hubs["peak_m3"] if "peak_m3" in hubs else pd.Series(0.0, index=hubs.index)
    parts["peak"] = (
        (peak_m3 * hub_data["peak_cost_per_m3"].to_numpy(float)).groupby(hubs["period"]).sum()
    )
    point_cost = problem.pickups.set_index("pickup_id")["fixed_cost"]
    parts["pickup_points"] = (
        (
            pickup_points["open"].astype(float)
            * point_cost.reindex(pickup_points["pickup_id"]).to_numpy(float)
        )
        .groupby(pickup_points["period"])
        .sum()
        if len(pickup_points)
        else pd.Series(dtype=float)
    )
    parts["supply"] = inflows.groupby("period")["supply_cost"].sum()
    parts["inbound_transport"] = inflows.groupby("period")["transport_cost"].sum()
    for name, column in (
        ("outbound_transport", "transport_cost"),
        ("handling", "handling_cost"),
        ("returns", "return_cost"),
        ("late", "late_cost"),
    ):
        parts[name] = flows.groupby("period")[column].sum()
    holding = stock["quantity"] * holding_unit.reindex(stock["product_id"]).to_numpy(float)
    parts["holding"] = holding.groupby(stock["period"]).sum()
    parts["lost_sales"] = unmet.groupby("period")["penalty_cost"].sum()
    co2 = pd.concat([flows[["period", "co2_t"]], inflows[["period", "co2_t"]]])
    parts["carbon"] = problem.policy.carbon.price_per_t * co2.groupby("period")["co2_t"].sum()
    parts["campaign_spend"], parts["incremental_margin"] = _footprint_costs(problem, footprint)
    periods = pd.RangeIndex(1, problem.periods + 1, name="period")
    wide = pd.DataFrame(
        {name: parts[name].reindex(periods, fill_value=0.0) for name in COST_COMPONENTS},
        index=periods,
    ).astype(float)
    return (
        wide.melt(ignore_index=False, var_name="component", value_name="cost")
        .reset_index()
        .sort_values("period", kind="stable", ignore_index=True)
    )


def _footprint(
    problem: ProblemData, include: np.ndarray, ship: np.ndarray, open_: np.ndarray
) -> pd.DataFrame:
    """The footprint table (see :class:`Solution`)."""
    fp = problem.footprint
    if not len(fp):
        return pd.DataFrame(columns=FOOTPRINT_COLUMNS)
    arcs = problem.out_arcs
    streams = problem.streams
    unit = arc_unit_cost(problem)
    k = arcs["stream_idx"].to_numpy()
    f = streams["footprint_idx"].to_numpy()[k]
    mine = f >= 0
    planned = np.bincount(f[mine], weights=(ship * unit)[mine], minlength=len(fp))
    # estimate for excluded candidates: cheapest arc from a hub open in the stream's period
    layout = layout_of(problem)
    hub_open = open_[layout.hub_period(arcs["hub_idx"].to_numpy(), streams["period"].to_numpy()[k])]
    usable = mine & (hub_open > 0.5)
    cheapest = pd.Series(unit[usable]).groupby(k[usable]).min()
    k_opt = np.flatnonzero(streams["footprint_idx"].to_numpy() >= 0)
    per_stream = (
        cheapest.reindex(k_opt).to_numpy(float) * streams["quantity"].to_numpy(float)[k_opt]
    )
    f_opt = streams["footprint_idx"].to_numpy()[k_opt]
    estimate = pd.Series(per_stream).groupby(f_opt).sum().reindex(range(len(fp)))
    reachable = pd.Series(~np.isnan(per_stream)).groupby(f_opt).all().reindex(range(len(fp)))
    estimate = estimate.where(reachable.fillna(False).astype(bool)).to_numpy(float)
    included = include > 0.5
    out = pd.DataFrame(
        {
            "campaign_id": fp["campaign_id"].to_numpy(),
            "region_id": fp["region_id"].to_numpy(),
            "included": included.astype(int),
            "incremental_units": fp["incremental_units"].to_numpy(float),
            "incremental_margin": fp["incremental_margin"].to_numpy(float),
            "spend": fp["spend"].to_numpy(float),
            "logistics_cost": np.where(included, planned, estimate),
            "logistics_basis": np.where(included, "plan", "estimate"),
        }
    )
    out["profit"] = out["incremental_margin"] - out["spend"] - out["logistics_cost"]
    out["profit_per_unit"] = out["profit"] / out["incremental_units"]
    return out.sort_values(
        ["campaign_id", "included", "profit_per_unit", "region_id"],
        ascending=[True, False, False, True],
        ignore_index=True,
    )


def _footprint_costs(problem: ProblemData, footprint: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(campaign spend, incremental margin) by period of the included footprint candidates:
    spend in the first period of the campaign's incremental streams, margin (negative)
    in the period of its units."""
    fp = problem.footprint
    if not len(fp):
        return pd.Series(dtype=float), pd.Series(dtype=float)
    chosen = footprint.loc[footprint["included"].astype(int) == 1, ["campaign_id", "region_id"]]
    candidates = pd.MultiIndex.from_frame(fp[["campaign_id", "region_id"]])
    included = candidates.isin(pd.MultiIndex.from_frame(chosen))
    streams = problem.streams
    f = streams["footprint_idx"].to_numpy()
    extra = streams[f >= 0]
    f_extra = f[f >= 0]
    first = extra.groupby("campaign_idx")["period"].min()
    spend_period = first.reindex(fp["campaign_idx"]).to_numpy()
    spend = pd.Series(fp["spend"].to_numpy(float) * included).groupby(spend_period).sum()
    unit_margin = problem.products["unit_margin"].to_numpy(float)[extra["product_idx"].to_numpy()]
    margin = -(extra["quantity"].to_numpy(float) * unit_margin * included[f_extra])
    return spend, pd.Series(margin).groupby(extra["period"].to_numpy()).sum()


def _flows(problem: ProblemData, ship: np.ndarray) -> pd.DataFrame:
    arcs = problem.out_arcs
    used = np.flatnonzero(ship > 0)
    a = arcs.iloc[used]
    k = a["stream_idx"].to_numpy()
    streams = problem.streams
    q = ship[used]
    flows = pd.DataFrame(
        {
            "hub_id": problem.hubs["hub_id"].to_numpy()[a["hub_idx"].to_numpy()],
            "region_id": streams["region_id"].to_numpy()[k],
            "product_id": streams["product_id"].to_numpy()[k],
            "period": streams["period"].to_numpy()[k],
            "channel": streams["channel"].to_numpy()[k],
            "mode_id": problem.modes["mode_id"].to_numpy()[a["mode_idx"].to_numpy()],
            "pickup_id": np.append(problem.pickups["pickup_id"].to_numpy(dtype=object), "")[
                a["pickup_idx"].to_numpy()
            ],
            "customer_km": a["customer_km"].to_numpy(float),
            "campaign_id": streams["campaign_id"].to_numpy()[k],
            "quantity": q,
            "distance_km": a["distance_km"].to_numpy(float),
            "transit_hours": a["transit_hours"].to_numpy(float),
            "window_hours": streams["window_hours"].to_numpy(float)[k],
            "on_time": ~a["late"].to_numpy(dtype=bool),
            "transport_cost": q * a["transport_cost"].to_numpy(float),
            "handling_cost": q * a["handling_cost"].to_numpy(float),
            "returned_units": q * a["return_rate"].to_numpy(float),
            "restocked_units": q
            * a["return_rate"].to_numpy(float)
            * streams["restock_share"].to_numpy(float)[k],
            "return_cost": q * a["return_cost"].to_numpy(float),
            "late_cost": q * a["late_cost"].to_numpy(float),
            "co2_t": q * a["co2_t"].to_numpy(float),
        }
    )
    return flows.sort_values(
        ["period", "hub_id", "region_id", "product_id", "channel", "mode_id"], ignore_index=True
    )


def _inflows(problem: ProblemData, inflow: np.ndarray) -> pd.DataFrame:
    used = np.flatnonzero(inflow > 0)
    q = inflow[used]
    hubs, products = problem.hubs["hub_id"].to_numpy(), problem.products["product_id"].to_numpy()
    if problem.free_replenishment:
        h, p, t = (arr[used] for arr in inflow_keys(problem))
        zeros = np.zeros(len(used))
        frame = pd.DataFrame(
            {
                "source_id": "",
                "hub_id": hubs[h],
                "product_id": products[p],
                "period": t,
                "mode_id": "",
                "quantity": q,
                "distance_km": zeros,
                "transit_hours": zeros,
                "supply_cost": zeros,
                "transport_cost": zeros,
                "co2_t": zeros,
            }
        )
    else:
        a = problem.in_arcs.iloc[used]
        frame = pd.DataFrame(
            {
                "source_id": problem.sources["source_id"].to_numpy()[a["source_idx"].to_numpy(int)],
                "hub_id": hubs[a["hub_idx"].to_numpy(int)],
                "product_id": products[a["product_idx"].to_numpy(int)],
                "period": a["period"].to_numpy(int),
                "mode_id": problem.modes["mode_id"].to_numpy()[a["mode_idx"].to_numpy(int)],
                "quantity": q,
                "distance_km": a["distance_km"].to_numpy(float),
                "transit_hours": a["transit_hours"].to_numpy(float),
                "supply_cost": q * a["supply_cost"].to_numpy(float),
                "transport_cost": q * a["transport_cost"].to_numpy(float),
                "co2_t": q * a["co2_t"].to_numpy(float),
            }
        )
    return frame.sort_values(
        ["period", "hub_id", "product_id", "source_id", "mode_id"], ignore_index=True
    )


def _hub_table(
    problem: ProblemData,
    open_: np.ndarray,
    opened: np.ndarray,
    closed: np.ndarray,
    flows: pd.DataFrame,
    stock_m3: np.ndarray,
    peak_m3: np.ndarray,
) -> pd.DataFrame:
    layout = layout_of(problem)
    hubs = problem.hubs
    h = np.repeat(np.arange(problem.n_hubs), problem.periods)
    t = np.tile(np.arange(1, problem.periods + 1), problem.n_hubs)
    vol = problem.products.set_index("product_id")["unit_volume"]
    out_m3 = np.zeros(layout.n_hub_periods)
    back_m3 = np.zeros(layout.n_hub_periods)
    if len(flows):
        fh = pd.Index(hubs["hub_id"]).get_indexer(flows["hub_id"])
        hp = layout.hub_period(fh, flows["period"].to_numpy())
        unit_m3 = vol.reindex(flows["product_id"]).to_numpy()
        np.add.at(out_m3, hp, flows["quantity"].to_numpy() * unit_m3)
        np.add.at(back_m3, hp, flows["returned_units"].to_numpy() * unit_m3)
    held = stock_m3.reshape(problem.n_hubs, problem.n_products, problem.periods).sum(axis=1).ravel()
    return pd.DataFrame(
        {
            "hub_id": hubs["hub_id"].to_numpy()[h],
            "name": hubs["name"].to_numpy()[h],
            "period": t,
            "status": hubs["status"].to_numpy()[h],
            "open": open_.astype(int),
            "opened": np.round(opened, 6),
            "closed": np.round(closed, 6),
            "throughput_m3": out_m3 + back_m3,
            "returns_m3": back_m3,
            "throughput_capacity_m3": problem.throughput_ht.ravel(),
            "peak_m3": peak_m3,
            "peak_capacity_m3": problem.peak_ht.ravel(),
            "stock_m3": held,
            "storage_capacity_m3": hubs["storage_capacity"].to_numpy(float)[h],
        }
    )


def _unmet(problem: ProblemData, unmet: np.ndarray) -> pd.DataFrame:
    k_all = unmet_streams(problem)
    used = unmet > 0
    k = k_all[used]
    streams = problem.streams
    q = unmet[used]
    return pd.DataFrame(
        {
            "region_id": streams["region_id"].to_numpy()[k],
            "product_id": streams["product_id"].to_numpy()[k],
            "period": streams["period"].to_numpy()[k],
            "channel": streams["channel"].to_numpy()[k],
            "campaign_id": streams["campaign_id"].to_numpy()[k],
            "quantity": q,
            "penalty_cost": q * streams["lost_sale_penalty"].to_numpy(float)[k],
        }
    ).sort_values(["period", "region_id", "product_id", "channel"], ignore_index=True)


def _pickup_table(problem: ProblemData, open_: np.ndarray, flows: pd.DataFrame) -> pd.DataFrame:
    """Per pickup point and period: open, units handed over, served regions, mean km."""
    pickups = problem.pickups
    if not len(pickups):
        return pd.DataFrame(columns=PICKUP_COLUMNS)
    q = np.repeat(np.arange(len(pickups)), problem.periods)
    t = np.tile(np.arange(1, problem.periods + 1), len(pickups))
    table = pd.DataFrame(
        {
            "pickup_id": pickups["pickup_id"].to_numpy()[q],
            "name": pickups["name"].to_numpy()[q],
            "period": t,
            "open": open_.astype(int),
            "capacity": pickups["capacity"].to_numpy(float)[q],
        }
    )
    used = flows[flows["pickup_id"] != ""]
    key = ["pickup_id", "period"]
    units = used.groupby(key)["quantity"].sum()
    km = (used["quantity"] * used["customer_km"]).groupby([used[c] for c in key]).sum()
    regions = used.groupby(key)["region_id"].agg(lambda ids: ";".join(sorted(set(ids))))
    index = pd.MultiIndex.from_frame(table[key])
    table["units"] = units.reindex(index, fill_value=0.0).to_numpy(float)
    table["served_regions"] = regions.reindex(index, fill_value="").to_numpy()
    table["customer_km_mean"] = np.divide(
        km.reindex(index, fill_value=0.0).to_numpy(float),
        table["units"].to_numpy(),
        out=np.full(len(table), np.nan),
        where=table["units"].to_numpy() > 0,
    )
    return table[PICKUP_COLUMNS]
