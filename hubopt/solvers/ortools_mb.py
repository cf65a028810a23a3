"""OR-Tools ModelBuilder backends (SCIP, HiGHS): one bulk fill from the sparse matrix."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from hubopt.model.matrix import MatrixModel
from hubopt.scenario.schema import SolverSettings
from hubopt.solvers.base import SolverOutput, SolveStatus, in_fresh_thread


class OrToolsBackend:
    """A solver reached through ``ortools.linear_solver.python.model_builder``."""

    def __init__(self, name: str, solver_name: str) -> None:
        self.name = name
        self.solver_name = solver_name

    def available(self) -> bool:
        """Whether OR-Tools imports and ships this solver."""
        try:
            from ortools.linear_solver.python import model_builder as mb
        except ImportError:
            return False
        return bool(mb.Solver(self.solver_name).solver_is_supported())

    def _parameters(self, settings: SolverSettings) -> str:
        if self.solver_name == "scip":
            lines = [
                f"limits/gap = {settings.mip_gap}",
                f"randomization/randomseedshift = {settings.seed}",
            ]
            if settings.threads:
                lines.append(f"parallel/maxnthreads = {settings.threads}")
            return "\n".join(lines)
        if self.solver_name == "highs":
            lines = [f"mip_rel_gap = {settings.mip_gap}", f"random_seed = {settings.seed}"]
            if settings.threads:
                lines.append(f"threads = {settings.threads}")
            return "\n".join(lines)
        return ""

    def solve(
        self, model: MatrixModel, settings: SolverSettings, warm_start: np.ndarray | None = None
    ) -> SolverOutput:
        """Fill the model in bulk, mark integers, solve, map the status."""
        import ortools
        from ortools.linear_solver.python import model_builder as mb

        built = mb.Model()
        helper = built.helper
        fill: Any = helper.fill_model_from_sparse_data  # its stub wants ndarray[float64]
        fill(model.lb, model.ub, model.c, model.row_lo, model.row_hi, model.A.astype(np.float64))
        for j in np.flatnonzero(model.integer):  # only the binaries: a few hundred at most
            helper.set_var_integrality(int(j), True)
        helper.set_objective_offset(float(model.offset))
        solver = mb.Solver(self.solver_name)
        solver.set_time_limit_in_seconds(float(settings.time_limit_s))
        params = self._parameters(settings)
        if params:
            solver.set_solver_specific_parameters(params)
        # This OR-Tools wheel cannot bind a Python log callback (pybind11 std::function
        # conversion missing), so the solver log is not captured for these backends.
        solver.enable_output(False)
        start = time.perf_counter()
        status = in_fresh_thread(lambda: solver.solve(built))  # see in_fresh_thread
        seconds = time.perf_counter() - start
        st = mb.SolveStatus
        raw = solver._Solver__solve_helper  # type: ignore[attr-defined]
        has_solution = bool(raw.has_solution())
        x = np.asarray(raw.variable_values(), dtype=float) if has_solution else None
        objective = float(solver.objective_value) if has_solution else math.nan
        bound = float(solver.best_objective_bound) if has_solution else math.nan
        if status == st.OPTIMAL:
            result = SolveStatus.OPTIMAL
        elif status == st.FEASIBLE:
            result = SolveStatus.FEASIBLE
        elif status == st.INFEASIBLE:
            result = SolveStatus.INFEASIBLE
        elif status == st.UNBOUNDED:
            result = SolveStatus.UNBOUNDED
        elif has_solution:
            result = SolveStatus.FEASIBLE
        elif seconds >= settings.time_limit_s * 0.95:
            result = SolveStatus.TIME_LIMIT
        else:
            result = SolveStatus.ERROR
        if result == SolveStatus.OPTIMAL and not model.integer.any():
            bound = objective
        return SolverOutput(
            status=result,
            x=x,
            objective=objective,
            bound=bound,
            solve_seconds=seconds,
            backend=self.name,
            solver_version=f"OR-Tools {getattr(ortools, '__version__', '?')} ({self.solver_name})",
            log="(log capture not supported by OR-Tools model_builder in this build)",
            message=str(raw.status_string() or status.name),
        )
