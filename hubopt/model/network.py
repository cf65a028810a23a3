"""Hub families: throughput and storage (4), linking (5), network rules (8),
single sourcing (9) and the carbon cap (10)."""

from __future__ import annotations

import numpy as np

from hubopt.data.problem import ProblemData
from hubopt.model.index import arc_products_periods, inflow_keys, layout_of
from hubopt.model.matrix import ModelAssembler
from hubopt.model.variables import assign_pairs, peak_hub_periods


def define_throughput(m: ModelAssembler, problem: ProblemData) -> None:
    """Family 4a, per (h, t) with finite capacity (m3):
    sum volume_p * (1 + return_rate_k) * ship - capacity_ht * open[h,t] - peak[h,t] <= 0
    (returns come back through the hub that delivered them, family 11), and family 12,
    per (h, t) with peak capacity: peak[h,t] - peak_capacity_ht * open[h,t] <= 0.

    ``capacity_ht`` and ``peak_capacity_ht`` are the hubs' columns with the
    ``hub_capacity`` overrides; ``peak`` costs ``peak_cost_per_m3``.
    """
    layout = layout_of(problem)
    cap = problem.throughput_ht.ravel()
    keep_hp = np.flatnonzero(np.isfinite(cap))
    if not len(keep_hp):
        return
    sh, sp_, st = arc_products_periods(problem)
    row_of = -np.ones(layout.n_hub_periods, dtype=np.int64)
    row_of[keep_hp] = np.arange(len(keep_hp))
    r = row_of[layout.hub_period(sh, st)]
    use = r >= 0
    # returned units come back through the delivering hub in the same period (family 11)
    rate = problem.out_arcs["return_rate"].to_numpy(float)[use]
    vol = problem.products["unit_volume"].to_numpy(float)[sp_[use]] * (1.0 + rate)
    peak_hp = peak_hub_periods(problem)
    row = np.concatenate([r[use], np.arange(len(keep_hp)), row_of[peak_hp]])
    col = np.concatenate(
        [
            m.column("ship", np.flatnonzero(use)),
            m.column("open", keep_hp),
            m.column("peak", np.arange(len(peak_hp))) if len(peak_hp) else np.zeros(0, int),
        ]
    )
    val = np.concatenate([vol, -cap[keep_hp], -np.ones(len(peak_hp))])
    m.add_rows("throughput", len(keep_hp), row, col, val, -np.inf, 0.0)
    if len(peak_hp):
        n = len(peak_hp)
        m.add_rows(
            "peak_linking",
            n,
            np.concatenate([np.arange(n), np.arange(n)]),
            np.concatenate([m.column("peak", np.arange(n)), m.column("open", peak_hp)]),
            np.concatenate([np.ones(n), -problem.peak_ht.ravel()[peak_hp]]),
            -np.inf,
            0.0,
        )


def volume_bound(problem: ProblemData) -> float:
    """Most volume any hub can usefully take in or hold: all demand, all starting stock and
    all safety stock of the horizon (m3). A valid big-M, never binding on its own."""
    vol = problem.products["unit_volume"].to_numpy(float)
    streams = problem.streams
    per_unit = vol[streams["product_idx"].to_numpy()]
    demand_volume = float((streams["quantity"].to_numpy(float) * per_unit).sum())
    safety_volume = problem.policy.safety_stock.z * float(
        (streams["std"].to_numpy(float) * per_unit).sum()
    )
    start_volume = float((problem.initial_stock * vol[None, :]).sum())
    return demand_volume + safety_volume + start_volume + 1.0


def stock_bound(problem: ProblemData) -> np.ndarray:
    """Per hub: the most volume it can hold (storage capacity, else :func:`volume_bound`)."""
    storage = problem.hubs["storage_capacity"].to_numpy(float)
    return np.where(np.isfinite(storage), storage, volume_bound(problem))


def inflow_bound(problem: ProblemData) -> np.ndarray:
    """Per hub: the most volume it can take in per period.

    inflow[t] = shipped[t] + stock[t] - stock[t-1] <= throughput + storage when both are
    finite (throughput: the largest base + peak capacity over the periods); otherwise
    :func:`volume_bound`.
    """
    through = (problem.throughput_ht + problem.peak_ht).max(axis=1, initial=0.0)
    both = problem.hubs["storage_capacity"].to_numpy(float) + through
    return np.minimum(both, volume_bound(problem))


