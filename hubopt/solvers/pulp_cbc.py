"""CBC through PuLP. PuLP needs one Python object per variable, so this backend is for
small and medium models; large ones should use HiGHS (see docs/solvers.md)."""

from __future__ import annotations

import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from hubopt.model.matrix import MatrixModel
from hubopt.scenario.schema import SolverSettings
from hubopt.solvers.base import SolverOutput, SolveStatus


class PulpCbcBackend:
    """COIN-OR CBC, bundled with PuLP 3."""

    name = "cbc"

    def available(self) -> bool:
        """Whether PuLP imports and its CBC runs."""
        try:
            import pulp
        except ImportError:
            return False
        return bool(pulp.PULP_CBC_CMD(msg=False).available())

    def solve(
        self, model: MatrixModel, settings: SolverSettings, warm_start: np.ndarray | None = None
    ) -> SolverOutput:
        """Build the PuLP problem row by row from the CSR matrix and run CBC."""
        import pulp

        prob = pulp.LpProblem("hubopt", pulp.LpMinimize)
        xs = [
            pulp.LpVariable(
                f"x{j}",
                lowBound=None if math.isinf(model.lb[j]) else float(model.lb[j]),
                upBound=None if math.isinf(model.ub[j]) else float(model.ub[j]),
                cat=pulp.LpInteger if model.integer[j] else pulp.LpContinuous,
            )
            for j in range(model.n_vars)
        ]
        nz = np.flatnonzero(model.c)
        prob += pulp.LpAffineExpression([(xs[j], float(model.c[j])) for j in nz]) + float(
            model.offset
        )
        A = model.A
        for i in range(model.n_rows):
            lo, hi = model.row_lo[i], model.row_hi[i]
            cols = A.indices[A.indptr[i] : A.indptr[i + 1]]
            vals = A.data[A.indptr[i] : A.indptr[i + 1]]
            expr = pulp.LpAffineExpression(
                [(xs[j], float(v)) for j, v in zip(cols, vals, strict=True)]
            )
            if lo == hi:
                prob += expr == float(lo), f"r{i}"
                continue
            if np.isfinite(lo):
                prob += expr >= float(lo), f"r{i}_lo"
            if np.isfinite(hi):
                prob += expr <= float(hi), f"r{i}_hi"
        if warm_start is not None:
            for j in np.flatnonzero(~np.isnan(warm_start)):
                xs[j].setInitialValue(float(warm_start[j]))
        fd, log_path = tempfile.mkstemp(prefix="hubopt-cbc-", suffix=".log")
        os.close(fd)
        cmd = pulp.PULP_CBC_CMD(
            msg=False,
            timeLimit=float(settings.time_limit_s),
            gapRel=float(settings.mip_gap),
            threads=settings.threads or None,
            warmStart=warm_start is not None,
            logPath=log_path,
            options=[f"randomSeed {settings.seed + 1}", f"randomCbcSeed {settings.seed + 1}"],
        )
        start = time.perf_counter()
        prob.solve(cmd)
        seconds = time.perf_counter() - start
        log = Path(log_path).read_text(errors="replace")
        Path(log_path).unlink(missing_ok=True)
        sol = prob.sol_status
        has_solution = sol in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
        x = (
            np.array([v.varValue if v.varValue is not None else 0.0 for v in xs], dtype=float)
            if has_solution
            else None
        )
        objective = float(model.c @ x + model.offset) if x is not None else math.nan
        if sol == pulp.LpSolutionOptimal:
            result, bound = SolveStatus.OPTIMAL, objective
        elif sol == pulp.LpSolutionIntegerFeasible:
            result, bound = SolveStatus.FEASIBLE, _cbc_bound(log)
        elif sol == pulp.LpSolutionInfeasible:
            result, bound = SolveStatus.INFEASIBLE, math.nan
        elif sol == pulp.LpSolutionUnbounded:
            result, bound = SolveStatus.UNBOUNDED, math.nan
        elif seconds >= settings.time_limit_s * 0.95:
            result, bound = SolveStatus.TIME_LIMIT, math.nan
        else:
            result, bound = SolveStatus.ERROR, math.nan
        return SolverOutput(
            status=result,
            x=x,
            objective=objective,
            bound=bound,
            solve_seconds=seconds,
            backend=self.name,
            solver_version=f"CBC via PuLP {pulp.__version__}",
            log=log,
            message=pulp.LpStatus.get(prob.status, str(prob.status)),
        )


def _cbc_bound(log: str) -> float:
    """Best bound from CBC's log ("Best possible" line), nan if absent."""
    for line in reversed(log.splitlines()):
        if "best possible" in line.lower():
            for token in line.replace(",", " ").split():
                try:
                    return float(token)
                except ValueError:
                    continue
    return math.nan
