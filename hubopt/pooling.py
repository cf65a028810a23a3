"""Risk-pooled safety stock by outer approximation: solve, add tangent cuts, re-solve.

With ``policy.safety_stock.pooling: true`` a hub h holds, per product p and period t,

    stock[h,p,t] >= z * sqrt(sum_k (sigma_k / d_k * x_hk)^2)

(x_hk = units of stream k it serves: a hub serving a share s of a stream sees std s *
sigma). The right-hand side f(x) is a norm, so it is convex and positively homogeneous:
its tangent at any x' is f(x) >= grad f(x') . x with grad_k = z * a_k^2 x'_k / ||a * x'||
(a_k = sigma_k / d_k). Every tangent is a valid linear row, so the model (family 3 holds the
first tangent) is an outer approximation. The loop solves it, measures each hub-product-
period's shortfall against the exact requirement, adds the tangent at the plan's own
shares where the shortfall exceeds ``pooling_tolerance`` x the requirement, and re-solves
(HiGHS keeps its model and takes the rows with ``addRows``; other backends re-solve the
whole model with the rows appended) until none does.

Before the first MIP, the same separation runs on the LP relaxation (a root phase, HiGHS
only: one loaded LP, rows added, re-solved warm): tangents at the LP's fractional shares
are just as valid and cost a simplex warm start each instead of a MIP, so the first MIP
already holds most of the requirement. The phase stops when the LP plan is within the
tolerance, after ``ROOT_ROUNDS`` rounds, or after ``ROOT_TIME_SHARE`` of the time limit.

Kelley's cutting planes can converge slowly when the best plan splits streams evenly
between hubs. If ``max_cut_rounds`` rounds (or the time limit) end with a shortfall, the
last plan is **polished**: its shipments and hub decisions are fixed and the stock is
re-planned (an LP) with the exact requirement as a lower bound. The plan is then exactly
feasible; its cost is compared with the outer approximation's bound (a valid lower bound)
and the status is ``optimal`` only if that gap is within ``solver.mip_gap``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from hubopt.data.problem import ProblemData
from hubopt.errors import SolverError
from hubopt.model.flow import safety_ratios
from hubopt.model.index import arc_products_periods, layout_of
from hubopt.model.matrix import MatrixModel
from hubopt.scenario.schema import SolverSettings
from hubopt.solvers.base import SolverBackend, SolverOutput, SolveStatus

log = logging.getLogger(__name__)

CUT_BLOCK = "safety_stock_cuts"
ROOT_ROUNDS = 40
ROOT_TIME_SHARE = 0.25


@dataclass(frozen=True)
class CutLoop:
    """What the pooled safety-stock loop did (for the manifest)."""

    rounds: int
    cuts: int
    max_violation: float  # largest shortfall / requirement of the returned plan
    tolerance: float
    polished: bool = False
    violation_before_polish: float = 0.0
    root_rounds: int = 0  # LP-relaxation rounds before the first MIP
    root_cuts: int = 0
    root_violation: float = float("nan")  # the LP plan's largest shortfall when the phase ended

    def as_dict(self) -> dict[str, Any]:
        """For manifests and JSON (an unknown violation is None)."""
        out: dict[str, Any] = dataclasses.asdict(self)
        for key in ("max_violation", "root_violation"):
            if not np.isfinite(out[key]):
                out[key] = None
        return out


def pooling_active(problem: ProblemData) -> bool:
    """Whether the pooled requirement applies (pooling on, z > 0, some std > 0)."""
    policy = problem.policy.safety_stock
    return (
        policy.pooling and policy.z > 0 and bool((problem.streams["std"].to_numpy(float) > 0).any())
    )


def pooled_requirement(
    problem: ProblemData, ship: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact pooled requirement per (h, p, t) for the shipments ``ship`` (one per arc).

    Returns (requirement per stock position, x_hk per arc — the units of the arc's stream
    that its hub serves, over every mode — and the stock position of every arc).
    """
    layout = layout_of(problem)
    n = layout.n_hub_product_periods
    sh, sp_, st = arc_products_periods(problem)
    hpt = layout.hub_product_period(sh, sp_, st)
    k = problem.out_arcs["stream_idx"].to_numpy().astype(np.int64)
    pair_key = hpt.astype(np.int64) * len(problem.streams) + k
    pairs, pair_of = np.unique(pair_key, return_inverse=True)
    served = np.bincount(pair_of.ravel(), weights=ship, minlength=len(pairs))
    x_arc = served[pair_of.ravel()]
    ratio = safety_ratios(problem)
    first = np.unique(pair_of.ravel(), return_index=True)[1]
    square = np.bincount(hpt[first], weights=(ratio[first] * served) ** 2, minlength=n)
    return problem.policy.safety_stock.z * np.sqrt(square), x_arc, hpt


