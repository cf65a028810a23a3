"""The Python API: :func:`solve` a scenario into a verified :class:`~hubopt.result.Result`."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from hubopt.benders import method_for, solve_benders
from hubopt.data.problem import ProblemData, build_problem, cheapest_arcs
from hubopt.data.spill import SpilledArcs, restore_arcs, spill_arcs
from hubopt.diagnose import diagnose_infeasibility
from hubopt.diagnose.structural import collect_warnings, refuse_warnings
from hubopt.errors import VerificationError
from hubopt.guard import (
    arcs_to_keep,
    limit_heap_growth,
    lp_copies_that_fit,
    release_freed_memory,
)
from hubopt.heuristic import (
    Searcher,
    improve_beside,
    local_search,
    warm_start_vector,
    with_unused_plan,
)
from hubopt.model.build import build_model
from hubopt.model.matrix import MatrixModel
from hubopt.model.network import linking_groups
from hubopt.pooling import CutLoop, pooling_active, solve_model
from hubopt.restricted import (
    CLIMB_SHARE,
    VERIFY_SHARE,
    ClimbBeside,
    SearchSpace,
    restrict,
    restricted_output,
    search_model,
    whole_bound,
    widened_output,
)
from hubopt.result import Result
from hubopt.routing.locate import locate_and_route
from hubopt.routing.run import checked, routes_for_plan
from hubopt.scenario.scenario import Scenario, load_scenario
from hubopt.scenario.schema import SolverSettings
from hubopt.solution import decode_solution
from hubopt.solvers import HeuristicBackend, SolutionFeed, SolverOutput, SolveStatus, get_backend
from hubopt.solvers.base import on_thread, solver_threads, stdout_to_stderr
from hubopt.solvers.fixing import LpPoint, plan_output
from hubopt.solvers.highs import HighsBackend, highs_version
from hubopt.solvers.pricing import PricedLp
from hubopt.solvers.rootcuts import (
    FIRST_STAGE_MAX_COLUMNS,
    RootCutReport,
    bound_loop,
    strengthen,
    with_loop,
)
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
    start_open: np.ndarray | None = None,
) -> Result:
    """Solve a scenario and verify the plan independently.

    ``start_open`` (hubs x periods, 0/1) proposes which hubs are open for the MIP start
    instead of the greedy proposal (a re-plan passes its original plan's decisions); the
    solver completes or rejects it, it never constrains the plan.

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
    per_stream = arcs_to_keep(problem, settings.arcs_per_stream, str(settings.backend))
    # no reach rows in a restricted solve: on the 1000x60x10x12 ladder rung they left the
    # column generation's first LP unsolved after 400 s (26 s without) and did not raise
    # its bound (docs/solvers.md)
    model = build_model(problem, reach=per_stream is None)
    release_freed_memory()
    if per_stream is None and restricts_by_default(problem, model, settings):
        per_stream = LARGE_MODEL_ARCS_PER_STREAM
        model = model.without_rows("reach")
    build_seconds = time.perf_counter() - start
    # the limit is the call's wall clock: the solver gets what the build left
    limit = max(settings.time_limit_s - build_seconds, LEAST_SOLVE_SHARE * settings.time_limit_s)
    settings = settings.model_copy(update={"time_limit_s": limit})
    priced: PricedLp | None = None  # the column generation of a restricted solve
    climbing: ClimbBeside | None = None  # its whole model's Lagrangian bound, on a thread
    spilled: SpilledArcs | None = None  # its whole arcs table, on disk
    space: SearchSpace | None = None  # which arcs it searched
    whole_stats: dict[str, int] = {}  # a restricted solve's whole model's size
    if per_stream is not None:
        keep = cheapest_arcs(problem, per_stream)
        if len(keep) < len(problem.out_arcs):
            # inline, not in a helper: this frame holds the whole problem's and model's
            # only references, dropped here (the arcs table waits on disk while the column
            # generation needs only the model; the whole model goes once restricted)
            began = time.perf_counter()
            whole_stats = {f"whole_{key}": value for key, value in model.stats().items()}
            problem, spilled = spill_arcs(problem)
            release_freed_memory()
            try:
                whole = whole_bound(model, problem)  # kept for the bound beside the search
                if whole is None:  # memory is what limits this solve: hand freed pages back
                    limit_heap_growth()
                else:  # climbing beside the column generation from its first LP's duals
                    climbing = ClimbBeside(whole)
                del whole
                budget = RESTRICTED_PRICING_SHARE * HEURISTIC_SHARE * settings.time_limit_s
                offer = climbing.offer if climbing is not None else lambda duals: None
                model, priced = restrict(
                    model,
                    keep,
                    per_stream,
                    budget,
                    len(problem.streams),
                    offer,
                    whole_lps_only=climbing is not None,
                )
                release_freed_memory()
                problem = restore_arcs(problem, spilled, priced.kept, discard=False)
                space = search_model(problem, model, priced, spilled, start_open)
                problem, model, priced, start_open = (
                    space.problem,
                    space.model,
                    space.priced,
                    space.start,
                )
            except BaseException:
                spilled.discard()  # kept for the plan's re-solve (widened_output) otherwise
                if climbing is not None:
                    climbing.end()
                raise
        del keep
    # a restricted solve ends its climb on every path from here (it runs on a thread)
    method = method_for(problem, model, settings)[0] if priced is None else None
    root_cuts = None
    with stdout_to_stderr():
        if priced is not None:
            try:  # the restriction's seconds (pricing, restricted model) are solve time
                # what re-solving the plan on the arcs to its open hubs takes (_solve sets it)
                resolve = [0.0]
                priced = dataclasses.replace(priced, seconds=time.perf_counter() - began)
                deadline = began + (1.0 - VERIFY_SHARE) * settings.time_limit_s
                left = max(settings.time_limit_s - priced.seconds, 1.0)
                settings = settings.model_copy(
                    update={"backend": "heuristic", "time_limit_s": left}
                )
                output, model, cut_loop = _solve(
                    problem,
                    model,
                    settings,
                    start_open,
                    priced,
                    climbing,
                    resolve if spilled is not None else None,
                )
                if spilled is not None:
                    problem, model, output = widened_output(
                        problem,
                        model,
                        output,
                        spilled,
                        deadline - time.perf_counter(),
                        settings.mip_gap,
                        space.covered if space else None,
                        resolve[0],
                    )
            finally:
                if spilled is not None:
                    spilled.discard()
                if climbing is not None:
                    climbing.end()  # ended by now unless _solve failed
            output = restricted_output(output, priced, per_stream, space)
        elif method == "benders":
            # single-period facility location: Benders decomposition (hubopt.benders)
            warm = warm_start_vector(problem, model, start_open) if settings.warm_start else None
            output, _ = solve_benders(problem, model, settings, warm)
            cut_loop = None
        else:
            settings = settings.model_copy(
                update={"backend": auto_backend(problem, model, settings)}
            )
            # the root cut loop (hubopt.solvers.rootcuts) strengthens the model for the MIP
            backend_name = get_backend(str(settings.backend)).name
            model, settings, root_cuts = strengthen(problem, model, settings, backend_name)
            output, model, cut_loop = _solve(problem, model, settings, start_open)
    output = with_loop(output, root_cuts)
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
        model_stats=model.stats()
        | ({} if priced is None else {"arcs_per_stream": int(per_stream or 0)} | whole_stats),
        solver_log=output.log,
        message=output.message,
        started_at=started,
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        diagnosis=diagnosis,
        warnings=warnings,
        cut_loop=cut_loop,
        root_cuts=root_cuts,
        routes=routes,
        route_verification=route_verification,
    )


