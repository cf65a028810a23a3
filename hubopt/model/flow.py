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
    """Family 2, per (h, p, t): stock[t-1] + sum inflow[t] - sum ship[t] - stock[t] = 0.

    stock[0] is the starting inventory, moved to the right-hand side: = -initial for t = 1.
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
    rhs = np.where(t == 1, -problem.initial_stock[h, p], 0.0)
    m.add_rows(
        "balance", n, np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), rhs, rhs
    )


def define_safety_stock(m: ModelAssembler, problem: ProblemData) -> None:
    """Family 3 (no pooling), per (h, p, t): stock[h,p,t] - z * sum_k sigma_k / d_k * ship[h,k,.] >= 0.

    ``sigma_k / d_k * ship`` is the std of the share of stream k that hub h serves, so the
    hub holds ``z`` standard deviations of the demand it serves in period t (units).
    """
    z = problem.policy.safety_stock.z
    streams = problem.streams
    if z <= 0 or not (streams["std"].to_numpy(float) > 0).any():
        return
    layout = layout_of(problem)
    n = layout.n_hub_product_periods
    k = problem.out_arcs["stream_idx"].to_numpy()
    ratio = streams["std"].to_numpy(float)[k] / streams["quantity"].to_numpy(float)[k]
    sh, sp_, st = arc_products_periods(problem)
    use = ratio > 0
    row = np.concatenate([np.arange(n), layout.hub_product_period(sh[use], sp_[use], st[use])])
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
