"""ProblemData: the scenario as index arrays (streams, arcs, capacities), ready to model.

Everything here is vectorised with pandas merges and numpy; positions (``*_idx``) are
internal and never leak into outputs, which use the user's ids.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hubopt.data.dataset import stream_mask
from hubopt.data.pickup import reach_pairs
from hubopt.geo import distance_matrix_km, transit_hours
from hubopt.scenario.scenario import Scenario
from hubopt.scenario.schema import Campaign, Policy

OUT_LEGS = ("outbound", "both")
IN_LEGS = ("inbound", "both")


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
    out_pairs = _build_out_pairs(hubs, regions, modes, tables.lanes, policy, crs)
    pickup_pairs = _build_pickup_pairs(hubs, regions, pickups, modes, tables.lanes, policy, crs)
    out_arcs = _build_out_arcs(streams, out_pairs, pickup_pairs, hubs, products, policy)
    supply = _expand_supply(tables.supply, sources, products, scenario.periods)
    in_arcs = _build_in_arcs(supply, hubs, sources, products, modes, tables.lanes, policy, crs)
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


def _pairs(
    from_frame: pd.DataFrame,
    from_key: str,
    to_frame: pd.DataFrame,
    to_key: str,
    modes: pd.DataFrame,
    legs: tuple[str, ...],
    lanes: pd.DataFrame,
    circuity: float,
    crs: str | None,
) -> pd.DataFrame:
    """Every allowed (from, to, mode) with distance, transit, per-kg costs, lane overrides."""
    mode_idx = np.flatnonzero(modes["leg"].isin(legs).to_numpy())
    n_from, n_to = len(from_frame), len(to_frame)
    if n_from == 0 or n_to == 0 or len(mode_idx) == 0:
        return pd.DataFrame(
            columns=[
                "from_idx",
                "to_idx",
                "mode_idx",
                "distance_km",
                "transit_hours",
                "cost_per_kg",
                "cost_per_kg_km",
                "lane_cost",
            ]
        )
    dist = distance_matrix_km(
        from_frame["lat"].to_numpy(float),
        from_frame["lon"].to_numpy(float),
        to_frame["lat"].to_numpy(float),
        to_frame["lon"].to_numpy(float),
        circuity,
        crs,
    )
    f, t, m = np.meshgrid(np.arange(n_from), np.arange(n_to), mode_idx, indexing="ij")
    pairs = pd.DataFrame({"from_idx": f.ravel(), "to_idx": t.ravel(), "mode_idx": m.ravel()})
    pairs["distance_km"] = dist[pairs["from_idx"].to_numpy(), pairs["to_idx"].to_numpy()]
    pairs["from_id"] = from_frame[from_key].to_numpy()[pairs["from_idx"].to_numpy()]
    pairs["to_id"] = to_frame[to_key].to_numpy()[pairs["to_idx"].to_numpy()]
    pairs["mode_id"] = modes["mode_id"].to_numpy()[pairs["mode_idx"].to_numpy()]
    pairs = _apply_lanes(pairs, lanes)
    mode_rows = modes.iloc[pairs["mode_idx"].to_numpy()]
    requires = mode_rows["requires_lane"].to_numpy(dtype=bool)
    keep = pairs["allowed"].to_numpy(dtype=bool) & (
        ~requires | pairs["listed"].to_numpy(dtype=bool)
    )
    keep &= (pairs["distance_km"].to_numpy() <= mode_rows["max_distance_km"].to_numpy()) | pairs[
        "listed"
    ].to_numpy(dtype=bool)
    computed = transit_hours(
        pairs["distance_km"].to_numpy(),
        mode_rows["speed_kmh"].to_numpy(float),
        mode_rows["handling_hours"].to_numpy(float),
    )
    pairs["transit_hours"] = np.where(
        np.isnan(pairs["lane_transit"].to_numpy(float)),
        computed,
        pairs["lane_transit"].to_numpy(float),
    )
    pairs["cost_per_kg"] = mode_rows["cost_per_kg"].to_numpy(float)
    pairs["cost_per_kg_km"] = mode_rows["cost_per_kg_km"].to_numpy(float)
    pairs["co2_g_per_tkm"] = mode_rows["co2_g_per_tkm"].to_numpy(float)
    return pairs[keep].reset_index(drop=True)


def _apply_lanes(pairs: pd.DataFrame, lanes: pd.DataFrame) -> pd.DataFrame:
    """Apply lane overrides: a row naming the mode beats a row with a blank mode."""
    pairs = pairs.assign(allowed=True, listed=False, lane_transit=np.nan, lane_cost=np.nan)
    if not len(lanes):
        return pairs
    generic = lanes[lanes["mode_id"] == ""].drop(columns="mode_id")
    specific = lanes[lanes["mode_id"] != ""]
    for frame, keys in (
        (generic, ["from_id", "to_id"]),
        (specific, ["from_id", "to_id", "mode_id"]),
    ):
        if not len(frame):
            continue
        merged = pairs[keys].merge(frame, on=keys, how="left", indicator=True)
        hit = (merged["_merge"] == "both").to_numpy()
        if not hit.any():
            continue
        pairs.loc[hit, "allowed"] = merged.loc[hit, "allowed"].to_numpy(dtype=bool)
        if "mode_id" in keys:
            pairs.loc[hit, "listed"] = merged.loc[hit, "allowed"].to_numpy(dtype=bool)
        for src, dst in (
            ("distance_km", "distance_km"),
            ("transit_hours", "lane_transit"),
            ("cost_per_unit", "lane_cost"),
        ):
            values = merged[src].to_numpy(dtype=float)
            given = hit & ~np.isnan(values)
            pairs.loc[given, dst] = values[given]
    return pairs


def _build_out_pairs(
    hubs: pd.DataFrame,
    regions: pd.DataFrame,
    modes: pd.DataFrame,
    lanes: pd.DataFrame,
    policy: Policy,
    crs: str | None,
) -> pd.DataFrame:
    usable = hubs["status"].to_numpy() != "forced_closed"
    pairs = _pairs(
        hubs, "hub_id", regions, "region_id", modes, OUT_LEGS, lanes, policy.circuity, crs
    )
    pairs = pairs[usable[pairs["from_idx"].to_numpy()]] if len(pairs) else pairs
    if policy.nearest_hubs is not None and len(pairs):
        fastest = pairs.groupby(["to_idx", "from_idx"], as_index=False)["transit_hours"].min()
        fastest["rank"] = fastest.groupby("to_idx")["transit_hours"].rank(method="first")
        keep = fastest[fastest["rank"] <= policy.nearest_hubs][["to_idx", "from_idx"]]
        pairs = pairs.merge(keep, on=["to_idx", "from_idx"], how="inner")
    return pairs.rename(columns={"from_idx": "hub_idx", "to_idx": "region_idx"})


def _build_pickup_pairs(
    hubs: pd.DataFrame,
    regions: pd.DataFrame,
    pickups: pd.DataFrame,
    modes: pd.DataFrame,
    lanes: pd.DataFrame,
    policy: Policy,
    crs: str | None = None,
) -> pd.DataFrame:
    """(region, hub, pickup point, mode) for pickup streams: the hub -> pickup point leg,
    for every pickup point within the region's customers' reach."""
    reach = reach_pairs(regions, pickups, policy.circuity)
    if not len(reach):
        return pd.DataFrame(columns=["region_idx", "hub_idx", "pickup_idx", "customer_km"])
    usable = hubs["status"].to_numpy() != "forced_closed"
    legs = _pairs(
        hubs, "hub_id", pickups, "pickup_id", modes, OUT_LEGS, lanes, policy.circuity, crs
    )
    legs = legs[usable[legs["from_idx"].to_numpy()]] if len(legs) else legs
    legs = legs.rename(columns={"from_idx": "hub_idx", "to_idx": "pickup_idx"})
    return legs.merge(reach, on="pickup_idx", how="inner")


def _build_out_arcs(
    streams: pd.DataFrame,
    pairs: pd.DataFrame,
    pickup_pairs: pd.DataFrame,
    hubs: pd.DataFrame,
    products: pd.DataFrame,
    policy: Policy,
) -> pd.DataFrame:
    stream_rows = streams.reset_index()[
        [
            "stream_idx",
            "region_idx",
            "product_idx",
            "period",
            "window_hours",
            "return_rate",
            "return_cost_per_unit",
            "pickup",
        ]
    ]
    routes = pd.concat(
        [
            pairs.assign(pickup=False, pickup_idx=-1, customer_km=0.0),
            pickup_pairs.assign(pickup=True),
        ],
        ignore_index=True,
    )[ROUTE_COLUMNS]  # only what the arcs need: each column is copied to every arc
    arcs = _join_in_window(
        stream_rows, routes, late_allowed=policy.late_penalty_per_unit is not None
    )
    arcs = arcs.astype({"hub_idx": np.int64, "pickup_idx": np.int64, "mode_idx": np.int64})
    open_from = hubs["open_from_period"].to_numpy()[arcs["hub_idx"].to_numpy()]
    opened = open_from <= arcs["period"].to_numpy()
    if not opened.all():  # (each filter copies every arc)
        arcs = arcs[opened]
    late = arcs["transit_hours"].to_numpy() > arcs["window_hours"].to_numpy() + 1e-9
    if policy.late_penalty_per_unit is None and late.any():
        arcs, late = arcs[~late], late[~late]
    arcs = _with_unit_costs(arcs, products)
    arcs["late"] = late
    arcs["handling_cost"] = hubs["handling_cost"].to_numpy(float)[arcs["hub_idx"].to_numpy()]
    # returned units go back by the same mode at the same cost per unit, then are processed;
    # the trip back emits like the trip out
    rate = arcs["return_rate"].to_numpy(float)
    arcs["return_cost"] = (
        arcs["return_cost_per_unit"].to_numpy() + rate * arcs["transport_cost"].to_numpy()
    )
    arcs["co2_t"] = arcs["co2_t"].to_numpy() * (1.0 + rate)
    arcs["late_cost"] = np.where(late, policy.late_penalty_per_unit or 0.0, 0.0)
    columns = [
        "hub_idx",
        "stream_idx",
        "mode_idx",
        "pickup_idx",
        "customer_km",
        "distance_km",
        "transit_hours",
        "transport_cost",
        "handling_cost",
        "return_cost",
        "return_rate",
        "late",
        "late_cost",
        "co2_t",
    ]
    arcs = (
        drop_dominated_modes(arcs[columns], policy)
        .sort_values(["stream_idx", "hub_idx", "pickup_idx", "mode_idx"], kind="stable")
        .reset_index(drop=True)
    )
    arcs.index.name = "arc_idx"
    return arcs


ROUTE_COLUMNS = [
    "region_idx",
    "pickup",
    "hub_idx",
    "mode_idx",
    "pickup_idx",
    "customer_km",
    "distance_km",
    "transit_hours",
    "cost_per_kg",
    "cost_per_kg_km",
    "lane_cost",
    "co2_g_per_tkm",
]
"""Columns of a (hub, region or pickup point, mode) route that its delivery arcs use."""


def _join_in_window(
    streams: pd.DataFrame, routes: pd.DataFrame, late_allowed: bool
) -> pd.DataFrame:
    """Every (stream, route of its region) pair; without late deliveries only the routes
    fast enough for the stream's window.

    Joined one delivery window at a time against the routes within it, so the routes
    too slow for a window are never paired with its streams: on the 5000-region ladder
    rung (300 hubs, 2 modes, 1.6 M streams) joining every route first and dropping the
    late ones after needed ~10^9 rows and ran out of 24 GB.
    """
    on = ["region_idx", "pickup"]
    if late_allowed or not len(streams):
        return streams.merge(routes, on=on, how="inner")
    transit = routes["transit_hours"].to_numpy(float)
    parts = [
        group.merge(routes[transit <= window + 1e-9], on=on, how="inner")
        for window, group in streams.groupby("window_hours", sort=True)
    ]
    return pd.concat(parts, ignore_index=True)


def _with_unit_costs(arcs: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Add ``transport_cost`` (per unit: cost_per_kg x kg + cost_per_kg_km x kg x km, or the
    lane's cost_per_unit) and ``co2_t`` (per unit: t x km x g/t-km / 1e6) to product arcs."""
    weight = products["unit_weight_kg"].to_numpy(float)[arcs["product_idx"].to_numpy()]
    dist = arcs["distance_km"].to_numpy(float)
    per_kg = (
        arcs["cost_per_kg"].to_numpy() * weight + arcs["cost_per_kg_km"].to_numpy() * weight * dist
    )
    lane_cost = arcs["lane_cost"].to_numpy(float)
    arcs = arcs.copy(deep=False)  # new columns, not a copy of the others
    arcs["transport_cost"] = np.where(np.isnan(lane_cost), per_kg, lane_cost)
    arcs["co2_t"] = weight / 1000.0 * dist * arcs["co2_g_per_tkm"].to_numpy() / 1e6
    return arcs