LARGE_MODEL_ARCS_PER_STREAM = 3
"""Arcs per stream a large heuristic solve starts from (:func:`restricts_by_default`)."""


def restricts_by_default(
    problem: ProblemData, model: MatrixModel, settings: SolverSettings
) -> bool:
    """Whether ``solver.arcs_per_stream: auto`` restricts a model that fits in memory: on
    the heuristic backend (asked for, or what ``auto`` picks) above
    ``FIRST_STAGE_MAX_COLUMNS`` columns. There the bound loop reaches no more than the
    plain LP in time, which column generation on each stream's cheapest arcs reaches
    sooner, and the search's LPs are smaller. Measured (docs/solvers.md): the 1000x60x10x12
    ladder rung's whole LP in 45 s by column generation (the dual simplex on every arc
    took most of the 300 s), its plan 5.1 % above it (was 6.9 %)."""
    heuristic = settings.backend == "heuristic" or (
        settings.backend == "auto" and auto_backend(problem, model, settings) == "heuristic"
    )
    return (
        settings.arcs_per_stream == "auto"
        and heuristic
        and model.n_vars > FIRST_STAGE_MAX_COLUMNS
        and bool(model.integer.any())
    )


LOCAL_SEARCH_MIN_BINARIES = 100
"""``solver.local_search: auto`` runs the search before HiGHS from this many ``open``
binaries on (the Korea demo has 270; the hand-checkable tests a handful)."""


