"""CBC through PuLP. PuLP needs one Python object per variable, so this backend is for
small and medium models; large ones should use HiGHS (see docs/solvers.md)."""

from __future__ import annotations

import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from hubopt.model.matrix import MatrixModel
from hubopt.scenario.schema import SolverSettings
from hubopt.solvers.base import SolverOutput, SolveStatus

BROKEN = "CBC's plan broke the model's rows"


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
        start = time.perf_counter()
        sol, x, log = _run_cbc(prob, xs, settings, warm_start is not None)
        broken = x is not None and not satisfies(model, x)
        if broken:
            # CBC's preprocessing can postsolve to a point that breaks rows and still report
            # "Optimal" ("Postprocessed model is infeasible - possible tolerance issue - try
            # without preprocessing"; seen on a 2-hub random scenario): do as it says
            left = max(settings.time_limit_s - (time.perf_counter() - start), 1.0)
            again = settings.model_copy(update={"time_limit_s": left})
            first = log
            sol, x, log = _run_cbc(prob, xs, again, warm_start is not None, ["preprocess off"])
            log = f"{first}\n{BROKEN}: solved again without preprocessing\n{log}"
            broken = x is not None and not satisfies(model, x)
            if broken:
                x = None
        seconds = time.perf_counter() - start
        objective = float(model.c @ x + model.offset) if x is not None else math.nan
        if broken:
            result, bound = SolveStatus.ERROR, math.nan
        elif sol == pulp.LpSolutionOptimal:
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
            message=(
                f"{BROKEN}, with and without preprocessing"
                if broken
                else pulp.LpStatus.get(prob.status, str(prob.status))
            ),
        )


def _run_cbc(
    prob: Any, xs: list[Any], settings: SolverSettings, warm: bool, extra: list[str] | None = None
) -> tuple[int, np.ndarray | None, str]:
    """Run CBC on ``prob``: its solution status, its point when it has one, and its log."""
    import pulp

    fd, log_path = tempfile.mkstemp(prefix="hubopt-cbc-", suffix=".log")
    os.close(fd)
    cmd = pulp.PULP_CBC_CMD(
        msg=False,
        timeLimit=float(settings.time_limit_s),
        gapRel=float(settings.mip_gap),
        threads=settings.threads or None,
        warmStart=warm,
        logPath=log_path,
        options=[f"randomSeed {settings.seed + 1}", f"randomCbcSeed {settings.seed + 1}"]
        + (extra or []),
    )
    prob.solve(cmd)
    log = Path(log_path).read_text(errors="replace")
    Path(log_path).unlink(missing_ok=True)
    sol = prob.sol_status
    if sol not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return sol, None, log
    return sol, np.array([v.varValue if v.varValue is not None else 0.0 for v in xs]), log


def satisfies(model: MatrixModel, x: np.ndarray, tol: float = 1e-6) -> bool:
    """Whether ``x`` keeps ``model``'s rows, bounds and integers: each row within ``tol``
    of the size of its side and its terms (``|A| |x|``: a big capacity times an ``open`` of
    0.9999999 is not a breach), each bound within ``tol``, each integer within 1e-5."""
    activity = model.A @ x
    size = 1.0 + abs(model.A) @ np.abs(x)
    with np.errstate(invalid="ignore"):  # infinite sides
        low = activity - model.row_lo >= -tol * (size + np.abs(model.row_lo))
        high = model.row_hi - activity >= -tol * (size + np.abs(model.row_hi))
    in_box = (x - model.lb >= -tol * (1.0 + np.abs(model.lb))) & (
        model.ub - x >= -tol * (1.0 + np.abs(model.ub))
    )
    whole = ~model.integer | (np.abs(x - np.round(x)) <= 1e-5)
    return bool(low.all() and high.all() and in_box.all() and whole.all())


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
