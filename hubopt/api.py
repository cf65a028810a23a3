"""The Python API: solve a scenario into a verified Result."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from hubopt.data.problem import ProblemData, build_problem
from hubopt.errors import VerificationError
from hubopt.model.build import build_model
from hubopt.scenario.scenario import Scenario, load_scenario
from hubopt.solution import Solution, decode_solution
from hubopt.solvers import SolveStatus, get_backend
from hubopt.solvers.base import stdout_to_stderr
from hubopt.verify import Verification, verify_solution

if TYPE_CHECKING:
    import folium

    from hubopt.kpis import Kpis

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    """The outcome of one solve: status, verified plan, KPIs and timings."""

    scenario: Scenario
    problem: ProblemData
    status: SolveStatus
    objective: float
    bound: float
    gap: float
    solution: Solution | None
    verification: Verification | None
    backend: str
    solver_version: str
    build_seconds: float
    solve_seconds: float
    model_stats: dict[str, int]
    solver_log: str = ""
    message: str = ""
    started_at: str = ""
    finished_at: str = ""
    diagnosis: list[str] = field(default_factory=list)

    @cached_property
    def kpis(self) -> Kpis:
        """KPI tables (see :mod:`hubopt.kpis`); requires a solution."""
        from hubopt.kpis import compute_kpis

        if self.solution is None:
            raise ValueError(f"no solution to compute KPIs from (status {self.status})")
        return compute_kpis(self.problem, self.solution)

    @property
    def flows(self) -> pd.DataFrame:
        """Outbound flows (empty without a solution)."""
        return self.solution.flows if self.solution is not None else pd.DataFrame()

    def map(self, **options: Any) -> folium.Map:
        """A folium map of the plan (see :func:`hubopt.maps.plan_map`)."""
        from hubopt.maps import plan_map

        return plan_map(self, **options)

    def write(self, directory: str | Path | None = None, force: bool = False) -> Path:
        """Write the run folder atomically; return its path."""
        from hubopt.report import write_run

        return write_run(self, directory, force=force)

    def summary(self) -> dict[str, Any]:
        """Machine-readable headline of the result."""
        return {
            "scenario": self.scenario.name,
            "status": str(self.status),
            "objective": _num(self.objective),
            "bound": _num(self.bound),
            "gap": _num(self.gap),
            "backend": self.backend,
            "solver_version": self.solver_version,
            "build_seconds": round(self.build_seconds, 3),
            "solve_seconds": round(self.solve_seconds, 3),
            "model": self.model_stats,
            "verified": None if self.verification is None else self.verification.ok,
            "diagnosis": self.diagnosis,
        }


def _num(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def solve(
    scenario: Scenario | str | Path,
    backend: str | None = None,
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
    threads: int | None = None,
    seed: int | None = None,
) -> Result:
    """Solve a scenario and verify the plan independently.

    Infeasible or time-limited solves are statuses on the result, not exceptions.

    Raises
    ------
    hubopt.errors.VerificationError
        If the plan violates a constraint when recomputed from the raw tables (a bug).
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    settings = scenario.config.solver
    overrides = {
        "backend": backend,
        "time_limit_s": time_limit_s,
        "mip_gap": mip_gap,
        "threads": threads,
        "seed": seed,
    }
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    started = datetime.now(UTC).isoformat(timespec="seconds")
    start = time.perf_counter()
    problem = build_problem(scenario)
    from hubopt.guard import check_model_size

    check_model_size(problem)
    model = build_model(problem)
    build_seconds = time.perf_counter() - start
    solver = get_backend(str(settings.backend))
    warm = None
    if settings.warm_start:
        from hubopt.heuristic import warm_start_vector

        warm = warm_start_vector(problem, model)
    with stdout_to_stderr():
        output = solver.solve(model, settings, warm)
    solution = verification = None
    if output.status.has_solution and output.x is not None:
        solution = decode_solution(problem, model, output.x)
        verification = verify_solution(scenario, solution, output.objective)
        if not verification.ok:
            raise VerificationError(verification.violations)
    diagnosis: list[str] = []
    if output.status == SolveStatus.INFEASIBLE:
        from hubopt.diagnose import diagnose_infeasibility

        diagnosis = diagnose_infeasibility(
            problem, scenario=scenario, model=model, settings=settings
        )
    return Result(
        scenario=scenario,
        problem=problem,
        status=output.status,
        objective=output.objective,
        bound=output.bound,
        gap=output.gap,
        solution=solution,
        verification=verification,
        backend=output.backend,
        solver_version=output.solver_version,
        build_seconds=build_seconds,
        solve_seconds=output.solve_seconds,
        model_stats=model.stats(),
        solver_log=output.log,
        message=output.message,
        started_at=started,
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        diagnosis=diagnosis,
    )
