"""The Lagrangian bound with each hub's opening plan kept (hubopt.solvers.lagrangian): its
inner minimum is exactly the MIP over the kept rows, it never exceeds an optimum, and its
subgradient climb raises the LP bound where the LP is weak."""

from __future__ import annotations

import copy
import dataclasses
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pytest
from helpers import FIXTURES, scenarios, write_scenario
from hypothesis import HealthCheck, given, settings

from hubopt import guard
from hubopt.data.problem import build_problem
from hubopt.heuristic import Searcher, local_search
from hubopt.heuristic import search as search_module
from hubopt.model.build import build_model
from hubopt.model.matrix import MatrixModel
from hubopt.orlib import read_optima, read_orlib_cap, write_facility_scenario
from hubopt.restricted import ClimbBeside, whole_bound
from hubopt.scenario.scenario import load_scenario
from hubopt.solvers.highs import pass_matrix
from hubopt.solvers.lagrangian import (
    CLIMB_ROWS,
    HubLagrangian,
    HubPrices,
    climb,
    climbed_rows,
)


def _solved(model: MatrixModel, relax: bool) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    if relax:
        model = dataclasses.replace(model, integer=np.zeros(model.n_vars, dtype=bool))
    pass_matrix(h, model)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return h


def lp_duals(model: MatrixModel) -> tuple[float, np.ndarray]:
    """The LP relaxation's optimum and row duals."""
    h = _solved(model, relax=True)
    return h.getInfo().objective_function_value, np.asarray(h.getSolution().row_dual, float)


def inner_mip(bound: HubLagrangian, duals: np.ndarray, open_: np.ndarray | None = None) -> float:
    """The Lagrangian at ``duals`` by brute force: HiGHS's MIP over the kept rows, with the
    reduced costs as objective and only open / opened / closed integer (``open_``: with
    the open columns fixed to it; +inf when that is infeasible)."""
    m = bound.model
    if open_ is not None:
        if (open_ < m.lb[bound.open]).any() or (open_ > m.ub[bound.open]).any():
            return np.inf
        lb, ub = m.lb.copy(), m.ub.copy()
        lb[bound.open], ub[bound.open] = open_, open_
        m = dataclasses.replace(m, lb=lb, ub=ub)
    y = duals.copy()
    for part in bound.kept:
        y[part] = 0.0
    total, reduced = m._lagrangian(y, np.zeros(m.n_vars, dtype=bool))
    rows = np.concatenate([np.arange(p.start, p.stop) for p in bound.kept])
    integer = np.zeros(m.n_vars, dtype=bool)
    for block in (bound.open, bound.opened, bound.closed):
        if block is not None:
            integer[block] = True
    inner = dataclasses.replace(
        m,
        c=reduced,
        A=m.A[rows],
        row_lo=m.row_lo[rows],
        row_hi=m.row_hi[rows],
        integer=integer,
        offset=0.0,
        row_blocks={},
    )
    if open_ is not None and not _feasible(inner):
        return np.inf
    return total + _solved(inner, relax=False).getInfo().objective_function_value


def _feasible(model: MatrixModel) -> bool:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    pass_matrix(h, model)
    h.run()
    return h.getModelStatus() == highspy.HighsModelStatus.kOptimal


def _case_model(case: Any) -> tuple[Any, MatrixModel]:
    tables, blocks = copy.deepcopy(case)
    with tempfile.TemporaryDirectory() as folder:
        problem = build_problem(load_scenario(write_scenario(Path(folder), tables, **blocks)))
    return problem, build_model(problem)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=scenarios())
