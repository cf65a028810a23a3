"""Plans with their integer decisions fixed: a warm-started LP for scoring, and the
``heuristic`` backend that returns a given plan with the LP relaxation as its bound.

:class:`FixedLp` keeps one ``highspy.Highs`` holding the LP relaxation of a model. Each
:meth:`FixedLp.evaluate` fixes the chosen integer columns by changing their bounds
(``changeColsBounds``) and re-runs: HiGHS keeps the previous basis, so a move that opens
or closes one hub costs a few dual simplex iterations (on the Korea model ~0.1 s
against ~10 s for the cold LP; docs/solvers.md).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from hubopt.errors import SolverError
from hubopt.model.matrix import MatrixModel
from hubopt.scenario.schema import SolverSettings
from hubopt.solvers.base import SolverOutput, SolveStatus, in_fresh_thread
from hubopt.solvers.highs import HighsSession, pass_matrix, run_within


@dataclass(frozen=True)
class LpPoint:
    """One LP solve: whether it is optimal (a feasible plan), its cost and its values."""

    optimal: bool
    objective: float
    x: np.ndarray | None
    status: str
    iterations: int = 0
    basis: Any = None  # HiGHS's basis at this point (to warm-start the next move from it)
    # reduced costs of the fixed columns (FixedLp.evaluate): a subgradient of the LP's cost
    # as a function of their values, so that f(z) >= objective + reduced @ (z - values)
    reduced: np.ndarray | None = None


COST_PERTURBATION = 0.0
"""HiGHS's ``dual_simplex_cost_perturbation_multiplier`` for the moves' LPs (its default
1.0 perturbs every cost before the dual simplex, then cleans the perturbation up with the
primal simplex). On the 2000x150x10x12 rung's search model (2.07 M columns), 16 moves
from the start's basis, the same optima: 26.6 s without it against 33.2 s with it, 23.2 s
against 27.3 s with the plan's cost as cutoff (docs/solvers.md)."""

CUT_OFF = "cut off: dearer than the cutoff"
"""Status of an :meth:`FixedLp.evaluate` that its cutoff ended early."""


