"""Hub families, mirroring ``hubopt/model/network.py`` and the open-variable bounds:
throughput and storage (4), linking (5), network rules (8: hub counts, forced statuses and
``open_from_period``, opening/closing events and the closing rule, budget), single
sourcing (9) and the carbon cap (10)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hubopt.verify.plan import Plan, tolerance

SHOWN = 10


def _m3(plan: Plan, frame: pd.DataFrame) -> pd.Series:
    """Volume (m3) of each row of a table with ``product_id, quantity``."""
    volume = plan.scenario.tables.products.set_index("product_id")["unit_volume"]
    return frame["quantity"] * volume.reindex(frame["product_id"]).to_numpy(float)


def hub_period_capacity(plan: Plan) -> pd.DataFrame:
    """Per (hub_id, period): base ``throughput_capacity`` and ``peak_capacity`` (m3), the
    hubs' columns with the ``hub_capacity`` overrides (a blank cell keeps the hub's);
    no peak capacity on an unlimited base."""
    t = plan.scenario.tables
    grid = pd.MultiIndex.from_product(
        [t.hubs["hub_id"], range(1, plan.scenario.periods + 1)], names=["hub_id", "period"]
    )
    hubs = t.hubs.set_index("hub_id").reindex(grid.get_level_values(0))
    cap = pd.DataFrame(
        {
            "throughput_capacity": hubs["throughput_capacity"].to_numpy(float),
            "peak_capacity": hubs["peak_capacity"].to_numpy(float),
        },
        index=grid,
    )
    for row in t.hub_capacity.itertuples(index=False):
        for column in ("throughput_capacity", "peak_capacity"):
            value = float(getattr(row, column))
            if not np.isnan(value):
                cap.loc[(row.hub_id, int(row.period)), column] = value
    cap.loc[~np.isfinite(cap["throughput_capacity"].to_numpy()), "peak_capacity"] = 0.0
    return cap


def peak_m3(plan: Plan) -> pd.Series:
    """The plan's peak volume per (hub_id, period) from the hub rows (m3; 0 if absent)."""
    hubs = plan.solution.hubs
    index = pd.MultiIndex.from_frame(hubs[["hub_id", "period"]])
    values = hubs["peak_m3"] if "peak_m3" in hubs else pd.Series(0.0, index=hubs.index)
    return pd.Series(values.to_numpy(float), index=index)


def check_throughput(plan: Plan) -> list[str]:
    """Per (hub, period) (families 4a, 11, 12): outbound + returned volume <= base capacity
    x open + peak, and 0 <= peak <= peak capacity x open (m3); returns come back through
    the hub that delivered them in the same period."""
    flows = plan.flows
    moved = _m3(plan, flows) * (1.0 + flows["return_rate"].to_numpy(float))
    cap = hub_period_capacity(plan)
    through = (
        moved.groupby([flows["hub_id"], flows["period"]]).sum().reindex(cap.index, fill_value=0.0)
    )
    is_open = plan.is_open(
        pd.Series(cap.index.get_level_values(0)), pd.Series(cap.index.get_level_values(1))
    )
    peak = peak_m3(plan).reindex(cap.index, fill_value=0.0).to_numpy(float)
    base = cap["throughput_capacity"].to_numpy(float)
    limit_peak = np.where(is_open, cap["peak_capacity"].to_numpy(float), 0.0)
    limit = np.where(is_open, base, 0.0) + peak
    found = []
    over = np.isfinite(base) & (through.to_numpy() > limit + tolerance(limit))
    for i in np.flatnonzero(over)[:SHOWN]:
        h, p = cap.index[i]
        found.append(
            f"hub {h} period {p}: throughput {through.iloc[i]:.3f} m3 > capacity "
            f"{limit[i] - peak[i]:.3f} m3 + peak {peak[i]:.3f} m3"
        )
    bad_peak = (peak > limit_peak + tolerance(limit_peak)) | (peak < -1e-9)
    for i in np.flatnonzero(bad_peak)[:SHOWN]:
        h, p = cap.index[i]
        found.append(
            f"hub {h} period {p}: peak {peak[i]:.3f} m3 outside [0, {limit_peak[i]:.3f}] m3"
        )
    return found


def check_storage(plan: Plan) -> list[str]:
    """Per (hub, period): end-of-period stock volume <= storage capacity (m3)."""
    stock = plan.solution.stock
    held = _m3(plan, stock).groupby([stock["hub_id"], stock["period"]]).sum()
    cap = plan.hubs["storage_capacity"].reindex(held.index.get_level_values(0)).to_numpy(float)
    over = held.to_numpy() > cap + tolerance(cap)
    return [
        f"hub {h} period {p}: stock {held[(h, p)]:.3f} m3 > storage capacity {cap[i]:.3f} m3"
        for i, (h, p) in zip(np.flatnonzero(over), held.index[over], strict=True)
    ][:SHOWN]


def check_linking(plan: Plan) -> list[str]:
    """A closed hub ships nothing, holds no stock and receives nothing."""
    found: list[str] = []
    for frame, what in (
        (plan.flows, "ships in period {p} while closed"),
        (plan.solution.stock, "period {p}: holds stock while closed"),
        (plan.inflows, "period {p}: receives goods while closed"),
    ):
        used = frame.groupby(["hub_id", "period"])["quantity"].sum()
        hubs = pd.Series(used.index.get_level_values(0))
        periods = pd.Series(used.index.get_level_values(1))
        closed = ~plan.is_open(hubs, periods) & (used.to_numpy() > 1e-6)
        for h, p in used.index[closed][:SHOWN]:
            found.append(f"hub {h} " + what.format(p=p))
    return found


