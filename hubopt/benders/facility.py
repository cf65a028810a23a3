"""The capacitated facility-location problem inside a single-period scenario: which
scenarios qualify (:func:`benders_scope`), their data as arrays (:class:`FacilityProblem`),
the knapsack (Lagrangian) cut of any demand duals (:func:`knapsack_cut`) and a plan that
satisfies the cover row (:func:`covering_plan`). The method: :mod:`hubopt.benders`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hubopt.data.problem import ProblemData
from hubopt.model.matrix import MatrixModel
from hubopt.model.network import STRONG_LINKING_MAX_PAIRS

# `auto` decomposes where the compact model drops its strong linking rows (above that
# many hub-stream pairs; hubopt.model.network): below, the compact model has the strong
# LP bound itself and solves OR-Library cap41-cap134 in under a second
AUTO_MIN_PAIRS = STRONG_LINKING_MAX_PAIRS + 1

ROW_FAMILIES = {
    "demand",
    "balance",
    "throughput",
    "storage",
    "linking",
    "inflow_linking",
    "opening",
    "closing",
    "no_closing",
}
VARIABLE_FAMILIES = {"open", "opened", "closed", "ship", "inflow", "stock", "unmet"}


@dataclass(frozen=True)
class FacilityProblem:
    """The CFLP inside a scenario (see the module docstring); hubs i, streams k."""

    fixed: np.ndarray  # per hub: fixed cost (+ opening cost; closing cost moved to offset)
    capacity: np.ndarray  # per hub, m3 (no capacity: all demand's m3)
    weight: np.ndarray  # per stream: m3 of hub throughput per unit delivered
    demand: np.ndarray  # per stream, units
    cost: np.ndarray  # hubs x streams: cost per unit shipped
    arc: np.ndarray  # hubs x streams: position of the arc in the ship block
    y_lo: np.ndarray
    y_hi: np.ndarray
    side_rows: sp.csr_matrix  # the model's rows on open[] alone, columns = hubs
    side_lo: np.ndarray
    side_hi: np.ndarray
    offset: float  # constant cost (the model's offset, closing costs of existing hubs)

    def allows(self, y: np.ndarray) -> bool:
        """Whether the 0/1 plan ``y`` meets the hubs' bounds and the side rows."""
        if (y < self.y_lo - 1e-9).any() or (y > self.y_hi + 1e-9).any():
            return False
        side = self.side_rows @ y
        return bool(((side >= self.side_lo - 1e-6) & (side <= self.side_hi + 1e-6)).all())

    @property
    def volume(self) -> float:
        """All demand in m3."""
        return float(self.weight @ self.demand)


def benders_scope(problem: ProblemData, model: MatrixModel) -> list[str]:
    """Why ``model`` is not a single-period facility-location problem (empty: it is)."""
    reasons: list[str] = []
    if problem.periods != 1:
        reasons.append(f"{problem.periods} periods (Benders handles one)")
    if not problem.free_replenishment:
        reasons.append("sources (inbound arcs)")
    if len(problem.pickups):
        reasons.append("pickup points")
    policy = problem.policy
    if policy.single_sourcing:
        reasons.append("single sourcing")
    if policy.carbon.cap_t is not None:
        reasons.append("a carbon cap")
    if (problem.peak_ht > 0).any():
        reasons.append("peak capacity")
    if np.abs(problem.initial_stock).sum() > 0:
        reasons.append("starting stock")
    if len(model.block(model.c, "unmet")):
        reasons.append("lost-sale penalties (unmet demand)")
    if (model.block(model.c, "stock") < 0).any() or model.block(model.c, "inflow").any():
        reasons.append("stock or replenishment costs")
    for name, cols in model.var_blocks.items():
        if name not in VARIABLE_FAMILIES and cols.stop > cols.start:
            reasons.append(f"the {name!r} variables")
    open_cols = model.var_blocks["open"]
    for name, rows in model.row_blocks.items():
        if name in ROW_FAMILIES or rows.stop == rows.start:
            continue
        block = model.A[rows]
        outside = (block.indices < open_cols.start) | (block.indices >= open_cols.stop)
        if outside.any():
            reasons.append(f"the {name!r} constraints")
    if reasons:
        return reasons
    arcs = problem.out_arcs
    m, n = problem.n_hubs, len(problem.streams)
    pair = arcs["hub_idx"].to_numpy().astype(np.int64) * n + arcs["stream_idx"].to_numpy()
    if len(pair) != m * n or len(np.unique(pair)) != m * n:
        reasons.append("not every hub serves every stream by exactly one arc")
        return reasons
    order = np.argsort(pair)
    weight = _arc_weights(problem)[order].reshape(m, n)
    if not (weight > 0).all():
        reasons.append("a product without unit volume (it uses no hub capacity)")
    elif np.ptp(weight, axis=0).max(initial=0.0) > 1e-9 * max(weight.max(initial=1.0), 1.0):
        reasons.append("throughput per unit differs between hubs for one stream")
    return reasons


