"""The vans of a hub, from the vehicles table (one row per van, ids like ``VAN-3``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

VAN_COLUMNS = (
    "vehicle",
    "vehicle_type",
    "capacity",
    "fixed_cost",
    "cost_per_km",
    "speed_kmh",
    "max_route_hours",
    "service_hours_per_stop",
)


def hub_fleet(vehicles: pd.DataFrame, hub_id: str) -> pd.DataFrame:
    """One row per van available at ``hub_id`` in a period.

    The hub's own rows, plus the blank-hub rows of every type the hub has no row of (a
    row naming the hub overrides the every-hub row of its type). The ``vehicle`` label is
    the type and a running number, e.g. ``VAN-1``, ``VAN-2``.
    """
    own = vehicles[vehicles["hub_id"] == hub_id]
    every = vehicles[
        (vehicles["hub_id"] == "") & ~vehicles["vehicle_type"].isin(own["vehicle_type"])
    ]
    rows = pd.concat([own, every])
    rows = rows[rows["count"] > 0]
    if not len(rows):
        return pd.DataFrame(columns=list(VAN_COLUMNS))
    repeated = rows.loc[rows.index.repeat(rows["count"].to_numpy(dtype=int))].reset_index(drop=True)
    number = repeated.groupby("vehicle_type").cumcount().to_numpy() + 1
    repeated["vehicle"] = [
        f"{kind}-{n}" for kind, n in zip(repeated["vehicle_type"], number, strict=True)
    ]
    return repeated[list(VAN_COLUMNS)].astype({"capacity": float})


def largest_capacity(fleet: pd.DataFrame) -> float:
    """Capacity of the hub's largest van (0 without vans)."""
    return float(np.max(fleet["capacity"].to_numpy(float))) if len(fleet) else 0.0