def separate(
    problem: ProblemData, model: MatrixModel, x: np.ndarray
) -> tuple[sp.csr_matrix, float]:
    """Tangent cuts where the plan ``x`` falls short of the pooled requirement by more than
    the tolerance; and the largest shortfall / requirement (0 when none)."""
    tolerance = problem.policy.safety_stock.pooling_tolerance
    ship = model.block(x, "ship")
    stock = model.block(x, "stock")
    need, x_arc, hpt = pooled_requirement(problem, ship)
    short = need - stock
    relative = np.divide(short, need, out=np.zeros_like(need), where=need > 1e-9)
    worst = float(max(relative.max(initial=0.0), 0.0))
    violated = np.flatnonzero((relative > tolerance) & (short > 1e-7))
    if not len(violated):
        return sp.csr_matrix((0, model.n_vars)), worst
    row_of = -np.ones(len(need), dtype=np.int64)
    row_of[violated] = np.arange(len(violated))
    z = problem.policy.safety_stock.z
    ratio = safety_ratios(problem)
    arc_row = row_of[hpt]
    use = np.flatnonzero((arc_row >= 0) & (ratio > 0) & (x_arc > 0))
    # grad_k = z * a_k^2 * x'_k / ||a * x'||, with ||a * x'|| = need / z
    coef = z * ratio[use] ** 2 * x_arc[use] / (need[hpt[use]] / z)
    ship_cols = model.var_blocks["ship"].start + use
    stock_cols = model.var_blocks["stock"].start + violated
    rows = np.concatenate([np.arange(len(violated)), arc_row[use]])
    cols = np.concatenate([stock_cols, ship_cols])
    vals = np.concatenate([np.ones(len(violated)), -coef])
    cuts = sp.csr_matrix((vals, (rows, cols)), shape=(len(violated), model.n_vars))
    return cuts, worst


def append_rows(model: MatrixModel, rows: sp.csr_matrix, lo: float, hi: float) -> MatrixModel:
    """``model`` with ``lo <= rows @ x <= hi`` appended to the block :data:`CUT_BLOCK`."""
    start = model.row_blocks.get(CUT_BLOCK, slice(model.n_rows, model.n_rows)).start
    return dataclasses.replace(
        model,
        A=sp.vstack([model.A, rows], format="csr"),
        row_lo=np.concatenate([model.row_lo, np.full(rows.shape[0], lo)]),
        row_hi=np.concatenate([model.row_hi, np.full(rows.shape[0], hi)]),
        row_blocks={**model.row_blocks, CUT_BLOCK: slice(start, model.n_rows + rows.shape[0])},
    )


def solve_model(
    problem: ProblemData,
    model: MatrixModel,
    backend: SolverBackend,
    settings: SolverSettings,
    warm_start: np.ndarray | None,
) -> tuple[SolverOutput, MatrixModel, CutLoop | None]:
    """Solve ``model``; with pooled safety stock, run the cut loop of this module.

    Returns the last solver output, the model with every cut added, and the loop's record
    (None without pooling). Each round gets the time left of ``settings.time_limit_s``.

    Raises
    ------
    hubopt.errors.SolverError
        If ``max_cut_rounds`` re-solves leave a shortfall above the tolerance.
    """
    if not pooling_active(problem):
        return backend.solve(model, settings, warm_start), model, None
    policy = problem.policy.safety_stock
    start = time.perf_counter()
    opener = getattr(backend, "open_session", None)
    root: tuple[int, int, float] = (0, 0, float("nan"))
    if opener is not None:
        budget = ROOT_TIME_SHARE * settings.time_limit_s
        model, root = root_phase(problem, model, opener, settings, budget)
    session = opener(model, settings, warm_start) if opener is not None else None
    cuts, worst, round_ = 0, float("nan"), 0

    def record(
        rounds: int, violation: float, polished: bool = False, before: float = 0.0
    ) -> CutLoop:
        return CutLoop(rounds, cuts, violation, policy.pooling_tolerance, polished, before, *root)

    try:
        while round_ < policy.max_cut_rounds:
            round_ += 1
            left = settings.time_limit_s - (time.perf_counter() - start)
            if session is not None:
                session.set_time_limit(left)
                output = _checked(session.run(), model)
            else:
                run = settings.model_copy(update={"time_limit_s": max(left, 1.0)})
                output = backend.solve(model, run, warm_start if round_ == 1 else None)
            if not output.status.has_solution or output.x is None:
                return output, model, record(round_, float("nan"))
            rows, worst = separate(problem, model, output.x)
            log.info("safety-stock cut round %d: worst shortfall %.3g", round_, worst)
            if rows.shape[0] == 0:
                return output, model, record(round_, worst)
            model = append_rows(model, rows, 0.0, np.inf)
            cuts += rows.shape[0]
            if time.perf_counter() - start >= settings.time_limit_s:
                break
            if session is not None:
                session.add_rows(rows, np.zeros(rows.shape[0]), np.full(rows.shape[0], np.inf))
    finally:
        if session is not None:
            session.close()
    log.warning(
        "pooled safety stock: %.3g%% short after %d rounds; polishing the last plan",
        100 * worst,
        round_,
    )
    polished = polish(problem, model, backend, settings, output)
    loop = record(round_, 0.0, True, worst)
    return polished, model, loop


