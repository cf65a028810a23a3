"""A starting basis for a cold LP, read from the model's structure (a "crash").

From the slack basis HiGHS's dual simplex meets one infeasible demand row per stream and
spends most of its iterations making one arc basic in each. :func:`crash_basis` starts
where those iterations lead: in each ``balance`` row (hub, product, period) its cheapest
``inflow`` column is basic, and in each ``demand`` row (stream) its cheapest column by
landed cost (the arc's own cost plus the inflow's cost its hub's balance row prices) among
its arcs and its lost sale. Every arc and lost sale left out then has a reduced cost of at
least zero, so the basis is dual feasible on them, and only the hubs' capacity, linking
and balance rows are left infeasible.

Measured on the 2000x150x10x12 ladder rung's first column-generation LP (each stream's 3
cheapest arcs; 340 368 rows, 1.30 M columns; one thread, AMD EPYC): from the slack basis
166.7 s and 392 079 iterations; with only the demand rows crashed 119.7 s; with both
56.9 s and 74 427 iterations, the same optimum (docs/solvers.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from hubopt.model.matrix import MatrixModel

LOWER, BASIC, UPPER, ZERO = 0, 1, 2, 3
"""``highspy.HighsBasisStatus`` values: kLower, kBasic, kUpper, kZero."""


@dataclass(frozen=True)
class CrashBasis:
    """Statuses (:data:`LOWER`, :data:`BASIC`, ...) of every column and row of a model;
    ``crashed`` rows have a structural column basic in place of their slack."""

    columns: np.ndarray  # int8, one per column
    rows: np.ndarray  # int8, one per row
    crashed: int

    def highs(self) -> Any:
        """This basis as a ``highspy.HighsBasis`` (for ``Highs.setBasis``)."""
        import highspy

        status = highspy.HighsBasisStatus
        names = [status.kLower, status.kBasic, status.kUpper, status.kZero]
        basis = highspy.HighsBasis()
        basis.col_status = [names[v] for v in self.columns.tolist()]
        basis.row_status = [names[v] for v in self.rows.tolist()]
        basis.valid = True
        return basis


def crash_basis(model: MatrixModel, barred: np.ndarray | None = None) -> CrashBasis | None:
    """The starting basis of the module's docstring for ``model``'s LP relaxation; None
    when the model has no ``demand`` rows with ``ship`` columns (nothing to crash).
    ``barred`` (a mask of columns): none of them is made basic in a demand row, e.g. the
    arcs to the hubs a fixed plan keeps closed (:meth:`hubopt.heuristic.search.Searcher.crashed`)."""
    if "demand" not in model.row_blocks or "ship" not in model.var_blocks:
        return None
    columns = np.where(
        np.isfinite(model.lb), LOWER, np.where(np.isfinite(model.ub), UPPER, ZERO)
    ).astype(np.int8)
    rows = np.full(model.n_rows, BASIC, dtype=np.int8)
    A = model.A.tocsc()
    row_dual = np.zeros(model.n_rows)  # the crashed rows' duals (0: a basic slack)
    # balance rows first: their inflow's cost is what an arc out of that hub pays on top
    if "balance" in model.row_blocks and "inflow" in model.var_blocks:
        _crash(A, model, "balance", ("inflow",), row_dual, columns, rows)
    _crash(A, model, "demand", ("ship", "unmet"), row_dual, columns, rows, barred)
    crashed = int((rows != BASIC).sum())
    return CrashBasis(columns, rows, crashed) if crashed else None


def crash_highs(model: MatrixModel, barred: np.ndarray | None = None) -> Any:
    """:func:`crash_basis` as a ``highspy.HighsBasis`` for ``Highs.setBasis``; None when
    there is nothing to crash (HiGHS then starts from its own basis)."""
    crash = crash_basis(model, barred)
    return None if crash is None else crash.highs()


def _crash(
    A: sp.csc_matrix,
    model: MatrixModel,
    family: str,
    candidates: tuple[str, ...],
    row_dual: np.ndarray,
    columns: np.ndarray,
    rows: np.ndarray,
    barred: np.ndarray | None = None,
) -> None:
    """Make basic, in each equality row of ``family``, its cheapest column of the
    ``candidates`` families (none of ``barred``) by reduced cost at ``row_dual`` per unit
    of its (positive) coefficient there, and set those rows' duals in ``row_dual``.

    The basis stays regular: a column made basic has one nonzero in ``family``'s rows,
    and a row is crashed only when no column made basic before has a nonzero in it; in
    the order of the crashes the basis matrix is then block triangular with a diagonal
    on the crashed rows."""
    block = model.row_blocks[family]
    cols = np.concatenate(
        [
            np.arange(model.var_blocks[name].start, model.var_blocks[name].stop)
            for name in candidates
            if name in model.var_blocks
        ]
    )
    sub = A[:, cols]
    inside = sub[block.start : block.stop].tocsc()
    usable = (np.diff(inside.indptr) == 1) & (columns[cols] == LOWER)
    if barred is not None:
        usable &= ~barred[cols]
    basic = np.flatnonzero(columns == BASIC)
    blocked = np.zeros(block.stop - block.start, dtype=bool)
    if len(basic):
        blocked[A[block.start : block.stop][:, basic].tocsr().nonzero()[0]] = True
    lo, hi = model.row_lo[block], model.row_hi[block]
    open_row = (lo == hi) & np.isfinite(lo) & ~blocked
    entries = inside.tocoo()
    pick = usable[entries.col] & (entries.data > 0) & open_row[entries.row]
    row_of, col_of, coef = entries.row[pick], entries.col[pick], entries.data[pick]
    if not len(row_of):
        return
    reduced = model.c[cols] - sub.T @ row_dual
    order = np.lexsort((reduced[col_of] / coef, row_of))
    first = np.ones(len(order), dtype=bool)
    first[1:] = row_of[order][1:] != row_of[order][:-1]
    chosen = order[first]
    r, j = row_of[chosen], col_of[chosen]
    row_dual[block.start + r] = reduced[j] / coef[chosen]
    columns[cols[j]] = BASIC
    rows[block.start + r] = LOWER