def drop_dominated_modes(arcs: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Keep, per (hub, stream), only the modes that can be in an optimal plan.

    Arcs of one hub and stream differ only in cost, CO2 and whether they are on time
    (modes have no capacity), so without a carbon cap the cheapest on-time arc
    dominates every other on-time arc, and a late arc is kept only if it is cheaper
    than that (late penalty included). Exact: the optimum is unchanged. With a carbon
    cap, cleaner but dearer modes matter, so nothing is dropped.
    """
    if policy.carbon.cap_t is not None or not len(arcs):
        return arcs
    unit = (
        arcs["transport_cost"].to_numpy(float)
        + arcs["return_cost"].to_numpy(float)  # the returned share's trip back
        + arcs["late_cost"].to_numpy(float)
        + policy.carbon.price_per_t * arcs["co2_t"].to_numpy(float)
    )
    ranked = arcs.assign(_unit=unit).sort_values(
        ["stream_idx", "hub_idx", "pickup_idx", "late", "_unit", "mode_idx"], kind="stable"
    )
    route = ["stream_idx", "hub_idx", "pickup_idx"]
    best = ranked.drop_duplicates([*route, "late"], keep="first")
    on_time_cost = best[~best["late"]].set_index(route)["_unit"]
    rival = on_time_cost.reindex(pd.MultiIndex.from_frame(best[route])).to_numpy()
    keep = ~best["late"].to_numpy(dtype=bool) | np.isnan(rival) | (best["_unit"].to_numpy() < rival)
    return best[keep].drop(columns="_unit")


def _expand_supply(
    supply: pd.DataFrame, sources: pd.DataFrame, products: pd.DataFrame, periods: int
) -> pd.DataFrame:
    """Supply rows per (source, product, period); a blank period means every period."""
    if not len(supply):
        return pd.DataFrame(
            columns=["source_idx", "product_idx", "period", "capacity", "unit_cost"]
        )
    every = supply[supply["period"].isna()]
    fixed = supply[supply["period"].notna()]
    expanded = every.drop(columns="period").merge(
        pd.DataFrame({"period": np.arange(1, periods + 1)}), how="cross"
    )
    rows = pd.concat(
        [fixed.assign(period=fixed["period"].astype(int)), expanded], ignore_index=True
    )
    # a specific period row overrides the every-period row of the same source/product
    rows = rows.drop_duplicates(["source_id", "product_id", "period"], keep="first")
    rows["source_idx"] = pd.Index(sources["source_id"]).get_indexer(rows["source_id"])
    rows["product_idx"] = pd.Index(products["product_id"]).get_indexer(rows["product_id"])
    rows = rows.sort_values(["source_idx", "product_idx", "period"]).reset_index(drop=True)
    rows.index.name = "supply_idx"
    return rows[["source_idx", "product_idx", "period", "capacity", "unit_cost"]]


def _build_in_arcs(
    supply: pd.DataFrame,
    hubs: pd.DataFrame,
    sources: pd.DataFrame,
    products: pd.DataFrame,
    modes: pd.DataFrame,
    lanes: pd.DataFrame,
    policy: Policy,
    crs: str | None,
) -> pd.DataFrame:
    columns = [
        "source_idx",
        "hub_idx",
        "product_idx",
        "period",
        "mode_idx",
        "supply_idx",
        "distance_km",
        "transit_hours",
        "transport_cost",
        "supply_cost",
        "co2_t",
    ]
    if not len(supply):
        return pd.DataFrame(columns=columns)
    usable = hubs["status"].to_numpy() != "forced_closed"
    pairs = _pairs(
        sources, "source_id", hubs, "hub_id", modes, IN_LEGS, lanes, policy.circuity, crs
    )
    pairs = pairs[usable[pairs["to_idx"].to_numpy()]].rename(
        columns={"from_idx": "source_idx", "to_idx": "hub_idx"}
    )
    arcs = supply.reset_index().merge(pairs, on="source_idx", how="inner")
    arcs = arcs[
        hubs["open_from_period"].to_numpy()[arcs["hub_idx"].to_numpy()] <= arcs["period"].to_numpy()
    ]
    arcs = _with_unit_costs(arcs, products)
    arcs["supply_cost"] = arcs["unit_cost"].to_numpy(float)
    arcs = (
        arcs[columns]
        .sort_values(["supply_idx", "hub_idx", "mode_idx"], kind="stable")
        .reset_index(drop=True)
    )
    arcs.index.name = "in_arc_idx"
    return arcs
