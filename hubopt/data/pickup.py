"""Pickup points: which ones customers of each region reach, and the reach check.

A pickup-channel stream (channel ``kind: pickup``) is served hub -> pickup point; its
customers travel from the region's centroid to the pickup point, which must be within the
pickup point's ``max_distance_km`` (road km: great circle x ``policy.circuity``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hubopt.errors import Problem
from hubopt.geo import distance_matrix_km


def reach_pairs(regions: pd.DataFrame, pickups: pd.DataFrame, circuity: float) -> pd.DataFrame:
    """Every (region, pickup point) within the point's reach: ``region_idx, pickup_idx,
    customer_km`` (usable statuses only: forced_closed points are left out)."""
    columns = ["region_idx", "pickup_idx", "customer_km"]
    if not len(regions) or not len(pickups):
        return pd.DataFrame(columns=columns)
    km = customer_km_matrix(regions, pickups, circuity)
    usable = pickups["status"].to_numpy() != "forced_closed"
    ok = (km <= pickups["max_distance_km"].to_numpy(float)[None, :] + 1e-9) & usable[None, :]
    r, q = np.nonzero(ok)
    return pd.DataFrame({"region_idx": r, "pickup_idx": q, "customer_km": km[r, q]})


def customer_km_matrix(regions: pd.DataFrame, pickups: pd.DataFrame, circuity: float) -> np.ndarray:
    """(regions x pickup points) road km a customer travels from the region's centroid."""
    return distance_matrix_km(
        regions["lat"].to_numpy(float),
        regions["lon"].to_numpy(float),
        pickups["lat"].to_numpy(float),
        pickups["lon"].to_numpy(float),
        circuity,
    )


def pickup_reach_problems(
    demand: pd.DataFrame,
    regions: pd.DataFrame,
    channels: pd.DataFrame,
    pickups: pd.DataFrame,
    circuity: float,
    demand_label: str,
    pickups_label: str,
) -> list[Problem]:
    """Problems for pickup-channel demand rows whose region no usable pickup point reaches."""
    kind = channels.set_index("channel_id")["kind"]
    is_pickup = demand["channel"].map(kind).to_numpy() == "pickup"
    if not is_pickup.any():
        return []
    if not len(pickups):
        row = int(np.flatnonzero(is_pickup)[0])
        return [
            Problem(
                f"{demand_label}, row {row + 1}, column 'channel'",
                "a pickup_points table for pickup-channel demand",
                f"channel {demand['channel'].iloc[row]!r} is a pickup channel and the scenario "
                "has no pickup points",
                "Add data.pickup_points or set the channel's kind to delivery.",
            )
        ]
    pairs = reach_pairs(regions, pickups, circuity)
    reached = set(regions["region_id"].to_numpy()[pairs["region_idx"].to_numpy(int)])
    stuck = np.flatnonzero(is_pickup & ~demand["region_id"].isin(reached).to_numpy())
    problems = []
    km = customer_km_matrix(regions, pickups, circuity)
    region_pos = pd.Index(regions["region_id"])
    for row in stuck[:5]:
        region_id = demand["region_id"].iloc[row]
        distances = km[region_pos.get_loc(region_id)]
        nearest = int(np.argmin(distances))
        problems.append(
            Problem(
                f"{demand_label}, row {row + 1}",
                f"a usable pickup point within its max_distance_km of region {region_id!r} "
                f"(channel {demand['channel'].iloc[row]!r} is a pickup channel)",
                f"the nearest, {pickups['pickup_id'].iloc[nearest]!r} in {pickups_label}, is "
                f"{distances[nearest]:.1f} km away with max_distance_km "
                f"{pickups['max_distance_km'].iloc[nearest]:g}",
                "Add a pickup point near the region, raise max_distance_km, or serve the "
                "region by a delivery channel.",
            )
        )
    if len(stuck) > 5:
        problems.append(
            Problem(
                demand_label,
                "pickup demand only in regions a pickup point reaches",
                f"{len(stuck) - 5} more such rows",
            )
        )
    return problems
