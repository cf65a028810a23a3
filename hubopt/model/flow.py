"""Flow families: demand (1), stock balance (2), safety stock (3), supply (6), service (7)."""

from __future__ import annotations

import numpy as np

from hubopt.data.problem import ProblemData
from hubopt.model.footprint import optional_demand
from hubopt.model.index import arc_products_periods, inflow_keys, layout_of
from hubopt.model.matrix import ModelAssembler
from hubopt.model.variables import unmet_streams


def define_demand(m: ModelAssembler, problem: ProblemData) -> None:
    """Family 1, one row per stream k: sum_{h,m} ship[h,k,m] + unmet[k] = quantity_k (units).

    An incremental stream of a footprint candidate f reads
    sum ship + unmet - quantity_k * include[f] = 0 (family 14).
    """
    arcs = problem.out_arcs
    n = len(problem.streams)
    k_unmet = unmet_streams(problem)
    k_opt, f_opt = optional_demand(problem)
    qty = problem.streams["quantity"].to_numpy(float)
    row = np.concatenate([arcs["stream_idx"].to_numpy(), k_unmet, k_opt])
    col = np.concatenate(
        [
            m.column("ship", np.arange(len(arcs))),
            m.column("unmet", np.arange(len(k_unmet))),
            m.column("include", f_opt),
        ]
    )
    val = np.concatenate([np.ones(len(arcs) + len(k_unmet)), -qty[k_opt]])
    rhs = qty.copy()
    rhs[k_opt] = 0.0
    m.add_rows("demand", n, row, col, val, rhs, rhs)


def define_balance(m: ModelAssembler, problem: ProblemData) -> None:
    """Family 2, per (h, p, t):
    stock[t-1] + sum inflow[t] + sum restock_k * return_rate_k * ship[t-1] - sum ship[t]
    - stock[t] = 0.

    stock[0] is the starting inventory, moved to the right-hand side: = -initial for t = 1.
    Family 11: a share ``restock_share`` of the units returned to a hub in period t - 1
    re-enters its stock in period t (returns of the last period fall outside the horizon).
    """
    layout = layout_of(problem)
    h, p, t = layout.grid()
    n = layout.n_hub_product_periods
    own = np.arange(n)
    prev = own[t > 1]
    ih, ip, it = inflow_keys(problem)
    sh, sp_, st = arc_products_periods(problem)
    rows = [
        own,
        prev,
        layout.hub_product_period(ih, ip, it),
        layout.hub_product_period(sh, sp_, st),
    ]
    cols = [
        m.column("stock", own),
        m.column("stock", prev - 1),
        m.column("inflow", np.arange(len(ih))),
        m.column("ship", np.arange(len(sh))),
    ]
    vals = [-np.ones(n), np.ones(len(prev)), np.ones(len(ih)), -np.ones(len(sh))]
    streams = problem.streams
    k = problem.out_arcs["stream_idx"].to_numpy()
    back = (streams["return_rate"].to_numpy(float) * streams["restock_share"].to_numpy(float))[k]
    restock = np.flatnonzero((back > 0) & (st < problem.periods))
    rows.append(layout.hub_product_period(sh[restock], sp_[restock], st[restock] + 1))
    cols.append(m.column("ship", restock))
    vals.append(back[restock])
    rhs = np.where(t == 1, -problem.initial_stock[h, p], 0.0)
    m.add_rows(
        "balance", n, np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), rhs, rhs
    )


def safety_ratios(problem: ProblemData) -> np.ndarray:
    """Per outbound arc: sigma_k / d_k of its stream (the std per unit served)."""
    streams = problem.streams
    k = problem.out_arcs["stream_idx"].to_numpy()
    return streams["std"].to_numpy(float)[k] / streams["quantity"].to_numpy(float)[k]


