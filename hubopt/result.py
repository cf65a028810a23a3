"""The outcome of one solve: :class:`Result` (status, verified plan, KPIs, timings).

Writing a run folder and drawing a map are free functions on a result
(:func:`hubopt.runs.write_run`, :func:`hubopt.present.maps.plan_map`), so this module
depends on the core only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from hubopt.data.problem import ProblemData
from hubopt.errors import InputWarning
from hubopt.kpis import Kpis, compute_kpis
from hubopt.pooling import CutLoop
from hubopt.routing.plan import RoutePlan
from hubopt.routing.verify import RouteVerification
from hubopt.scenario.scenario import Scenario
from hubopt.solution import Solution
from hubopt.solvers import SolveStatus
from hubopt.solvers.rootcuts import RootCutReport
from hubopt.verify import Verification


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
    warnings: list[InputWarning] = field(default_factory=list)
    campaign_economics: pd.DataFrame | None = None
    replan_changes: pd.DataFrame | None = None
    replan_summary: dict[str, Any] = field(default_factory=dict)
    routes: RoutePlan | None = None
    route_verification: RouteVerification | None = None
    location_routing: pd.DataFrame | None = None
    cut_loop: CutLoop | None = None  # the pooled safety-stock loop, when pooling is on
    root_cuts: RootCutReport | None = None  # the root cut loop before the MIP, when it ran

    @cached_property
    def kpis(self) -> Kpis:
        """KPI tables (see :mod:`hubopt.kpis`), computed on first access; needs a solution."""
        if self.solution is None:
            raise ValueError(f"no solution to compute KPIs from (status {self.status})")
        tiers = self.scenario.config.output.promise_tiers_hours
        return compute_kpis(self.problem, self.solution, tiers)

    @property
    def flows(self) -> pd.DataFrame:
        """Outbound flows (empty without a solution)."""
        return self.solution.flows if self.solution is not None else pd.DataFrame()

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
            "message": self.message,
            "diagnosis": self.diagnosis,
            "warnings": [w.as_dict() for w in self.warnings],
            "safety_stock_cuts": None if self.cut_loop is None else self.cut_loop.as_dict(),
            "objective_terms": "cost - incremental campaign margin"
            if self.solution is not None and len(self.solution.footprint)
            else "cost",
            "root_cuts": None if self.root_cuts is None else self.root_cuts.as_dict(),
        }


def _num(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)