class FixedLp:
    """The LP relaxation of ``model`` with ``columns`` fixed at chosen values, re-solved warm
    (``like``: another of the same model and columns, whose fixed columns' matrix this one
    shares)."""

    def __init__(
        self, model: MatrixModel, columns: np.ndarray, like: FixedLp | None = None
    ) -> None:
        import highspy

        self.model = model
        self.columns = np.asarray(columns, dtype=np.int32)
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("threads", 1)
        self.h.setOptionValue("dual_simplex_cost_perturbation_multiplier", COST_PERTURBATION)
        relaxed = dataclasses.replace(model, integer=np.zeros(model.n_vars, dtype=bool))
        pass_matrix(self.h, relaxed)
        # the fixed columns' costs and coefficients (shared with ``like``): their reduced
        # costs come from the row duals (c - A^T y), not from every column's dual read
        # through highspy's Python list (~0.1-0.25 s per LP of 2 M columns)
        self.fixed_rows: sp.csr_matrix = (
            like.fixed_rows if like is not None else model.A[:, self.columns].T.tocsr()
        )
        self.fixed_costs = model.c[self.columns]
        self.evaluations = 0
        self.seconds = 0.0
        self.cancelled: Callable[[], bool] = lambda: False
        self.cutoff = math.inf  # HiGHS's objective_bound option as last set
        self.cut_off = 0  # evaluations the cutoff ended early

    def _run(
        self,
        time_limit_s: float,
        basis: Any = None,
        cutoff: float = math.inf,
        fixed: bool = False,
    ) -> LpPoint:
        """One run; ``fixed``: the point carries the fixed columns' reduced costs. An
        optimal point not below a finite ``cutoff`` carries no values (nor basis, nor
        reduced costs): reading them costs time and its caller does not use them."""
        import highspy

        h = self.h
        if basis is not None:
            h.setBasis(basis)
        if cutoff != self.cutoff:
            h.setOptionValue("objective_bound", float(min(cutoff, highspy.kHighsInf)))
            self.cutoff = cutoff
        start = time.perf_counter()
        run_within(h, time_limit_s, self.cancelled)
        status = h.getModelStatus()
        left = time_limit_s - (time.perf_counter() - start)
        if status == highspy.HighsModelStatus.kNotset and left > 0 and not self.cancelled():
            # HiGHS 1.16: a warm re-solve sometimes fails at once (kError, no iteration,
            # status "Not Set"; seen on a Korea what-if right after a move whose LP was
            # infeasible) and the same run again solves it; the search lost such moves
            run_within(h, left, self.cancelled)
            status = h.getModelStatus()
        self.seconds += time.perf_counter() - start
        info = h.getInfo()
        if status == highspy.HighsModelStatus.kObjectiveBound:
            self.cut_off += 1
            return LpPoint(False, math.inf, None, CUT_OFF)
        if status != highspy.HighsModelStatus.kOptimal:
            return LpPoint(False, math.inf, None, h.modelStatusToString(status))
        objective = float(info.objective_function_value)
        if objective >= cutoff:
            return LpPoint(True, objective, None, "optimal", int(info.simplex_iteration_count))
        solution = h.getSolution()
        x = np.asarray(solution.col_value, dtype=float)
        reduced = None
        if fixed and solution.dual_valid:
            row_dual = np.asarray(solution.row_dual, dtype=float)
            reduced = self.fixed_costs - self.fixed_rows @ row_dual
        return LpPoint(
            True,
            objective,
            x,
            "optimal",
            int(info.simplex_iteration_count),
            h.getBasis(),
            reduced,
        )

    def relaxation(self, time_limit_s: float) -> LpPoint:
        """The LP relaxation with the columns at their model bounds (a lower bound)."""
        cols = self.columns
        self.h.changeColsBounds(len(cols), cols, self.model.lb[cols], self.model.ub[cols])
        return self._run(time_limit_s)

    def close(self) -> None:
        """Free HiGHS's copy of the model (this object solves nothing afterwards)."""
        import highspy

        self.h = highspy.Highs()  # the old one is freed with its last reference
        self.h.setOptionValue("output_flag", False)

    def evaluate(
        self, values: np.ndarray, time_limit_s: float, basis: Any = None, cutoff: float = math.inf
    ) -> LpPoint:
        """The cheapest completion with the columns fixed at ``values`` (other integer
        columns relaxed); not optimal when that is infeasible or runs out of time.
        ``basis`` (an earlier point's) is where the simplex starts, else the last one.

        ``cutoff``: a cost the caller needs the completion to be below (a move must beat
        the plan it changes). The dual simplex's objective only rises towards the LP's
        optimum, so HiGHS stops once it passes ``cutoff`` (its ``objective_bound``
        option); such a point is not optimal and says :data:`CUT_OFF`. An optimal point
        below ``cutoff`` carries its values, basis and the columns' reduced costs
        (:attr:`LpPoint.reduced`); one at or above it (HiGHS ends the LP just as it
        passes) only its cost."""
        self.evaluations += 1
        cols = self.columns
        fixed = np.asarray(values, dtype=np.float64)
        self.h.changeColsBounds(len(cols), cols, fixed, fixed)
        point = self._run(time_limit_s, basis, cutoff, fixed=True)
        if point.x is not None:
            # HiGHS may hand back a fixed column one ulp off its bound (0.9999999999999999)
            point.x[cols] = fixed
        return point

    def complete(self, values: np.ndarray, time_limit_s: float, basis: Any = None) -> LpPoint:
        """The cheapest plan with the columns fixed at ``values`` and every other integer
        column integral (a small MIP when the model has other integers, else the LP from
        ``basis``)."""
        others = self.model.integer.copy()
        others[self.columns] = False
        if not others.any():
            return self.evaluate(values, time_limit_s, basis)
        import highspy

        lb, ub = self.model.lb.copy(), self.model.ub.copy()
        lb[self.columns] = ub[self.columns] = values
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.setOptionValue("time_limit", float(max(time_limit_s, 0.01)))
        pass_matrix(h, dataclasses.replace(self.model, lb=lb, ub=ub))
        in_fresh_thread(h.run)
        info = h.getInfo()
        if info.primal_solution_status != 2:
            return LpPoint(False, math.inf, None, h.modelStatusToString(h.getModelStatus()))
        x = np.asarray(h.getSolution().col_value, dtype=float)
        x[self.columns] = values
        return LpPoint(True, float(self.model.c @ x + self.model.offset), x, "feasible")


def fix_integers(model: MatrixModel, plan: np.ndarray) -> MatrixModel:
    """``model`` with every integer column fixed at ``plan``'s (rounded) value."""
    cols = np.flatnonzero(model.integer)
    values = np.round(np.asarray(plan, dtype=float)[cols])
    if np.isnan(values).any():
        raise SolverError("The heuristic backend needs a value for every integer column.")
    lb, ub = model.lb.copy(), model.ub.copy()
    lb[cols] = ub[cols] = np.clip(values, model.lb[cols], model.ub[cols])
    return dataclasses.replace(model, lb=lb, ub=ub)


def lp_bound(model: MatrixModel, time_limit_s: float) -> float:
    """The LP relaxation's optimum (a valid lower bound); -inf if not solved in time."""
    lp = FixedLp(model, np.zeros(0, dtype=np.int32))
    point = lp.relaxation(time_limit_s)
    return point.objective if point.optimal else -math.inf


