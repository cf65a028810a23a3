"""The independent verifier: every constraint family and the objective, recomputed from
the raw scenario tables and the solution tables with pandas — never from the model's
arrays or matrix. A violation is a bug in hubopt, never a result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hubopt.scenario.scenario import Scenario
from hubopt.scenario.schema import Campaign
from hubopt.solution import Solution

EARTH_KM = 6371.0


@dataclass(frozen=True)
class Verification:
    """Outcome of :func:`verify_solution`."""

    ok: bool
    violations: list[str]
    objective: float
    checks: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """For manifests and JSON."""
        return {
            "ok": self.ok,
            "violations": self.violations[:100],
            "objective": self.objective,
            "checks": self.checks,
        }


def _tol(value: np.ndarray | float) -> np.ndarray | float:
    return 1e-4 + 1e-6 * np.abs(value)


def _gc_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    # Written again on purpose (not hubopt.geo): the verifier shares no code with the model.
    # atan2 form of the great-circle distance: exact zero for identical points.
    p1, p2 = np.deg2rad(lat1), np.deg2rad(lat2)
    dp, dl = p2 - p1, np.deg2rad(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_KM * np.arctan2(np.sqrt(h), np.sqrt(np.clip(1 - h, 0.0, 1.0)))


def _lane_lookup(
    lanes: pd.DataFrame, frm: pd.Series, to: pd.Series, mode: pd.Series
) -> pd.DataFrame:
    """For each (from, to, mode) the effective lane row: mode-specific first, then blank-mode."""
    keys = pd.DataFrame(
        {"from_id": frm.to_numpy(), "to_id": to.to_numpy(), "mode_id": mode.to_numpy()}
    )
    specific = lanes[lanes["mode_id"] != ""]
    generic = lanes[lanes["mode_id"] == ""].drop(columns="mode_id")
    a = keys.merge(specific, on=["from_id", "to_id", "mode_id"], how="left")
    b = keys.merge(generic, on=["from_id", "to_id"], how="left")
    out = pd.DataFrame(index=keys.index)
    out["named"] = a["allowed"].notna().to_numpy()
    for col in ("allowed", "distance_km", "transit_hours", "cost_per_unit"):
        out[col] = a[col].where(a["allowed"].notna(), b[col]).to_numpy()
    out["allowed"] = out["allowed"].astype(object).where(out["allowed"].notna(), True).astype(bool)
    return out


def _legs(
    scenario: Scenario,
    flows: pd.DataFrame,
    frm_table: str,
    frm_key: str,
    to_table: str,
    to_key: str,
    leg: str,
    errors: list[str],
) -> pd.DataFrame:
    """Recompute distance, transit and unit transport cost of every row of ``flows``."""
    t = scenario.tables
    frm = getattr(t, frm_table).set_index(frm_key)
    to = getattr(t, to_table).set_index(to_key)
    modes = t.modes.set_index("mode_id")
    products = t.products.set_index("product_id")
    f = frm.reindex(flows["from"])
    d = to.reindex(flows["to"])
    m = modes.reindex(flows["mode_id"])
    circuity = scenario.config.policy.circuity
    dist = circuity * _gc_km(
        f["lat"].to_numpy(float),
        f["lon"].to_numpy(float),
        d["lat"].to_numpy(float),
        d["lon"].to_numpy(float),
    )
    lane = _lane_lookup(t.lanes, flows["from"], flows["to"], flows["mode_id"])
    dist = np.where(lane["distance_km"].notna(), lane["distance_km"].to_numpy(float), dist)
    transit = np.where(
        lane["transit_hours"].notna(),
        lane["transit_hours"].to_numpy(float),
        dist / m["speed_kmh"].to_numpy(float) + m["handling_hours"].to_numpy(float),
    )
    weight = products.reindex(flows["product_id"])["unit_weight_kg"].to_numpy(float)
    per_unit = (
        m["cost_per_kg"].to_numpy(float) * weight
        + m["cost_per_kg_km"].to_numpy(float) * weight * dist
    )
    per_unit = np.where(
        lane["cost_per_unit"].notna(), lane["cost_per_unit"].to_numpy(float), per_unit
    )
    co2 = weight / 1000.0 * dist * m["co2_g_per_tkm"].to_numpy(float) / 1e6
    bad_leg = ~m["leg"].isin([leg, "both"]).to_numpy()
    forbidden = ~lane["allowed"].to_numpy(bool)
    needs_lane = m["requires_lane"].fillna(False).to_numpy(bool) & ~(
        lane["named"].to_numpy(bool) & lane["allowed"].to_numpy(bool)
    )
    too_far = (dist > m["max_distance_km"].to_numpy(float) + 1e-6) & ~lane["named"].to_numpy(bool)
    for name, mask in (
        ("a mode not allowed on this leg", bad_leg),
        ("a lane marked allowed=false", forbidden),
        ("a lane-only mode without a lane", needs_lane),
        ("beyond the mode's max_distance_km", too_far),
    ):
        for i in np.flatnonzero(mask)[:5]:
            errors.append(
                f"{leg} flow {flows['from'].iloc[i]} -> {flows['to'].iloc[i]} by {flows['mode_id'].iloc[i]} uses {name}"
            )
    return pd.DataFrame(
        {
            "distance_km": dist,
            "transit_hours": transit,
            "unit_cost": per_unit,
            "co2_t_per_unit": co2,
        }
    )


def _streams(scenario: Scenario, included: set[tuple[str, str]]) -> pd.DataFrame:
    """Demand after uplift, with campaign and window, recomputed from the config.

    A ``footprint: optimize`` campaign splits its rows: the base demand belongs to no
    campaign; the incremental ``(uplift - 1) x base`` belongs to the campaign and is
    demand only in the ``included`` (campaign, region) pairs.
    """
    t, config = scenario.tables, scenario.config
    demand = t.demand.copy()
    demand["campaign_id"] = ""
    demand["uplift"] = 1.0
    regions = t.regions
    for c in config.campaigns:
        mask = pd.Series(True, index=demand.index)
        if isinstance(c.regions, dict):
            ok = pd.Series(True, index=regions.index)
            for attr, values in c.regions.items():
                ok &= regions[attr].astype(str).isin([str(v) for v in values])
            mask &= demand["region_id"].isin(regions.loc[ok, "region_id"])
        elif isinstance(c.regions, list):
            mask &= demand["region_id"].isin(c.regions)
        for key, col in (
            ("products", "product_id"),
            ("periods", "period"),
            ("channels", "channel"),
        ):
            values = getattr(c, key)
            if values != "all":
                mask &= demand[col].isin(values)
        mask &= demand["campaign_id"] == ""
        demand.loc[mask, "campaign_id"] = c.id
        demand.loc[mask, "uplift"] = c.uplift
    optimized = {c.id for c in config.campaigns if c.footprint == "optimize"}
    split = demand["campaign_id"].isin(optimized)
    extra = demand[split].copy()
    extra["uplift"] = (extra["uplift"] - 1.0) * [
        (c, r) in included for c, r in zip(extra["campaign_id"], extra["region_id"], strict=True)
    ]
    demand.loc[split, "campaign_id"] = ""
    demand.loc[split, "uplift"] = 1.0
    demand = pd.concat([demand, extra], ignore_index=True)
    demand["demand"] = demand["quantity"] * demand["uplift"]
    demand["sigma"] = demand["std"] * demand["uplift"]
    channel_window = t.channels.set_index("channel_id")["delivery_window_hours"]
    window = demand["channel"].map(channel_window).astype(float)
    if config.policy.default_delivery_window_hours is not None:
        window = window.fillna(config.policy.default_delivery_window_hours)
    camp_window = {
        c.id: c.delivery_window_hours for c in config.campaigns if c.delivery_window_hours
    }
    own = demand["campaign_id"].map(camp_window).astype(float)
    demand["window_hours"] = own.fillna(window).fillna(math.inf)
    return demand


def verify_solution(
    scenario: Scenario, solution: Solution, reported_objective: float | None = None
) -> Verification:
    """Recompute every constraint family and the objective; list every violation."""
    errors: list[str] = []
    checks: dict[str, int] = {}
    t, config, policy = scenario.tables, scenario.config, scenario.config.policy
    periods = scenario.periods
    hubs = t.hubs.set_index("hub_id")
    products = t.products.set_index("product_id")
    flows = solution.flows.copy()
    inflows = solution.inflows.copy()
    hub_open = solution.hubs.set_index(["hub_id", "period"])["open"]
    footprint = solution.footprint
    chosen = footprint[footprint["included"] == 1] if len(footprint) else footprint
    streams = _streams(scenario, set(zip(chosen["campaign_id"], chosen["region_id"], strict=True)))
    key = ["region_id", "product_id", "period", "channel", "campaign_id"]

    # ---- arcs: recompute geometry and costs, windows, open hubs --------------------
    flows = flows.rename(columns={"hub_id": "from", "region_id": "to"})
    legs = _legs(scenario, flows, "hubs", "hub_id", "regions", "region_id", "outbound", errors)
    flows = flows.rename(columns={"from": "hub_id", "to": "region_id"})
    stream_info = streams.set_index(key)
    info = stream_info.reindex(pd.MultiIndex.from_frame(flows[key]))
    window = info["window_hours"].to_numpy(float)
    late = legs["transit_hours"].to_numpy() > window + 1e-6
    if policy.late_penalty_per_unit is None:
        for i in np.flatnonzero(late)[:10]:
            errors.append(
                f"flow {flows['hub_id'].iloc[i]} -> {flows['region_id'].iloc[i]} ({flows['product_id'].iloc[i]}, period {flows['period'].iloc[i]}) takes {legs['transit_hours'].iloc[i]:.2f} h beyond its {window[i]:g} h window and late delivery is not allowed"
            )
    opened_at = (
        hub_open.reindex(pd.MultiIndex.from_arrays([flows["hub_id"], flows["period"]]))
        .fillna(0)
        .to_numpy()
    )
    for i in np.flatnonzero((opened_at < 0.5) & (flows["quantity"].to_numpy() > 1e-6))[:10]:
        errors.append(
            f"hub {flows['hub_id'].iloc[i]} ships in period {flows['period'].iloc[i]} while closed"
        )
    checks["outbound_flows"] = len(flows)

    # ---- 1. demand ------------------------------------------------------------------
    delivered = flows.groupby(key)["quantity"].sum()
    lost = (
        solution.unmet.groupby(key)["quantity"].sum()
        if len(solution.unmet)
        else pd.Series(dtype=float)
    )
    full = streams.set_index(key)["demand"]
    idx = full.index.union(delivered.index)
    gap = (
        full.reindex(idx, fill_value=0)
        - delivered.reindex(idx, fill_value=0)
        - lost.reindex(idx, fill_value=0)
    )
    for k in gap.index[np.abs(gap.to_numpy()) > _tol(full.reindex(idx, fill_value=0).to_numpy())][
        :10
    ]:
        errors.append(
            f"demand {k}: demand {full.get(k, 0):.4f} != delivered {delivered.get(k, 0):.4f} + unmet {lost.get(k, 0):.4f}"
        )
    if len(solution.unmet):
        no_penalty = (
            products.reindex(solution.unmet["product_id"])["lost_sale_penalty"].isna().to_numpy()
        )
        for i in np.flatnonzero(no_penalty & (solution.unmet["quantity"].to_numpy() > 1e-6))[:10]:
            errors.append(
                f"unmet demand for {solution.unmet['product_id'].iloc[i]}, which has no lost_sale_penalty (must be met)"
            )
    checks["demand_streams"] = len(full)

    # ---- 2. stock balance ------------------------------------------------------------
    grid = pd.MultiIndex.from_product(
        [t.hubs["hub_id"], t.products["product_id"], range(1, periods + 1)],
        names=["hub_id", "product_id", "period"],
    )
    out_q = (
        flows.groupby(["hub_id", "product_id", "period"])["quantity"]
        .sum()
        .reindex(grid, fill_value=0)
    )
    in_q = (
        inflows.groupby(["hub_id", "product_id", "period"])["quantity"]
        .sum()
        .reindex(grid, fill_value=0)
    )
    stock = (
        solution.stock.groupby(["hub_id", "product_id", "period"])["quantity"]
        .sum()
        .reindex(grid, fill_value=0)
    )
    start = (
        t.inventory.set_index(["hub_id", "product_id"])["quantity"]
        if len(t.inventory)
        else pd.Series(dtype=float)
    )
    s3 = stock.to_numpy().reshape(len(t.hubs), len(t.products), periods)
    prev = np.concatenate(
        [
            start.reindex(
                pd.MultiIndex.from_product([t.hubs["hub_id"], t.products["product_id"]]),
                fill_value=0,
            )
            .to_numpy()
            .reshape(len(t.hubs), len(t.products), 1),
            s3[:, :, :-1],
        ],
        axis=2,
    )
    residual = prev.ravel() + in_q.to_numpy() - out_q.to_numpy() - stock.to_numpy()
    for i in np.flatnonzero(np.abs(residual) > _tol(prev.ravel() + in_q.to_numpy()))[:10]:
        errors.append(
            f"stock balance {grid[i]}: previous + inflow - outflow - stock = {residual[i]:.4f}"
        )
    checks["balance_rows"] = len(grid)

    # ---- 3. safety stock -------------------------------------------------------------
    z = policy.safety_stock.z
    if z > 0 and len(flows):
        share_sigma = (
            info["sigma"].to_numpy(float)
            * flows["quantity"].to_numpy()
            / info["demand"].to_numpy(float)
        )
        need = (
            pd.Series(
                z * share_sigma,
                index=pd.MultiIndex.from_frame(flows[["hub_id", "product_id", "period"]]),
            )
            .groupby(level=[0, 1, 2])
            .sum()
        )
        held = stock.reindex(need.index, fill_value=0)
        for k in need.index[(held - need).to_numpy() < -_tol(need.to_numpy())][:10]:
            errors.append(f"safety stock {k}: holds {held[k]:.3f} < required {need[k]:.3f}")

    # ---- 4. throughput and storage ---------------------------------------------------
    vol = products["unit_volume"]
    flows_m3 = flows["quantity"] * vol.reindex(flows["product_id"]).to_numpy()
    through = flows_m3.groupby([flows["hub_id"], flows["period"]]).sum()
    for (h, p), value in through.items():
        cap = hubs.at[h, "throughput_capacity"] * hub_open.get((h, p), 0)
        if value > cap + _tol(cap if np.isfinite(cap) else value):
            errors.append(f"hub {h} period {p}: throughput {value:.3f} m3 > capacity {cap:.3f} m3")
    held_m3 = (
        (solution.stock["quantity"] * vol.reindex(solution.stock["product_id"]).to_numpy())
        .groupby([solution.stock["hub_id"], solution.stock["period"]])
        .sum()
    )
    for (h, p), value in held_m3.items():
        cap = hubs.at[h, "storage_capacity"]
        if value > cap + _tol(cap):
            errors.append(
                f"hub {h} period {p}: stock {value:.3f} m3 > storage capacity {cap:.3f} m3"
            )
        if hub_open.get((h, p), 0) < 0.5 and value > 1e-6:
            errors.append(f"hub {h} period {p}: holds stock while closed")
    if len(inflows):
        for (h, p), value in inflows.groupby(["hub_id", "period"])["quantity"].sum().items():
            if hub_open.get((h, p), 0) < 0.5 and value > 1e-6:
                errors.append(f"hub {h} period {p}: receives goods while closed")

    # ---- 6. supply --------------------------------------------------------------------
    inbound_cost = pd.Series(0.0, index=inflows.index)
    in_co2 = pd.Series(0.0, index=inflows.index)
    supply_cost = pd.Series(0.0, index=inflows.index)
    if len(t.sources):
        if (inflows["source_id"] == "").any():
            errors.append("inflow without a source although the scenario has sources")
        in_legs = _legs(
            scenario,
            inflows.rename(columns={"source_id": "from", "hub_id": "to"}),
            "sources",
            "source_id",
            "hubs",
            "hub_id",
            "inbound",
            errors,
        )
        inbound_cost = pd.Series(in_legs["unit_cost"].to_numpy() * inflows["quantity"].to_numpy())
        in_co2 = pd.Series(in_legs["co2_t_per_unit"].to_numpy() * inflows["quantity"].to_numpy())
        sup = t.supply.copy()
        every = (
            sup[sup["period"].isna()]
            .drop(columns="period")
            .merge(pd.DataFrame({"period": range(1, periods + 1)}), how="cross")
        )
        sup = pd.concat(
            [sup[sup["period"].notna()].astype({"period": int}), every]
        ).drop_duplicates(["source_id", "product_id", "period"])
        sup = sup.set_index(["source_id", "product_id", "period"])
        used = inflows.groupby(["source_id", "product_id", "period"])["quantity"].sum()
        row = sup.reindex(used.index)
        for k in used.index[row["capacity"].isna().to_numpy()][:10]:
            errors.append(
                f"inflow {k} from a source with no supply row for that product and period"
            )
        over = used.to_numpy() > row["capacity"].to_numpy(float) + _tol(
            row["capacity"].to_numpy(float)
        )
        for k in used.index[np.nan_to_num(over, nan=0).astype(bool)][:10]:
            errors.append(f"supply {k}: {used[k]:.3f} > capacity {row.at[k, 'capacity']:.3f}")
        unit = (
            sup["unit_cost"]
            .reindex(pd.MultiIndex.from_frame(inflows[["source_id", "product_id", "period"]]))
            .to_numpy(float)
        )
        supply_cost = pd.Series(np.nan_to_num(unit) * inflows["quantity"].to_numpy())

    # ---- 7. campaign service ---------------------------------------------------------
    on_time_q = flows["quantity"].to_numpy() * ~late
    for c in config.campaigns:
        units = streams.loc[streams["campaign_id"] == c.id, "demand"].sum()
        in_campaign = flows["campaign_id"].to_numpy() == c.id
        on_time = on_time_q[in_campaign].sum()
        if on_time < c.service_level * units - _tol(units):
            errors.append(
                f"campaign {c.id}: {on_time:.2f} of {units:.2f} units on time < service level {c.service_level:.3f}"
            )

    # ---- 8. network rules --------------------------------------------------------------
    status_open = (
        solution.hubs.pivot(index="hub_id", columns="period", values="open")
        .reindex(index=t.hubs["hub_id"], columns=range(1, periods + 1))
        .fillna(0)
    )
    counts = status_open.sum(axis=0)
    for p, n in counts.items():
        if n < policy.min_open_hubs - 1e-9 or (
            policy.max_open_hubs is not None and n > policy.max_open_hubs + 1e-9
        ):
            errors.append(
                f"period {p}: {int(n)} open hubs outside [{policy.min_open_hubs}, {policy.max_open_hubs}]"
            )
    o = status_open.to_numpy()
    status = hubs.reindex(status_open.index)["status"].to_numpy()
    open_from = hubs.reindex(status_open.index)["open_from_period"].to_numpy()
    period_arr = np.arange(1, periods + 1)[None, :]
    for i, h in enumerate(status_open.index):
        if status[i] == "forced_closed" and o[i].any():
            errors.append(f"hub {h} is forced_closed but open")
        if status[i] == "forced_open" and (o[i][period_arr[0] >= open_from[i]] < 0.5).any():
            errors.append(f"hub {h} is forced_open but closed in some period")
        if (o[i][period_arr[0] < open_from[i]] > 0.5).any():
            errors.append(f"hub {h} open before its open_from_period {open_from[i]}")
    before = np.concatenate([np.where(status == "existing", 1.0, 0.0)[:, None], o[:, :-1]], axis=1)
    if not policy.allow_closing and (o < before - 0.5).any():
        for i in np.unique(np.nonzero(o < before - 0.5)[0])[:10]:
            errors.append(f"hub {status_open.index[i]} closes although closing is not allowed")
    opened_ev = np.clip(o - before, 0, None)
    closed_ev = np.clip(before - o, 0, None)
    fixed = float((o * hubs.reindex(status_open.index)["fixed_cost"].to_numpy()[:, None]).sum())
    opening = float(
        (opened_ev * hubs.reindex(status_open.index)["opening_cost"].to_numpy()[:, None]).sum()
    )
    closing = float(
        (closed_ev * hubs.reindex(status_open.index)["closing_cost"].to_numpy()[:, None]).sum()
    )
    if (
        policy.fixed_cost_budget is not None
        and fixed + opening + closing > policy.fixed_cost_budget + _tol(policy.fixed_cost_budget)
    ):
        errors.append(
            f"fixed + opening + closing cost {fixed + opening + closing:.2f} > budget {policy.fixed_cost_budget:.2f}"
        )

    # ---- 9. single sourcing ------------------------------------------------------------
    if policy.single_sourcing and len(flows):
        hubs_per_region = flows.groupby("region_id")["hub_id"].nunique()
        for r in hubs_per_region.index[hubs_per_region.to_numpy() > 1][:10]:
            errors.append(f"region {r} served by {hubs_per_region[r]} hubs under single sourcing")

    # ---- 10. carbon and objective -------------------------------------------------------
    out_co2 = legs["co2_t_per_unit"].to_numpy() * flows["quantity"].to_numpy()
    total_co2 = float(out_co2.sum() + in_co2.sum())
    if policy.carbon.cap_t is not None and total_co2 > policy.carbon.cap_t + _tol(
        policy.carbon.cap_t
    ):
        errors.append(f"CO2 {total_co2:.4f} t > cap {policy.carbon.cap_t:.4f} t")
    channel = t.channels.set_index("channel_id")
    returns_unit = (
        (channel["return_rate"] * channel["return_cost"]).reindex(flows["channel"]).to_numpy(float)
    )
    handling_unit = hubs["handling_cost"].reindex(flows["hub_id"]).to_numpy(float)
    q = flows["quantity"].to_numpy()
    holding = float(
        (
            solution.stock["quantity"]
            * products["holding_cost"].reindex(solution.stock["product_id"]).to_numpy()
        ).sum()
    )
    lost = (
        float(
            (
                solution.unmet["quantity"]
                * products["lost_sale_penalty"].reindex(solution.unmet["product_id"]).to_numpy()
            ).sum()
        )
        if len(solution.unmet)
        else 0.0
    )
    late_cost = float((q * late).sum() * (policy.late_penalty_per_unit or 0.0))
    spend, margin = check_footprint(scenario, solution, errors)
    checks["footprint_candidates"] = len(footprint)
    components = {
        "fixed": fixed,
        "opening": opening,
        "closing": closing,
        "supply": float(supply_cost.sum()),
        "inbound_transport": float(inbound_cost.sum()),
        "outbound_transport": float((legs["unit_cost"].to_numpy() * q).sum()),
        "handling": float((handling_unit * q).sum()),
        "returns": float((returns_unit * q).sum()),
        "holding": holding,
        "lost_sales": lost,
        "late": late_cost,
        "carbon": policy.carbon.price_per_t * total_co2,
        "campaign_spend": spend,
        "incremental_margin": -margin,
    }
    objective = float(sum(components.values()))
    for name, value in components.items():
        reported = solution.costs.get(name, 0.0)
        if abs(value - reported) > 1e-6 * max(1.0, abs(objective)) + 1e-4:
            errors.append(
                f"cost component {name}: recomputed {value:.4f} != reported {reported:.4f}"
            )
    if (
        reported_objective is not None
        and abs(objective - reported_objective) > 1e-6 * max(1.0, abs(objective)) + 1e-4
    ):
        errors.append(f"objective: recomputed {objective:.4f} != solver's {reported_objective:.4f}")
    return Verification(ok=not errors, violations=errors, objective=objective, checks=checks)


def check_footprint(
    scenario: Scenario, solution: Solution, errors: list[str]
) -> tuple[float, float]:
    """Family 14: the footprint table lists exactly the candidates, decisions are 0/1 within
    min/max regions; return (spend, incremental margin) of the included regions.

    Candidates are recomputed from the config: the regions in a ``footprint: optimize``
    campaign's scope that have demand in its scope and an uplift that adds units.
    """
    t, config = scenario.tables, scenario.config
    table = solution.footprint
    margin_of = t.products.set_index("product_id")["unit_margin"]
    expected: dict[tuple[str, str], tuple[float, float]] = {}
    bounds: dict[str, tuple[int | None, int | None]] = {}
    claimed = pd.Series(False, index=t.demand.index)
    for c in config.campaigns:
        rows = _in_scope(scenario, c) & ~claimed
        claimed |= rows
        if c.footprint != "optimize":
            continue
        bounds[c.id] = (c.min_regions, c.max_regions)
        scoped = t.demand[rows & (t.demand["quantity"] > 0)]
        units = scoped["quantity"] * (c.uplift - 1.0)
        margin = units * margin_of.reindex(scoped["product_id"]).to_numpy(float)
        for region, u, g in zip(
            units.groupby(scoped["region_id"]).sum().index,
            units.groupby(scoped["region_id"]).sum().to_numpy(),
            margin.groupby(scoped["region_id"]).sum().to_numpy(),
            strict=True,
        ):
            expected[(c.id, str(region))] = (float(u), float(g) - c.spend_per_region)
    listed = (
        set(zip(table["campaign_id"], table["region_id"], strict=True)) if len(table) else set()
    )
    for c_id, r_id in sorted(set(expected) - listed)[:10]:
        errors.append(f"footprint: candidate region {r_id} of campaign {c_id} has no decision")
    for c_id, r_id in sorted(listed - set(expected))[:10]:
        errors.append(f"footprint: region {r_id} is not a candidate of campaign {c_id}")
    if not len(table):
        return 0.0, 0.0
    decision = table["included"].to_numpy(float)
    for i in np.flatnonzero((decision != 0) & (decision != 1))[:10]:
        errors.append(f"footprint: included must be 0 or 1, found {decision[i]} at row {i}")
    spend_per = {c.id: c.spend_per_region for c in config.campaigns}
    chosen = table[table["included"] == 1]
    spend = float(sum(spend_per.get(c, 0.0) for c in chosen["campaign_id"]))
    margin = 0.0
    for c_id, r_id in zip(chosen["campaign_id"], chosen["region_id"], strict=True):
        units_and_net = expected.get((c_id, r_id))
        if units_and_net is not None:
            margin += units_and_net[1] + spend_per[c_id]
    for c_id, (lo, hi) in bounds.items():
        n = int((chosen["campaign_id"] == c_id).sum())
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            errors.append(
                f"footprint: campaign {c_id} runs in {n} regions outside [{lo}, {hi}] "
                "(min_regions, max_regions)"
            )
    return spend, margin


def _in_scope(scenario: Scenario, campaign: Campaign) -> pd.Series:
    """Demand rows in a campaign's scope (region filter, products, periods, channels)."""
    t = scenario.tables
    demand, regions = t.demand, t.regions
    mask = pd.Series(True, index=demand.index)
    if isinstance(campaign.regions, dict):
        ok = pd.Series(True, index=regions.index)
        for attr, values in campaign.regions.items():
            ok &= regions[attr].astype(str).isin([str(v) for v in values])
        mask &= demand["region_id"].isin(regions.loc[ok, "region_id"])
    elif isinstance(campaign.regions, list):
        mask &= demand["region_id"].isin(campaign.regions)
    for key, col in (("products", "product_id"), ("periods", "period"), ("channels", "channel")):
        values = getattr(campaign, key)
        if values != "all":
            mask &= demand[col].isin(values)
    return mask


