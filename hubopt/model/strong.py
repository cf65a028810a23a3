"""Valid inequalities that strengthen the LP relaxation without changing the MILP's plans.

Five parts, all implied by the families of :mod:`hubopt.model.flow` and
:mod:`hubopt.model.network` (so they never cut off a feasible plan):

- :func:`define_flow_bounds`: finite upper bounds on every flow column, so HiGHS's
  probing can derive implied bounds and implied-bound cuts;
- :func:`define_assigned_streams`: under single sourcing, a stream that must be served
  in full goes all through its assigned hub: ``sum_m ship[h,k,m] = d_k assign[h,r_k]``
  (the single-sourcing rows as equalities);
- :func:`define_cover`: one cover row per period, total open capacity >= the volume that
  must go through the hubs in that period;
- :func:`define_reach`: one reach row per stream, the stream's demand row minus its
  per-(hub, stream) linking rows (served only as far as a hub within reach is open);
- :func:`strong_rows`: the per-(hub, stream) and per-(pickup point, stream) linking rows
  ``sum_m ship[h,k,m] <= u_hk * open[h,t_k]`` as a sparse matrix. They are candidates for
  the root cut loop (:mod:`hubopt.solvers.rootcuts`), which adds only the ones the LP
  violates; the model itself keeps the compact linking rows chosen by
  :func:`hubopt.model.network.linking_groups`.

The elastic model of :mod:`hubopt.diagnose.elastic` relaxes capacities and demand with
slack columns, so it is built without these (``build_model(..., strengthen=False)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hubopt.data.problem import ProblemData
from hubopt.model.footprint import optional_demand
from hubopt.model.index import inflow_keys, layout_of
from hubopt.model.matrix import MatrixModel, ModelAssembler
from hubopt.model.network import (
    inflow_bound,
    linking_groups,
    pickup_point_periods,
    single_sourcing_pairs,
    stock_bound,
)
from hubopt.model.variables import open_bounds, unmet_streams


def _per_unit(volume: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """``limit / volume`` (units from m3), inf where the volume is zero or the limit is inf."""
    out = np.full(len(volume), np.inf)
    ok = (volume > 0) & np.isfinite(limit)
    out[ok] = limit[ok] / volume[ok]
    return out


def hub_period_capacity(problem: ProblemData) -> np.ndarray:
    """(hubs x periods) most m3 a hub can put through in a period: base + peak capacity
    (inf for an unlimited hub)."""
    return problem.throughput_ht + problem.peak_ht


def arc_unit_cap(problem: ProblemData) -> np.ndarray:
    """Per outbound arc: the most units its hub can put through in the stream's period,
    counting the returns that come back through it (family 4a: volume x (1 + return rate))."""
    arcs, streams = problem.out_arcs, problem.streams
    k = arcs["stream_idx"].to_numpy()
    hub = arcs["hub_idx"].to_numpy()
    period = streams["period"].to_numpy()[k]
    vol = problem.products["unit_volume"].to_numpy(float)[streams["product_idx"].to_numpy()[k]]
    per_unit = vol * (1.0 + arcs["return_rate"].to_numpy(float))
    return _per_unit(per_unit, hub_period_capacity(problem)[hub, period - 1])


def define_flow_bounds(m: ModelAssembler, problem: ProblemData) -> None:
    """Finite upper bounds on the flow columns, each implied by a row of the model.

    - ``ship[a] <= min(d_k, (capacity_ht + peak_ht) / (volume_p (1 + return_rate_a)))``
      (demand row and throughput row of its hub and period);
    - ``inflow <= min(supply capacity, M_h / volume_p)`` (supply row and the inflow
      linking row, M_h from :func:`hubopt.model.network.inflow_bound`);
    - ``stock[h,p,t] <= S_h / volume_p`` (storage row, S_h from
      :func:`hubopt.model.network.stock_bound`).
    """
    m.tighten_upper("ship", arc_unit_cap(problem))
    vol = problem.products["unit_volume"].to_numpy(float)
    ih, ip, _ = inflow_keys(problem)
    limit = _per_unit(vol[ip], inflow_bound(problem)[ih])
    if not problem.free_replenishment and len(problem.supply):
        supply = problem.supply["capacity"].to_numpy(float)
        limit = np.minimum(limit, supply[problem.in_arcs["supply_idx"].to_numpy(int)])
    m.tighten_upper("inflow", limit)
    h, p, _ = layout_of(problem).grid()
    m.tighten_upper("stock", _per_unit(vol[p], stock_bound(problem)[h]))


def define_assigned_streams(m: ModelAssembler, problem: ProblemData) -> None:
    """Single-sourcing rows ``sum_m ship[h,k,m] - d_k assign[h,r_k] <= 0`` as equalities for
    the streams that must be served in full (no lost-sale penalty, not a footprint
    campaign's incremental stream).

    Implied: such a stream's demand row says sum_h ship[h,k] = d_k, and its region's
    assignment row sum_h assign[h,r] = 1, so sum_h (d_k assign[h,r] - ship[h,k]) = 0 with
    every term >= 0 (hubs without an arc to k included: their assign is then 0). As
    equalities HiGHS's presolve substitutes ``ship`` by ``d_k assign`` and the model is
    the textbook single-source one (x_hr <= y_h): measured on Holmberg p30 (one thread),
    17.6 s to the proven optimum instead of 93.5 s, as fast as the textbook matrix
    (17.5 s).
    """
    if not problem.policy.single_sourcing or "single_sourcing" not in m.row_blocks:
        return
    _, pk, _ = single_sourcing_pairs(problem)
    partial = np.zeros(len(problem.streams), dtype=bool)
    partial[unmet_streams(problem)] = True
    partial[optional_demand(problem)[0]] = True
    m.raise_lower("single_sourcing", np.flatnonzero(~partial[pk]), 0.0)


def stream_through_volume(problem: ProblemData) -> np.ndarray:
    """Per stream: the fewest m3 of hub throughput one unit served takes
    (volume x (1 + the smallest return rate of its arcs)); 0 for a stream without arcs."""
    arcs, streams = problem.out_arcs, problem.streams
    k = arcs["stream_idx"].to_numpy()
    lowest = np.full(len(streams), np.inf)
    np.minimum.at(lowest, k, arcs["return_rate"].to_numpy(float))
    vol = problem.products["unit_volume"].to_numpy(float)[streams["product_idx"].to_numpy()]
    return np.where(np.isfinite(lowest), vol * (1.0 + lowest), 0.0)


def define_cover(m: ModelAssembler, problem: ProblemData) -> None:
    """Cover rows, per period t whose reachable hubs all have a finite capacity:

        sum_h (capacity_ht + peak_ht) open[h,t] + sum_k w_k unmet[k] >= sum_k w_k d_k

    over the hubs with an arc to a stream of t and the streams of t with arcs;
    w_k = volume x (1 + smallest return rate of its arcs), 0 for a footprint campaign's
    incremental streams (they exist only where included). The sum of the throughput rows
    (family 4a) and the demand rows (family 1): every unit served goes through an open
    hub, and lost sales (``unmet``, only for products with a lost-sale penalty) are the
    only way around it. The LP already implies it; branch and bound uses it for knapsack
    cover cuts and to prune hub sets that cannot carry the demand. Capacities are per hub
    (m3, all products together), so there is one row per period, not per product.

    Not added with pooled safety stock (:mod:`hubopt.pooling`): its outer-approximation
    loop re-solves the MIP and keeps the plan HiGHS returns; measured on a two-hub case
    (tests/test_model_capacity.py, pooled requirement), the extra row sent HiGHS down
    split-stream plans on which the loop did not converge in 50 rounds.
    """
    arcs, streams = problem.out_arcs, problem.streams
    safety = problem.policy.safety_stock
    if not len(arcs) or (safety.pooling and safety.z > 0):
        return
    layout = layout_of(problem)
    k = arcs["stream_idx"].to_numpy()
    hub = arcs["hub_idx"].to_numpy().astype(np.int64)
    period = streams["period"].to_numpy().astype(np.int64)
    cap = hub_period_capacity(problem)
    reach = np.unique(layout.hub_period(hub, period[k]))
    rh, rt = reach // problem.periods, reach % problem.periods + 1
    finite = np.ones(problem.periods, dtype=bool)
    finite[rt[~np.isfinite(cap[rh, rt - 1])] - 1] = False
    weight = stream_through_volume(problem)
    if "footprint_idx" in streams:
        # a footprint campaign's incremental units exist only where the region is included:
        # leave them out (the row still follows from the throughput and demand rows)
        weight = np.where(streams["footprint_idx"].to_numpy() >= 0, 0.0, weight)
    need = np.bincount(
        period - 1, weights=weight * streams["quantity"].to_numpy(float), minlength=problem.periods
    )
    rows = np.flatnonzero(finite & (need > 0))
    if not len(rows):
        return
    row_of = -np.ones(problem.periods, dtype=np.int64)
    row_of[rows] = np.arange(len(rows))
    use = row_of[rt - 1] >= 0
    lost = unmet_streams(problem)
    lost_row = row_of[period[lost] - 1]
    lost_use = (lost_row >= 0) & (weight[lost] > 0)
    m.add_rows(
        "cover",
        len(rows),
        np.concatenate([row_of[rt[use] - 1], lost_row[lost_use]]),
        np.concatenate(
            [
                m.column("open", reach[use]),
                m.column("unmet", np.flatnonzero(lost_use)),
            ]
        ),
        np.concatenate([cap[rh[use], rt[use] - 1], weight[lost[lost_use]]]),
        need[rows],
        np.inf,
    )


def define_reach(m: ModelAssembler, problem: ProblemData) -> None:
    """Reach rows, one per stream k with arcs (its period t, its hubs N(k)):

        unmet[k] - d_k include[f_k] + sum_{h in N(k)} u_hk open[h,t] >= rhs_k

    (``unmet`` only where the product has a lost-sale penalty, ``include`` only for a
    footprint campaign's incremental stream, whose ``rhs_k`` is 0; else ``rhs_k = d_k``).
    It is the stream's demand row minus its per-(hub, stream) linking rows of
    :func:`strong_rows` (``u_hk`` as there), so it is implied by them: a stream is served
    only as far as hubs that can reach it within its window are open, and the rest is a
    lost sale. The compact linking rows (``policy.linking`` per region or per hub, the
    default above 30 000 hub-stream pairs) do not imply it: they let a region be served by
    a sliver of a hub's ``open`` (its used share of the capacity), so the LP opens hubs
    fractionally where a plan must open one of the few within reach. With the per-stream
    linking rows in the model there are no reach rows (they would repeat them).

    Measured (2 Dec 2026, one thread, dual simplex): the Korea demo's LP relaxation
    rises from 18.452 to 18.638 bn KRW (+1.0 %, 17 313 rows) and with every
    per-(hub, region, period) row too from 18.640 to 18.688 bn. Rows that every plan
    keeps (a hub within reach is always open) are left out, and of the rows without
    ``unmet`` or ``include`` (every unit must be served) one per distinct
    ``sum_h (u_hk / d_k) open[h,t] >= 1`` is kept (on OR-Library instances, where every
    hub reaches every customer, that is one row).
    """
    arcs, streams = problem.out_arcs, problem.streams
    if not len(arcs) or linking_groups(problem)[1] == "stream":
        return  # the per-stream linking rows of the model imply them already
    layout = layout_of(problem)
    n = len(streams)
    quantity = streams["quantity"].to_numpy(float)
    period = streams["period"].to_numpy().astype(np.int64)
    ph, pk, _, u = pair_limits(problem)
    open_cell = layout.hub_period(ph, period[pk])
    open_lb, _ = open_bounds(problem)
    rhs = quantity.copy()
    k_opt, f_opt = optional_demand(problem)
    rhs[k_opt] = 0.0
    # a row that the open hubs it must keep already satisfy cuts nothing
    sure = np.bincount(pk, weights=u * open_lb[open_cell], minlength=n)
    sure[k_opt] -= quantity[k_opt]  # at include = 1
    lost = unmet_streams(problem)
    loose = np.zeros(n, dtype=bool)  # rows with a column besides open
    loose[lost] = True
    loose[k_opt] = True
    has_arc = np.bincount(pk, minlength=n) > 0
    keep = has_arc & (sure < rhs - 1e-9 * np.maximum(rhs, 1.0))
    firm = np.flatnonzero(keep & ~loose)
    if len(firm):
        keep[firm] = False
        keep[_distinct_rows(firm, pk, open_cell, u / np.maximum(rhs[pk], 1e-300))] = True
    rows = np.flatnonzero(keep)
    if not len(rows):
        return
    row_of = -np.ones(n, dtype=np.int64)
    row_of[rows] = np.arange(len(rows))
    use = row_of[pk] >= 0
    lost_use = row_of[lost] >= 0
    opt_use = row_of[k_opt] >= 0
    m.add_rows(
        "reach",
        len(rows),
        np.concatenate([row_of[pk[use]], row_of[lost[lost_use]], row_of[k_opt[opt_use]]]),
        np.concatenate(
            [
                m.column("open", open_cell[use]),
                m.column("unmet", np.flatnonzero(lost_use)),
                m.column("include", f_opt[opt_use]),
            ]
        ),
        np.concatenate([u[use], np.ones(int(lost_use.sum())), -quantity[k_opt[opt_use]]]),
        rhs[rows],
        np.inf,
    )


def _distinct_rows(
    streams: np.ndarray, pk: np.ndarray, cell: np.ndarray, share: np.ndarray
) -> np.ndarray:
    """Of ``streams`` (sorted, each with a pair), one per distinct row
    ``sum_h share open[cell] >= 1`` (the pairs given by their stream ``pk``, ``open`` cell
    and coefficient ``share``)."""
    chosen = np.zeros(int(pk.max()) + 1, dtype=bool)
    chosen[streams] = True
    at = np.flatnonzero(chosen[pk])
    at = at[np.argsort(pk[at], kind="stable")]
    bounds = np.searchsorted(pk[at], streams)
    ends = np.append(bounds[1:], len(at))
    seen: dict[bytes, int] = {}
    for k, lo, hi in zip(streams, bounds, ends, strict=True):
        part = at[lo:hi]
        key = cell[part].tobytes() + np.round(share[part], 12).tobytes()
        seen.setdefault(key, int(k))
    return np.fromiter(seen.values(), dtype=np.int64, count=len(seen))


@dataclass(frozen=True)
class StrongRows:
    """Candidate rows ``lo <= A x <= hi`` for the root cut loop, one per (hub, stream) and
    (pickup point, stream) pair; ``kind`` names the family of each row."""

    A: sp.csr_matrix
    lo: np.ndarray
    hi: np.ndarray
    kind: np.ndarray

    @property
    def n_rows(self) -> int:
        """Number of candidate rows."""
        return int(self.A.shape[0])


def hub_stream_pairs(problem: ProblemData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (hub, stream) pairs with arcs, sorted: their hubs, their streams, and
    per outbound arc the position of its pair."""
    arcs = problem.out_arcs
    n_streams = max(len(problem.streams), 1)
    k = arcs["stream_idx"].to_numpy().astype(np.int64)
    hub = arcs["hub_idx"].to_numpy().astype(np.int64)
    keys, pair = np.unique(hub * n_streams + k, return_inverse=True)
    return keys // n_streams, keys % n_streams, pair.ravel()


def pair_limits(problem: ProblemData) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`hub_stream_pairs` and per pair ``u_hk = min(d_k, the hub's capacity in units
    in the stream's period)`` (the smallest over the pair's arcs): the most the pair can
    carry, the coefficient of ``open`` in its strong row and in the stream's reach row."""
    ph, pk, pair = hub_stream_pairs(problem)
    cap = np.full(len(ph), np.inf)
    np.minimum.at(cap, pair, arc_unit_cap(problem))
    return ph, pk, pair, np.minimum(problem.streams["quantity"].to_numpy(float)[pk], cap)


def region_rows(problem: ProblemData, model: MatrixModel) -> StrongRows:
    """The per-(hub, stream) rows of :func:`strong_rows` summed per (hub, region, period)
    (``sum ship[h, streams of r in t] - sum_k u_hk open[h,t] <= 0``, valid as a sum of
    valid rows, weaker than its parts); pickup rows as they are.

    Measured on the Korea demo (quiet machine): 14 862 candidates instead of 103 178; the
    root cut loop on them raises the LP bound by 1.0 % in 90 s, where the per-stream rows
    need 212 s for their 1.5 % and reach only 0.3 % in the first 30 s (docs/solvers.md).
    """
    rows = strong_rows(problem, model)
    per_stream = np.flatnonzero(rows.kind == "hub_stream")
    ph, pk, _ = hub_stream_pairs(problem)
    streams = problem.streams
    region = streams["region_idx"].to_numpy().astype(np.int64)[pk]
    period = streams["period"].to_numpy().astype(np.int64)[pk]
    group = (ph * max(len(problem.regions), 1) + region) * (problem.periods + 1) + period
    _, which = np.unique(group, return_inverse=True)
    which = which.ravel()
    n = int(which.max()) + 1 if len(which) else 0
    sums = sp.csr_matrix(
        (np.ones(len(which)), (which, np.arange(len(which)))), shape=(n, len(per_stream))
    )
    rest = np.flatnonzero(rows.kind != "hub_stream")
    A = sp.vstack([sums @ rows.A[per_stream], rows.A[rest]], format="csr")
    return StrongRows(
        A,
        np.full(A.shape[0], -np.inf),
        np.zeros(A.shape[0]),
        np.concatenate([np.full(n, "hub_region"), rows.kind[rest]]),
    )


def strong_rows(problem: ProblemData, model: MatrixModel) -> StrongRows:
    """The strong linking rows of ``model`` (columns as in ``model``).

    Per (hub h, stream k) with arcs: ``sum_m ship[h,k,m] - u_hk open[h,t_k] <= 0`` with
    ``u_hk = min(d_k, (capacity_ht + peak_ht) / (volume_p (1 + r)))``, r the smallest
    return rate of the pair's arcs: the demand row caps the flow at d_k and the throughput
    row at the hub's capacity, and both vanish with the hub closed.

    Per (pickup point q, stream k): ``sum ship via q - min(d_k, capacity_q) pickup_open[q,t_k]
    <= 0`` (family 13 per stream instead of per period).
    """
    arcs, streams = problem.out_arcs, problem.streams
    layout = layout_of(problem)
    n_streams = max(len(streams), 1)
    k = arcs["stream_idx"].to_numpy().astype(np.int64)
    quantity = streams["quantity"].to_numpy(float)
    period = streams["period"].to_numpy().astype(np.int64)
    ph, pk, pair, u = pair_limits(problem)
    n = len(ph)
    rows = [pair, np.arange(n)]
    cols = [
        model.var_blocks["ship"].start + np.arange(len(arcs)),
        model.var_blocks["open"].start + layout.hub_period(ph, period[pk]),
    ]
    vals = [np.ones(len(arcs)), -u]
    kinds = [np.full(n, "hub_stream")]
    if "pickup_open" in model.var_blocks:
        arc, key, _ = pickup_point_periods(problem)
        q = key // problem.periods
        qkeys, qpair = np.unique(q * n_streams + k[arc], return_inverse=True)
        qpair = qpair.ravel()
        qq, qk = qkeys // n_streams, qkeys % n_streams
        size = np.minimum(quantity[qk], problem.pickups["capacity"].to_numpy(float)[qq])
        nq = len(qkeys)
        rows += [n + qpair, n + np.arange(nq)]
        cols += [
            model.var_blocks["ship"].start + arc,
            model.var_blocks["pickup_open"].start + qq * problem.periods + period[qk] - 1,
        ]
        vals += [np.ones(len(arc)), -size]
        kinds.append(np.full(nq, "pickup_stream"))
        n += nq
    A = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n, model.n_vars),
    )
    A.sum_duplicates()
    return StrongRows(A, np.full(n, -np.inf), np.zeros(n), np.concatenate(kinds))