def define_storage(m: ModelAssembler, problem: ProblemData) -> None:
    """Family 4b, per (h, t): sum_p volume_p * stock[h,p,t] - S_h * open[h,t] <= 0 (m3).

    S_h is the storage capacity, or :func:`stock_bound` when none is given, so a closed
    hub holds no stock (and a hub holding starting stock is open in period 1).
    """
    layout = layout_of(problem)
    h, p, t = layout.grid()
    vol = problem.products["unit_volume"].to_numpy(float)
    bound = stock_bound(problem)
    n = layout.n_hub_periods
    hp = np.arange(n)
    row = np.concatenate([layout.hub_period(h, t), hp])
    col = np.concatenate(
        [m.column("stock", np.arange(layout.n_hub_product_periods)), m.column("open", hp)]
    )
    val = np.concatenate([np.maximum(vol[p], 1e-9), -np.repeat(bound, problem.periods)])
    m.add_rows("storage", n, row, col, val, -np.inf, 0.0)


STRONG_LINKING_MAX_PAIRS = 30_000


def linking_groups(problem: ProblemData) -> tuple[np.ndarray, str]:
    """Group id of every stream for the linking rows, and the mode used.

    ``policy.linking``: ``stream`` gives each stream its own group (the strong form);
    ``region`` groups the streams of one region and period; ``hub`` groups all streams
    of a period (one row per hub and period); ``auto`` uses the strong form up to
    30 000 hub-stream pairs and ``hub`` above. Measured on the Korea scenario (103 000
    pairs): with the strong or region form HiGHS could not finish the root LP in 120 s;
    with the hub form the root LP takes seconds and its bound is within ~1 % of the
    strong form's, because the throughput-capacity rows already link most hubs
    (docs/solvers.md).
    """
    streams = problem.streams
    mode = problem.policy.linking
    if mode == "auto":
        arcs = problem.out_arcs
        pairs = len(
            np.unique(
                arcs["hub_idx"].to_numpy().astype(np.int64) * len(streams)
                + arcs["stream_idx"].to_numpy()
            )
        )
        mode = "stream" if pairs <= STRONG_LINKING_MAX_PAIRS else "hub"
    if mode == "stream":
        return np.arange(len(streams)), mode
    period = streams["period"].to_numpy().astype(np.int64)
    key = (
        period
        if mode == "hub"
        else streams["region_idx"].to_numpy().astype(np.int64) * (problem.periods + 1) + period
    )
    return np.unique(key, return_inverse=True)[1].ravel(), mode


def define_linking(m: ModelAssembler, problem: ProblemData) -> None:
    """Family 5, per (hub h, group g of streams) with arcs: sum ship[h,k,m] - D_hg * open[h,t_g] <= 0.

    D_hg is the demand (units) of the streams of g that hub h can serve. A group is one
    stream (the strong form, D = d_k), or one region and period, or one period; see
    :func:`linking_groups`. Inflow is linked too, per (h, t):
    sum volume * inflow - M_h * open[h,t] <= 0, with M_h from :func:`inflow_bound`.
    """
    layout = layout_of(problem)
    arcs = problem.out_arcs
    streams = problem.streams
    group, _ = linking_groups(problem)
    n_groups = int(group.max()) + 1 if len(group) else 1
    group_period = np.zeros(n_groups, dtype=np.int64)
    group_period[group] = streams["period"].to_numpy()
    k = arcs["stream_idx"].to_numpy()
    h = arcs["hub_idx"].to_numpy().astype(np.int64)
    hub_stream = np.unique(h * len(streams) + k)  # each reachable (hub, stream) once
    pair_hub, pair_stream = hub_stream // len(streams), hub_stream % len(streams)
    row_keys, pair_row = np.unique(pair_hub * n_groups + group[pair_stream], return_inverse=True)
    units = np.bincount(
        pair_row.ravel(),
        weights=streams["quantity"].to_numpy(float)[pair_stream],
        minlength=len(row_keys),
    )
    arc_row = np.searchsorted(row_keys, h * n_groups + group[k])
    rh, rg = row_keys // n_groups, row_keys % n_groups
    n = len(row_keys)
    row = np.concatenate([arc_row, np.arange(n)])
    col = np.concatenate(
        [
            m.column("ship", np.arange(len(arcs))),
            m.column("open", layout.hub_period(rh, group_period[rg])),
        ]
    )
    val = np.concatenate([np.ones(len(arcs)), -units])
    m.add_rows("linking", n, row, col, val, -np.inf, 0.0)
    ih, ip, it = inflow_keys(problem)
    vol = problem.products["unit_volume"].to_numpy(float)
    big = inflow_bound(problem)
    hp = np.arange(layout.n_hub_periods)
    row = np.concatenate([layout.hub_period(ih, it), hp])
    col = np.concatenate([m.column("inflow", np.arange(len(ih))), m.column("open", hp)])
    val = np.concatenate([np.maximum(vol[ip], 1e-9), -np.repeat(big, problem.periods)])
    m.add_rows("inflow_linking", layout.n_hub_periods, row, col, val, -np.inf, 0.0)