def check_replan(
    original: Solution,
    replanned: Solution,
    stock: pd.DataFrame,
    from_period: int,
    allow_closing: bool,
) -> list[str]:
    """A re-plan keeps every decision before T, holds the actual stock at T-1, and keeps
    hubs open at T-1 open at T unless closing is allowed. Returns the violations."""
    errors: list[str] = []
    frozen = from_period - 1

    def same(name: str, before: pd.Series, after: pd.Series) -> None:
        idx = before.index.union(after.index)
        diff = after.reindex(idx, fill_value=0.0) - before.reindex(idx, fill_value=0.0)
        for k in diff.index[
            np.abs(diff.to_numpy(float)) > _tol(before.reindex(idx, fill_value=0.0).to_numpy(float))
        ][:10]:
            errors.append(
                f"re-plan changed frozen {name} {k}: {before.get(k, 0):.4f} -> {after.get(k, 0):.4f}"
            )

    def early(frame: pd.DataFrame, last: int) -> pd.DataFrame:
        return frame[frame["period"] <= last]

    hub_key = ["hub_id", "period"]
    same(
        "hub status",
        early(original.hubs, frozen).set_index(hub_key)["open"].astype(float),
        early(replanned.hubs, frozen).set_index(hub_key)["open"].astype(float),
    )
    flow_key = ["hub_id", "region_id", "product_id", "period", "channel", "mode_id", "campaign_id"]
    same(
        "flow",
        early(original.flows, frozen).groupby(flow_key)["quantity"].sum(),
        early(replanned.flows, frozen).groupby(flow_key)["quantity"].sum(),
    )
    in_key = ["source_id", "hub_id", "product_id", "period", "mode_id"]
    same(
        "inflow",
        early(original.inflows, frozen).groupby(in_key)["quantity"].sum(),
        early(replanned.inflows, frozen).groupby(in_key)["quantity"].sum(),
    )
    stock_key = ["hub_id", "product_id", "period"]
    same(
        "stock",
        early(original.stock, frozen - 1).groupby(stock_key)["quantity"].sum(),
        early(replanned.stock, frozen - 1).groupby(stock_key)["quantity"].sum(),
    )
    at = (
        replanned.stock[replanned.stock["period"] == frozen]
        .groupby(["hub_id", "product_id"])["quantity"]
        .sum()
    )
    given = stock.groupby(["hub_id", "product_id"])["quantity"].sum()
    idx = at.index.union(given.index)
    diff = at.reindex(idx, fill_value=0.0) - given.reindex(idx, fill_value=0.0)
    for k in diff.index[
        np.abs(diff.to_numpy(float)) > _tol(given.reindex(idx, fill_value=0.0).to_numpy(float))
    ][:10]:
        errors.append(
            f"re-plan stock {k} at period {frozen} is {at.get(k, 0):.4f}, the actual stock is {given.get(k, 0):.4f}"
        )
    if not allow_closing:
        status = replanned.hubs.pivot(index="hub_id", columns="period", values="open")
        if from_period in status.columns:
            closed = status.index[(status[frozen] > 0.5) & (status[from_period] < 0.5)]
            errors += [
                f"hub {h} open at period {frozen} closes at {from_period} although closing is not allowed"
                for h in closed[:10]
            ]
    return errors
