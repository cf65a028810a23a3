"""KPIs of a plan (DESIGN §4): pure functions from (problem, solution) to tidy tables.

Definitions (also in docs/kpis.md):

- fill rate = delivered units / demand units (after campaign uplift);
- on-time rate = units delivered within their window / demand units (unmet counts as late);
- mean / P95 delivery hours = delivered-unit-weighted mean / 95th percentile of transit hours;
- throughput utilisation = volume out / throughput capacity, over open hub-periods with a
  finite capacity; storage utilisation likewise with end-of-period stock;
- inventory turnover = units shipped / average end-of-period stock (units) over the horizon;
- days of cover = average stock / (units shipped per period / period_days);
- tonne-km = units x kg / 1000 x km (inbound + outbound); CO2 t from the modes' factors;
- campaign logistics cost = the campaign flows' own outbound transport, handling, returns,
  late and carbon costs, plus their share (by outbound m3, period by period) of the
  period's fixed, opening, closing, inbound transport and holding costs; purchase (supply)
  cost and lost-sale penalties are not logistics;
- promotion ROI = (margin - spend - logistics cost) / (spend + logistics cost), margin =
  delivered campaign units x unit_margin;
- delivery by channel = demand units the plan actually delivers within each promise tier
  (by the mode it chose), later, or not at all: the promise the plan keeps;
- delivery promise per region = fastest transit from a hub open in the last period over
  every allowed mode, and its tier (``output.promise_tiers_hours``, default 6, 12, 24, 48,
  72 h; ``later`` beyond the last, ``none`` when no open hub can serve it);
- campaign promise per campaign and region = fastest transit from a hub open in the
  campaign's periods, its tier, whether it is within the campaign's delivery window, and
  the on-time rate of the campaign's units there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hubopt.data.problem import ProblemData
from hubopt.kpis_campaigns import compute_campaign_kpis, compute_campaign_promise
from hubopt.kpis_network import (
    compute_pickup_points,
    compute_returns,
    compute_safety_stock,
    compute_staffing,
    pickup_headline,
)
from hubopt.solution import Solution, realised_streams
from hubopt.tiers import DEFAULT_TIERS_HOURS, tier_label, tier_labels, tier_of


@dataclass(frozen=True)
class Kpis:
    """KPI tables. Units are in the column names (``_m3``, ``_hours``, ``_t``)."""

    headline: dict[str, Any]
    costs: pd.DataFrame
    campaigns: pd.DataFrame
    regions: pd.DataFrame
    channels: pd.DataFrame
    hubs: pd.DataFrame
    periods: pd.DataFrame
    delivery: pd.DataFrame  # the plan's actual delivery times per channel (promise table)
    staffing: pd.DataFrame = field(default_factory=pd.DataFrame)
    returns: pd.DataFrame = field(default_factory=pd.DataFrame)
    safety_stock: pd.DataFrame = field(default_factory=pd.DataFrame)
    pickup_points: pd.DataFrame = field(default_factory=pd.DataFrame)
    campaign_promise: pd.DataFrame = field(default_factory=pd.DataFrame)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by name, for writing."""
        return {
            "kpi_costs": self.costs,
            "kpi_campaigns": self.campaigns,
            "kpi_regions": self.regions,
            "kpi_channels": self.channels,
            "kpi_hubs": self.hubs,
            "kpi_periods": self.periods,
            "kpi_delivery": self.delivery,
            "kpi_staffing": self.staffing,
            "kpi_returns": self.returns,
            "kpi_safety_stock": self.safety_stock,
            "kpi_pickup_points": self.pickup_points,
            "kpi_campaign_promise": self.campaign_promise,
        }

    def as_json(self) -> dict[str, Any]:
        """Headline plus the small tables, JSON-ready (NaN/inf -> None)."""
        return _clean(
            {
                "headline": self.headline,
                "costs": self.costs.to_dict(orient="records"),
                "campaigns": self.campaigns.to_dict(orient="records"),
                "channels": self.channels.to_dict(orient="records"),
                "periods": self.periods.to_dict(orient="records"),
                "delivery": self.delivery.to_dict(orient="records"),
                "staffing": self.staffing.to_dict(orient="records"),
                "returns": self.returns.to_dict(orient="records"),
                "safety_stock": self.safety_stock.to_dict(orient="records"),
                "pickup_points": self.pickup_points.to_dict(orient="records"),
            }
        )


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Weighted quantile (inverted CDF): the smallest value with cumulative weight >= q."""
    if len(values) == 0 or weights.sum() <= 0:
        return math.nan
    order = np.argsort(values)
    cum = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][np.searchsorted(cum, q - 1e-12)])


def compute_kpis(
    problem: ProblemData,
    solution: Solution,
    tiers_hours: tuple[float, ...] | list[float] = DEFAULT_TIERS_HOURS,
) -> Kpis:
    """Every KPI of DESIGN §4 for one plan (promise tiers from ``output.promise_tiers_hours``)."""
    streams = realised_streams(problem, solution)
    flows = solution.flows
    demand_units = float(streams["quantity"].sum())
    delivered = float(flows["quantity"].sum())
    on_time = float(flows.loc[flows["on_time"], "quantity"].sum())
    total_cost = solution.objective
    costs = pd.DataFrame({"component": list(solution.costs), "cost": list(solution.costs.values())})
    costs["share"] = costs["cost"] / total_cost if total_cost else 0.0
    weight = problem.products.set_index("product_id")["unit_weight_kg"]
    tkm_out = float(
        (
            flows["quantity"]
            * weight.reindex(flows["product_id"]).to_numpy()
            / 1000
            * flows["distance_km"]
        ).sum()
    )
    inflows = solution.inflows
    tkm_in = float(
        (
            inflows["quantity"]
            * weight.reindex(inflows["product_id"]).to_numpy()
            / 1000
            * inflows["distance_km"]
        ).sum()
    )
    co2 = float(flows["co2_t"].sum() + inflows["co2_t"].sum())
    hubs = compute_hub_kpis(problem, solution)
    campaigns = compute_campaign_kpis(problem, solution)
    regions = compute_region_kpis(problem, solution, tiers_hours)
    open_per_period = solution.hubs.groupby("period")["open"].sum()
    safety = compute_safety_stock(problem, solution)
    headline: dict[str, Any] = {
        "total_cost": total_cost,
        "cost_per_unit_delivered": total_cost / delivered if delivered else math.nan,
        "demand_units": demand_units,
        "delivered_units": delivered,
        "fill_rate": delivered / demand_units if demand_units else math.nan,
        "on_time_rate": on_time / demand_units if demand_units else math.nan,
        "mean_delivery_hours": float(np.average(flows["transit_hours"], weights=flows["quantity"]))
        if delivered
        else math.nan,
        "p95_delivery_hours": weighted_quantile(
            flows["transit_hours"].to_numpy(), flows["quantity"].to_numpy(), 0.95
        ),
        "open_hubs_max": int(open_per_period.max()) if len(open_per_period) else 0,
        "open_hubs_last_period": int(open_per_period.iloc[-1]) if len(open_per_period) else 0,
        "open_hubs": ";".join(sorted(open_periods_of(solution.hubs))),
        "throughput_utilisation": _ratio(
            hubs["throughput_m3"].sum(), hubs["throughput_capacity_m3_open"].sum()
        ),
        "average_stock_units": float(
            solution.stock.groupby("period")["quantity"]
            .sum()
            .reindex(range(1, problem.periods + 1), fill_value=0)
            .mean()
        ),
        "inventory_turnover": _ratio(delivered, float(hubs["average_stock_units"].sum())),
        "tonne_km": tkm_out + tkm_in,
        "co2_t": co2,
        "co2_kg_per_unit": co2 * 1000 / delivered if delivered else math.nan,
        "peak_m3": float(solution.hubs["peak_m3"].sum()),
        "safety_stock_pooled_units": float(safety["safety_stock_pooled_units"].sum()),
        "safety_stock_unpooled_units": float(safety["safety_stock_unpooled_units"].sum()),
        **pickup_headline(solution),
        "returned_units": float(flows["returned_units"].sum()),
        "return_cost": float(flows["return_cost"].sum()),
        "returns_share_of_throughput": _ratio(
            float(solution.hubs["returns_m3"].sum()), float(solution.hubs["throughput_m3"].sum())
        ),
        "unmet_units": float(solution.unmet["quantity"].sum()) if len(solution.unmet) else 0.0,
        "regions_24h_share": float((regions["fastest_hours"] <= 24 + 1e-9).mean())
        if len(regions)
        else math.nan,
        "incremental_margin": -float(solution.costs.get("incremental_margin", 0.0)),
        "campaign_spend": float(solution.costs.get("campaign_spend", 0.0)),
    }
    headline["days_of_cover"] = (
        _ratio(
            headline["average_stock_units"],
            delivered / problem.periods / problem.policy.period_days,
        )
        if delivered
        else math.nan
    )
    return Kpis(
        headline=headline,
        costs=costs,
        campaigns=campaigns,
        regions=regions,
        channels=_group_service(streams, flows, "channel"),
        hubs=hubs,
        periods=_period_kpis(problem, solution),
        delivery=delivery_by_channel(streams, flows, tiers_hours),
        staffing=compute_staffing(problem, solution),
        returns=compute_returns(problem, solution),
        safety_stock=safety,
        pickup_points=compute_pickup_points(problem, solution),
        campaign_promise=compute_campaign_promise(problem, solution, tiers_hours),
    )


def _ratio(a: float, b: float) -> float:
    return float(a) / float(b) if b and math.isfinite(b) else math.nan


def _group_service(streams: pd.DataFrame, flows: pd.DataFrame, key: str) -> pd.DataFrame:
    demand = streams.groupby(key)["quantity"].sum()
    delivered = flows.groupby(key)["quantity"].sum().reindex(demand.index, fill_value=0)
    on_time = (
        flows[flows["on_time"]].groupby(key)["quantity"].sum().reindex(demand.index, fill_value=0)
    )
    out = pd.DataFrame(
        {"demand_units": demand, "delivered_units": delivered, "on_time_units": on_time}
    )
    out["fill_rate"] = out["delivered_units"] / out["demand_units"]
    out["on_time_rate"] = out["on_time_units"] / out["demand_units"]
    return out.reset_index()


def compute_hub_kpis(problem: ProblemData, solution: Solution) -> pd.DataFrame:
    """Per hub: periods open, throughput, utilisation, average stock, turnover, days of cover."""
    h = solution.hubs.copy()
    h["throughput_capacity_m3_open"] = np.where(
        (h["open"] > 0) & np.isfinite(h["throughput_capacity_m3"]), h["throughput_capacity_m3"], 0.0
    )
    h["storage_capacity_m3_open"] = np.where(
        (h["open"] > 0) & np.isfinite(h["storage_capacity_m3"]), h["storage_capacity_m3"], 0.0
    )
    stock_units = solution.stock.groupby("hub_id")["quantity"].sum() / problem.periods
    shipped = solution.flows.groupby("hub_id")["quantity"].sum()
    g = h.groupby("hub_id", sort=False)
    out = pd.DataFrame(
        {
            "name": g["name"].first(),
            "status": g["status"].first(),
            "periods_open": g["open"].sum(),
            "throughput_m3": g["throughput_m3"].sum(),
            "peak_m3": g["peak_m3"].sum(),
            "returns_m3": g["returns_m3"].sum(),
            "throughput_capacity_m3_open": g["throughput_capacity_m3_open"].sum(),
            "peak_throughput_utilisation": (
                h["throughput_m3"] / h["throughput_capacity_m3"].where(h["open"] > 0)
            )
            .groupby(h["hub_id"], sort=False)
            .max(),
            "stock_m3_average": g["stock_m3"].mean(),
            "storage_capacity_m3_open": g["storage_capacity_m3_open"].sum(),
        }
    )
    out["throughput_utilisation"] = out["throughput_m3"] / out[
        "throughput_capacity_m3_open"
    ].replace(0, np.nan)
    out["storage_utilisation"] = (g["stock_m3"].sum()) / out["storage_capacity_m3_open"].replace(
        0, np.nan
    )
    out["returns_share_of_throughput"] = out["returns_m3"] / out["throughput_m3"].replace(0, np.nan)
    out["shipped_units"] = shipped.reindex(out.index, fill_value=0)
    out["average_stock_units"] = stock_units.reindex(out.index, fill_value=0)
    out["inventory_turnover"] = out["shipped_units"] / out["average_stock_units"].replace(0, np.nan)
    per_day = out["shipped_units"] / (problem.periods * problem.policy.period_days)
    out["days_of_cover"] = out["average_stock_units"] / per_day.replace(0, np.nan)
    return out.reset_index()


def compute_region_kpis(
    problem: ProblemData,
    solution: Solution,
    tiers_hours: tuple[float, ...] | list[float] = DEFAULT_TIERS_HOURS,
) -> pd.DataFrame:
    """Per region: demand, fill and on-time rates, mean delivery hours, delivery promise."""
    regions = problem.regions
    service = _group_service(
        realised_streams(problem, solution), solution.flows, "region_id"
    ).set_index("region_id")
    flows = solution.flows
    mean_hours = (flows["quantity"] * flows["transit_hours"]).groupby(
        flows["region_id"]
    ).sum() / flows.groupby("region_id")["quantity"].sum()
    last = solution.hubs[solution.hubs["period"] == problem.periods]
    open_idx = pd.Index(problem.hubs["hub_id"]).get_indexer(last.loc[last["open"] > 0, "hub_id"])
    pairs = problem.out_pairs[problem.out_pairs["hub_idx"].isin(open_idx)]
    fastest = pairs.groupby("region_idx")["transit_hours"].min().reindex(range(len(regions)))
    best_hub = (
        pairs.loc[pairs.groupby("region_idx")["transit_hours"].idxmin()] if len(pairs) else pairs
    )
    hub_of = (
        pd.Series(
            problem.hubs["hub_id"].to_numpy()[best_hub["hub_idx"].to_numpy()],
            index=best_hub["region_idx"].to_numpy(),
        )
        if len(pairs)
        else pd.Series(dtype=object)
    )
    out = pd.DataFrame({"region_id": regions["region_id"], "name": regions["name"]})
    for extra in ("name_local", "province", "population"):
        out[extra] = regions[extra].to_numpy()
    out = out.join(service, on="region_id")
    out[["demand_units", "delivered_units", "on_time_units"]] = out[
        ["demand_units", "delivered_units", "on_time_units"]
    ].fillna(0.0)
    out["mean_delivery_hours"] = out["region_id"].map(mean_hours)
    out["fastest_hours"] = fastest.to_numpy()
    out["fastest_hub_id"] = [hub_of.get(i, "") for i in range(len(regions))]
    out["tier"] = tier_of(out["fastest_hours"].to_numpy(float), tiers_hours)
    return out


def _period_kpis(problem: ProblemData, solution: Solution) -> pd.DataFrame:
    idx = pd.RangeIndex(1, problem.periods + 1, name="period")
    demand = (
        realised_streams(problem, solution)
        .groupby("period")["quantity"]
        .sum()
        .reindex(idx, fill_value=0)
    )
    flows = solution.flows
    delivered = flows.groupby("period")["quantity"].sum().reindex(idx, fill_value=0)
    on_time = flows[flows["on_time"]].groupby("period")["quantity"].sum().reindex(idx, fill_value=0)
    stock = solution.stock.groupby("period")["quantity"].sum().reindex(idx, fill_value=0)
    open_hubs = solution.hubs.groupby("period")["open"].sum().reindex(idx, fill_value=0)
    out = pd.DataFrame(
        {
            "open_hubs": open_hubs,
            "demand_units": demand,
            "delivered_units": delivered,
            "on_time_units": on_time,
            "stock_units": stock,
        }
    )
    out["on_time_rate"] = out["on_time_units"] / out["demand_units"].replace(0, np.nan)
    return out.reset_index()


def delivery_by_channel(
    streams: pd.DataFrame,
    flows: pd.DataFrame,
    tiers_hours: tuple[float, ...] | list[float] = DEFAULT_TIERS_HOURS,
) -> pd.DataFrame:
    """What the plan actually delivers, per channel: demand units delivered within each
    promise tier (cumulative; default 6, 12, 24, 48 and 72 h), later, and not at all.

    This is the promise a channel can keep with this plan (the mode the plan chose), unlike
    :func:`promise_table`, which counts the fastest delivery any allowed mode could make.
    Columns: ``channel, demand_units, within_6h .. within_72h, later, undelivered``; one
    row per channel and, with more than one channel, an ``All channels`` row.
    """
    channels = sorted(streams["channel"].unique())
    demand = streams.groupby("channel")["quantity"].sum().reindex(channels, fill_value=0.0)
    out = pd.DataFrame({"channel": channels, "demand_units": demand.to_numpy(float)})
    hours = flows["transit_hours"].to_numpy(float)
    tiers = sorted(tiers_hours)
    for limit in tiers:
        within = flows[hours <= limit + 1e-9].groupby("channel")["quantity"].sum()
        out[f"within_{tier_label(limit)}"] = within.reindex(channels, fill_value=0.0).to_numpy(
            float
        )
    delivered = flows.groupby("channel")["quantity"].sum().reindex(channels, fill_value=0.0)
    out["later"] = delivered.to_numpy(float) - out[f"within_{tier_label(tiers[-1])}"]
    out["undelivered"] = out["demand_units"] - delivered.to_numpy(float)
    if len(out) > 1:
        total = out.drop(columns="channel").sum()
        out = pd.concat(
            [out, pd.DataFrame([{"channel": "All channels", **total.to_dict()}])],
            ignore_index=True,
        )
    return out


def promise_table(
    regions: pd.DataFrame, tiers_hours: tuple[float, ...] | list[float] = DEFAULT_TIERS_HOURS
) -> pd.DataFrame:
    """People (or demand units) per group that can be promised delivery within each tier.

    ``regions`` is :attr:`Kpis.regions`. The weight is the regions table's optional
    ``population`` column when it has values, else the demand units; the group is its
    optional ``province`` column when it has values, else one group "All regions".

    Columns: ``group, basis, total`` and cumulative ``within_<tier>`` (``within_6h`` ..
    ``within_72h`` with the default tiers) plus the ``later`` and ``none`` counts; one row
    per group and a ``Total`` row.
    """
    basis = (
        "population"
        if "population" in regions.columns and regions["population"].notna().any()
        else "demand_units"
    )
    weight = pd.to_numeric(regions[basis], errors="coerce").fillna(0.0)
    group = (
        regions["province"].astype(str)
        if has_provinces(regions)
        else pd.Series("All regions", index=regions.index)
    )
    frame = pd.DataFrame(
        {"group": group, "tier": regions["tier"].astype(str), "w": weight.astype(float)}
    )
    wide = frame.groupby(["group", "tier"], sort=False)["w"].sum().unstack("tier", fill_value=0.0)
    order = tier_labels(tiers_hours)
    wide = wide.reindex(columns=order, fill_value=0.0)
    out = pd.DataFrame(index=wide.index)
    out["total"] = wide.sum(axis=1)
    for i, hours in enumerate(tiers_hours):
        out[f"within_{tier_label(hours)}"] = wide[order[: i + 1]].sum(axis=1)
    out["later"], out["none"] = wide["later"], wide["none"]
    out = out.sort_values("total", ascending=False)
    if len(out) > 1:
        out.loc["Total"] = out.sum()
    out = out.reset_index().rename(columns={"index": "group"})
    out.insert(1, "basis", basis)
    return out


def open_periods_of(hub_periods: pd.DataFrame) -> dict[str, list[int]]:
    """Hub id -> sorted periods in which it is open (from ``Solution.hubs``)."""
    rows = hub_periods[hub_periods["open"] > 0]
    return {str(h): sorted(int(p) for p in g) for h, g in rows.groupby("hub_id")["period"]}


def has_provinces(regions: pd.DataFrame) -> bool:
    """Whether a regions table (or :attr:`Kpis.regions`) names a province for any region."""
    return "province" in regions.columns and bool(
        regions["province"].fillna("").astype(str).str.len().gt(0).any()
    )