def test_the_inner_minimum_is_the_mip_over_the_kept_rows(case: Any) -> None:
    """Random small scenarios (existing, forced and late hubs, closing allowed or not,
    capacities or none): at the LP's duals and at those duals jittered at random, the
    knapsacks and each hub's open/closed sequence give the same value as HiGHS's MIP over
    the kept rows; at the LP's duals it is at least the LP optimum; never above the
    scenario's optimum."""
    problem, model = _case_model(case)
    bound = HubLagrangian.of(model, problem.n_hubs, problem.periods)
    assert bound is not None
    lp, duals = lp_duals(model)
    optimum = _solved(model, relax=False).getInfo().objective_function_value
    scale = 1e-7 * max(1.0, abs(optimum))
    rng = np.random.default_rng(len(duals))
    for trial in range(4):
        y = duals if trial == 0 else duals * (1 + 0.3 * rng.standard_normal(len(duals)))
        value, _ = bound.value(y)
        assert value == pytest.approx(inner_mip(bound, y), abs=scale)
        assert value <= optimum + scale
        if trial == 0:
            assert value >= lp - scale


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=scenarios())
def test_the_floor_is_the_inner_minimum_with_open_fixed(case: Any) -> None:
    """The hubs' prices at some multipliers bound every plan with a given ``open`` matrix:
    at the inner minimiser's matrix the floor is the bound itself; at random 0/1 matrices
    it is HiGHS's MIP over the kept rows with ``open`` fixed there (+inf where a rule or a
    bound of ``open`` forbids the matrix), and never above the model's optimum with
    ``open`` fixed there. The descent skips moves by it (``Searcher.floor``)."""
    problem, model = _case_model(case)
    bound = HubLagrangian.of(model, problem.n_hubs, problem.periods)
    assert bound is not None
    _, duals = lp_duals(model)
    rng = np.random.default_rng(len(duals))
    y = duals * (1 + 0.3 * rng.standard_normal(len(duals)))
    inner = bound.inner(y)
    assert inner.x is not None and inner.prices is not None
    scale = 1e-7 * max(1.0, abs(inner.bound))
    shape = (problem.n_hubs, problem.periods)
    at_minimum = inner.x[bound.open].reshape(shape)
    assert inner.prices.floor(at_minimum) == pytest.approx(inner.bound, abs=scale)
    for _ in range(4):
        z = (rng.random(shape) < 0.5).astype(float)
        floor = inner.prices.floor(z)
        assert floor == pytest.approx(inner_mip(bound, y, z.ravel()), abs=scale)
        if np.isfinite(floor):  # below the LP with open fixed at z, where that is feasible
            lb, ub = model.lb.copy(), model.ub.copy()
            lb[bound.open], ub[bound.open] = z.ravel(), z.ravel()
            fixed = dataclasses.replace(
                model, lb=lb, ub=ub, integer=np.zeros(model.n_vars, dtype=bool)
            )
            if _feasible(fixed):
                assert floor <= _solved(fixed, True).getInfo().objective_function_value + scale


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=scenarios())
def test_the_climb_never_passes_the_optimum(case: Any) -> None:
    """The subgradient climb aimed at the optimum itself (the fastest steps) ends at or
    below it, and never below where it started."""
    problem, model = _case_model(case)
    bound = HubLagrangian.of(model, problem.n_hubs, problem.periods)
    assert bound is not None
    _, duals = lp_duals(model)
    optimum = _solved(model, relax=False).getInfo().objective_function_value
    climbed = climb(bound, duals, 2.0, lambda: optimum)
    assert climbed.start <= climbed.bound <= optimum + 1e-7 * max(1.0, abs(optimum))


def _cap41_weak(tmp_path: Path) -> tuple[HubLagrangian, float, np.ndarray, float]:
    """cap41 with aggregated linking rows: its bound, the LP's optimum and duals, and the
    published optimum."""
    path = write_facility_scenario(read_orlib_cap(FIXTURES / "orlib" / "cap41.txt"), tmp_path)
    scenario = load_scenario(path)
    policy = scenario.config.policy.model_copy(update={"linking": "hub"})
    scenario = dataclasses.replace(
        scenario, config=scenario.config.model_copy(update={"policy": policy})
    )
    problem = build_problem(scenario)
    model = build_model(problem, strengthen=False)
    bound = HubLagrangian.of(model, problem.n_hubs, problem.periods)
    assert bound is not None
    optimum = read_optima(FIXTURES / "orlib" / "capopt.txt")["cap41"]
    return bound, *lp_duals(model), optimum


def test_the_climb_closes_most_of_the_weak_lps_gap_on_cap41(tmp_path: Path) -> None:
    """cap41 with one aggregated linking row per hub (``policy.linking: hub``): the LP
    pays for a share of each hub's fixed cost by its used capacity. Keeping each hub's
    capacity row and its opening whole, the climb from the LP's duals rises above the LP
    and stays below the published optimum."""
    bound, lp, duals, optimum = _cap41_weak(tmp_path)
    climbed = climb(bound, duals, 5.0, lambda: optimum)
    assert climbed.bound <= optimum * (1 + 1e-9)
    assert climbed.bound - lp >= 0.5 * (optimum - lp), (lp, climbed.bound, optimum)


