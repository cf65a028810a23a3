"""The Python API: :func:`solve` a scenario into a verified :class:`~hubopt.result.Result`."""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

from hubopt.benders import method_for, solve_benders
from hubopt.data.problem import build_problem
from hubopt.diagnose import diagnose_infeasibility
from hubopt.diagnose.structural import collect_warnings, refuse_warnings
from hubopt.errors import VerificationError
from hubopt.guard import check_model_size
from hubopt.heuristic import warm_start_vector
from hubopt.model.build import build_model
from hubopt.pooling import solve_model
from hubopt.result import Result
from hubopt.routing.locate import locate_and_route
from hubopt.routing.run import checked, routes_for_plan
from hubopt.scenario.scenario import Scenario, load_scenario
from hubopt.solution import decode_solution
from hubopt.solvers import SolveStatus, get_backend
from hubopt.solvers.base import stdout_to_stderr
from hubopt.verify import verify_solution

log = logging.getLogger(__name__)


def solve(
    scenario: Scenario | str | Path,
    backend: str | None = None,
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
    threads: int | None = None,
    seed: int | None = None,
    strict: bool | None = None,
) -> Result:
    """Solve a scenario and verify the plan independently.

    Infeasible or time-limited solves are statuses on the result, not exceptions.
    Input warnings (implausible coordinates, a service level with no effect...) are on
    ``Result.warnings``; with ``strict`` (default: ``policy.strict``) any warning refuses
    the scenario.

    Raises
    ------
    hubopt.errors.StrictWarningsError
        In strict mode, when the input has warnings (exit 2).
    hubopt.errors.VerificationError
        If the plan violates a constraint when recomputed from the raw tables (a bug).
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    routing = scenario.config.routing
    if routing is not None and routing.mode == "integrated":
        return _solve_integrated(scenario, backend, time_limit_s, mip_gap, threads, seed)
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
    warnings = collect_warnings(scenario, problem)
    refuse_warnings(warnings, scenario.config.policy.strict if strict is None else strict)
    check_model_size(problem)
    model = build_model(problem)
    build_seconds = time.perf_counter() - start
    solver = get_backend(str(settings.backend))
    warm = None
    if settings.warm_start:
        warm = warm_start_vector(problem, model)
    method, _ = method_for(problem, model, settings)
    with stdout_to_stderr():
        if method == "benders":
            # single-period facility location: Benders decomposition (hubopt.benders)
            output, _ = solve_benders(problem, model, settings, warm)
            cut_loop = None
        else:
            # pooled safety stock: a cut-and-resolve loop (hubopt.pooling); else one solve
            output, model, cut_loop = solve_model(problem, model, solver, settings, warm)
    solution = verification = None
    if output.status.has_solution and output.x is not None:
        solution = decode_solution(problem, model, output.x)
        verification = verify_solution(scenario, solution, output.objective)
        if not verification.ok:
            raise VerificationError(verification.violations)
    diagnosis: list[str] = []
    if output.status == SolveStatus.INFEASIBLE:
        diagnosis = diagnose_infeasibility(
            problem, scenario=scenario, model=model, settings=settings
        )
    routes = route_verification = None
    if solution is not None and routing is not None:
        routes, route_verification = routes_for_plan(scenario, problem, solution.flows)
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
        warnings=warnings,
        cut_loop=cut_loop,
        routes=routes,
        route_verification=route_verification,
    )


def _solve_integrated(
    scenario: Scenario,
    backend: str | None,
    time_limit_s: float | None,
    mip_gap: float | None,
    threads: int | None,
    seed: int | None,
) -> Result:
    """``routing.mode: integrated``: the cheapest routed plan of the location-routing search.

    Each location solve is an ordinary verified :func:`solve` of the scenario with the
    delivery estimates as lane costs; the result keeps the original scenario, the best
    round's plan (its outbound transport cost is the route-based estimate), its verified
    routes and the search history (see :mod:`hubopt.routing.locate`).
    """
    routing = scenario.config.routing
    assert routing is not None
    config = scenario.config.model_copy(update={"routing": None})
    plain = dataclasses.replace(scenario, config=config)

    def locate(variant: Scenario) -> Result:
        return solve(variant, backend, time_limit_s, mip_gap, threads, seed)

    found = locate_and_route(plain, locate, routing)
    if found is None:
        return dataclasses.replace(locate(plain), scenario=scenario)
    best = found.planned
    assert isinstance(best, Result) and best.solution is not None
    verification = checked(best.scenario, best.solution.flows, found.routes, routing)
    return dataclasses.replace(
        best,
        scenario=scenario,
        routes=found.routes,
        route_verification=verification,
        location_routing=found.history,
    )