def define_hub_count(m: ModelAssembler, problem: ProblemData) -> None:
    """Family 8a, per period: min_open_hubs <= sum_h open[h,t] <= max_open_hubs."""
    policy = problem.policy
    if policy.min_open_hubs == 0 and policy.max_open_hubs is None:
        return
    layout = layout_of(problem)
    h, t = np.meshgrid(np.arange(problem.n_hubs), np.arange(1, problem.periods + 1), indexing="ij")
    hi = np.inf if policy.max_open_hubs is None else float(policy.max_open_hubs)
    m.add_rows(
        "hub_count",
        problem.periods,
        t.ravel() - 1,
        m.column("open", layout.hub_period(h.ravel(), t.ravel())),
        np.ones(h.size),
        float(policy.min_open_hubs),
        hi,
    )


def define_events(m: ModelAssembler, problem: ProblemData) -> None:
    """Family 8b: opening events, closing events, and no closing unless allowed.

    opened[h,t] - open[h,t] + open[h,t-1] >= 0; with closing allowed,
    closed[h,t] + open[h,t] - open[h,t-1] >= 0; otherwise open[h,t] - open[h,t-1] >= 0.
    open[h,0] is 1 for existing hubs and 0 otherwise (moved to the right-hand side).
    """
    layout = layout_of(problem)
    hh, tt = np.meshgrid(
        np.arange(problem.n_hubs), np.arange(1, problem.periods + 1), indexing="ij"
    )
    h, t = hh.ravel(), tt.ravel()
    n = len(h)
    own = layout.hub_period(h, t)
    later = t > 1
    prev = layout.hub_period(h[later], t[later] - 1)
    existing = (problem.hubs["status"].to_numpy() == "existing")[h]
    start = np.where((t == 1) & existing, 1.0, 0.0)
    # opened - open[t] + open[t-1] >= 0  ->  for t=1: opened - open >= -open[0]
    row = np.concatenate([np.arange(n), np.arange(n), np.flatnonzero(later)])
    col = np.concatenate([m.column("opened", own), m.column("open", own), m.column("open", prev)])
    val = np.concatenate([np.ones(n), -np.ones(n), np.ones(len(prev))])
    m.add_rows("opening", n, row, col, val, -start, np.inf)
    if problem.policy.allow_closing:
        col = np.concatenate(
            [m.column("closed", own), m.column("open", own), m.column("open", prev)]
        )
        val = np.concatenate([np.ones(n), np.ones(n), -np.ones(len(prev))])
        m.add_rows("closing", n, row, col, val, start, np.inf)
    else:
        row = np.concatenate([np.flatnonzero(later), np.flatnonzero(later)])
        col = np.concatenate([m.column("open", own[later]), m.column("open", prev)])
        val = np.concatenate([np.ones(len(prev)), -np.ones(len(prev))])
        # rows are indexed by (h, t>1); compact them
        compact = -np.ones(n, dtype=np.int64)
        compact[later] = np.arange(int(later.sum()))
        m.add_rows("no_closing", int(later.sum()), compact[row], col, val, 0.0, np.inf)


def define_budget(m: ModelAssembler, problem: ProblemData) -> None:
    """Family 8c: fixed + opening + closing cost over the horizon <= fixed_cost_budget."""
    budget = problem.policy.fixed_cost_budget
    if budget is None:
        return
    blocks = ["open", "opened"] + (["closed"] if problem.policy.allow_closing else [])
    cols, vals = [], []
    for name in blocks:
        sl = m.var_blocks[name]
        cols.append(np.arange(sl.start, sl.stop))
        vals.append(m.costs(name))
    col = np.concatenate(cols)
    m.add_rows(
        "budget", 1, np.zeros(len(col), dtype=np.int64), col, np.concatenate(vals), -np.inf, budget
    )