def test_the_climb_moves_the_rows_that_price_a_hubs_opening_but_not_the_kept_ones(
    tmp_path: Path,
) -> None:
    """The climb's rows: the demand rows and, where the model has them, the linking,
    storage, inflow-linking and cover rows; never a row the bound keeps (a hub's
    throughput and opening rows) nor the stock balance rows."""
    bound, _, _, _ = _cap41_weak(tmp_path)
    blocks = bound.model.row_blocks
    moved = set(climbed_rows(bound).tolist())
    for name, part in blocks.items():
        rows = set(range(part.start, part.stop))
        if name in CLIMB_ROWS:
            assert rows <= moved, name
        else:
            assert not rows & moved, name
    assert {"demand", "linking", "storage", "inflow_linking"} <= blocks.keys()
    assert {"throughput", "opening", "balance"} <= blocks.keys()


def test_the_climb_stops_when_told(tmp_path: Path) -> None:
    """A climb with its stop event set ends after at most one step."""
    path = write_facility_scenario(read_orlib_cap(FIXTURES / "orlib" / "cap41.txt"), tmp_path)
    problem = build_problem(load_scenario(path))
    model = build_model(problem)
    bound = HubLagrangian.of(model, problem.n_hubs, problem.periods)
    assert bound is not None
    stop = threading.Event()
    stop.set()
    climbed = climb(bound, lp_duals(model)[1], 60.0, lambda: np.inf, stop)
    assert climbed.steps == 0 and climbed.bound == climbed.start


def test_the_climb_goes_on_from_offered_multipliers_only_when_they_bound_higher(
    tmp_path: Path,
) -> None:
    """Offered the LP's duals after two steps from poor multipliers (a tenth of them), the
    climb goes on from there (one restart) and ends at or above their bound; offered the
    poor ones while climbing from the LP's duals, it ignores them."""
    bound, _, duals, optimum = _cap41_weak(tmp_path)
    poor = 0.1 * duals
    at_lp, at_poor = bound.inner(duals).bound, bound.inner(poor).bound
    assert at_poor < at_lp  # the premise

    def offers(later: np.ndarray) -> Callable[[], np.ndarray | None]:
        asked = [0]

        def offered() -> np.ndarray | None:
            asked[0] += 1
            return later if asked[0] == 3 else None

        return offered

    climbed = climb(bound, poor, 2.0, lambda: optimum, offered=offers(duals))
    assert climbed.start == at_poor and climbed.restarts == 1, climbed
    assert at_lp <= climbed.bound <= optimum * (1 + 1e-9)
    assert "1 restart(s) from later LP duals" in climbed.text()
    kept = climb(bound, duals, 2.0, lambda: optimum, offered=offers(poor))
    assert kept.restarts == 0 and kept.start == at_lp and kept.bound <= optimum * (1 + 1e-9)


def test_the_climb_beside_starts_at_the_first_offer_and_raises_the_bounds_it_follows(
    tmp_path: Path,
) -> None:
    """:class:`ClimbBeside`: no offer, no climb (``end`` gives None at once); offered the
    LP's duals it climbs, ``follow`` hands the best bound so far to the search's list and
    every better one after it, and ``end_after`` ends it by itself."""
    bound, _, duals, optimum = _cap41_weak(tmp_path)
    assert ClimbBeside(bound).end() is None
    beside = ClimbBeside(bound)
    beside.offer(duals)
    plan, bounds = [optimum], [-np.inf]
    beside.follow(plan, bounds)
    beside.end_after(1.0)
    time.sleep(3.0)
    climbed = beside.end()
    assert climbed is not None and climbed.steps > 0
    assert climbed.seconds < 2.5  # ended 1 s after end_after, not when end was called
    assert bounds[0] == climbed.bound and bound.inner(duals).bound <= climbed.bound
    assert climbed.bound <= optimum * (1 + 1e-9)
    assert beside.prices  # the hubs' prices at the best multipliers, for the search's floor