def auto_backend(problem: ProblemData, model: MatrixModel, settings: SolverSettings) -> str:
    """The backend ``solver.backend: auto`` means for this model: ``heuristic`` for
    multi-period models with at least ``LOCAL_SEARCH_MIN_BINARIES`` hub-period binaries
    whose linking rows are the aggregated per-(hub, period) ones (above
    ``STRONG_LINKING_MAX_PAIRS`` hub-stream pairs), without pooled safety stock and with
    ``solver.local_search`` not ``off``; else ``auto`` (HiGHS).

    There HiGHS spends its time limit in the root node on the weak linking rows, and the
    heuristic backend's bound (every region row at once by interior point, then per-stream
    rounds) is the tighter one. Measured on a quiet 2-core machine (docs/solvers.md): the
    Korea demo at 100 s 0.84 % (HiGHS with the search beside it: 1.50-1.89 %); the
    250x25x6x8 ladder rung 0.98 % in 23 s (HiGHS 0.94 % in 32 s); the 1000x60x10x12 rung
    at 300 s 6.6 % with 4.4 GB peak (HiGHS 6.3 %, 8.1 GB)."""
    large_multi_period = (
        settings.backend == "auto"
        and problem.periods >= 2
        and settings.local_search != "off"
        and model.integer.any()
        and open_binaries(model) >= LOCAL_SEARCH_MIN_BINARIES
        and not pooling_active(problem)
        and HeuristicBackend().available()
        and linking_groups(problem)[1] == "hub"
    )
    return "heuristic" if large_multi_period else str(settings.backend)


def open_binaries(model: MatrixModel) -> int:
    """Number of ``open[h, t]`` columns (hub-period binaries) of ``model``."""
    opens = model.var_blocks["open"]
    return opens.stop - opens.start


LEAST_SOLVE_SHARE = 0.1
"""Least share of ``solver.time_limit_s`` the solver gets however long the build took (the
limit counts the build: on the 2000x150x10x12 ladder rung 23-32 s of 600)."""

HEURISTIC_SHARE = 0.8
"""Share of the time limit a restricted heuristic solve's column generation may plan on
(:data:`RESTRICTED_PRICING_SHARE` of it)."""

RESTRICTED_SEARCH_SHARE = 0.95
"""Share of what the column generation leaves a restricted solve's search may use. The
rest (about :data:`VERIFY_SHARE` of the whole limit on the ladder's rungs) decodes and
verifies the plan. The search itself ends :data:`RESOLVE_STARTS` of its longest start LP
early, to re-solve its plan on the arcs to its open hubs (:func:`widened_output`) when it
did not hold them all. That re-solve used to start cold (41-49 s on the 2000x150x10x12
rung, stopped unfinished twice in 5 runs) and was kept one mean LP of the column
generation; from a crash it takes ~11 s there (docs/solvers.md)."""


RESOLVE_STARTS = 2.5
"""What re-solving a restricted solve's plan on every arc to its open hubs
(:func:`widened_output`) takes, in its search's longest start LP (both start from a crash
on the arcs to their open hubs): the search ends that long before its time. On the
2000x150x10x12 ladder rung a start from its crash took 8-9 s; the re-solve reads the arcs and
builds its model and solves one such LP: 11.3-11.6 s in all (docs/solvers.md)."""


BOUNDED_SEARCH_SHARE = 0.9
"""Share of the time limit the heuristic backend's search and the bound loop beside it may
use when the model is not restricted; the rest re-solves the plan with its integers fixed
(Korea demo: 3.3 s of the 100 s)."""

RESTRICTED_PRICING_SHARE = 0.5
"""Share of a restricted heuristic solve's search time its column generation (the LP
relaxation that gives the bound, or with the climb beside it the first duals, the arcs and
the LP point the search starts from) may take. With the climb beside it, 0.35 was measured
on the 2000x150x10x12 ladder rung: 1.16 % and 1.22 % when its 3rd LP finished, 1.57 % when
only 2 did (the search then starts from a dearer LP point), against 1.24 % with 0.5, which
finished 3 in both runs (docs/solvers.md)."""


def search_lps(model: MatrixModel, settings: SolverSettings) -> int:
    """HiGHS copies of the LP a restricted solve's search scores its moves on: one per core
    (no bound loop and no MIP run beside that search), as memory allows
    (:func:`hubopt.guard.lp_copies_that_fit`); ``solver.threads`` caps it. Measured on the
    1000x60x10x12 rung's restricted LP, 200 s from the column generation's LP point: one
    copy 208 moves, plan 1.05722e12; two 370 moves, 1.05387e12 (docs/solvers.md)."""
    return lp_copies_that_fit(model.A.nnz, solver_threads(settings))