def define_single_sourcing(m: ModelAssembler, problem: ProblemData) -> None:
    """Family 9: sum_h assign[h,r] = 1 per region some hub can reach; ship[h,k,.] <= d_k * assign[h,r_k].

    Regions no hub can reach get no row: their demand goes unmet (or the scenario is
    infeasible for products without a lost-sale penalty, which the demand rows show).
    """
    if not problem.policy.single_sourcing:
        return
    hubs, regions = assign_pairs(problem)
    n_regions = len(problem.regions)
    reached = np.unique(regions)
    row_of = -np.ones(n_regions, dtype=np.int64)
    row_of[reached] = np.arange(len(reached))
    m.add_rows(
        "assign_one",
        len(reached),
        row_of[regions],
        m.column("assign", np.arange(len(regions))),
        np.ones(len(regions)),
        1.0,
        1.0,
    )
    arcs = problem.out_arcs
    streams = problem.streams
    ph, pk, pair_row = single_sourcing_pairs(problem)
    assign_index = np.searchsorted(
        hubs * n_regions + regions, ph * n_regions + streams["region_idx"].to_numpy()[pk]
    )
    n = len(pk)
    row = np.concatenate([pair_row, np.arange(n)])
    col = np.concatenate([m.column("ship", np.arange(len(arcs))), m.column("assign", assign_index)])
    val = np.concatenate([np.ones(len(arcs)), -streams["quantity"].to_numpy(float)[pk]])
    m.add_rows("single_sourcing", n, row, col, val, -np.inf, 0.0)


def single_sourcing_pairs(problem: ProblemData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (hub, stream) pairs of the single-sourcing rows, in row order, and each outbound
    arc's row."""
    arcs, n = problem.out_arcs, len(problem.streams)
    pair_key = arcs["hub_idx"].to_numpy().astype(np.int64) * n + arcs["stream_idx"].to_numpy()
    unique_keys, pair_row = np.unique(pair_key, return_inverse=True)
    return unique_keys // n, unique_keys % n, pair_row


def define_carbon_cap(m: ModelAssembler, problem: ProblemData) -> None:
    """Family 10: sum CO2 (t) of every shipment and inflow <= cap_t."""
    cap = problem.policy.carbon.cap_t
    if cap is None:
        return
    ship_co2 = problem.out_arcs["co2_t"].to_numpy(float)
    in_co2 = np.zeros(0) if problem.free_replenishment else problem.in_arcs["co2_t"].to_numpy(float)
    col = np.concatenate(
        [m.column("ship", np.arange(len(ship_co2))), m.column("inflow", np.arange(len(in_co2)))]
    )
    m.add_rows(
        "carbon_cap",
        1,
        np.zeros(len(col), dtype=np.int64),
        col,
        np.concatenate([ship_co2, in_co2]),
        -np.inf,
        cap,
    )


def pickup_point_periods(problem: ProblemData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the pickup arcs: their arc positions, and (pickup point, period) row keys
    ``q * T + t - 1`` per arc; plus the sorted distinct keys."""
    arcs = problem.out_arcs
    q = arcs["pickup_idx"].to_numpy().astype(np.int64)
    arc = np.flatnonzero(q >= 0)
    period = problem.streams["period"].to_numpy()[arcs["stream_idx"].to_numpy()[arc]]
    key = q[arc] * problem.periods + period - 1
    return arc, key, np.unique(key)


def define_pickup(m: ModelAssembler, problem: ProblemData) -> None:
    """Family 13, per (pickup point q, period t) with arcs:
    sum ship[h,k,m via q] - min(capacity_q, D_qt) * pickup_open[q,t] <= 0 (units).

    D_qt is the pickup demand of period t whose customers reach q: the row links the
    flow to an open point and caps it at its capacity.
    """
    if not len(problem.pickups):
        return
    arc, key, keys = pickup_point_periods(problem)
    if not len(keys):
        return
    streams = problem.streams
    k = problem.out_arcs["stream_idx"].to_numpy()[arc].astype(np.int64)
    row = np.searchsorted(keys, key)
    _, first = np.unique(row * len(streams) + k, return_index=True)
    reach_units = np.bincount(
        row[first], weights=streams["quantity"].to_numpy(float)[k[first]], minlength=len(keys)
    )
    cap = problem.pickups["capacity"].to_numpy(float)[keys // problem.periods]
    n = len(keys)
    m.add_rows(
        "pickup",
        n,
        np.concatenate([row, np.arange(n)]),
        np.concatenate([m.column("ship", arc), m.column("pickup_open", keys)]),
        np.concatenate([np.ones(len(arc)), -np.minimum(cap, reach_units)]),
        -np.inf,
        0.0,
    )
