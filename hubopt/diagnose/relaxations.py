"""Sentences for each relaxation the elastic re-solve needed."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from hubopt.data.pickup import customer_km_matrix
from hubopt.data.problem import ProblemData
from hubopt.diagnose.text import Relaxation, Slack, count_text, fastest_lane_text, region_label
from hubopt.model.matrix import MatrixModel
from hubopt.model.network import pickup_point_periods

log = logging.getLogger(__name__)


def window_relaxations(
    problem: ProblemData, elastic: ProblemData, model: MatrixModel, x: np.ndarray
) -> list[Relaxation]:
    """Units the relaxed plan delivers beyond their window, per campaign and region."""
    if problem.policy.late_penalty_per_unit is not None:
        return []
    arcs = elastic.out_arcs
    ship = model.block(x, "ship")
    late = arcs["late"].to_numpy(dtype=bool) & (ship > 1e-6)
    if not late.any():
        return []
    streams = elastic.streams
    frame = pd.DataFrame(
        {
            "stream_idx": arcs["stream_idx"].to_numpy()[late],
            "units": ship[late],
        }
    )
    frame = frame.join(
        streams[["campaign_id", "region_idx", "period", "window_hours"]], on="stream_idx"
    )
    out = []
    for (campaign, region_idx, window), group in frame.groupby(
        ["campaign_id", "region_idx", "window_hours"], sort=False
    ):
        units = float(group["units"].sum())
        period = int(group["period"].min())
        who = f"campaign `{campaign}`: " if campaign else ""
        out.append(
            Relaxation(
                "window",
                units,
                f"{who}{count_text(units)} units in region {region_label(problem, int(region_idx))} cannot arrive "
                f"within {window:g} h from any allowed hub; "
                f"{fastest_lane_text(problem, int(region_idx), period)}. Widen the window, set "
                "policy.late_penalty_per_unit, or give the product a lost_sale_penalty.",
            )
        )
    return out


def describe_slack(
    problem: ProblemData,
    elastic: ProblemData,
    slack: Slack,
    hit: np.ndarray,
    values: np.ndarray,
) -> list[Relaxation]:
    family = slack.family
    out: list[Relaxation] = []
    hubs = elastic.hubs
    if family == "demand":
        streams = elastic.streams
        reached = np.zeros(len(streams), dtype=bool)
        reached[elastic.out_arcs["stream_idx"].to_numpy()] = True
        for k, v in zip(hit, values, strict=True):
            row = streams.iloc[int(k)]
            who = f"campaign `{row['campaign_id']}`: " if row["campaign_id"] else ""
            why = (
                "the hubs that reach it cannot be supplied in time"
                if reached[k]
                else "no lane from any hub reaches the region (lanes, max_distance_km, nearest_hubs)"
            )
            out.append(
                Relaxation(
                    family,
                    float(v),
                    f"{who}{count_text(v)} of {count_text(row['quantity'])} units of {row['product_id']} in region "
                    f"{region_label(problem, int(row['region_idx']))} in period {row['period']} cannot be "
                    f"delivered: {why}; the product has no lost_sale_penalty.",
                )
            )
    elif family == "service":
        active = np.flatnonzero(problem.campaigns["service_level"].to_numpy(float) > 0)
        for r, v in zip(hit, values, strict=True):
            c = int(active[r])
            camp = problem.campaigns.iloc[c]
            required = float(slack.scale[r])
            streams = problem.streams[problem.streams["campaign_idx"] == c]
            units = float(streams["quantity"].sum())
            window = camp["delivery_window_hours"]
            window = (
                float(streams["window_hours"].min()) if not np.isfinite(window) else float(window)
            )
            out.append(
                Relaxation(
                    family,
                    float(v),
                    f"campaign `{camp['campaign_id']}`: service level {camp['service_level']:.0%} "
                    f"needs {count_text(required)} of its {count_text(units)} units on time (within {window:g} h), "
                    f"but at most {count_text(required - v)} can be; {_late_regions(problem, streams)}",
                )
            )
    elif family == "throughput":
        base, peak = elastic.throughput_ht.ravel(), elastic.peak_ht.ravel()
        hp = np.flatnonzero(np.isfinite(base))[hit]
        for pos, v in zip(hp, values, strict=True):
            h, t = divmod(int(pos), elastic.periods)
            has = (
                f"base {count_text(base[pos])} m³ + peak capacity {count_text(peak[pos])} m³ "
                f"= {count_text(base[pos] + peak[pos])} m³; raise peak_capacity (hubs or "
                "hub_capacity) or throughput_capacity"
                if peak[pos] > 0
                else f"it has {count_text(base[pos])} m³ and no peak_capacity"
            )
            out.append(
                Relaxation(
                    family,
                    float(v),
                    f"period {t + 1}: hub {hubs['hub_id'].iloc[h]} needs {count_text(v)} m³ more "
                    f"throughput capacity ({has}).",
                )
            )
    elif family == "storage":
        cap = hubs["storage_capacity"].to_numpy(float)
        for pos, v in zip(hit, values, strict=True):
            h, t = divmod(int(pos), elastic.periods)
            out.append(
                Relaxation(
                    family,
                    float(v),
                    f"period {t + 1}: hub {hubs['hub_id'].iloc[h]} needs {count_text(v)} m³ more "
                    f"storage capacity (it has {count_text(cap[h])} m³).",
                )
            )
    elif family == "supply":
        rows = elastic.supply[np.isfinite(elastic.supply["capacity"].to_numpy(float))]
        for r, v in zip(hit, values, strict=True):
            row = rows.iloc[int(r)]
            source = elastic.sources["source_id"].iloc[int(row["source_idx"])]
            product = elastic.products["product_id"].iloc[int(row["product_idx"])]
            out.append(
                Relaxation(
                    family,
                    float(v),
                    f"period {int(row['period'])}: source {source} is short of {count_text(v)} units of "
                    f"{product} (supply capacity {count_text(row['capacity'])}).",
                )
            )
    elif family == "pickup":
        out += pickup_relaxations(problem, elastic, hit, values)
    elif family == "hub_count":
        policy = elastic.policy
        for t, v in zip(hit, values, strict=True):
            if slack.sign > 0:
                text = (
                    f"period {t + 1}: policy.min_open_hubs is {policy.min_open_hubs} but only "
                    f"{policy.min_open_hubs - round(v)} hubs can be open."
                )
            else:
                text = (
                    f"period {t + 1}: policy.max_open_hubs is {policy.max_open_hubs} but the "
                    f"plan needs {policy.max_open_hubs + round(v)} open hubs."
                )
            out.append(Relaxation(family, float(v), text))
    elif family == "carbon_cap":
        cap = elastic.policy.carbon.cap_t or 0.0
        out.append(
            Relaxation(
                family,
                float(values[0]),
                f"policy.carbon.cap_t is {count_text(cap)} t CO2 but the lowest-emission plan emits "
                f"{count_text(cap + values[0])} t.",
            )
        )
    elif family == "budget":
        budget = elastic.policy.fixed_cost_budget or 0.0
        out.append(
            Relaxation(
                family,
                float(values[0]),
                f"policy.fixed_cost_budget is {count_text(budget)} but the hubs the plan needs cost "
                f"{count_text(budget + values[0])}.",
            )
        )
    return out


def _late_regions(problem: ProblemData, streams: pd.DataFrame) -> str:
    """The campaign regions (by units) that no allowed hub reaches within the window."""
    arcs = problem.out_arcs
    on_time = np.zeros(len(problem.streams), dtype=bool)
    on_time[arcs.loc[~arcs["late"].to_numpy(dtype=bool), "stream_idx"].to_numpy()] = True
    stuck = streams[~on_time[streams.index.to_numpy()]]
    if not len(stuck):
        return "the capacity of the hubs that reach them in time is too small."
    units = stuck.groupby("region_idx")["quantity"].sum().sort_values(ascending=False)
    parts = []
    for region_idx, qty in units.head(3).items():
        period = int(stuck.loc[stuck["region_idx"] == region_idx, "period"].min())
        parts.append(
            f"region {region_label(problem, int(region_idx))} ({count_text(qty)} units): "
            f"{fastest_lane_text(problem, int(region_idx), period)}"
        )
    more = f"; and {len(units) - 3} more regions" if len(units) > 3 else ""
    return (
        f"{count_text(float(stuck['quantity'].sum()))} units in {len(units)} region(s) cannot arrive in "
        f"time from any allowed hub — {'; '.join(parts)}{more}."
    )


def forced_relaxations(
    problem: ProblemData, open_: np.ndarray, orig_lb: np.ndarray, orig_ub: np.ndarray
) -> list[Relaxation]:
    out = []
    hubs = problem.hubs
    T = problem.periods
    opened_forbidden = (orig_ub == 0) & (open_ > 0.5)
    closed_forced = (orig_lb == 1) & (open_ < 0.5)
    for h in range(problem.n_hubs):
        sl = slice(h * T, (h + 1) * T)
        status = hubs["status"].iloc[h]
        periods = [t + 1 for t in np.flatnonzero(opened_forbidden[sl])]
        if periods:
            why = (
                "is forced_closed (status or a close_hubs what-if)"
                if status == "forced_closed"
                else f"may open only from period {hubs['open_from_period'].iloc[h]}"
            )
            out.append(
                Relaxation(
                    "forced",
                    float(len(periods)),
                    f"hub {hubs['hub_id'].iloc[h]} {why}, but the plan needs it open in "
                    f"period(s) {', '.join(map(str, periods))}.",
                )
            )
        periods = [t + 1 for t in np.flatnonzero(closed_forced[sl])]
        if periods:
            out.append(
                Relaxation(
                    "forced",
                    float(len(periods)),
                    f"hub {hubs['hub_id'].iloc[h]} is {status} (must stay open), but the plan "
                    f"needs it closed in period(s) {', '.join(map(str, periods))}.",
                )
            )
    return out


def pickup_relaxations(
    problem: ProblemData, elastic: ProblemData, hit: np.ndarray, values: np.ndarray
) -> list[Relaxation]:
    """Pickup points short of capacity, naming the pickup reach that leaves customers no
    other point: the nearest point beyond their ``max_distance_km``."""
    _, _, keys = pickup_point_periods(elastic)
    pickups = elastic.pickups
    km = customer_km_matrix(elastic.regions, pickups, elastic.policy.circuity)
    reach = pickups["max_distance_km"].to_numpy(float)
    out = []
    for r, v in zip(hit, values, strict=True):
        q, t = divmod(int(keys[int(r)]), elastic.periods)
        streams = elastic.streams
        arcs = elastic.out_arcs
        via = arcs["pickup_idx"].to_numpy() == q
        regions = np.unique(streams["region_idx"].to_numpy()[arcs["stream_idx"].to_numpy()[via]])
        beyond = []
        for region in regions[:3]:
            outside = np.flatnonzero(km[region] > reach + 1e-9)
            if len(outside):
                p = outside[np.argmin(km[region, outside])]
                beyond.append(
                    f"{region_label(problem, int(region))}: next pickup point "
                    f"{pickups['pickup_id'].iloc[p]} is {km[region, p]:.1f} km away, beyond "
                    f"its max_distance_km {reach[p]:g}"
                )
        reach_text = (
            "; customers cannot reach another pickup point (" + "; ".join(beyond) + ")"
            if beyond
            else ""
        )
        out.append(
            Relaxation(
                "pickup",
                float(v),
                f"period {t + 1}: pickup point {pickups['pickup_id'].iloc[q]} needs "
                f"{count_text(v)} more units of capacity (it has "
                f"{count_text(pickups['capacity'].iloc[q])} units per period){reach_text}.",
            )
        )
    return out