def plan_output(
    output: SolverOutput,
    model: MatrixModel,
    x: np.ndarray,
    bound: float,
    mip_gap: float,
    message: str,
) -> SolverOutput:
    """``output`` as the heuristic backend's answer: plan ``x`` at its cost in ``model``,
    ``bound`` (capped at that cost), ``optimal`` only when the bound proves it within
    ``mip_gap``, else ``feasible``."""
    objective = float(model.c @ x + model.offset)
    bound = min(bound, objective)
    gap = (objective - bound) / max(abs(objective), 1e-9)
    optimal = math.isfinite(bound) and gap <= mip_gap + 1e-9
    return dataclasses.replace(
        output,
        status=SolveStatus.OPTIMAL if optimal else SolveStatus.FEASIBLE,
        x=x,
        objective=objective,
        bound=bound,
        backend="heuristic",
        message=message,
    )


class HeuristicBackend:
    """``solver.backend: heuristic``: the plan of hubopt's local search, not a MIP search.

    ``solve`` takes the plan as its warm start, fixes its integer columns and re-solves
    the rest (an LP), and reports the LP relaxation of the unfixed model as the bound
    (``lower_bound`` when the caller already solved it). The status is ``optimal`` only
    when that bound meets the plan's cost within ``solver.mip_gap``, else ``feasible``.
    """

    name = "heuristic"
    exact = False

    def __init__(self, lower_bound: float | None = None) -> None:
        self.lower_bound = lower_bound

    def available(self) -> bool:
        """Whether highspy imports (the plan is completed and bounded with HiGHS LPs)."""
        try:
            import highspy  # noqa: F401
        except ImportError:
            return False
        return True

    def with_bound(self, bound: float) -> HeuristicBackend:
        """This backend reporting ``bound`` (an LP relaxation value already solved)."""
        return HeuristicBackend(bound)

    def solve(
        self, model: MatrixModel, settings: SolverSettings, warm_start: np.ndarray | None = None
    ) -> SolverOutput:
        """The warm start's plan completed with its integers fixed, and the LP bound."""
        session = self.open_session(model, settings, warm_start)
        try:
            return session.run()
        finally:
            session.close()

    def open_session(
        self, model: MatrixModel, settings: SolverSettings, warm_start: np.ndarray | None = None
    ) -> HeuristicSession:
        """A loaded fixed plan that rows can be added to and re-solved (cut loops)."""
        if warm_start is None and not model.integer.any():
            warm_start = np.full(model.n_vars, np.nan)  # an LP (a polish step): no plan needed
        if warm_start is None:
            raise SolverError(
                "The heuristic backend returns the local search's plan; "
                "it was called without one (hubopt.api.solve supplies it)."
            )
        return HeuristicSession(model, settings, warm_start, self.lower_bound)


class HeuristicSession:
    """A :class:`HighsSession` on the model with its integers fixed; reports the LP bound."""

    name = "heuristic"

    def __init__(
        self,
        model: MatrixModel,
        settings: SolverSettings,
        plan: np.ndarray,
        lower_bound: float | None,
    ) -> None:
        self.model = model
        self.settings = settings
        start = time.perf_counter()
        # where the bound comes from, for the plan's log line
        self.note = (
            "local search plan; bound = the LP bound found before it (the bound loop's "
            "or the column generation's)"
        )
        if lower_bound is None:
            lower_bound = lp_bound(model, settings.time_limit_s)
            self.note = "local search plan; bound = this model's LP relaxation"
        self.bound_seconds = time.perf_counter() - start
        self.bound = lower_bound
        # the plan is a start too: HiGHS holds it even if the limit stops the re-solve
        self.inner = HighsSession(fix_integers(model, plan), settings, plan)

    def set_time_limit(self, seconds: float) -> None:
        """Time limit of the next :meth:`run`."""
        self.inner.set_time_limit(seconds)

    def add_rows(self, rows: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray) -> None:
        """Append rows to the fixed model (the LP bound stays valid: it relaxes them)."""
        self.inner.add_rows(rows, lo, hi)

    def run(self) -> SolverOutput:
        """Solve the fixed plan; status ``feasible`` unless the bound proves it optimal."""
        output = self.inner.run()
        seconds = output.solve_seconds + self.bound_seconds
        self.bound_seconds = 0.0
        if not output.status.has_solution or output.x is None:
            status = output.status
            if status == SolveStatus.INFEASIBLE:
                status = SolveStatus.ERROR  # the fixed plan is infeasible, not the model
            return dataclasses.replace(
                output,
                status=status,
                backend=self.name,
                solve_seconds=seconds,
                message=f"the heuristic plan could not be completed: {output.message}",
            )
        return plan_output(
            dataclasses.replace(output, solve_seconds=seconds),
            self.model,
            output.x,
            self.bound,
            self.settings.mip_gap,
            self.note,
        )

    def close(self) -> None:
        """Remove the solver's log file."""
        self.inner.close()
