"""Flow families, mirroring ``hubopt/model/flow.py``: demand (1), stock balance (2), safety
stock (3), supply (6) and campaign service (7)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hubopt.verify.plan import BALANCE_KEY, STREAM_KEY, Plan, label, supply_rows, tolerance

SHOWN = 10


def check_demand(plan: Plan) -> list[str]:
    """Per stream: demand = delivered + unmet; unmet only for products with a lost-sale penalty."""
    found: list[str] = []
    unmet = plan.solution.unmet
    demand = plan.streams.set_index(STREAM_KEY)["demand"]
    delivered = plan.flows.groupby(STREAM_KEY)["quantity"].sum()
    lost = unmet.groupby(STREAM_KEY)["quantity"].sum() if len(unmet) else pd.Series(dtype=float)
    idx = demand.index.union(delivered.index).union(lost.index)
    want = demand.reindex(idx, fill_value=0.0)
    got = delivered.reindex(idx, fill_value=0.0)
    short = lost.reindex(idx, fill_value=0.0)
    gap = (want - got - short).to_numpy()
    for k in idx[np.abs(gap) > tolerance(want.to_numpy())][:SHOWN]:
        found.append(
            f"demand {label(k)}: demand {want[k]:.4f} != delivered {got[k]:.4f} + unmet {short[k]:.4f}"
        )
    if len(unmet):
        products = plan.scenario.tables.products.set_index("product_id")
        penalty = products["lost_sale_penalty"].reindex(unmet["product_id"]).to_numpy(float)
        must_meet = np.isnan(penalty) & (unmet["quantity"].to_numpy() > 1e-6)
        for product in unmet["product_id"].to_numpy()[must_meet][:SHOWN]:
            found.append(
                f"unmet demand for {product}, which has no lost_sale_penalty (must be met)"
            )
    return found


def check_balance(plan: Plan) -> list[str]:
    """Per (hub, product, period): stock[t-1] + inflow + restocked returns of t-1 - outflow
    - stock[t] = 0 (units); stock[0] is the starting inventory. Restocked returns are the
    ``restock_share`` of the units returned to the delivering hub in the period before.
    A re-plan's ``observed_stock_period`` (T-1) ends with the stock counted on the floor,
    not the plan's arithmetic: its rows are not checked here (``check_replan`` checks that
    stock equals the actual stock given)."""
    t = plan.scenario.tables
    n_hubs, n_products, periods = len(t.hubs), len(t.products), plan.scenario.periods
    stock = plan.on_grid(plan.solution.stock).to_numpy().reshape(n_hubs, n_products, periods)
    inventory = t.inventory
    start = (
        inventory.groupby(["hub_id", "product_id"])["quantity"].sum()
        if len(inventory)
        else pd.Series(dtype=float)
    )
    pairs = pd.MultiIndex.from_product([t.hubs["hub_id"], t.products["product_id"]])
    first = start.reindex(pairs, fill_value=0.0).to_numpy(float).reshape(n_hubs, n_products, 1)
    before = np.concatenate([first, stock[:, :, :-1]], axis=2).ravel()
    flows = plan.flows
    restocked = (
        (flows["returned"] * flows["restock_share"])
        .groupby([flows["hub_id"], flows["product_id"], flows["period"] + 1])
        .sum()
        .reindex(plan.grid(), fill_value=0.0)
        .to_numpy(float)
    )
    inflow = plan.on_grid(plan.inflows).to_numpy() + restocked
    outflow = plan.on_grid(plan.flows).to_numpy()
    residual = before + inflow - outflow - stock.ravel()
    grid = plan.grid()
    if plan.observed_stock_period is not None:
        residual[grid.get_level_values(-1) == plan.observed_stock_period] = 0.0
    return [
        f"stock balance {label(grid[i])}: previous + inflow - outflow - stock = {residual[i]:.4f}"
        for i in np.flatnonzero(np.abs(residual) > tolerance(before + inflow))[:SHOWN]
    ]


def check_safety_stock(plan: Plan) -> list[str]:
    """Per (hub, product, period) served: stock >= z x the std of what the hub serves
    (units): sum_k sigma_k x share_k, or with pooling the exact sqrt(sum_k (sigma_k x
    share_k)^2), short by at most ``pooling_tolerance`` of it (share_k = the hub's units of
    stream k over every mode / the stream's demand)."""
    policy = plan.policy.safety_stock
    flows = plan.flows
    if policy.z <= 0 or not len(flows):
        return []
    share_sigma = flows["sigma"].to_numpy(float) * flows["quantity"].to_numpy() / flows["demand"]
    per_stream = share_sigma.groupby(
        [flows[c] for c in [*BALANCE_KEY, "region_id", "channel", "campaign_id"]]
    ).sum()
    if policy.pooling:
        need = policy.z * np.sqrt((per_stream**2).groupby(level=[0, 1, 2]).sum())
        slack = policy.pooling_tolerance * need.to_numpy()
    else:
        need = policy.z * per_stream.groupby(level=[0, 1, 2]).sum()
        slack = np.zeros(len(need))
    held = plan.on_grid(plan.solution.stock).reindex(need.index, fill_value=0.0)
    short = (held - need).to_numpy() < -(slack + tolerance(need.to_numpy()))
    kind = "pooled safety stock" if policy.pooling else "safety stock"
    return [
        f"{kind} {label(k)}: holds {held[k]:.3f} < required {need[k]:.3f}"
        for k in need.index[short][:SHOWN]
    ]


def check_supply(plan: Plan) -> list[str]:
    """Per (source, product, period): inflow <= supply capacity; every inflow has a source
    and a supply row when the scenario has sources."""
    if not len(plan.scenario.tables.sources):
        return []
    found: list[str] = []
    inflows = plan.inflows
    if (inflows["source_id"] == "").any():
        found.append("inflow without a source although the scenario has sources")
    used = inflows.groupby(["source_id", "product_id", "period"])["quantity"].sum()
    capacity = supply_rows(plan.scenario)["capacity"].reindex(used.index).to_numpy(float)
    for k in used.index[np.isnan(capacity)][:SHOWN]:
        found.append(
            f"inflow {label(k)} from a source with no supply row for that product and period"
        )
    over = np.nan_to_num(used.to_numpy() > capacity + tolerance(capacity), nan=0).astype(bool)
    for i in np.flatnonzero(over)[:SHOWN]:
        found.append(
            f"supply {label(used.index[i])}: {used.iloc[i]:.3f} > capacity {capacity[i]:.3f}"
        )
    return found


def check_service(plan: Plan) -> list[str]:
    """Per campaign: units delivered within their window >= service level x campaign units."""
    found: list[str] = []
    flows = plan.flows
    on_time = flows["quantity"].where(~flows["late"].to_numpy(bool), 0.0)
    for c in plan.scenario.config.campaigns:
        units = float(plan.streams.loc[plan.streams["campaign_id"] == c.id, "demand"].sum())
        delivered = float(on_time[flows["campaign_id"].to_numpy() == c.id].sum())
        if delivered < c.service_level * units - tolerance(units):
            found.append(
                f"campaign {c.id}: {delivered:.2f} of {units:.2f} units on time < service "
                f"level {c.service_level:.3f}"
            )
    return found
