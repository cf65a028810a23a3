"""The cheap checks the diagnosis knows, run before any solve (``hubopt validate``, ``solve``).

Each returns :class:`~hubopt.errors.InputWarning` records naming the file, row or key and
the fix. ``blocking`` marks a finding that proves the solve infeasible (demand that must
be met and cannot be); the others are plans that would be silently odd (a service level
with no effect, demand that will all be lost).

- :func:`volume_units`: demand volume above total capacity by orders of magnitude
  (``unit_volume`` in litres, not m³);
- :func:`capacity_reach`: per period, the volume of demand that must be met against the
  throughput capacity of the hubs that can reach it (in time, unless late delivery is
  allowed): for every set of hubs that some demand depends on, all the demand that
  depends on that set or a part of it (a Hall condition, one matrix product per period);
- :func:`supply_cover`: products with demand but no supply (or too little, cumulated
  over the periods) and not enough starting stock;
- :func:`unreachable_windows`: demand no mode can deliver within its window;
- :func:`service_level_effect`: a campaign service level with no effect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hubopt.data.dataset import table_labels
from hubopt.data.problem import ProblemData
from hubopt.diagnose.text import count_text, fastest_lane_text, region_label
from hubopt.errors import InputWarning, StrictWarningsError
from hubopt.scenario.scenario import Scenario

LITRES_RATIO = 100.0  # demand volume this many times the total capacity: a unit mistake
MAX_PER_CHECK = 10


def input_warnings(
    problem: ProblemData, labels: dict[str, str], scenario_label: str = "scenario"
) -> list[InputWarning]:
    """Every cheap check, in the order a planner should read them."""
    units = volume_units(problem, labels)
    out = list(units)
    if not units:  # a unit mistake explains every capacity shortfall: say it once
        out += capacity_reach(problem, labels)
    out += supply_cover(problem, labels)
    out += unreachable_windows(problem, labels, scenario_label)
    out += service_level_effect(problem, scenario_label)
    return out


def _must(problem: ProblemData) -> np.ndarray:
    """Streams whose demand must be met (the product has no lost_sale_penalty)."""
    return ~np.isfinite(problem.streams["lost_sale_penalty"].to_numpy(float))


def _stream_volume(problem: ProblemData) -> np.ndarray:
    vol = problem.products["unit_volume"].to_numpy(float)
    streams = problem.streams
    return streams["quantity"].to_numpy(float) * vol[streams["product_idx"].to_numpy()]


def volume_units(problem: ProblemData, labels: dict[str, str]) -> list[InputWarning]:
    """Demand volume above the capacity of all hubs together by a factor of 100 or more."""
    hubs = problem.hubs
    usable = hubs["status"].to_numpy() != "forced_closed"
    cap = hubs["throughput_capacity"].to_numpy(float)[usable]
    if not len(cap) or not np.isfinite(cap).all() or not len(problem.streams):
        return []
    total = float(cap.sum())
    volume = _stream_volume(problem)
    need = np.bincount(
        problem.streams["period"].to_numpy() - 1, weights=volume, minlength=problem.periods
    )
    t = int(np.argmax(need))
    if total <= 0 or need[t] < LITRES_RATIO * total:
        return []
    by_product = pd.Series(volume).groupby(problem.streams["product_idx"].to_numpy()).sum()
    top = int(by_product.idxmax())
    product = problem.products.iloc[top]
    unit_volume = float(product["unit_volume"])
    return [
        InputWarning(
            "unit_volume_magnitude",
            f"{labels.get('products', 'products')}, column 'unit_volume' "
            f"(product {product['product_id']!r}: {unit_volume:g} m³ per unit)",
            f"in period {t + 1} demand takes {count_text(need[t])} m³ of throughput, "
            f"{need[t] / total:,.0f} times the capacity of all hubs together "
            f"({count_text(total)} m³ per period).",
            "unit_volume looks like litres, not m³? A padded jacket is about 0.02 m³ (20 L): "
            "divide litres by 1000 (or check the unit of the hubs' throughput_capacity).",
            blocking=bool(_must(problem).any()),
        )
    ]


def capacity_reach(problem: ProblemData, labels: dict[str, str]) -> list[InputWarning]:
    """Per period: demand that must be met above the capacity of the hubs that reach it."""
    streams, arcs, hubs = problem.streams, problem.out_arcs, problem.hubs
    must = _must(problem)
    if not must.any():
        return []
    volume = _stream_volume(problem)
    usable = hubs["status"].to_numpy() != "forced_closed"
    open_from = hubs["open_from_period"].to_numpy()
    limit = problem.policy.max_open_hubs
    period_of = streams["period"].to_numpy()
    arc_stream = arcs["stream_idx"].to_numpy()
    arc_hub = arcs["hub_idx"].to_numpy()
    out: list[InputWarning] = []
    for t in range(1, problem.periods + 1):
        in_t = must & (period_of == t)
        if not in_t.any():
            continue
        allowed = usable & (open_from <= t)
        # base throughput plus any peak capacity (at a premium) of period t
        cap = problem.throughput_ht[:, t - 1] + problem.peak_ht[:, t - 1]
        sel = in_t[arc_stream]
        # which hubs reach each stream of the period (streams in ascending order)
        stream_ids, row = np.unique(arc_stream[sel], return_inverse=True)
        member = np.zeros((len(stream_ids), len(hubs)), dtype=bool)
        member[row, arc_hub[sel]] = True
        signatures, group = np.unique(member, axis=0, return_inverse=True)
        group_volume = np.bincount(
            group.ravel(), weights=volume[stream_ids], minlength=len(signatures)
        )
        # the whole network as one more set, with every must-meet stream of the period
        candidates = np.vstack([signatures, allowed[None, :]])
        inside = (signatures.astype(int) @ (~candidates).astype(int).T) == 0  # group ⊆ set
        need = group_volume @ inside
        need[-1] = float(volume[in_t].sum())
        capacity = _top_capacity(candidates, cap, limit)
        short = need - capacity
        worst = int(np.argmax(short))
        if short[worst] <= 1e-6 * max(1.0, need[worst]):
            continue
        out.append(
            _capacity_warning(
                problem,
                labels,
                t,
                candidates[worst],
                need[worst],
                capacity[worst],
                whole=worst == len(candidates) - 1 or candidates[worst].sum() == allowed.sum(),
                streams_in=stream_ids[inside[group.ravel(), worst]],
            )
        )
        if len(out) >= MAX_PER_CHECK:
            break
    return out


def _top_capacity(sets: np.ndarray, cap: np.ndarray, limit: int | None) -> np.ndarray:
    """Throughput capacity of each set of hubs (its ``limit`` largest when limited)."""
    caps = np.where(sets, cap[None, :], 0.0)
    if limit is not None:
        caps = -np.sort(-caps, axis=1)[:, :limit]
    return caps.sum(axis=1)


def _capacity_warning(
    problem: ProblemData,
    labels: dict[str, str],
    t: int,
    members: np.ndarray,
    need: float,
    capacity: float,
    whole: bool,
    streams_in: np.ndarray,
) -> InputWarning:
    limit = problem.policy.max_open_hubs
    where = f"{labels.get('hubs', 'hubs')}, column 'throughput_capacity'"
    if whole:
        which = (
            f"the {limit} largest hubs allowed to open"
            if limit is not None
            else "all hubs allowed to open"
        )
        return InputWarning(
            "capacity_short",
            where,
            f"period {t}: demand that must be met is {count_text(need)} m³, above the throughput "
            f"capacity of {which} ({count_text(capacity)} m³).",
            "Raise throughput_capacity, allow more hubs (max_open_hubs, statuses), or give the "
            "products a lost_sale_penalty.",
            blocking=True,
        )
    hub_ids = problem.hubs["hub_id"].to_numpy()[members]
    regions = problem.streams["region_idx"].to_numpy()[streams_in]
    unique_regions = pd.unique(regions)
    example = ", ".join(region_label(problem, int(r)) for r in unique_regions[:3])
    more = f" and {len(unique_regions) - 3} more" if len(unique_regions) > 3 else ""
    in_time = "in time " if problem.policy.late_penalty_per_unit is None else ""
    return InputWarning(
        "capacity_short",
        where,
        f"period {t}: {count_text(need)} m³ of demand that must be met in {len(unique_regions)} "
        f"region(s) ({example}{more}) can be delivered {in_time}only from {', '.join(hub_ids)}, "
        f"whose throughput capacity is {count_text(capacity)} m³.",
        "Raise the throughput_capacity of these hubs, let other hubs reach the regions in time "
        "(lanes, modes, windows, nearest_hubs), or give the products a lost_sale_penalty.",
        blocking=True,
    )


def supply_cover(problem: ProblemData, labels: dict[str, str]) -> list[InputWarning]:
    """Products whose demand exceeds supply reaching a hub plus starting stock, cumulatively.

    A product that must be met is reported whenever it falls short (blocking). A product
    with a lost_sale_penalty is reported only when no supply reaches it at all (a
    forgotten supply row); supply below its demand is then a modelled scarcity.
    """
    if problem.free_replenishment or not len(problem.streams):
        return []
    streams = problem.streams
    must = _must(problem)
    reachable = problem.in_arcs["supply_idx"].unique() if len(problem.in_arcs) else []
    supply = problem.supply.loc[problem.supply.index.isin(reachable)]
    stock = problem.initial_stock.sum(axis=0)
    out: list[InputWarning] = []
    where = labels.get("supply", "supply")
    for p, product in problem.products.iterrows():
        mine = streams["product_idx"].to_numpy() == p
        if not mine.any():
            continue
        pid = product["product_id"]
        periods = streams["period"].to_numpy()
        demand = np.bincount(
            periods[mine] - 1,
            weights=streams["quantity"].to_numpy(float)[mine],
            minlength=problem.periods,
        )
        has_rows = bool((problem.supply["product_idx"].to_numpy() == p).any())
        rows = supply[supply["product_idx"].to_numpy() == p]
        offered = (
            np.bincount(
                rows["period"].to_numpy(int) - 1,
                weights=rows["capacity"].to_numpy(float),
                minlength=problem.periods,
            )
            if len(rows)
            else np.zeros(problem.periods)
        )
        cover = stock[p] + np.cumsum(offered)
        gap = np.cumsum(demand) - cover
        t = int(np.argmax(gap > 1e-6)) if (gap > 1e-6).any() else -1
        if t < 0:
            continue
        lost = not bool(must[mine].all())
        if lost and len(rows):
            continue  # scarce on purpose (a limited edition): supply exists, sales may be lost
        n_regions = int(streams.loc[mine, "region_id"].nunique())
        total = float(demand.sum())
        if not has_rows:
            message = (
                f"{pid} has demand in {n_regions} region(s) ({count_text(total)} units) but no "
                f"supply row, and only {count_text(stock[p])} units of starting stock."
            )
            fix = f"Add supply rows for {pid} (source_id, product_id, capacity)"
        elif not len(rows):
            message = (
                f"{pid} has supply rows, but no inbound mode or lane reaches any hub from their "
                f"sources; its demand ({count_text(total)} units in {n_regions} region(s)) can use "
                f"only the {count_text(stock[p])} units of starting stock."
            )
            fix = "Check the sources' coordinates, the inbound modes' max_distance_km and the lanes"
        else:
            message = (
                f"by period {t + 1}, {pid} has {count_text(float(np.cumsum(demand)[t]))} units of "
                f"demand but only {count_text(float(cover[t]))} units of supply and starting stock "
                "up to then."
            )
            fix = f"Raise the supply capacity of {pid} in the early periods or its starting stock"
        if lost:
            fix += "; as it stands the plan loses these sales (lost_sale_penalty)."
        else:
            fix += ", or give it a lost_sale_penalty; as it stands the solve is infeasible."
        out.append(InputWarning("supply_missing", where, message, fix, blocking=not lost))
    return out[:MAX_PER_CHECK]


def unreachable_windows(
    problem: ProblemData, labels: dict[str, str], scenario_label: str = "scenario"
) -> list[InputWarning]:
    """Demand that no allowed hub and mode can deliver within its window (no arc at all)."""
    streams = problem.streams
    served = np.zeros(len(streams), dtype=bool)
    served[problem.out_arcs["stream_idx"].to_numpy()] = True
    stuck = streams[~served].assign(must=_must(problem)[~served])
    if not len(stuck):
        return []
    out: list[InputWarning] = []
    campaigns = problem.campaigns["campaign_id"].tolist()
    for (campaign, channel, window), group in stuck.groupby(
        ["campaign_id", "channel", "window_hours"], sort=False
    ):
        units = float(group["quantity"].sum())
        by_region = group.groupby("region_idx")["quantity"].sum().sort_values(ascending=False)
        region_idx = int(by_region.index[0])
        lane = fastest_lane_text(problem, region_idx, int(group["period"].min()))
        within = f"within {window:g} h" if np.isfinite(window) else "at all"
        if campaign:
            where = (
                f"{scenario_label}, key 'campaigns.{campaigns.index(campaign)}."
                f"delivery_window_hours' (campaign {campaign!r})"
            )
        else:
            where = f"{labels.get('channels', 'channels')}, channel {channel!r}"
        who = f"campaign `{campaign}`: " if campaign else ""
        must = bool(group["must"].any())
        tail = (
            "the product has no lost_sale_penalty and policy.late_penalty_per_unit is not set, so "
            "the solve is infeasible."
            if must
            else "these units will be lost (lost_sale_penalty)."
        )
        more = f" and {len(by_region) - 1} more region(s)" if len(by_region) > 1 else ""
        out.append(
            InputWarning(
                "window_unreachable",
                where,
                f"{who}{count_text(units)} units (channel {channel}) in region "
                f"{region_label(problem, region_idx)}{more} cannot arrive {within} from any allowed "
                f"hub; {lane}; {tail}",
                "Widen the window, set policy.late_penalty_per_unit, add a faster mode or lane, "
                "or give the product a lost_sale_penalty.",
                blocking=must,
            )
        )
    return out[:MAX_PER_CHECK]


def service_level_effect(
    problem: ProblemData, scenario_label: str = "scenario"
) -> list[InputWarning]:
    """Campaign service levels that cannot change the plan."""
    out = []
    late_allowed = problem.policy.late_penalty_per_unit is not None
    windows = problem.streams.groupby("campaign_idx")["window_hours"].min()
    for c, camp in problem.campaigns.iterrows():
        level = float(camp["service_level"])
        if level <= 0:
            continue
        where = f"{scenario_label}, key 'campaigns.{c}.service_level' (campaign {camp['campaign_id']!r})"
        if not np.isfinite(windows.get(c, np.inf)):
            out.append(
                InputWarning(
                    "service_level_no_effect",
                    where,
                    f"service_level {level:.0%} has no effect: no delivery window applies to the "
                    "campaign, so every unit counts as on time.",
                    "Set the campaign's delivery_window_hours (or a channel or default window).",
                )
            )
        elif not late_allowed and level < 1:
            out.append(
                InputWarning(
                    "service_level_no_effect",
                    where,
                    f"service_level {level:.0%} has no effect: policy.late_penalty_per_unit is not "
                    "set, so late delivery is not allowed at all and every unit of the campaign "
                    "must arrive within its window (100 % on time, or lost where the product has "
                    "a lost_sale_penalty).",
                    f"Set policy.late_penalty_per_unit to let up to {1 - level:.0%} of the campaign's "
                    "units arrive late at that cost, or set service_level: 1 to say what is meant.",
                )
            )
    return out


def collect_warnings(scenario: Scenario, problem: ProblemData) -> list[InputWarning]:
    """Every input warning of a scenario: those found while loading, then the cheap checks."""
    labels = table_labels(scenario.tables)
    return [*scenario.warnings, *input_warnings(problem, labels, scenario.label)]


def refuse_warnings(warnings: list[InputWarning], strict: bool) -> None:
    """Raise :class:`~hubopt.errors.StrictWarningsError` (exit 2) in strict mode."""
    if strict and warnings:
        raise StrictWarningsError(warnings)