def define_safety_stock(m: ModelAssembler, problem: ProblemData) -> None:
    """Family 3, per (h, p, t): stock[h,p,t] - z * sum_k g_k * ship[h,k,.] >= 0 (units).

    Without pooling g_k = sigma_k / d_k: ``sigma_k / d_k * ship`` is the std of the share of
    stream k that hub h serves, so the hub holds z standard deviations of each.

    With pooling the requirement is z * sqrt(sum_k (sigma_k / d_k * x_hk)^2) (x_hk = units
    of k served by h), a convex cone. These rows are its first outer-approximation cut,
    the tangent at x_hk = d_k (the hub serves every stream it reaches):
    g_k = (sigma_k / d_k) * sigma_k / sqrt(sum_j sigma_j^2), sum over the streams of
    (p, t) that h reaches. :mod:`hubopt.pooling` adds tangents at the plan's own shares
    and re-solves until the requirement holds within ``pooling_tolerance``.
    """
    z = problem.policy.safety_stock.z
    streams = problem.streams
    if z <= 0 or not (streams["std"].to_numpy(float) > 0).any():
        return
    layout = layout_of(problem)
    n = layout.n_hub_product_periods
    ratio = safety_ratios(problem)
    sh, sp_, st = arc_products_periods(problem)
    hpt = layout.hub_product_period(sh, sp_, st)
    if problem.policy.safety_stock.pooling:
        k = problem.out_arcs["stream_idx"].to_numpy()
        sigma = streams["std"].to_numpy(float)[k]
        # each reachable (hub, stream) once, whatever the number of modes
        _, first = np.unique(hpt.astype(np.int64) * len(streams) + k, return_index=True)
        norm = np.sqrt(np.bincount(hpt[first], weights=sigma[first] ** 2, minlength=n))
        ratio = ratio * np.divide(sigma, norm[hpt], out=np.zeros(len(hpt)), where=norm[hpt] > 0)
    use = ratio > 0
    row = np.concatenate([np.arange(n), hpt[use]])
    col = np.concatenate([m.column("stock", np.arange(n)), m.column("ship", np.flatnonzero(use))])
    val = np.concatenate([np.ones(n), -z * ratio[use]])
    m.add_rows("safety_stock", n, row, col, val, 0.0, np.inf)


def define_supply(m: ModelAssembler, problem: ProblemData) -> None:
    """Family 6, per supply row (source, product, period): sum_{h,m} inflow <= capacity (units)."""
    if problem.free_replenishment or not len(problem.supply):
        return
    cap = problem.supply["capacity"].to_numpy(float)
    finite = np.isfinite(cap)
    if not finite.any():
        return
    arcs = problem.in_arcs
    supply_row = -np.ones(len(cap), dtype=np.int64)
    supply_row[finite] = np.arange(finite.sum())
    r = supply_row[arcs["supply_idx"].to_numpy(int)]
    use = r >= 0
    m.add_rows(
        "supply",
        int(finite.sum()),
        r[use],
        m.column("inflow", np.flatnonzero(use)),
        np.ones(int(use.sum())),
        -np.inf,
        cap[finite],
    )


def define_service(m: ModelAssembler, problem: ProblemData) -> None:
    """Family 7, per campaign c with a service level: on-time units >= level x campaign units.

    An arc is on time when its transit hours are within the stream's window. Incremental
    streams of a footprint candidate f count only when included: their units move to the
    left-hand side as - level * q_k * include[f].
    """
    campaigns = problem.campaigns
    level = campaigns["service_level"].to_numpy(float) if len(campaigns) else np.zeros(0)
    active = np.flatnonzero(level > 0)
    if not len(active):
        return
    row_of = -np.ones(len(campaigns), dtype=np.int64)
    row_of[active] = np.arange(len(active))
    streams = problem.streams
    arcs = problem.out_arcs
    camp = streams["campaign_idx"].to_numpy()[arcs["stream_idx"].to_numpy()]
    on_time = ~arcs["late"].to_numpy(dtype=bool)
    r = np.where(camp >= 0, row_of[np.maximum(camp, 0)], -1)
    use = (r >= 0) & on_time
    fixed = (streams["campaign_idx"].to_numpy() >= 0) & ~streams["optional"].to_numpy(bool)
    units = np.bincount(
        streams["campaign_idx"].to_numpy()[fixed],
        weights=streams["quantity"].to_numpy(float)[fixed],
        minlength=len(campaigns),
    )
    fp = problem.footprint
    fp_row = row_of[fp["campaign_idx"].to_numpy(np.int64)]
    fp_use = fp_row >= 0
    fp_level = level[fp["campaign_idx"].to_numpy(np.int64)[fp_use]]
    m.add_rows(
        "service",
        len(active),
        np.concatenate([r[use], fp_row[fp_use]]),
        np.concatenate(
            [m.column("ship", np.flatnonzero(use)), m.column("include", np.flatnonzero(fp_use))]
        ),
        np.concatenate(
            [
                np.ones(int(use.sum())),
                -fp_level * fp["incremental_units"].to_numpy(float)[fp_use],
            ]
        ),
        level[active] * units[active],
        np.inf,
    )
