"""Column generation on one block of a model: the LP relaxation over a subset of its
columns, grown by pricing, with a bound valid for the whole model at every round.

A model too large for HiGHS's memory (the 5000x300x20x12 ladder rung: 13.7 M columns,
51 M nonzeros, above 11 GB for one dual simplex) keeps few of its columns in the LP:
each stream's cheapest arcs. After each LP, the whole model's reduced costs
``c - A^T y`` (scipy, no HiGHS copy) name the left-out columns that would lower it; the
most negative are added (``addCols``) and the LP re-solved warm, until none is left (the
restricted LP is then the whole LP) or time runs out. Every round's duals give the whole
model's Lagrangian bound (:meth:`MatrixModel.dual_bound`), valid whether or not the
pricing finished.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hubopt.model.matrix import MatrixModel
from hubopt.solvers.crash import crash_highs
from hubopt.solvers.highs import pass_matrix, run_within

log = logging.getLogger(__name__)

KEPT_ROWS = "demand"
"""The rows the bound keeps as constraints (:meth:`MatrixModel.dual_bound_keeping`): a
stream's arcs and lost sales share its quantity, so an LP over a few arcs, whose demand
duals price every left-out arc as if it served the stream alone, still bounds well."""

PRICE_TOLERANCE = 1e-7
"""A left-out column enters when its reduced cost is below ``-PRICE_TOLERANCE * (1 + |c_j|)``."""


@dataclass(frozen=True)
class PricedLp:
    """The outcome of :func:`price_columns`."""

    kept: np.ndarray  # positions in the block of the columns in the final LP (ascending)
    bound: float  # the best Lagrangian bound of the whole model over the rounds
    rounds: int  # LP solves
    added: int  # columns added by pricing
    priced_out: bool  # no left-out column had a negative reduced cost: bound = whole LP
    status: str  # the last LP's HiGHS model status
    seconds: float
    x: np.ndarray | None = None  # the last optimal LP's values, whole-model columns
    objective: float = math.nan  # that LP's optimum (of the restricted LP)
    first_seconds: float = math.nan  # the first LP's solve (a cold start's cost)
    held_back: bool = False  # stopped before an LP the time left could not finish

    def text(self) -> str:
        """One line for the run's log."""
        end = "priced out (the whole LP)" if self.priced_out else f"stopped: LP {self.status}"
        if self.held_back:
            end += ", no time for another"
        return (
            f"column generation: {self.rounds} LP(s), {self.added:,} columns added, "
            f"{len(self.kept):,} kept; bound {self.bound:.8g} for the whole model; {end} "
            f"({self.seconds:.1f} s, the first LP {self.first_seconds:.1f} s)"
        )


def price_columns(
    whole: MatrixModel,
    name: str,
    kept: np.ndarray,
    time_limit_s: float,
    max_per_round: int,
    max_rounds: int | None = None,
    crashed: bool = True,
    on_duals: Callable[[np.ndarray], None] = lambda duals: None,
    whole_lps_only: bool = False,
) -> PricedLp:
    """Solve the LP relaxation of ``whole`` restricted to the columns ``kept`` (ascending
    positions) of block ``name``, adding left-out columns of that block by pricing (at
    most ``max_per_round`` per round, at most ``max_rounds`` LP solves); one thread, dual
    simplex without presolve (so a run cut short still has the LP's duals), the first LP
    from :func:`hubopt.solvers.crash.crash_basis` when ``crashed``. ``on_duals`` hears
    each round's row duals that give a better bound than the rounds before.

    ``whole_lps_only``: after the first, no LP is started that the time left cannot finish
    (by the last LP's seconds, times the last LP's growth over the one before when it
    grew): for a caller whose bound comes from elsewhere (a Lagrangian climb on those
    duals), to which an LP cut short brings only its duals and whose search gets the
    seconds instead. On the 2000x150x10x12 ladder rung the 4th LP of the 240 s budget was
    cut short in every run; when it did finish (LPs of 32, 36, 79 and 82 s) no pricing
    followed it, so the search got no column from it and started 80 s later
    (docs/solvers.md)."""
    import highspy

    start = time.perf_counter()
    block = whole.var_blocks[name]
    size = block.stop - block.start
    inside = np.zeros(size, dtype=bool)
    inside[kept] = True
    part = whole.keep_columns(name, kept)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("presolve", "off")
    pass_matrix(h, dataclasses.replace(part, integer=np.zeros(part.n_vars, dtype=bool)))
    basis = crash_highs(part) if crashed else None
    if basis is not None:  # the first LP starts from it (3x faster on the 2000 rung)
        h.setBasis(basis)
    bound, rounds, added, priced_out, status = -math.inf, 0, 0, False, "not solved"
    order = whole.kept_columns(name, kept)  # the whole model's columns in HiGHS's order
    del part
    deadline = start + time_limit_s
    x: np.ndarray | None = None
    objective = first_seconds = math.nan
    held_back = False
    last_lp = previous_lp = 0.0  # the last two LPs' seconds (the next one's estimate)
    while time.perf_counter() < deadline:
        left = deadline - time.perf_counter()
        # the LPs grow with the columns added: the next by as much as the last did
        growth = last_lp / previous_lp if previous_lp > 0 else 1.0
        if whole_lps_only and rounds and last_lp * max(growth, 1.0) > left:
            log.debug("column generation: no LP %d (%.1f s left, the last took %.1f s, "
                      "%.1fx the one before)", rounds + 1, left, last_lp, growth)  # fmt: skip
            held_back = True
            break
        began = time.perf_counter()
        run_within(h, left)
        previous_lp, last_lp = last_lp, time.perf_counter() - began
        rounds += 1
        log.debug("column generation: LP %d in %.1f s", rounds, last_lp)
        if rounds == 1:
            first_seconds = time.perf_counter() - start
        status = h.modelStatusToString(h.getModelStatus())
        duals = np.asarray(h.getSolution().row_dual, dtype=float)
        if len(duals) != whole.n_rows:
            break
        # never below whole.dual_bound(duals): keeping rows as constraints only narrows
        # the inner minimum (and spares that bound's vectors of every column)
        this = whole.dual_bound_keeping(duals, KEPT_ROWS)
        if this > bound:
            bound = this
            on_duals(duals)
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        x = np.zeros(whole.n_vars)  # this LP's point, kept if time runs out later
        x[order] = np.asarray(h.getSolution().col_value, dtype=float)
        objective = float(h.getInfo().objective_function_value)
        if max_rounds is not None and rounds >= max_rounds:
            break
        c = whole.c[block]
        reduced = c - (whole.A.T @ duals)[block]
        enter = np.flatnonzero(~inside & (reduced < -PRICE_TOLERANCE * (1.0 + np.abs(c))))
        if not len(enter):
            priced_out = True
            break
        enter = np.sort(enter[np.argsort(reduced[enter], kind="stable")[:max_per_round]])
        columns = block.start + enter
        new = whole.A[:, columns].tocsc()
        h.addCols(
            len(columns),
            whole.c[columns],
            whole.lb[columns],
            whole.ub[columns],
            new.nnz,
            new.indptr.astype(np.int32),
            new.indices.astype(np.int32),
            new.data.astype(np.float64),
        )
        inside[enter] = True
        order = np.concatenate([order, columns])
        added += len(enter)
    h.clearModel()
    seconds = time.perf_counter() - start
    kept = np.flatnonzero(inside)
    return PricedLp(
        kept,
        bound,
        rounds,
        added,
        priced_out,
        status,
        seconds,
        x,
        objective,
        first_seconds,
        held_back,
    )