def _arc_weights(problem: ProblemData) -> np.ndarray:
    """m3 of hub throughput per unit shipped on each arc (family 4a)."""
    arcs = problem.out_arcs
    product = problem.streams["product_idx"].to_numpy()[arcs["stream_idx"].to_numpy()]
    volume = problem.products["unit_volume"].to_numpy(float)[product]
    return volume * (1.0 + arcs["return_rate"].to_numpy(float))


def facility_problem(problem: ProblemData, model: MatrixModel) -> FacilityProblem:
    """The CFLP of an in-scope model (:func:`benders_scope` is empty)."""
    arcs = problem.out_arcs
    m, n = problem.n_hubs, len(problem.streams)
    pair = arcs["hub_idx"].to_numpy().astype(np.int64) * n + arcs["stream_idx"].to_numpy()
    arc = np.argsort(pair).reshape(m, n)
    ship_cost = model.block(model.c, "ship")
    weight = _arc_weights(problem)[arc[0]]
    demand = problem.streams["quantity"].to_numpy(float)
    volume = float(weight @ demand)
    capacity = np.minimum(problem.throughput_ht[:, 0], volume)
    hubs = problem.hubs
    existing = (hubs["status"].to_numpy() == "existing").astype(float)
    fixed = model.block(model.c, "open").copy()
    offset = float(model.offset)
    fixed += hubs["opening_cost"].to_numpy(float) * (1 - existing) * ("opened" in model.var_blocks)
    if "closed" in model.var_blocks:
        closing = hubs["closing_cost"].to_numpy(float) * existing
        fixed -= closing
        offset += float(closing.sum())
    open_cols = model.var_blocks["open"]
    side = [
        rows
        for name, rows in model.row_blocks.items()
        if name not in ROW_FAMILIES and rows.stop > rows.start
    ]
    if side:
        block = sp.vstack([model.A[rows] for rows in side]).tocsc()[:, open_cols].tocsr()
        lo = np.concatenate([model.row_lo[rows] for rows in side])
        hi = np.concatenate([model.row_hi[rows] for rows in side])
    else:
        block, lo, hi = sp.csr_matrix((0, m)), np.zeros(0), np.zeros(0)
    return FacilityProblem(
        fixed=fixed,
        capacity=capacity,
        weight=weight,
        demand=demand,
        cost=ship_cost[arc],
        arc=arc,
        y_lo=model.lb[open_cols].copy(),
        y_hi=model.ub[open_cols].copy(),
        side_rows=block,
        side_lo=lo,
        side_hi=hi,
        offset=offset,
    )


def knapsack_cut(fp: FacilityProblem, u: np.ndarray) -> tuple[float, np.ndarray]:
    """The cut w >= const + coef . y from demand-row duals ``u`` (any u is valid).

    Per hub, a continuous knapsack: the items are the streams with c_ik - u_k < 0, each
    up to d_k units of a_k m3, filled by increasing (c_ik - u_k) / a_k until s_i m3.
    """
    reduced = fp.cost - u[None, :]
    ratio = reduced / fp.weight[None, :]
    order = np.argsort(ratio, axis=1, kind="stable")
    sorted_ratio = np.take_along_axis(ratio, order, axis=1)
    item = (fp.weight * fp.demand)[order] * (sorted_ratio < 0)
    before = np.cumsum(item, axis=1) - item
    taken = np.clip(fp.capacity[:, None] - before, 0.0, item)
    coef = (sorted_ratio * taken).sum(axis=1)
    return float(u @ fp.demand), coef


def covering_plan(fp: FacilityProblem, score: np.ndarray) -> np.ndarray:
    """A 0/1 plan: hubs forced open, then by decreasing ``score`` until the cover row holds."""
    y = (fp.y_lo > 0.5).astype(float)
    volume = fp.volume
    capacity = np.minimum(fp.capacity, volume)
    for i in np.argsort(-score, kind="stable"):
        if capacity @ y >= volume * (1 - 1e-12):
            break
        if fp.y_hi[i] > 0.5 and score[i] > 0:
            y[i] = 1.0
    for i in np.argsort(-score, kind="stable"):  # scores of 0 too, if still short
        if capacity @ y >= volume * (1 - 1e-12):
            break
        if fp.y_hi[i] > 0.5:
            y[i] = 1.0
    return y