def root_phase(
    problem: ProblemData,
    model: MatrixModel,
    opener: Any,
    settings: SolverSettings,
    budget_s: float,
) -> tuple[MatrixModel, tuple[int, int, float]]:
    """Tangent cuts separated at the LP relaxation's plans (see the module docstring).

    Returns ``model`` with the cuts appended (integrality unchanged) and the phase's
    (rounds, cuts, last LP shortfall). An LP that stops without a plan ends the phase.
    """
    relaxed = dataclasses.replace(model, integer=np.zeros(model.n_vars, dtype=bool))
    start = time.perf_counter()
    session = opener(relaxed, settings.model_copy(update={"time_limit_s": budget_s}), None)
    rounds, added, worst = 0, 0, float("nan")
    tolerance = problem.policy.safety_stock.pooling_tolerance
    try:
        while rounds < ROOT_ROUNDS:
            left = budget_s - (time.perf_counter() - start)
            if left <= 0:
                break
            session.set_time_limit(left)
            output = session.run()
            if output.status != SolveStatus.OPTIMAL or output.x is None:
                break
            rounds += 1
            rows, worst = separate(problem, model, output.x)
            log.info("safety-stock LP round %d: worst shortfall %.3g", rounds, worst)
            if rows.shape[0] == 0 or worst <= tolerance:
                break
            model = append_rows(model, rows, 0.0, np.inf)
            added += rows.shape[0]
            session.add_rows(rows, np.zeros(rows.shape[0]), np.full(rows.shape[0], np.inf))
    finally:
        session.close()
    return model, (rounds, added, worst)


def _checked(output: SolverOutput, model: MatrixModel) -> SolverOutput:
    """``output`` with its objective replaced by c.x when HiGHS mis-reports it (HiGHS 1.16
    can after a partial MIP start: see :class:`hubopt.solvers.highs.HighsBackend`)."""
    if output.x is None:
        return output
    recomputed = float(model.c @ output.x + model.offset)
    if abs(recomputed - output.objective) <= 1e-6 * max(1.0, abs(recomputed)) + 1e-6:
        return output
    log.warning("HiGHS objective %.6g != c.x %.6g; reporting c.x", output.objective, recomputed)
    return dataclasses.replace(output, objective=recomputed)


def polish(
    problem: ProblemData,
    model: MatrixModel,
    backend: SolverBackend,
    settings: SolverSettings,
    last: SolverOutput,
) -> SolverOutput:
    """Re-plan the stock of ``last`` with shipments and hub decisions fixed and the exact
    pooled requirement as the stock's lower bound (an LP); the bound stays ``last``'s.

    Raises
    ------
    hubopt.errors.SolverError
        If the fixed plan cannot hold the exact requirement (storage or supply too tight).
    """
    assert last.x is not None
    lb, ub = model.lb.copy(), model.ub.copy()
    for name in ("open", "ship", "assign", "peak", "pickup_open"):
        if name in model.var_blocks:
            block = model.var_blocks[name]
            values = last.x[block]
            values = np.round(values) if model.integer[block].any() else values
            lb[block] = ub[block] = np.clip(values, model.lb[block], model.ub[block])
    need, _, _ = pooled_requirement(problem, model.block(last.x, "ship"))
    stock = model.var_blocks["stock"]
    lb[stock] = np.maximum(lb[stock], need * (1 + 1e-9))
    fixed = dataclasses.replace(
        model, lb=lb, ub=np.maximum(ub, lb), integer=np.zeros(model.n_vars, dtype=bool)
    )
    output = backend.solve(fixed, settings, None)
    if not output.status.has_solution or output.x is None:
        raise SolverError(
            "The pooled safety-stock cut loop did not converge and its last plan cannot hold "
            f"the exact requirement ({output.status}): raise policy.safety_stock."
            "max_cut_rounds, solver.time_limit_s or policy.safety_stock.pooling_tolerance."
        )
    bound = min(last.bound, output.objective)
    gap = abs(output.objective - bound) / max(abs(output.objective), 1e-9)
    status = last.status if gap <= settings.mip_gap + 1e-9 else SolveStatus.FEASIBLE
    return dataclasses.replace(
        output,
        status=status,
        bound=bound,
        solve_seconds=last.solve_seconds + output.solve_seconds,
        log=last.log + output.log,
        message=f"{last.message}; stock polished to the exact pooled requirement",
    )
