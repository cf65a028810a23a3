"""The arcs of a :class:`~hubopt.data.problem.ProblemData`: outbound hub-region-mode pairs
(lanes, windows, pickup points), per-stream outbound arcs and inbound source-hub arcs, as
pandas merges."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hubopt.data.pickup import reach_pairs
from hubopt.geo import distance_matrix_km, transit_hours
from hubopt.scenario.schema import Policy

OUT_LEGS = ("outbound", "both")
IN_LEGS = ("inbound", "both")


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


def build_out_pairs(
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


def build_pickup_pairs(
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


def build_out_arcs(
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


def expand_supply(
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


def build_in_arcs(
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