def check_hub_count(plan: Plan) -> list[str]:
    """Per period: min_open_hubs <= open hubs <= max_open_hubs."""
    low, high = plan.policy.min_open_hubs, plan.policy.max_open_hubs
    counts = plan.open.sum(axis=0)
    bad = (counts < low - 1e-9) | (high is not None and counts > high + 1e-9)
    return [
        f"period {p}: {int(n)} open hubs outside [{low}, {high}]" for p, n in counts[bad].items()
    ]


def check_status(plan: Plan) -> list[str]:
    """forced_closed hubs never open; forced_open hubs open from ``open_from_period`` on;
    no hub open before its ``open_from_period``."""
    found: list[str] = []
    o = plan.open.to_numpy() > 0.5
    status = plan.hubs["status"].to_numpy()
    open_from = plan.hubs["open_from_period"].to_numpy(float)
    periods = plan.open.columns.to_numpy(int)
    for i, h in enumerate(plan.open.index):
        allowed = periods >= open_from[i]
        if status[i] == "forced_closed" and o[i].any():
            found.append(f"hub {h} is forced_closed but open")
        if status[i] == "forced_open" and not o[i][allowed].all():
            found.append(f"hub {h} is forced_open but closed in some period")
        if o[i][~allowed].any():
            found.append(f"hub {h} open before its open_from_period {open_from[i]:g}")
    return found[: 3 * SHOWN]


def check_events(plan: Plan) -> list[str]:
    """No hub closes unless closing is allowed; the hub rows' ``opened`` / ``closed`` cover
    every opening and closing (opened >= open[t] - open[t-1], closed likewise)."""
    found: list[str] = []
    o, before = plan.open.to_numpy(), plan.open_before()
    if not plan.policy.allow_closing:
        for i in np.unique(np.nonzero(o < before - 0.5)[0])[:SHOWN]:
            found.append(f"hub {plan.open.index[i]} closes although closing is not allowed")
    for column, event in (("opened", o - before), ("closed", before - o)):
        if column == "closed" and not plan.policy.allow_closing:
            continue
        reported = (
            plan.solution.hubs.pivot_table(
                index="hub_id", columns="period", values=column, aggfunc="max"
            )
            .reindex(index=plan.open.index, columns=plan.open.columns)
            .fillna(0.0)
            .to_numpy(float)
        )
        missing = np.argwhere(reported < event - 1e-6)
        for i, j in missing[:SHOWN]:
            found.append(
                f"hub {plan.open.index[i]} period {plan.open.columns[j]}: {column} "
                f"{reported[i, j]:g} misses the event {event[i, j]:g}"
            )
    return found


def hub_costs(plan: Plan) -> pd.DataFrame:
    """Per period: ``fixed`` (open x fixed_cost), ``opening`` and ``closing`` (events from the
    open grid x opening_cost / closing_cost), money."""
    o, before = plan.open.to_numpy(), plan.open_before()
    hubs = plan.hubs
    per_hub = {
        "fixed": o * hubs["fixed_cost"].to_numpy(float)[:, None],
        "opening": np.clip(o - before, 0, None) * hubs["opening_cost"].to_numpy(float)[:, None],
        "closing": np.clip(before - o, 0, None) * hubs["closing_cost"].to_numpy(float)[:, None],
    }
    return pd.DataFrame(
        {name: value.sum(axis=0) for name, value in per_hub.items()},
        index=pd.Index(plan.open.columns, name="period"),
    )


def check_budget(plan: Plan) -> list[str]:
    """fixed + opening + closing cost over the horizon <= fixed_cost_budget (money)."""
    budget = plan.policy.fixed_cost_budget
    if budget is None:
        return []
    spent = float(hub_costs(plan).to_numpy().sum())
    if spent > budget + tolerance(budget):
        return [f"fixed + opening + closing cost {spent:.2f} > budget {budget:.2f}"]
    return []


def check_single_sourcing(plan: Plan) -> list[str]:
    """Under single sourcing, each region is served by one hub over the whole horizon."""
    flows = plan.flows[plan.flows["quantity"] > 1e-9]
    if not plan.policy.single_sourcing or not len(flows):
        return []
    per_region = flows.groupby("region_id")["hub_id"].nunique()
    return [
        f"region {r} served by {n} hubs under single sourcing"
        for r, n in per_region[per_region > 1].items()
    ][:SHOWN]


def co2_t(plan: Plan) -> pd.DataFrame:
    """Per period: CO2 (t) of the outbound rows (trips back of returns included) and the
    inbound rows, recomputed."""
    periods = pd.Index(plan.open.columns, name="period")
    return pd.DataFrame(
        {
            leg: (moved * frame["co2_t_per_unit"])
            .groupby(frame["period"])
            .sum()
            .reindex(periods, fill_value=0.0)
            for leg, frame, moved in (
                # returned units travel back by the same mode
                ("outbound", plan.flows, plan.flows["quantity"] + plan.flows["returned"]),
                ("inbound", plan.inflows, plan.inflows["quantity"]),
            )
        },
        index=periods,
    )


def check_carbon_cap(plan: Plan) -> list[str]:
    """CO2 of every shipment and inflow over the horizon <= cap_t (t)."""
    cap = plan.policy.carbon.cap_t
    total = float(co2_t(plan).to_numpy().sum())
    if cap is not None and total > cap + tolerance(cap):
        return [f"CO2 {total:.4f} t > cap {cap:.4f} t"]
    return []
