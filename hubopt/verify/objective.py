"""The objective recomputed per period and component, and compared with the solution's
cost table and the solver's objective."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hubopt.solution import COST_COMPONENTS
from hubopt.verify.footprint import footprint_costs
from hubopt.verify.network import co2_t, hub_costs, peak_m3
from hubopt.verify.pickup import pickup_costs
from hubopt.verify.plan import Plan


def recompute_costs(plan: Plan) -> pd.DataFrame:
    """Period x component cost table (money) from the plan's decisions and the raw tables.

    fixed, opening, closing: see :func:`hubopt.verify.network.hub_costs`; supply = inflow x
    the supply row's unit cost; inbound / outbound transport = quantity x the recomputed unit
    cost of the leg; handling = quantity x the hub's handling cost; returns = returned units x (the
    leg's unit cost, the trip back, + the channel's return_cost); peak = peak m3 x
    peak_cost_per_m3; pickup points = open x fixed_cost; holding = end-of-period stock x holding_cost; lost
    sales = unmet x lost_sale_penalty; late = late units x late_penalty_per_unit; carbon =
    carbon price x recomputed CO2 t; campaign spend and incremental margin (negative) of
    the included footprint regions, see :func:`hubopt.verify.footprint.footprint_costs`.
    """
    t, policy = plan.scenario.tables, plan.policy
    products = t.products.set_index("product_id")
    flows, inflows, stock, unmet = (
        plan.flows,
        plan.inflows,
        plan.solution.stock,
        plan.solution.unmet,
    )
    channel = t.channels.set_index("channel_id")
    q = flows["quantity"]
    per_unit_return = flows["return_rate"] * (
        flows["unit_cost"] + channel["return_cost"].reindex(flows["channel"]).to_numpy(float)
    )
    late_price = policy.late_penalty_per_unit or 0.0
    rows = {
        "supply": (
            inflows,
            np.nan_to_num(inflows["supply_unit_cost"].to_numpy(float)) * inflows["quantity"],
        ),
        "inbound_transport": (inflows, inflows["unit_cost"] * inflows["quantity"]),
        "outbound_transport": (flows, flows["unit_cost"] * q),
        "handling": (
            flows,
            plan.hubs["handling_cost"].reindex(flows["hub_id"]).to_numpy(float) * q,
        ),
        "returns": (flows, per_unit_return.to_numpy(float) * q),
        "holding": (
            stock,
            stock["quantity"]
            * products["holding_cost"].reindex(stock["product_id"]).to_numpy(float),
        ),
        "lost_sales": (
            unmet,
            unmet["quantity"]
            * products["lost_sale_penalty"].reindex(unmet["product_id"]).to_numpy(float),
        ),
        "late": (flows, q * flows["late"].to_numpy(float) * late_price),
    }
    table = hub_costs(plan)
    for name, (frame, cost) in rows.items():
        by_period = pd.Series(cost, index=frame.index).groupby(frame["period"]).sum()
        table[name] = by_period.reindex(table.index, fill_value=0.0).to_numpy(float)
    table["carbon"] = policy.carbon.price_per_t * co2_t(plan).sum(axis=1)
    peak = peak_m3(plan)
    rate = plan.hubs["peak_cost_per_m3"].reindex(peak.index.get_level_values(0)).to_numpy(float)
    table["peak"] = (
        pd.Series(peak.to_numpy() * rate, index=peak.index)
        .groupby(level=1)
        .sum()
        .reindex(table.index, fill_value=0.0)
    )
    table["pickup_points"] = pickup_costs(plan).reindex(table.index, fill_value=0.0)
    spend, margin = footprint_costs(plan)
    table["campaign_spend"] = spend.reindex(table.index, fill_value=0.0).to_numpy(float)
    table["incremental_margin"] = -margin.reindex(table.index, fill_value=0.0).to_numpy(float)
    return table[list(COST_COMPONENTS)].astype(float)


def check_objective(plan: Plan, costs: pd.DataFrame, reported: float | None) -> list[str]:
    """Every (period, component) of the solution's cost table and the solver's objective
    equal the recomputation ``costs`` (:func:`recompute_costs`)."""
    found: list[str] = []
    objective = float(costs.to_numpy().sum())
    slack = 1e-6 * max(1.0, abs(objective)) + 1e-4
    stated = (
        plan.solution.period_costs.pivot_table(
            index="period", columns="component", values="cost", aggfunc="sum"
        )
        .reindex(index=costs.index, columns=costs.columns)
        .fillna(0.0)
    )
    for component in costs.columns:
        for period in costs.index[np.abs(costs[component] - stated[component]) > slack]:
            found.append(
                f"cost component {component}, period {period}: recomputed "
                f"{costs.at[period, component]:.4f} != reported {stated.at[period, component]:.4f}"
            )
    extra = set(plan.solution.period_costs["component"]) - set(COST_COMPONENTS)
    for name in sorted(extra):
        found.append(f"cost component {name}: not a component of the objective")
    if reported is not None and abs(objective - reported) > slack:
        found.append(f"objective: recomputed {objective:.4f} != solver's {reported:.4f}")
    return found