def test_no_bound_without_the_memory_to_hold_the_whole_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restricted solve keeps its whole model for the bound only when it and a step's
    vectors fit in a quarter of the memory left."""
    path = write_facility_scenario(read_orlib_cap(FIXTURES / "orlib" / "cap41.txt"), tmp_path)
    problem = build_problem(load_scenario(path))
    model = build_model(problem)
    need = model.nbytes + guard.HELD_MODEL_BYTES_PER_COLUMN * model.n_vars
    monkeypatch.setattr(guard, "headroom_bytes", lambda: 4 * need)
    assert whole_bound(model, problem) is not None
    monkeypatch.setattr(guard, "headroom_bytes", lambda: 4 * need - 4)
    assert whole_bound(model, problem) is None


def _cap131_prices(tmp_path: Path) -> tuple[Any, MatrixModel, list[HubPrices], float]:
    """cap131's problem and model, the hubs' prices after a short climb from the LP's
    duals (each better one) and the published optimum."""
    path = write_facility_scenario(read_orlib_cap(FIXTURES / "orlib" / "cap131.txt"), tmp_path)
    problem = build_problem(load_scenario(path))
    model = build_model(problem)
    bound = HubLagrangian.of(model, problem.n_hubs, problem.periods)
    assert bound is not None
    prices: list[HubPrices] = []
    optimum = read_optima(FIXTURES / "orlib" / "capopt.txt")["cap131"]
    climb(bound, lp_duals(model)[1], 3.0, lambda: optimum, on_better=lambda _, p: prices.append(p))
    assert prices
    return problem, model, prices, optimum


def test_the_descent_skips_moves_the_floor_rules_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The descent on cap131 from every hub open, with and without the Lagrangian floor
    (the hubs' prices after a short climb from the LP's duals), its moves in their
    neighbourhoods' order (batches of one move: not sorted by the floor): the same plan
    and path (the moves it rules out never improve), and the moves it skips are LPs
    saved."""
    monkeypatch.setattr(search_module, "GUIDED_BATCH", 1)
    problem, model, prices, _ = _cap131_prices(tmp_path)
    start = np.ones((problem.n_hubs, 1))
    plain = local_search(problem, model, 120.0, 10_000, start=start)
    searcher = Searcher(problem, model)
    searcher.floor = prices[-1].floor
    pruned = local_search(problem, model, 120.0, 10_000, start=start, searcher=searcher)
    assert pruned.objective == plain.objective
    assert pruned.improvements == plain.improvements
    assert pruned.skipped > plain.skipped, (pruned.skipped, plain.skipped)
    assert pruned.evaluations + pruned.skipped == plain.evaluations + plain.skipped
    assert "or a Lagrangian bound" in pruned.summary()


def _scored(searcher: Searcher) -> list[tuple[np.ndarray, float]]:
    """Every matrix ``searcher``'s LP scores from now on, with its LP cost (inf: not
    optimal or cut off), in order."""
    lp = searcher.lp
    evaluate = lp.evaluate
    scored: list[tuple[np.ndarray, float]] = []

    def record(values: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        point = evaluate(values, *args, **kwargs)
        scored.append((np.array(values, dtype=float), point.objective))
        return point

    lp.evaluate = record  # type: ignore[method-assign]
    return scored


def test_the_descent_scores_moves_lowest_floor_first(tmp_path: Path) -> None:
    """With a floor, the descent scores the moves of a round lowest floor first. From
    cap131's optimal hubs (a local optimum: the round is every move, none improves) and a
    floor that puts fewer open hubs lower (closings, then swaps, then openings), every
    LP-scored move's floor is at least the one before; without the floor the descent
    scores them in its neighbourhoods' order (openings before closings)."""
    problem, model, _, optimum = _cap131_prices(tmp_path)
    solved = _solved(model, relax=False)
    shape = (problem.n_hubs, problem.periods)
    best = np.round(np.asarray(solved.getSolution().col_value)[model.var_blocks["open"]])

    def floor(z: np.ndarray) -> float:
        return -1e15 + 1e6 * float(np.sum(z))

    orders = []
    for guided in (True, False):
        searcher = Searcher(problem, model)
        if guided:
            searcher.floor = floor
        scored = _scored(searcher)
        result = local_search(
            problem, model, 120.0, 10_000, start=best.reshape(shape), searcher=searcher
        )
        assert result.objective == pytest.approx(optimum, rel=1e-6)
        assert result.improvements == 0
        orders.append([floor(values) for values, _ in scored[1:]])
    by_floor, plain = orders
    assert len(by_floor) > 20 and sorted(by_floor) == sorted(plain)
    assert by_floor == sorted(by_floor)
    assert plain != sorted(plain)