def _solve(
    problem: ProblemData,
    model: MatrixModel,
    settings: SolverSettings,
    start_open: np.ndarray | None = None,
    priced: PricedLp | None = None,
    climbing: ClimbBeside | None = None,
    resolve: list[float] | None = None,
) -> tuple[SolverOutput, MatrixModel, CutLoop | None]:
    """Run the backend (pooled safety stock: its cut loop, :mod:`hubopt.pooling`), with the
    local search's plan as the start and, for HiGHS, the search beside it
    (:mod:`hubopt.heuristic`); the heuristic backend returns the search's plan.
    ``start_open`` (hubs x periods) replaces the greedy proposal as the start.

    ``priced``: ``model`` is restricted to some arcs, and this column generation gave the
    whole model's bound and the LP point (in ``model``'s columns) the search starts from
    (:func:`restrict`); the heuristic backend then runs no bound loop beside its search
    (the restricted LP's bound would not hold for the whole model, and memory is what the
    restriction is for). ``climbing``: the whole model's Lagrangian bound, raised on a
    thread since the column generation's first LP (:class:`ClimbBeside`), goes on beside
    the search for ``CLIMB_SHARE`` of its time. ``resolve``: the plan is re-solved on the
    arcs to its open hubs afterwards (:func:`widened_output`); the search ends
    ``resolve[0]`` seconds before its time does, :data:`RESOLVE_STARTS` times its longest
    start's LP (set here once the starts are scored)."""
    solver = get_backend(str(settings.backend))
    n_open = open_binaries(model)
    searching = isinstance(solver, HeuristicBackend) or (
        isinstance(solver, HighsBackend)
        and model.integer.any()
        and (
            settings.local_search == "on"
            or (settings.local_search == "auto" and n_open >= LOCAL_SEARCH_MIN_BINARIES)
        )
    )
    if not searching:
        warm = warm_start_vector(problem, model, start_open) if settings.warm_start else None
        return solve_model(problem, model, solver, settings, warm)
    start = time.perf_counter()
    heuristic_only = isinstance(solver, HeuristicBackend)
    # the heuristic backend keeps the rest of the limit to re-solve and bound its plan
    share = settings.local_search_share
    if heuristic_only:
        share = RESTRICTED_SEARCH_SHARE if priced else BOUNDED_SEARCH_SHARE
    searcher = Searcher(problem, model, search_lps(model, settings) if priced else 1)
    # the heuristic backend's bound: the root cut loop's LP on a thread beside the search
    final_bound: list[float] = []

    def bound_thread() -> RootCutReport:
        loop = bound_loop(problem, model, settings, share * settings.time_limit_s)
        final_bound.append(loop.bound)
        return loop

    best_plan = [math.inf]  # the search's best LP cost so far (the climb's target)

    def proven(best: float) -> bool:
        """The bound loop has ended and its bound proves ``best`` within the MIP gap (the
        search's LP cost; with other integers than ``open`` the plan may cost more)."""
        if math.isfinite(best):
            best_plan[0] = min(best_plan[0], best)
        return bool(final_bound) and best - final_bound[0] <= settings.mip_gap * max(
            abs(best), 1e-9
        )

    search_end = [math.inf]

    def ends(best: float) -> bool:
        """Whether the search ends before its next LP: ``best`` proven, or the time kept
        for the re-solve (``resolve``) has come."""
        if proven(best):
            return True
        if resolve is None:
            return False
        resolve[0] = RESOLVE_STARTS * searcher.start_seconds
        return time.perf_counter() >= search_end[0] - resolve[0]

    bounding = on_thread(bound_thread, "hubopt-bound") if heuristic_only and not priced else None
    # from the greedy start, no LP relaxation (HiGHS, or the bound loop, solves it), or
    # from the column generation's LP point as well
    relax: bool | LpPoint = False
    if priced is not None:
        final_bound.append(priced.bound)  # the search stops once it proves a plan
        if priced.x is not None:
            relax = LpPoint(True, priced.objective, priced.x, "optimal")
    budget = share * settings.time_limit_s
    if heuristic_only and priced is not None and not pooling_active(problem):
        # its plan is the search's LP point (below); counted from when the column
        # generation ended (the LP copies took some of it)
        budget -= time.perf_counter() - start
    if climbing is not None:  # a restricted solve's (``priced`` is set)
        climbing.follow(best_plan, final_bound)
        climbing.end_after(CLIMB_SHARE * budget)
        whole = climbing.whole
        if (whole.hubs, whole.periods) == searcher.shape:  # its plans are the whole model's
            prices = climbing.prices  # at the climb's best multipliers so far
            searcher.floor = lambda y: prices[-1].floor(y) if prices else -math.inf
    try:
        search_end[0] = time.perf_counter() + budget
        search = local_search(
            problem,
            model,
            budget,
            settings.local_search_moves,
            start_open,
            searcher,
            relax=relax,
            stop=ends,
            # a sub-MIP from a local optimum reached early (not on a restricted model:
            # there its root LP alone takes most of the limit, docs/solvers.md)
            escape=heuristic_only and priced is None,
            # the bound loop's core too, once it has ended
            threads=lambda: solver_threads(settings) if final_bound else 1,
        )
    finally:
        climbed = climbing.end() if climbing is not None else None
    if resolve is not None:
        log.info(
            "search kept %.1f s to re-solve its plan on the arcs to its open hubs (%.1f x its "
            "longest start LP, %.1f s)",
            resolve[0],
            RESOLVE_STARTS,
            searcher.start_seconds,
        )
    if priced is not None:
        bound, note = priced.bound, "the whole model's, by column generation"
        if climbed is not None:
            log.info(climbed.text())
            bound, note = max(bound, climbed.bound), f"the whole model's; {climbed.text()}"
        search = dataclasses.replace(
            search, lp_bound=bound, lp_status="column generation", bound_note=note
        )
        searcher.close()  # its HiGHS copies are not needed any more
    if bounding is not None:
        loop = bounding()
        search = dataclasses.replace(
            search, lp_bound=loop.bound, lp_status=loop.lp_status, bound_note=loop.text()
        )
    floor = (1.0 - share) * settings.time_limit_s if heuristic_only else 1.0
    left = max(settings.time_limit_s - (time.perf_counter() - start), floor)
    run = settings.model_copy(update={"time_limit_s": left})
    if heuristic_only:
        if search.x is None:
            infeasible = search.lp_status == "Infeasible"
            status = SolveStatus.INFEASIBLE if infeasible else SolveStatus.TIME_LIMIT
            # the stop reason in the log's words, as HiGHS's own log gives it
            text = search.summary() if infeasible else f"time limit reached: {search.summary()}"
            output = SolverOutput(
                status,
                None,
                float("nan"),
                search.lp_bound,
                search.seconds,
                "heuristic",
                "hubopt local search",
                text,
                text,
            )
            return output, model, None
        if priced is not None and not pooling_active(problem):
            # the search's LP point is the plan (integers fixed, the rest optimal for them):
            # no second HiGHS copy and no cold re-solve of a very large LP
            found = SolverOutput(
                SolveStatus.FEASIBLE, None, math.nan, math.nan, 0.0, "heuristic",
                highs_version(), search.summary(), "",
            )  # fmt: skip
            note = "local search plan (its LP point); bound: the whole model's LP"
            output = plan_output(found, model, search.x, search.lp_bound, settings.mip_gap, note)
            cut_loop = None
        else:
            bounded = HeuristicBackend(search.lp_bound)
            output, model, cut_loop = solve_model(problem, model, bounded, run, search.x)
            output = dataclasses.replace(output, log=f"{search.summary()}\n{output.log}")
    else:
        warm = search.x
        if warm is None and settings.warm_start:
            warm = warm_start_vector(problem, model, start_open)
        if not settings.threads:
            # the search thread beside HiGHS gets a core of its own: measured on the Korea
            # demo, HiGHS on 1 of 2 cores reached the same bound at 100 s and the search
            # a 0.35 % cheaper plan (docs/solvers.md)
            run = run.model_copy(update={"threads": max((os.cpu_count() or 1) - 1, 1)})
        feed = SolutionFeed()
        if search.x is not None:
            feed.known(search.objective)  # the start: only better plans are injected
        deadline = time.perf_counter() + left
        wait = improve_beside(searcher, feed, deadline, settings.local_search_moves, search.reached)
        try:
            assert isinstance(solver, HighsBackend)
            output, model, cut_loop = solve_model(problem, model, solver.with_feed(feed), run, warm)
        finally:
            feed.close()
            wait()
        if cut_loop is None:  # with pooled safety stock the search's LP lacks the cuts
            output = with_unused_plan(output, feed, settings.mip_gap)
        search_log = (
            f"{search.summary()}; beside HiGHS: {feed.offered} better plan(s) offered, "
            f"{feed.injected} injected through the user-solution callback"
        )
        output = dataclasses.replace(output, log=f"{search_log}\n{output.log}")
    seconds = output.solve_seconds + search.seconds
    return dataclasses.replace(output, solve_seconds=seconds), model, cut_loop


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
