"""ProblemData: the scenario as index arrays (streams, arcs, capacities), ready to model.

Everything here is vectorised with pandas merges and numpy; positions (``*_idx``) are
internal and never leak into outputs, which use the user's ids.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hubopt.data.arcs import (
    build_in_arcs,
    build_out_arcs,
    build_out_pairs,
    build_pickup_pairs,
    expand_supply,
)
from hubopt.data.dataset import stream_mask
from hubopt.scenario.scenario import Scenario
from hubopt.scenario.schema import Campaign, Policy


@dataclass(frozen=True)
class ProblemData:
    """Index arrays of one scenario.

    Attributes
    ----------
    hubs, regions, products, sources, modes, channels, campaigns:
        Tables indexed by position (``hub_idx`` = row number, etc.).
    streams:
        One row per demand stream k = (region, product, period, channel) with the
        campaign it belongs to, its quantity after uplift (``quantity``), ``std`` and
        delivery window in hours (inf = none).
    out_pairs:
        Allowed hub -> region pairs per mode before windows: ``hub_idx, region_idx,
        mode_idx, distance_km, transit_hours`` (for the delivery-promise KPI).
    pickups:
        Pickup points (``pickup_points`` table) by position ``pickup_idx``.
    out_arcs:
        Allowed hub -> stream arcs per mode: ``hub_idx, stream_idx, mode_idx, pickup_idx
        (-1 for delivery; else the pickup point a pickup-channel stream goes through),
        customer_km (road km customers travel to the pickup point, 0 for delivery),
        distance_km, transit_hours (hub -> region, or hub -> pickup point), transport_cost, handling_cost, return_cost,
        return_rate, late, late_cost, co2_t`` (costs and CO2 per unit shipped; the return
        cost and CO2 include the returned share's trip back).
    in_arcs:
        Source -> hub arcs per product, period and mode (empty without sources):
        ``source_idx, hub_idx, product_idx, period, mode_idx, supply_idx, distance_km,
        transit_hours, transport_cost, supply_cost, co2_t``.
    supply:
        Supply capacity rows ``source_idx, product_idx, period, capacity``.
    initial_stock:
        Array (hubs x products) of units on hand at the start.
    throughput_ht, peak_ht:
        Arrays (hubs x periods) of base throughput capacity and peak (premium) capacity
        in m3 per period: the hubs' columns with the ``hub_capacity`` overrides applied.
    footprint:
        Candidate (campaign, region) pairs of the campaigns with ``footprint: optimize``,
        indexed by ``footprint_idx``: ``campaign_idx, region_idx, campaign_id, region_id,
        spend, incremental_units, incremental_margin`` (the last two if included).
        Each demand row in such a campaign's scope becomes two streams: the base demand
        (no campaign, the ordinary window) and the incremental units
        ``base x (uplift - 1)`` (the campaign's window and service level) whose
        ``footprint_idx`` names the candidate that switches them on.
    """

    name: str
    periods: int
    policy: Policy
    hubs: pd.DataFrame
    regions: pd.DataFrame
    products: pd.DataFrame
    sources: pd.DataFrame
    modes: pd.DataFrame
    channels: pd.DataFrame
    pickups: pd.DataFrame
    campaigns: pd.DataFrame
    streams: pd.DataFrame
    out_pairs: pd.DataFrame
    out_arcs: pd.DataFrame
    in_arcs: pd.DataFrame
    supply: pd.DataFrame
    initial_stock: np.ndarray
    free_replenishment: bool
    throughput_ht: np.ndarray
    peak_ht: np.ndarray
    footprint: pd.DataFrame
    crs: str | None = None

    @property
    def n_hubs(self) -> int:
        """Number of hubs."""
        return len(self.hubs)

    @property
    def n_products(self) -> int:
        """Number of products."""
        return len(self.products)


def build_problem(scenario: Scenario) -> ProblemData:
    """Turn a loaded scenario into index arrays: streams, arcs, capacities."""
    tables, config = scenario.tables, scenario.config
    policy = config.policy
    hubs = tables.hubs.reset_index(drop=True)
    regions = tables.regions.reset_index(drop=True)
    products = tables.products.reset_index(drop=True)
    sources = tables.sources.reset_index(drop=True)
    modes = tables.modes.reset_index(drop=True)
    channels = tables.channels.reset_index(drop=True)
    pickups = tables.pickup_points.reset_index(drop=True)
    campaigns = pd.DataFrame(
        {
            "campaign_id": [c.id for c in config.campaigns],
            "name": [c.name or c.id for c in config.campaigns],
            "uplift": [c.uplift for c in config.campaigns],
            "delivery_window_hours": [c.delivery_window_hours or np.inf for c in config.campaigns],
            "service_level": [c.service_level for c in config.campaigns],
            "spend": [c.spend for c in config.campaigns],
            "footprint": [c.footprint for c in config.campaigns],
            "spend_per_region": [c.spend_per_region for c in config.campaigns],
            "min_regions": [c.min_regions for c in config.campaigns],
            "max_regions": [c.max_regions for c in config.campaigns],
        }
    )
    streams = _build_streams(scenario, regions, products, channels)
    footprint = _build_footprint(streams, campaigns, regions, products)
    crs = config.crs
    out_pairs = build_out_pairs(hubs, regions, modes, tables.lanes, policy, crs)
    pickup_pairs = build_pickup_pairs(hubs, regions, pickups, modes, tables.lanes, policy, crs)
    out_arcs = build_out_arcs(streams, out_pairs, pickup_pairs, hubs, products, policy)
    supply = expand_supply(tables.supply, sources, products, scenario.periods)
    in_arcs = build_in_arcs(supply, hubs, sources, products, modes, tables.lanes, policy, crs)
    stock = np.zeros((len(hubs), len(products)))
    if len(tables.inventory):
        h = pd.Index(hubs["hub_id"]).get_indexer(tables.inventory["hub_id"])
        p = pd.Index(products["product_id"]).get_indexer(tables.inventory["product_id"])
        np.add.at(stock, (h, p), tables.inventory["quantity"].to_numpy(dtype=float))
    throughput_ht, peak_ht = hub_period_capacities(hubs, tables.hub_capacity, scenario.periods)
    return ProblemData(
        name=config.name,
        periods=scenario.periods,
        policy=policy,
        hubs=hubs,
        regions=regions,
        products=products,
        sources=sources,
        modes=modes,
        channels=channels,
        pickups=pickups,
        campaigns=campaigns,
        streams=streams,
        out_pairs=out_pairs[["hub_idx", "region_idx", "mode_idx", "distance_km", "transit_hours"]],
        out_arcs=out_arcs,
        in_arcs=in_arcs,
        supply=supply,
        initial_stock=stock,
        free_replenishment=not tables.has_sources,
        footprint=footprint,
        crs=crs,
        throughput_ht=throughput_ht,
        peak_ht=peak_ht,
    )


def arc_unit_cost(problem: ProblemData) -> np.ndarray:
    """Per outbound arc, the cost of one unit shipped on it: transport, handling, the
    returned share's trip back, late penalty and carbon price (the ship column's cost)."""
    arcs = problem.out_arcs
    return (
        arcs["transport_cost"].to_numpy(float)
        + arcs["handling_cost"].to_numpy(float)
        + arcs["return_cost"].to_numpy(float)
        + arcs["late_cost"].to_numpy(float)
        + problem.policy.carbon.price_per_t * arcs["co2_t"].to_numpy(float)
    )


def cheapest_arcs(problem: ProblemData, per_stream: int) -> np.ndarray:
    """Positions (ascending) of each stream's ``per_stream`` cheapest outbound arcs
    (:func:`arc_unit_cost`: the arcs a plan uses first where hubs have room)."""
    arcs = problem.out_arcs
    unit = arc_unit_cost(problem)
    stream = arcs["stream_idx"].to_numpy()
    order = np.lexsort((np.arange(len(arcs)), unit, stream))
    first = np.r_[0, np.flatnonzero(np.diff(stream[order])) + 1]
    rank = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
    return np.sort(order[rank < per_stream])


def restrict_arcs(problem: ProblemData, keep: np.ndarray) -> ProblemData:
    """``problem`` with only the outbound arcs at positions ``keep`` (ascending): a
    restriction, so every plan of it is a plan of ``problem`` with the other arcs unused."""
    arcs = problem.out_arcs.iloc[np.asarray(keep)].reset_index(drop=True)
    return dataclasses.replace(problem, out_arcs=arcs)


def hub_period_capacities(
    hubs: pd.DataFrame, overrides: pd.DataFrame, periods: int
) -> tuple[np.ndarray, np.ndarray]:
    """(hubs x periods) base throughput and peak capacity (m3): the hubs' columns, then the
    ``hub_capacity`` rows (a blank cell keeps the hub's value)."""
    base = np.repeat(hubs["throughput_capacity"].to_numpy(float)[:, None], periods, axis=1)
    peak = np.repeat(hubs["peak_capacity"].to_numpy(float)[:, None], periods, axis=1)
    if len(overrides):
        h = pd.Index(hubs["hub_id"]).get_indexer(overrides["hub_id"])
        t = overrides["period"].to_numpy(int) - 1
        for column, target in (("throughput_capacity", base), ("peak_capacity", peak)):
            values = overrides[column].to_numpy(float)
            given = ~np.isnan(values)
            target[h[given], t[given]] = values[given]
    # peak capacity only adds to a finite base: an unlimited hub needs no premium
    peak = np.where(np.isfinite(base), peak, 0.0)
    return base, peak


def _build_streams(
    scenario: Scenario, regions: pd.DataFrame, products: pd.DataFrame, channels: pd.DataFrame
) -> pd.DataFrame:
    config = scenario.config
    demand = scenario.tables.demand.reset_index(drop=True)
    campaign_idx = np.full(len(demand), -1)
    uplift = np.ones(len(demand))
    for index, campaign in enumerate(config.campaigns):
        mask = stream_mask(campaign, demand, regions) & (campaign_idx < 0)
        campaign_idx[mask] = index
        uplift[mask] = campaign.uplift
    base = pd.DataFrame(
        {
            "region_id": demand["region_id"].to_numpy(),
            "product_id": demand["product_id"].to_numpy(),
            "period": demand["period"].to_numpy(dtype=int),
            "channel": demand["channel"].to_numpy(),
            "base_quantity": demand["quantity"].to_numpy(dtype=float),
            "quantity": demand["quantity"].to_numpy(dtype=float) * uplift,
            "std": demand["std"].to_numpy(dtype=float) * uplift,
            "campaign_idx": campaign_idx,
            "optional": False,
        }
    )
    streams = _split_optimized(base, config.campaigns)
    ids = np.array([c.id for c in config.campaigns] + [""], dtype=object)
    streams["campaign_id"] = ids[streams["campaign_idx"].to_numpy()]  # -1 picks the trailing ""
    streams = streams[streams["quantity"] > 0].reset_index(drop=True)
    streams["region_idx"] = pd.Index(regions["region_id"]).get_indexer(streams["region_id"])
    streams["product_idx"] = pd.Index(products["product_id"]).get_indexer(streams["product_id"])
    streams["channel_idx"] = pd.Index(channels["channel_id"]).get_indexer(streams["channel"])
    window = channels["delivery_window_hours"].to_numpy(dtype=float)[
        streams["channel_idx"].to_numpy()
    ]
    if config.policy.default_delivery_window_hours is not None:
        window = np.where(np.isnan(window), config.policy.default_delivery_window_hours, window)
    window = np.where(np.isnan(window), np.inf, window)
    camp_window = np.array(
        [c.delivery_window_hours or np.nan for c in config.campaigns] + [np.nan], dtype=float
    )
    own = camp_window[streams["campaign_idx"].to_numpy()]
    streams["window_hours"] = np.where(np.isnan(own), window, own)
    penalty = products["lost_sale_penalty"].to_numpy(dtype=float)
    streams["lost_sale_penalty"] = penalty[streams["product_idx"].to_numpy()]
    c = streams["channel_idx"].to_numpy()
    own_rate = products["return_rate"].to_numpy(dtype=float)[streams["product_idx"].to_numpy()]
    rate = np.where(np.isnan(own_rate), channels["return_rate"].to_numpy(dtype=float)[c], own_rate)
    streams["return_rate"] = rate
    streams["pickup"] = channels["kind"].to_numpy()[c] == "pickup"
    streams["restock_share"] = channels["restock_share"].to_numpy(dtype=float)[c]
    streams["return_cost_per_unit"] = rate * channels["return_cost"].to_numpy(dtype=float)[c]
    streams.index.name = "stream_idx"
    return streams


def _split_optimized(streams: pd.DataFrame, campaigns: list[Campaign]) -> pd.DataFrame:
    """Split the streams of ``footprint: optimize`` campaigns into base and incremental.

    The base stream keeps the demand as it is without the campaign (no campaign, the
    ordinary window); the incremental stream carries ``base x (uplift - 1)`` units and
    std, belongs to the campaign and is ``optional``: it exists only where the model
    includes the region (:func:`hubopt.model.footprint.define_footprint`).
    """
    optimize = np.array([c.footprint == "optimize" for c in campaigns] + [False])
    split = optimize[streams["campaign_idx"].to_numpy()]
    if not split.any():
        return streams
    factor = np.array([c.uplift for c in campaigns] + [1.0])[streams["campaign_idx"].to_numpy()]
    base = streams.copy()
    base.loc[split, "quantity"] = base.loc[split, "base_quantity"]
    base.loc[split, "std"] = base.loc[split, "std"] / factor[split]
    base.loc[split, "campaign_idx"] = -1
    extra = streams[split].copy()
    extra["quantity"] = extra["base_quantity"] * (factor[split] - 1.0)
    extra["std"] = extra["std"] / factor[split] * (factor[split] - 1.0)
    extra["optional"] = True
    return pd.concat([base, extra], ignore_index=True)


def _build_footprint(
    streams: pd.DataFrame,
    campaigns: pd.DataFrame,
    regions: pd.DataFrame,
    products: pd.DataFrame,
) -> pd.DataFrame:
    """Candidate (campaign, region) pairs with their incremental units, margin and spend;
    sets ``streams["footprint_idx"]`` (-1 for streams that are always there)."""
    columns = [
        "campaign_idx",
        "region_idx",
        "campaign_id",
        "region_id",
        "spend",
        "incremental_units",
        "incremental_margin",
    ]
    optional = streams["optional"].to_numpy(dtype=bool)
    streams["footprint_idx"] = -1
    if not optional.any():
        return pd.DataFrame(
            {c: pd.Series(dtype=object if c.endswith("_id") else float) for c in columns}
        ).astype({"campaign_idx": np.int64, "region_idx": np.int64})
    margin = products["unit_margin"].to_numpy(float)[streams["product_idx"].to_numpy()]
    extra = streams[optional].assign(
        margin=streams["quantity"].to_numpy(float)[optional] * margin[optional]
    )
    table = (
        extra.groupby(["campaign_idx", "region_idx"], as_index=False)
        .agg(incremental_units=("quantity", "sum"), incremental_margin=("margin", "sum"))
        .sort_values(["campaign_idx", "region_idx"], ignore_index=True)
    )
    key = table["campaign_idx"].to_numpy() * len(regions) + table["region_idx"].to_numpy()
    stream_key = (
        streams["campaign_idx"].to_numpy()[optional] * len(regions)
        + streams["region_idx"].to_numpy()[optional]
    )
    streams.loc[optional, "footprint_idx"] = np.searchsorted(key, stream_key)
    table["campaign_id"] = campaigns["campaign_id"].to_numpy()[table["campaign_idx"].to_numpy()]
    table["region_id"] = regions["region_id"].to_numpy()[table["region_idx"].to_numpy()]
    table["spend"] = campaigns["spend_per_region"].to_numpy(float)[table["campaign_idx"].to_numpy()]
    table.index.name = "footprint_idx"
    return table[columns]
