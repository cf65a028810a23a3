"""Pickup points (family 13), mirroring ``hubopt/model/network.py``'s ``define_pickup`` and
the pickup-open bounds: pickup-channel units go hub -> an open pickup point within the
customers' reach, delivery units never do; capacity per point and period; statuses."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hubopt.verify.legs import gc_km
from hubopt.verify.plan import Plan, tolerance

SHOWN = 10


def _open_grid(plan: Plan) -> tuple[pd.MultiIndex, np.ndarray]:
    """Every (pickup_id, period) of the scenario and the plan's open flag for it."""
    points = plan.scenario.tables.pickup_points
    grid = pd.MultiIndex.from_product(
        [points["pickup_id"], range(1, plan.scenario.periods + 1)], names=["pickup_id", "period"]
    )
    table = plan.solution.pickup_points
    if not len(table):
        return grid, np.zeros(len(grid))
    stated = table.set_index(["pickup_id", "period"])["open"].astype(float)
    return grid, stated.reindex(grid, fill_value=0.0).to_numpy(float)


def pickup_costs(plan: Plan) -> pd.Series:
    """Per period: open pickup points x their fixed_cost (money)."""
    grid, is_open = _open_grid(plan)
    fixed = plan.scenario.tables.pickup_points.set_index("pickup_id")["fixed_cost"]
    cost = is_open * fixed.reindex(grid.get_level_values(0)).to_numpy(float)
    return pd.Series(cost, index=grid).groupby(level=1).sum()


def check_pickup(plan: Plan) -> list[str]:
    """Pickup-channel units through a pickup point, delivery units never; the point within
    its ``max_distance_km`` of the region (road km: great circle x circuity), open in the
    period and within its capacity (units); forced and existing statuses respected."""
    t = plan.scenario.tables
    flows = plan.flows
    found: list[str] = []
    kind = t.channels.set_index("channel_id")["kind"].reindex(flows["channel"]).to_numpy()
    via = flows["pickup_id"].to_numpy() != ""
    for i in np.flatnonzero((kind == "pickup") & ~via)[:SHOWN]:
        found.append(
            f"pickup-channel flow {flows['hub_id'].iloc[i]} -> {flows['region_id'].iloc[i]} "
            f"(period {flows['period'].iloc[i]}) goes to the region, not to a pickup point"
        )
    for i in np.flatnonzero((kind != "pickup") & via)[:SHOWN]:
        found.append(
            f"delivery flow to {flows['region_id'].iloc[i]} goes through pickup point "
            f"{flows['pickup_id'].iloc[i]}"
        )
    points = t.pickup_points.set_index("pickup_id")
    if not len(points):
        return found
    used = flows[via]
    regions = t.regions.set_index("region_id").reindex(used["region_id"])
    where = points.reindex(used["pickup_id"])
    km = plan.policy.circuity * gc_km(
        regions["lat"].to_numpy(float),
        regions["lon"].to_numpy(float),
        where["lat"].to_numpy(float),
        where["lon"].to_numpy(float),
    )
    reach = where["max_distance_km"].to_numpy(float)
    for i in np.flatnonzero(~(km <= reach + 1e-6))[:SHOWN]:
        found.append(
            f"customers of region {used['region_id'].iloc[i]} would travel {km[i]:.2f} km to "
            f"pickup point {used['pickup_id'].iloc[i]}, beyond its max_distance_km {reach[i]:g}"
        )
    grid, is_open = _open_grid(plan)
    units = used.groupby(["pickup_id", "period"])["quantity"].sum().reindex(grid, fill_value=0.0)
    cap = points["capacity"].reindex(grid.get_level_values(0)).to_numpy(float)
    limit = np.where(is_open > 0.5, cap, 0.0)  # a closed point takes nothing (not inf x 0)
    over = units.to_numpy() > limit + tolerance(np.where(np.isfinite(cap), cap, 0.0))
    for i in np.flatnonzero(over)[:SHOWN]:
        state = "closed" if is_open[i] < 0.5 else f"capacity {cap[i]:g}"
        found.append(
            f"pickup point {grid[i][0]} period {grid[i][1]}: {units.iloc[i]:.3f} units ({state})"
        )
    status = points["status"].reindex(grid.get_level_values(0)).to_numpy()
    for i in np.flatnonzero((status == "forced_closed") & (is_open > 0.5))[:SHOWN]:
        found.append(f"pickup point {grid[i][0]} is forced_closed but open in period {grid[i][1]}")
    must = (status == "forced_open") | ((status == "existing") & (not plan.policy.allow_closing))
    for i in np.flatnonzero(must & (is_open < 0.5))[:SHOWN]:
        found.append(f"pickup point {grid[i][0]} must be open in period {grid[i][1]}")
    return found
