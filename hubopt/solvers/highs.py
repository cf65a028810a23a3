"""HiGHS through highspy: the matrix is passed in bulk (CSR arrays), no per-variable calls."""

from __future__ import annotations

import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from hubopt.errors import SolverError
from hubopt.model.matrix import MatrixModel
from hubopt.scenario.schema import SolverSettings
from hubopt.solvers.base import SolverOutput, SolveStatus


class HighsBackend:
    """HiGHS MIP solver (highspy)."""

    name = "highs"

    def available(self) -> bool:
        """Whether highspy imports."""
        try:
            import highspy  # noqa: F401
        except ImportError:
            return False
        return True

    def solve(
        self, model: MatrixModel, settings: SolverSettings, warm_start: np.ndarray | None = None
    ) -> SolverOutput:
        """Solve with HiGHS; parallel branch-and-bound on when more than one thread is allowed."""
        import highspy

        h = highspy.Highs()
        fd, log_path = tempfile.mkstemp(prefix="hubopt-highs-", suffix=".log")
        os.close(fd)
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", False)
        h.setOptionValue("log_file", log_path)
        h.setOptionValue("time_limit", float(settings.time_limit_s))
        h.setOptionValue("mip_rel_gap", float(settings.mip_gap))
        h.setOptionValue("random_seed", int(settings.seed))
        threads = settings.threads or (os.cpu_count() or 1)
        h.setOptionValue("threads", int(threads))
        if threads > 1:
            h.setOptionValue("parallel", "on")
        for key, value in settings.options.items():
            if h.setOptionValue(key, value) != highspy.HighsStatus.kOk:
                raise SolverError(f"HiGHS rejected option {key}={value!r} (solver.options).")
        lp = highspy.HighsLp()
        lp.num_col_ = model.n_vars
        lp.num_row_ = model.n_rows
        lp.col_cost_ = model.c
        lp.col_lower_ = model.lb
        lp.col_upper_ = model.ub
        lp.row_lower_ = model.row_lo
        lp.row_upper_ = model.row_hi
        lp.offset_ = model.offset
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.num_col_ = model.n_vars
        lp.a_matrix_.num_row_ = model.n_rows
        lp.a_matrix_.start_ = model.A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = model.A.indices.astype(np.int32)
        lp.a_matrix_.value_ = model.A.data
        if model.integer.any():
            kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
            lp.integrality_ = [kinds[int(flag)] for flag in model.integer]
        h.passModel(lp)
        if warm_start is not None and model.integer.any():
            known = np.flatnonzero(~np.isnan(warm_start)).astype(np.int32)
            h.setSolution(len(known), known, warm_start[known].astype(np.float64))
        start = time.perf_counter()
        h.run()
        seconds = time.perf_counter() - start
        status = h.getModelStatus()
        info = h.getInfo()
        has_solution = info.primal_solution_status == 2
        x = np.asarray(h.getSolution().col_value, dtype=float) if has_solution else None
        objective = float(info.objective_function_value) if has_solution else math.nan
        is_mip = bool(model.integer.any())
        bound = float(info.mip_dual_bound) if is_mip else objective
        ms = highspy.HighsModelStatus
        if status == ms.kOptimal:
            result = SolveStatus.OPTIMAL
            if not is_mip:
                bound = objective
        elif status == ms.kInfeasible:
            result = SolveStatus.INFEASIBLE
        elif status in (ms.kUnbounded, ms.kUnboundedOrInfeasible):
            result = SolveStatus.UNBOUNDED
        elif status in (ms.kTimeLimit, ms.kIterationLimit, ms.kSolutionLimit, ms.kInterrupt):
            result = SolveStatus.FEASIBLE if has_solution else SolveStatus.TIME_LIMIT
        else:
            result = SolveStatus.FEASIBLE if has_solution else SolveStatus.ERROR
        log = Path(log_path).read_text(errors="replace")
        Path(log_path).unlink(missing_ok=True)
        return SolverOutput(
            status=result,
            x=x,
            objective=objective,
            bound=bound,
            solve_seconds=seconds,
            backend=self.name,
            solver_version=f"HiGHS {h.version()}",
            log=log,
            message=h.modelStatusToString(status),
        )
