"""The baselines hubopt is measured against: the models a user writes without hubopt.

Two baselines, each solved with the same time limit and relative MIP gap as hubopt:

* **PuLP + CBC**: the textbook model as a PuLP user writes it (``LpVariable.dicts`` +
  ``lpSum``, PuLP's bundled CBC). For a scenario that is not a facility-location instance
  (the Korea demo, the synthetic ladder) it is hubopt's own ``MatrixModel`` written row
  by row in PuLP, the way a user would transcribe the same MILP.
* **bare HiGHS**: the same plain matrix handed to highspy in one ``passModel`` call, with
  HiGHS's default options (no warm start, no cuts or bounds of hubopt's own).

The facility-location textbook model (OR-Library ``cap*``, Holmberg) is, with ``x_ij`` the
share of customer j's demand served by facility i::

    min  sum_i f_i y_i + sum_ij c_ij x_ij
    s.t. sum_i x_ij = 1                 (every customer served)
         sum_j d_j x_ij <= s_i y_i      (capacity, only when open)
         x_ij <= y_i                    (strong per-arc linking; = ship_ij <= d_j y_i)
         0 <= x_ij <= 1  (binary with single sourcing),  y_i binary

The per-arc rows are the strong linking form a textbook writes; they are redundant for
the integer optimum but tighten the LP relaxation. ``strong=False`` (``run.py
--textbook-linking aggregated``) leaves them out: the capacity rows alone link.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from hubopt.model.matrix import MatrixModel
from hubopt.orlib import FacilityInstance

NAN = float("nan")


@dataclass
class BaselineResult:
    """Outcome of one baseline solve (status vocabulary as hubopt's ``SolveStatus``)."""

    status: str
    objective: float = NAN
    bound: float = NAN
    gap: float = NAN
    build_s: float = NAN
    solve_s: float = NAN
    total_s: float = NAN
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (for the child-process pipe and the CSV)."""
        return asdict(self)


def relative_gap(objective: float, bound: float) -> float:
    """``(objective - bound) / |objective|``, NaN when either is missing."""
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return NAN
    return max(0.0, objective - bound) / max(abs(objective), 1e-9)


# --------------------------------------------------------------------------- PuLP + CBC


def _pulp_solve(
    prob: Any, time_limit: float, mip_gap: float, offset: float = 0.0
) -> BaselineResult:
    """Solve a built PuLP problem with CBC; map PuLP's status to hubopt's vocabulary."""
    import pulp

    start = time.perf_counter()
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, gapRel=mip_gap)
    prob.solve(solver)
    seconds = time.perf_counter() - start
    # sol_status: 1 optimal, 2 a solution but limit reached, 0 none, -1 infeasible
    sol = prob.sol_status
    objective = NAN
    if sol in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        value = pulp.value(prob.objective)
        objective = float(value if value is not None else 0.0) + offset
    if sol == pulp.LpSolutionOptimal:
        status = "optimal"
    elif sol == pulp.LpSolutionIntegerFeasible:
        status = "feasible"
    elif sol == pulp.LpSolutionInfeasible:
        status = "infeasible"
    elif sol == pulp.LpSolutionUnbounded:
        status = "unbounded"
    else:
        status = "time_limit" if seconds >= 0.95 * time_limit else "error"
    # PuLP does not report CBC's best bound; a proven optimum is its own bound.
    bound = objective if status == "optimal" else NAN
    return BaselineResult(
        status,
        objective,
        bound,
        relative_gap(objective, bound),
        solve_s=seconds,
        message=pulp.LpStatus.get(prob.status, str(prob.status)),
    )


def pulp_cflp(
    inst: FacilityInstance,
    time_limit: float,
    mip_gap: float = 0.0,
    single_source: bool = False,
    strong: bool = True,
) -> BaselineResult:
    """The facility-location textbook model in PuLP (dicts + lpSum), solved by CBC
    (``strong=False``: without the per-arc linking rows)."""
    import pulp

    start = time.perf_counter()
    m, n = inst.cost.shape
    facilities, customers = range(m), range(n)
    f, s, d, c = (
        inst.fixed_cost.tolist(),
        inst.capacity.tolist(),
        inst.demand.tolist(),
        inst.cost.tolist(),
    )
    prob = pulp.LpProblem("cflp", pulp.LpMinimize)
    y = pulp.LpVariable.dicts("open", facilities, cat="Binary")
    if single_source:
        x = pulp.LpVariable.dicts("serve", (facilities, customers), cat="Binary")
    else:
        x = pulp.LpVariable.dicts("serve", (facilities, customers), lowBound=0, upBound=1)
    prob += pulp.lpSum(f[i] * y[i] for i in facilities) + pulp.lpSum(
        c[i][j] * x[i][j] for i in facilities for j in customers
    )
    for j in customers:
        prob += pulp.lpSum(x[i][j] for i in facilities) == 1, f"serve_{j}"
    for i in facilities:
        prob += pulp.lpSum(d[j] * x[i][j] for j in customers) <= s[i] * y[i], f"cap_{i}"
        for j in customers if strong else ():
            prob += x[i][j] <= y[i], f"link_{i}_{j}"
    build = time.perf_counter() - start
    out = _pulp_solve(prob, time_limit, mip_gap)
    out.build_s, out.total_s = build, build + out.solve_s
    return out


def pulp_matrix(model: MatrixModel, time_limit: float, mip_gap: float) -> BaselineResult:
    """hubopt's matrix transcribed row by row in PuLP (dicts + lpSum), solved by CBC."""
    import pulp

    start = time.perf_counter()
    cols = range(model.n_vars)
    x = {
        j: pulp.LpVariable(
            f"x{j}",
            lowBound=float(model.lb[j]) if math.isfinite(model.lb[j]) else None,
            upBound=float(model.ub[j]) if math.isfinite(model.ub[j]) else None,
            cat="Integer" if model.integer[j] else "Continuous",
        )
        for j in cols
    }
    prob = pulp.LpProblem("matrix", pulp.LpMinimize)
    prob += pulp.lpSum(float(model.c[j]) * x[int(j)] for j in np.flatnonzero(model.c))
    A = model.A
    for i in range(model.n_rows):
        sl = slice(A.indptr[i], A.indptr[i + 1])
        expr = pulp.lpSum(float(v) * x[j] for j, v in zip(A.indices[sl], A.data[sl], strict=True))
        lo, hi = float(model.row_lo[i]), float(model.row_hi[i])
        if lo == hi:
            prob += expr == lo, f"r{i}"
            continue
        if math.isfinite(lo):
            prob += expr >= lo, f"r{i}_lo"
        if math.isfinite(hi):
            prob += expr <= hi, f"r{i}_hi"
    build = time.perf_counter() - start
    out = _pulp_solve(prob, time_limit, mip_gap, offset=float(model.offset))
    out.build_s, out.total_s = build, build + out.solve_s
    return out


# --------------------------------------------------------------------------- bare HiGHS


@dataclass(frozen=True)
class PlainMatrix:
    """A MILP as CSR arrays: ``min c x + offset, row_lo <= A x <= row_hi, lb <= x <= ub``."""

    c: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    offset: float = 0.0


def cflp_matrix(
    inst: FacilityInstance, single_source: bool = False, strong: bool = True
) -> PlainMatrix:
    """The textbook facility-location model (module docstring) as a plain matrix.

    Columns: ``y_0..y_{m-1}``, then ``x_ij`` at ``m + i*n + j``. Rows: n assignment rows,
    m capacity rows, then (``strong``) m*n per-arc linking rows.
    """
    m, n = inst.cost.shape
    nx = m * n
    xi = m + np.arange(nx)
    fac = np.repeat(np.arange(m), n)  # facility of each x column
    cus = np.tile(np.arange(n), m)  # customer of each x column
    # assignment: row j holds x_ij for every i
    a_rows, a_cols, a_vals = cus, xi, np.ones(nx)
    # capacity: row n+i holds d_j x_ij and -s_i y_i
    c_rows = np.concatenate([n + fac, n + np.arange(m)])
    c_cols = np.concatenate([xi, np.arange(m)])
    c_vals = np.concatenate([inst.demand[cus], -inst.capacity])
    # linking: row n+m+k holds x_k - y_i
    nl = nx if strong else 0
    link = n + m + np.arange(nl)
    l_rows, l_cols = np.concatenate([link, link]), np.concatenate([xi[:nl], fac[:nl]])
    l_vals = np.concatenate([np.ones(nl), -np.ones(nl)])
    A = sp.csr_matrix(
        (
            np.concatenate([a_vals, c_vals, l_vals]),
            (np.concatenate([a_rows, c_rows, l_rows]), np.concatenate([a_cols, c_cols, l_cols])),
        ),
        shape=(n + m + nl, m + nx),
    )
    row_lo = np.concatenate([np.ones(n), np.full(m + nl, -np.inf)])
    row_hi = np.concatenate([np.ones(n), np.zeros(m + nl)])
    integer = np.concatenate([np.ones(m, bool), np.full(nx, single_source)])
    c = np.concatenate([inst.fixed_cost, inst.cost.ravel()])
    return PlainMatrix(c, np.zeros(m + nx), np.ones(m + nx), integer, A, row_lo, row_hi)


def highs_plain(
    mat: PlainMatrix | MatrixModel, time_limit: float, mip_gap: float, build_s: float = 0.0
) -> BaselineResult:
    """Pass a plain matrix to highspy in one call and solve it with default options."""
    import highspy

    start = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    A = mat.A.tocsr()
    h.passModel(
        len(mat.c),
        A.shape[0],
        A.nnz,
        int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMinimize),
        float(mat.offset),
        np.asarray(mat.c, dtype=np.float64),
        np.asarray(mat.lb, dtype=np.float64),
        np.asarray(mat.ub, dtype=np.float64),
        np.asarray(mat.row_lo, dtype=np.float64),
        np.asarray(mat.row_hi, dtype=np.float64),
        A.indptr.astype(np.int32),
        A.indices.astype(np.int32),
        A.data.astype(np.float64),
        np.asarray(mat.integer, dtype=np.int32),
    )
    build_s += time.perf_counter() - start
    start = time.perf_counter()
    h.run()
    solve_s = time.perf_counter() - start
    model_status = h.getModelStatus()
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    objective = float(info.objective_function_value) if has_solution else NAN
    bound = float(info.mip_dual_bound)
    bound = bound if math.isfinite(bound) else NAN
    if model_status == highspy.HighsModelStatus.kOptimal:
        status = "optimal"
    elif model_status == highspy.HighsModelStatus.kInfeasible:
        status = "infeasible"
    elif model_status == highspy.HighsModelStatus.kUnbounded:
        status = "unbounded"
    elif model_status in (
        highspy.HighsModelStatus.kTimeLimit,
        highspy.HighsModelStatus.kInterrupt,
        highspy.HighsModelStatus.kIterationLimit,
    ):
        status = "feasible" if has_solution else "time_limit"
    else:
        status = "error"
    return BaselineResult(
        status,
        objective,
        bound,
        relative_gap(objective, bound),
        build_s,
        solve_s,
        build_s + solve_s,
        h.modelStatusToString(model_status),
    )


def highs_cflp(
    inst: FacilityInstance,
    time_limit: float,
    mip_gap: float = 0.0,
    single_source: bool = False,
    strong: bool = True,
) -> BaselineResult:
    """The facility-location textbook matrix solved by bare HiGHS."""
    start = time.perf_counter()
    mat = cflp_matrix(inst, single_source, strong)
    return highs_plain(mat, time_limit, mip_gap, build_s=time.perf_counter() - start)
