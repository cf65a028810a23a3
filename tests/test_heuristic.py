"""The local search on hub-period decisions (hubopt.heuristic) and the heuristic backend.

Every model-family test also runs the ``heuristic`` backend (``helpers.check_heuristic``:
verified plan, bound <= optimum <= objective); here: the search's own guarantees.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest
from helpers import (
    FIXTURES,
    HEURISTIC,
    check_heuristic,
    lanes,
    scenarios,
    solve_verified,
    write_scenario,
)
from hypothesis import HealthCheck, assume, given, settings

from hubopt import guard
from hubopt.api import auto_backend, search_lps, solve
from hubopt.data.problem import build_problem
from hubopt.guard import lp_copies_that_fit
from hubopt.heuristic import (
    ArcCosts,
    HubSpace,
    Searcher,
    greedy_open,
    local_search,
    retimings,
    search,
    shifts,
    swaps,
    with_unused_plan,
)
from hubopt.heuristic.search import NEAR_HUBS
from hubopt.model.build import build_model
from hubopt.orlib import read_optima, read_orlib_cap, write_facility_scenario
from hubopt.scenario.scenario import load_scenario
from hubopt.scenario.schema import SolverSettings
from hubopt.solvers import SolutionFeed, SolveStatus
from hubopt.solvers.base import SolverOutput
from hubopt.solvers.fixing import CUT_OFF, FixedLp, LpPoint
from hubopt.solvers.highs import HighsBackend

pytestmark = pytest.mark.skipif(not HEURISTIC, reason="the heuristic backend needs highspy")

COST = ["from_id", "to_id", "cost_per_unit"]


def three_hubs(tmp_path: Path, **blocks: Any) -> Path:
    """Hubs A (fixed 100/period, free lanes), B (fixed 10, 1 per unit to both regions),
    C (fixed 5, 50 per unit to R1, free to R2); R1 needs 10 units in periods 1 and 2,
    R2 10 units in period 2; no closing."""
    hub = {"lat": 37.5, "lon": 127.0}
    return write_scenario(
        tmp_path,
        {
            "hubs": [
                {"hub_id": "A", "fixed_cost": 100.0, **hub},
                {"hub_id": "B", "fixed_cost": 10.0, **hub},
                {"hub_id": "C", "fixed_cost": 5.0, **hub},
            ],
            "regions": [
                {"region_id": "R1", "lat": 37.6, "lon": 127.1},
                {"region_id": "R2", "lat": 37.6, "lon": 127.1},
            ],
            "products": [{"product_id": "P"}],
            "demand": [
                {"region_id": "R1", "product_id": "P", "period": 1, "quantity": 10},
                {"region_id": "R1", "product_id": "P", "period": 2, "quantity": 10},
                {"region_id": "R2", "product_id": "P", "period": 2, "quantity": 10},
            ],
            "lanes": lanes(
                [("B", "R1", 1.0), ("B", "R2", 1.0), ("C", "R1", 50.0), ("C", "R2", 0.0)], COST
            ),
        },
        **blocks,
    )


def test_local_search_reaches_the_hand_worked_optimum(tmp_path: Path) -> None:
    """From A alone (2 x 100 = 200) the search reaches the optimum 45: B in both periods,
    C from period 2 = 2 x 10 + 5 + 10 x 1 (R1, p1) + 10 x 1 (R1, p2) + 10 x 0 (R2 via C).

    Swap A for B: 20 + 30 = 50; then open C where it pays (period 2 only: it saves 10 x 1
    on R2 against its fixed 5; in period 1 its lane to R1 costs 50): 45. Every other plan
    costs more: period 1 needs an open hub for R1 (B 20, A 100, C 505), B stays open, and
    in period 2 B alone costs 30, B + C 25, B + A 110.
    """
    path = three_hubs(tmp_path)
    problem = build_problem(load_scenario(path))
    model = build_model(problem)
    start = np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]])  # A alone
    result = local_search(problem, model, 30.0, 100, start=start)
    assert result.start_objective == pytest.approx(200.0)
    assert result.objective == pytest.approx(45.0)
    assert result.x is not None
    opened = np.round(result.x[model.var_blocks["open"]]).reshape(3, 2)
    assert opened.tolist() == [[0, 0], [1, 1], [0, 1]]
    assert solve_verified(path, "highs").objective == pytest.approx(45.0)
    heuristic = check_heuristic(path, 45.0)
    assert heuristic.objective == pytest.approx(45.0)


def test_retimings_go_ahead_once_predicted_to_beat_the_neighbourhoods_pace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first round puts no retiming ahead (no pace yet); the next puts ahead those
    predicted to save at least what the first round's improvement saved per LP it scored
    (one LP copy: the round's LPs up to its first improvement). The hand-worked optimum
    is still reached."""
    problem = build_problem(load_scenario(three_hubs(tmp_path)))
    model = build_model(problem)
    scored: list[float] = []
    evaluate = FixedLp.evaluate

    def recording(self: FixedLp, *args: Any, **kwargs: Any) -> LpPoint:
        point = evaluate(self, *args, **kwargs)
        scored.append(point.objective if point.optimal else math.inf)
        return point

    asked: list[float] = []
    real = search.retimings

    def asking(*args: Any, least: float = 0.0) -> Any:
        asked.append(least)
        return real(*args, least=least)

    monkeypatch.setattr(FixedLp, "evaluate", recording)
    monkeypatch.setattr(search, "retimings", asking)
    start = np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]])  # A alone, 200
    result = local_search(problem, model, 30.0, 100, start=start)
    assert result.objective == pytest.approx(45.0)
    assert scored[0] == pytest.approx(200.0)  # the start
    first = next(i for i, cost in enumerate(scored[1:], 1) if cost < 200.0 - 1e-6)
    assert asked[0] == math.inf
    assert asked[1] == pytest.approx((200.0 - scored[first]) / first)


class _SlowLp:
    """A fake LP copy for :func:`improve`: ``cost`` of the open matrix, after ``delay`` of
    it seconds; every scored matrix recorded in ``scored`` (shared by the copies)."""

    model = type("Stub", (), {"block": staticmethod(lambda x, name: np.zeros(0))})()

    def __init__(self, cost: Any, delay: Any, scored: list[list[float]]) -> None:
        self.cost, self.delay, self.scored = cost, delay, scored

    def evaluate(self, values: np.ndarray, *args: Any) -> LpPoint:
        time.sleep(self.delay(values))
        self.scored.append(values.tolist())
        return LpPoint(True, self.cost(values), np.zeros(1), "Optimal")


def test_a_move_that_improved_less_than_the_one_taken_goes_on_top_of_it_next() -> None:
    """Two LP copies score opening hub 1 (saves 10) and hub 2 (saves 5, slower) from hub 0
    alone; hub 1's is taken first. Hub 2's improved on the round's plan too: it is not a
    failure, and the next round first scores it on top of the new plan (both open)."""
    n = 4
    no_arcs = np.zeros(0, dtype=int)
    costs = ArcCosts(
        hub=no_arcs, stream=no_arcs, period=no_arcs, cost=np.zeros(0), volume=np.zeros(0),
        quantity=np.zeros(0), unmet_cost=np.zeros(0), unmet_streams=no_arcs,
        nearest=np.tile(np.arange(n), (n, 1)), by_stream=no_arcs, penalty=np.zeros(0),
    )  # fmt: skip
    weights = np.array([0.0, -10.0, -5.0, 50.0])

    def cost(values: np.ndarray) -> float:
        return float(100.0 + weights @ values)

    def delay(values: np.ndarray) -> float:
        return 0.3 if values.tolist() == [1.0, 0.0, 1.0, 0.0] else 0.05

    scored: list[list[float]] = []
    lps = [_SlowLp(cost, delay, scored) for _ in range(2)]
    space = HubSpace(
        lb=np.zeros((n, 1)), ub=np.ones((n, 1)), allow_closing=True, min_open=1, max_open=None
    )
    y = np.array([[1.0], [0.0], [0.0], [0.0]])
    start = LpPoint(True, 100.0, np.zeros(1), "Optimal")
    outcome = search.improve(
        y,
        start,
        space,
        lps,
        costs,
        np.zeros((n, 1)),
        time.perf_counter() + 30.0,
        3,  # type: ignore[arg-type]
    )
    assert scored[:3] == [[1.0, 1.0, 0.0, 0.0], [1.0, 0.0, 1.0, 0.0], [1.0, 1.0, 1.0, 0.0]]
    assert outcome.point.objective == pytest.approx(85.0)


def test_a_move_dearer_than_its_cutoff_is_stopped_and_the_lp_stays_exact(tmp_path: Path) -> None:
    """OR-Library cap131 (50 hubs): from the all-open plan's basis, keeping every fifth
    hub re-solves to some cost q (171 dual simplex iterations). With a cutoff halfway
    between the two costs HiGHS stops early (``CUT_OFF``, not a plan); with one above, and with none, it returns
    q itself. (HiGHS compares its exact dual objective with the cutoff every so many
    iterations, so a re-solve of a few dozen iterations may run to its end.)"""
    path = write_facility_scenario(read_orlib_cap(FIXTURES / "orlib" / "cap131.txt"), tmp_path)
    model = build_model(build_problem(load_scenario(path)))
    block = model.var_blocks["open"]
    lp = FixedLp(model, np.arange(block.start, block.stop))
    everything = lp.evaluate(np.ones(50), 30.0)
    fifth = np.tile([1.0, 0.0, 0.0, 0.0, 0.0], 10)
    plain = lp.evaluate(fifth, 30.0, everything.basis)
    assert everything.optimal and plain.optimal and plain.objective > everything.objective
    halfway = (everything.objective + plain.objective) / 2
    stopped = lp.evaluate(fifth, 30.0, everything.basis, cutoff=halfway)
    assert not stopped.optimal and stopped.status == CUT_OFF and stopped.x is None
    assert lp.cut_off == 1
    above = lp.evaluate(fifth, 30.0, everything.basis, cutoff=plain.objective + 1.0)
    again = lp.evaluate(fifth, 30.0, everything.basis)
    assert above.objective == pytest.approx(plain.objective, rel=1e-9)
    assert again.objective == pytest.approx(plain.objective, rel=1e-9)
    assert lp.cut_off == 1


def cap131_lp(tmp_path: Path) -> tuple[Path, FixedLp]:
    """OR-Library cap131 (50 hubs) and its LP with the ``open`` columns to fix."""
    path = write_facility_scenario(read_orlib_cap(FIXTURES / "orlib" / "cap131.txt"), tmp_path)
    model = build_model(build_problem(load_scenario(path)))
    block = model.var_blocks["open"]
    return path, FixedLp(model, np.arange(block.start, block.stop))


def test_reduced_costs_bound_every_move_from_below(tmp_path: Path) -> None:
    """The LP's cost is convex in the fixed ``open`` values and a point's reduced costs are
    a subgradient there: for 60 random moves (1-4 hubs flipped) from the every-fifth-hub
    plan of cap131, f(z) >= f(y) + reduced @ (z - y). Some of them the bound rules out
    (the descent skips those without an LP), and it is tight for none of the improving
    ones. A sign error (or the duals of another point) breaks the inequality."""
    _, lp = cap131_lp(tmp_path)
    y = np.tile([1.0, 0.0, 0.0, 0.0, 0.0], 10)
    point = lp.evaluate(y, 30.0)
    assert point.optimal and point.reduced is not None and point.reduced.shape == (50,)
    assert np.abs(point.reduced).max() > 1.0
    rng = np.random.default_rng(7)
    ruled_out = improving = 0
    for _ in range(60):
        z = y.copy()
        flip = rng.choice(50, size=rng.integers(1, 5), replace=False)
        z[flip] = 1.0 - z[flip]
        rise = float(point.reduced @ (z - y))
        moved = lp.evaluate(z, 30.0, point.basis)
        if not moved.optimal:
            continue
        assert moved.objective >= point.objective + rise - 1e-6 * point.objective
        ruled_out += rise >= 0.0
        improving += moved.objective < point.objective
    assert ruled_out >= 5 and improving >= 5, (ruled_out, improving)


def test_reduced_costs_are_highs_column_duals_and_dear_points_carry_no_values(
    tmp_path: Path,
) -> None:
    """The fixed columns' reduced costs a point carries (priced from the row duals,
    ``c - A^T y``) are HiGHS's own column duals there, at two plans of cap131 (a sign or
    transpose error breaks it). A point optimal but not below its cutoff (the move cannot
    beat its plan) carries its cost and no values, basis or reduced costs; one below it
    carries them all."""
    _, lp = cap131_lp(tmp_path)
    for y in (np.tile([1.0, 0.0, 0.0, 0.0, 0.0], 10), np.tile([1.0, 1.0, 0.0], 17)[:50]):
        point = lp.evaluate(y, 30.0)
        assert point.optimal and point.reduced is not None
        duals = np.asarray(lp.h.getSolution().col_dual)[lp.columns]
        np.testing.assert_allclose(point.reduced, duals, rtol=1e-9, atol=1e-6)
        assert np.abs(duals).max() > 1.0
    cost = point.objective
    dear = lp.evaluate(y, 30.0, point.basis, cutoff=cost - 1e-6 * cost)
    # the same LP again from its optimal basis: no dual simplex step, so no cut-off
    assert dear.optimal and dear.objective == pytest.approx(cost)
    assert dear.x is None and dear.basis is None and dear.reduced is None
    cheap = lp.evaluate(y, 30.0, point.basis, cutoff=cost + 1e-6 * cost)
    assert cheap.optimal and cheap.x is not None and cheap.reduced is not None


def test_the_descent_skips_only_moves_that_cannot_improve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The descent on cap131 from every hub open, with and without the reduced costs:
    the same plan (the moves they rule out never improve, so the path is the same) and
    exactly the skipped moves fewer LPs."""
    path, _ = cap131_lp(tmp_path)
    problem = build_problem(load_scenario(path))
    model = build_model(problem)
    start = np.ones((50, 1))
    pruned = local_search(problem, model, 120.0, 10_000, start=start)
    evaluate = FixedLp.evaluate

    def without_reduced_costs(self: FixedLp, *args: Any, **kwargs: Any) -> LpPoint:
        return dataclasses.replace(evaluate(self, *args, **kwargs), reduced=None)

    monkeypatch.setattr(FixedLp, "evaluate", without_reduced_costs)
    plain = local_search(problem, model, 120.0, 10_000, start=start)
    assert pruned.skipped > 0 and plain.skipped == 0
    assert pruned.objective == plain.objective
    assert pruned.improvements == plain.improvements
    assert pruned.evaluations + pruned.skipped == plain.evaluations
    assert "more skipped by their reduced costs" in pruned.summary()


def test_a_change_that_failed_is_tried_after_the_fresh_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Don't-look memory of the descent (cap131 from every hub open, one LP copy, reduced
    costs off so every failure is scored): once a change (the cells a move sets, with their
    values) has failed, later plans score it only after every fresh change of their
    round, unless an improvement changed one of its hubs' nearest hubs since. Replayed
    from the scored moves in order; the last round (the local optimum) scores failed
    changes again, and the plan is the one without the memory would reach (cap131's
    published optimum is not needed: the descent is never worse than its start)."""
    path, _ = cap131_lp(tmp_path)
    problem = build_problem(load_scenario(path))
    model = build_model(problem)
    nearest = Searcher(problem, model).costs.nearest
    scored: list[tuple[np.ndarray, LpPoint]] = []
    evaluate = FixedLp.evaluate

    def recording(self: FixedLp, values: Any, *args: Any, **kwargs: Any) -> LpPoint:
        point = dataclasses.replace(evaluate(self, values, *args, **kwargs), reduced=None)
        scored.append((np.array(values, dtype=float), point))
        return point

    monkeypatch.setattr(FixedLp, "evaluate", recording)
    # without the predicted retimings, which find cap131's optimum with no change failing
    # twice near the same plan
    monkeypatch.setattr(search, "retimings", lambda *args, **kwargs: iter(()))
    result = local_search(problem, model, 120.0, 10_000, start=np.ones((50, 1)))
    (base, start), moves = scored[0], scored[1:]
    assert result.objective < start.objective
    failed: dict[bytes, set[int]] = {}
    best = start.objective
    tried_again = 0
    seen_failed = False  # in this round
    for z, point in moves:
        cells = np.flatnonzero(z != base)
        change = cells.tobytes() + z[cells].tobytes()
        if change in failed:
            seen_failed = True
            tried_again += 1
        else:
            assert not seen_failed, "a fresh change was scored after a failed one"
        if point.optimal and point.objective < best - 1e-7 * abs(best):
            near = set(nearest[cells, :NEAR_HUBS].ravel().tolist())
            failed = {c: hubs for c, hubs in failed.items() if not hubs & near}
            base, best, seen_failed = z, point.objective, False
        else:
            failed[change] = set(cells.tolist())
    assert tried_again > 0
    assert result.objective == pytest.approx(best)


def test_starts_after_the_cheapest_so_far_are_cut_off_when_pruning(tmp_path: Path) -> None:
    """``score_all(prune=True)`` (the search's starts): on cap131, every hub open costs
    less than every fifth hub open, so scored in that order the second stops at the
    first's cost; without pruning both are scored to their end."""
    path = write_facility_scenario(read_orlib_cap(FIXTURES / "orlib" / "cap131.txt"), tmp_path)
    problem = build_problem(load_scenario(path))
    model = build_model(problem)
    searcher = Searcher(problem, model)
    everything = searcher.lp.evaluate(np.ones(50), 30.0)
    ys = [np.ones((50, 1)), np.tile([1.0, 0.0, 0.0, 0.0, 0.0], 10)[:, None]]
    full = searcher.score_all(ys, time.perf_counter() + 30, everything.basis)
    assert all(p.optimal for p in full) and full[1].objective > full[0].objective
    pruned = searcher.score_all(ys, time.perf_counter() + 30, everything.basis, prune=True)
    assert pruned[0].optimal and pruned[0].objective == pytest.approx(full[0].objective)
    assert pruned[1].status == CUT_OFF


def test_starts_are_distinct_and_end_with_every_hub(tmp_path: Path) -> None:
    """An LP point at 0/1 gives the same matrix at every level and share (and here the
    greedy proposal is that matrix too): it is proposed once, first, and every hub open
    comes last."""
    problem = build_problem(load_scenario(three_hubs(tmp_path)))
    model = build_model(problem)
    searcher = Searcher(problem, model)
    x = np.zeros(model.n_vars)
    x[model.var_blocks["open"]] = [0.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    starts = searcher.starts(LpPoint(True, 0.0, x, "optimal"))
    keys = [s.tobytes() for s in starts]
    assert len(keys) == len(set(keys))
    assert starts[0].tolist() == [[0, 0], [1, 1], [0, 1]]
    assert starts[-1].tolist() == [[1, 1], [1, 1], [1, 1]]


def test_the_descent_cuts_off_each_move_at_its_plans_cost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every move the descent scores carries the cost of the plan it must beat as its
    cutoff (the search from A alone to the hand-worked optimum 45 of :func:`three_hubs`:
    200 -> 50 -> 45), and the descent still ends at 45."""
    path = three_hubs(tmp_path)
    problem = build_problem(load_scenario(path))
    model = build_model(problem)
    cutoffs: list[float] = []
    evaluate = FixedLp.evaluate

    def recording(
        self: FixedLp, values: Any, seconds: float, basis: Any = None, cutoff: float = math.inf
    ) -> Any:
        cutoffs.append(cutoff)
        return evaluate(self, values, seconds, basis, cutoff)

    monkeypatch.setattr(FixedLp, "evaluate", recording)
    start = np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]])  # A alone
    result = local_search(problem, model, 30.0, 100, start=start)
    assert result.objective == pytest.approx(45.0)
    assert cutoffs[0] == math.inf  # the start is scored in full
    moves = cutoffs[1:-1]  # the last: the plan re-scored in full by ``complete``
    assert moves and set(np.round(moves, 3)) <= {200.0, 50.0, 45.0}, moves
    assert {200.0, 50.0} <= set(np.round(moves, 3)), moves


def test_local_search_finds_a_plan_when_no_start_meets_the_service_level(tmp_path: Path) -> None:
    """R wants 10 units of P, lost at 0.5 each, and the campaign needs 90 % of them on
    time; HA costs 10 a period, HB 20, shipping is free. From no hub open the LP is
    infeasible (no unit on time), so the search first lowers the service row's slack on
    the elastic copy of the model, then goes on from the first plan: the optimum opens HA
    and serves all 10 units, 10 (without the service level losing them all, 5, would do)."""
    hubs = [
        {"hub_id": h, "lat": 37.5, "lon": 127.0, "fixed_cost": cost}
        for h, cost in (("HA", 10.0), ("HB", 20.0))
    ]
    path = write_scenario(
        tmp_path,
        {
            "hubs": hubs,
            "regions": [{"region_id": "R", "lat": 37.6, "lon": 127.1}],
            "products": [{"product_id": "P", "lost_sale_penalty": 0.5}],
            "demand": [{"region_id": "R", "product_id": "P", "period": 1, "quantity": 10}],
            "lanes": [{"from_id": h, "to_id": "R", "cost_per_unit": 0.0} for h in ("HA", "HB")],
        },
        campaigns=[{"id": "sale", "regions": ["R"], "service_level": 0.9}],
    )
    problem = build_problem(load_scenario(path))
    model = build_model(problem)
    result = local_search(problem, model, 30.0, 100, start=np.zeros((2, 1)))
    assert result.x is not None
    assert result.objective == pytest.approx(10.0)
    assert np.round(result.x[model.var_blocks["open"]]).tolist() == [1.0, 0.0]
    assert solve_verified(path, "highs").objective == pytest.approx(10.0)


def test_local_search_on_two_lp_copies_reaches_the_same_optimum(tmp_path: Path) -> None:
    """Scoring moves on two HiGHS copies at once (a restricted solve's search, one copy per
    core) takes the descent to the hand-worked optimum 45 too, and both copies score."""
    problem = build_problem(load_scenario(three_hubs(tmp_path)))
    model = build_model(problem)
    searcher = Searcher(problem, model, lps=2)
    start = np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]])  # A alone, 200
    result = local_search(problem, model, 30.0, 100, start=start, searcher=searcher)
    assert result.objective == pytest.approx(45.0)
    assert result.x is not None
    opened = np.round(result.x[model.var_blocks["open"]]).reshape(3, 2)
    assert opened.tolist() == [[0, 0], [1, 1], [0, 1]]
    assert [lp.evaluations > 0 for lp in searcher.lps] == [True, True]
    assert result.evaluations == searcher.evaluations
    assert searcher.lps[1].fixed_rows is searcher.lps[0].fixed_rows  # one matrix, shared
    # the moves' dual simplex runs without HiGHS's cost perturbation (docs/solvers.md)
    for lp in searcher.lps:
        assert lp.h.getOptionValue("dual_simplex_cost_perturbation_multiplier")[1] == 0.0
    searcher.close()


@pytest.mark.parametrize("lps", [1, 2])
def test_starts_are_scored_in_order_on_every_lp_copy(tmp_path: Path, lps: int) -> None:
    """``score_all`` shares the matrices out over the copies and returns their LP costs in
    the order given (the hand-worked costs: A alone 200, B alone 50, B and C from period 2
    45); past the deadline nothing is scored."""
    problem = build_problem(load_scenario(three_hubs(tmp_path)))
    model = build_model(problem)
    searcher = Searcher(problem, model, lps=lps)
    ys = [
        np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]]),
        np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]]),
        np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]]),
    ]
    points = searcher.score_all(ys, time.perf_counter() + 30.0, None)
    assert [p.objective for p in points] == pytest.approx([200.0, 50.0, 45.0])
    assert searcher.evaluations == 3
    late = searcher.score_all(ys, time.perf_counter() - 1.0, None)
    assert [p.optimal for p in late] == [False, False, False]
    assert searcher.evaluations == 3


def test_a_free_lp_copy_takes_the_next_start_while_the_other_is_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two copies, four matrices, the first one's LP slow (0.5 s): the copy scoring it
    scores nothing else, the other scores the three others; the points come in order."""
    problem = build_problem(load_scenario(three_hubs(tmp_path)))
    model = build_model(problem)
    searcher = Searcher(problem, model, lps=2)
    slow = np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
    evaluate = FixedLp.evaluate

    def slow_first(self: FixedLp, values: Any, *args: Any, **kwargs: Any) -> LpPoint:
        if np.array_equal(values, slow.ravel()):
            time.sleep(0.5)
        return evaluate(self, values, *args, **kwargs)

    monkeypatch.setattr(FixedLp, "evaluate", slow_first)
    ys = [
        slow,
        np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]]),
        np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]]),
        np.array([[1.0, 1.0], [1.0, 1.0], [0.0, 0.0]]),
    ]
    points = searcher.score_all(ys, time.perf_counter() + 30.0, None)
    assert [p.objective for p in points][:3] == pytest.approx([200.0, 50.0, 45.0])
    assert sorted(lp.evaluations for lp in searcher.lps) == [1, 3]
    searcher.close()


def test_extra_lp_copies_only_where_memory_allows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search holds a second HiGHS copy of a 1 M-nonzero LP (~250 MB) when the memory
    limit leaves ten gigabytes, not when it leaves a hundred megabytes; never more copies
    than asked, and one when ``solver.threads`` is 1."""
    rss = psutil.Process().memory_info().rss
    monkeypatch.setenv("HUBOPT_MEMORY_LIMIT_BYTES", str(rss + 10_000_000_000))
    assert lp_copies_that_fit(1_000_000, 2) == 2
    assert lp_copies_that_fit(1_000_000, 1) == 1
    monkeypatch.setenv("HUBOPT_MEMORY_LIMIT_BYTES", str(rss + 100_000_000))
    assert lp_copies_that_fit(1_000_000, 2) == 1
    assert lp_copies_that_fit(1, 4) == 4
    model = build_model(build_problem(load_scenario(three_hubs(tmp_path))))
    assert search_lps(model, SolverSettings(threads=2)) == 2
    assert search_lps(model, SolverSettings(threads=1)) == 1


PROBE_LIBC = """
import ctypes, os, sys, tempfile, threading
from hubopt.guard import limit_heap_growth

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "limited":
    assert limit_heap_growth()
"""

HEAP_PROBE = """
fields = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"


class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in fields.split()]


libc.mallinfo2.restype = Mallinfo2
size = 4 << 20
libc.free(libc.malloc(size))  # by default glibc raises its mmap threshold past this size
block = libc.malloc(size)
print("mapped" if libc.mallinfo2().hblkhd >= size else "heap")
libc.free(block)
"""

ARENA_PROBE = """
libc.fdopen.restype = ctypes.c_void_p
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
together = threading.Barrier(6)


def work():
    block = libc.malloc(1000)
    together.wait()  # six threads hold a block at once, as six solves' threads would
    libc.free(block)


threads = [threading.Thread(target=work) for _ in range(6)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
with tempfile.TemporaryFile() as out:
    stream = libc.fdopen(os.dup(out.fileno()), b"w")
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    out.seek(0)
    print(out.read().decode().count("<heap nr="))
"""

glibc_only = pytest.mark.skipif(
    not Path("/lib/x86_64-linux-gnu/libc.so.6").exists(), reason="not glibc"
)


def _probe(code: str, mode: str) -> str:
    """What ``code`` prints in a process of its own (the setting lasts for the process),
    after :func:`hubopt.guard.limit_heap_growth` when ``mode`` is "limited"."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", PROBE_LIBC + code, mode], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@glibc_only
def test_limit_heap_growth_caps_the_heaps_threads_keep() -> None:
    """With glibc's defaults six threads allocating at once get heaps (arenas) of their
    own, which keep their freed pages; after :func:`hubopt.guard.limit_heap_growth` they
    share :data:`hubopt.guard.ARENAS` (docs/solvers.md: the 5000 rung's peak)."""
    assert int(_probe(ARENA_PROBE, "default")) > 4
    assert int(_probe(ARENA_PROBE, "limited")) <= guard.ARENAS


@glibc_only
def test_limit_heap_growth_keeps_large_blocks_out_of_the_heap() -> None:
    """With glibc's defaults a 4 MB block allocated after one was freed comes from the
    heap (which keeps its pages); after :func:`hubopt.guard.limit_heap_growth` it is mapped
    on its own, and its pages go back when it is freed."""
    assert _probe(HEAP_PROBE, "default") == "heap"
    assert _probe(HEAP_PROBE, "limited") == "mapped"


def test_local_search_stops_when_its_stop_says_the_plan_is_good_enough(tmp_path: Path) -> None:
    """``stop`` is asked with the best LP cost so far before each LP: stopping once the
    cost is at most 50 (the heuristic backend stops once its bound proves the plan within
    the MIP gap) ends the descent at the first plan that cheap, short of the optimum 45."""
    problem = build_problem(load_scenario(three_hubs(tmp_path)))
    model = build_model(problem)
    start = np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]])  # A alone, 200
    asked: list[float] = []

    def good_enough(best: float) -> bool:
        asked.append(best)
        return best <= 50.0

    result = local_search(problem, model, 30.0, 100, start=start, stop=good_enough)
    assert asked[0] == pytest.approx(200.0)
    assert 45.0 < result.objective <= 50.0
    assert asked[-1] == pytest.approx(result.objective)
    assert sorted(asked, reverse=True) == asked  # the best so far never rises


@given(case=scenarios())
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_local_search_never_returns_a_worse_plan_than_its_start(
    case: tuple[dict[str, list[dict[str, Any]]], dict[str, Any]], tmp_path: Path
) -> None:
    """Random small scenarios (no single sourcing, so ``open`` are the only integers): the
    plan costs at most the start's LP-scored cost, and its ``open`` block is a 0/1 matrix
    the model allows."""
    tables, blocks = copy.deepcopy(case)
    blocks["policy"]["single_sourcing"] = False
    folder = tmp_path / f"case{abs(hash(repr(case))) % 10**9}"
    problem = build_problem(load_scenario(write_scenario(folder, tables, **blocks)))
    model = build_model(problem)
    space = HubSpace.of(problem, model)
    start = space.repair(greedy_open(problem).reshape(space.lb.shape), np.zeros(len(space.lb)))
    assume(space.allows(start))
    result = local_search(problem, model, 20.0, 50, start=start)
    assume(result.x is not None)  # the start itself is infeasible (a capacity, a window)
    assert result.objective <= result.start_objective + 1e-7 * max(1.0, result.start_objective)
    assert result.lp_bound <= result.objective + 1e-6 * max(1.0, abs(result.objective))
    opened = result.x[model.var_blocks["open"]].reshape(space.lb.shape)
    assert set(np.unique(opened)) <= {0.0, 1.0}
    assert space.allows(opened)


def test_searcher_starts_respect_the_hub_count(tmp_path: Path) -> None:
    """With ``max_open_hubs: 1`` every start the searcher proposes opens one hub at most
    per period, and the search returns B alone (50, as worked out above)."""
    problem = build_problem(load_scenario(three_hubs(tmp_path, policy={"max_open_hubs": 1})))
    model = build_model(problem)
    searcher = Searcher(problem, model)
    relaxed = searcher.lp.relaxation(10.0)
    for start in searcher.starts(relaxed):
        assert (start.sum(axis=0) <= 1).all()
    result = local_search(problem, model, 30.0, 100, searcher=searcher)
    assert result.objective == pytest.approx(50.0)


def test_starts_open_the_hubs_whose_lp_value_reaches_a_level(tmp_path: Path) -> None:
    """Beside the shares of each hub's LP peak (which open every hub the LP touches), the
    starts open where the LP value reaches 0.1 and 0.2 of a hub: with A at 0.15, B at 0.05
    then 0.5 and C untouched, level 0.1 opens A throughout and B in period 2, level 0.2 B
    in period 2 alone; the peak shares open B in period 1 too."""
    problem = build_problem(load_scenario(three_hubs(tmp_path)))
    model = build_model(problem)
    searcher = Searcher(problem, model)
    x = np.zeros(model.n_vars)
    x[model.var_blocks["open"]] = [0.15, 0.15, 0.05, 0.5, 0.0, 0.0]
    starts = [s.tolist() for s in searcher.starts(LpPoint(True, 0.0, x, "optimal"))]
    assert [[1, 1], [0, 1], [0, 0]] in starts
    assert [[0, 0], [0, 1], [0, 0]] in starts
    assert [[1, 1], [1, 1], [0, 0]] in starts  # share 0 of the peak


@pytest.mark.parametrize("name", ["cap41", "cap71"])
def test_heuristic_backend_on_orlib_brackets_the_published_optimum(
    name: str, tmp_path: Path
) -> None:
    """OR-Library CFLP: the heuristic plan is verified and LP bound <= optimum <= plan."""
    optima = read_optima(FIXTURES / "orlib" / "capopt.txt")
    path = write_facility_scenario(read_orlib_cap(FIXTURES / "orlib" / f"{name}.txt"), tmp_path)
    result = check_heuristic(path, optima[name])
    assert result.backend == "heuristic"
    assert result.gap == pytest.approx((result.objective - result.bound) / result.objective)


def test_heuristic_backend_reports_an_infeasible_lp_as_infeasible(tmp_path: Path) -> None:
    """A region whose only hub is forced closed has no plan: the LP relaxation proves it."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [
                {
                    "hub_id": "A",
                    "lat": 37.5,
                    "lon": 127.0,
                    "fixed_cost": 1.0,
                    "status": "forced_closed",
                }
            ],
            "regions": [{"region_id": "R1", "lat": 37.6, "lon": 127.1}],
            "products": [{"product_id": "P"}],
            "demand": [{"region_id": "R1", "product_id": "P", "period": 1, "quantity": 10}],
        },
    )
    result = solve(path, backend="heuristic")
    assert result.status == SolveStatus.INFEASIBLE
    assert result.solution is None


def test_solution_feed_passes_only_better_plans_once() -> None:
    """A plan no cheaper than the best seen is refused; an accepted one is taken once."""
    feed = SolutionFeed()
    feed.report(np.zeros(2), 10.0)
    assert not feed.offer(np.ones(2), 10.0)
    assert feed.offer(np.ones(2), 9.0)
    taken = feed.take()
    assert taken is not None and taken.tolist() == [1.0, 1.0]
    assert feed.take() is None
    assert feed.injected == 1 and math.isclose(feed.best, 9.0)
    got = feed.wait_incumbent(0, timeout=0.0)
    assert got is not None and got[0] == 1 and got[2] == 10.0
    feed.close()
    assert feed.wait_incumbent(1, timeout=5.0) is None
    assert not feed.offer(np.ones(2), 1.0)


def test_highs_takes_an_offered_plan_through_the_user_solution_callback(tmp_path: Path) -> None:
    """A plan offered to the feed before HiGHS starts is taken by HiGHS's user-solution
    callback (it fires after setup), and HiGHS reports its incumbents to the feed; the
    optimum (cap41's published value) is unchanged."""
    optima = read_optima(FIXTURES / "orlib" / "capopt.txt")
    path = write_facility_scenario(read_orlib_cap(FIXTURES / "orlib" / "cap41.txt"), tmp_path)
    problem = build_problem(load_scenario(path))
    model = build_model(problem)
    found = local_search(problem, model, 30.0, 20)
    assert found.x is not None
    feed = SolutionFeed()
    assert feed.offer(found.x, found.objective)
    settings = load_scenario(path).config.solver.model_copy(update={"mip_gap": 0.0})
    output = HighsBackend(feed).solve(model, settings)
    assert feed.injected == 1
    assert feed.best <= found.objective
    assert output.status == SolveStatus.OPTIMAL
    assert output.objective == pytest.approx(optima["cap41"], rel=1e-6)


def test_shifts_reach_every_opening_period() -> None:
    """A hub first open in the last of six periods can be moved to open from any earlier
    period (the Korea demo's best moves open hubs three periods earlier), or not at all;
    an open-throughout hub can only open later (without closing; the moves that close a
    hub before the horizon's end are there for ``allow_closing``)."""
    y = np.array([[0.0, 0, 0, 0, 0, 1], [1.0, 1, 1, 1, 1, 1]])
    late = {tuple(z[0]) for z in shifts(y) if (z[1] == y[1]).all()}
    assert {tuple([0.0] * s + [1.0] * (6 - s)) for s in range(5)} <= late
    assert (0.0,) * 6 in late  # not opened at all
    monotone = [z for z in shifts(y) if (np.diff(z, axis=1) >= 0).all()]  # no closing
    early = {tuple(z[1]) for z in monotone if (z[0] == y[0]).all()}
    assert early == {tuple([0.0] * s + [1.0] * (6 - s)) for s in range(1, 6)}  # closing: closings()


def _three_hub_costs() -> ArcCosts:
    """Hubs 0-2, two streams: stream 0 (period 1) by hub 0 at 1, hub 1 at 3, hub 2 at 2;
    stream 1 (period 2, lost sales at 10 per unit) by hub 0 at 1 or by a second mode at
    1.5, hub 1 at 4."""
    return ArcCosts(
        hub=np.array([0, 1, 2, 0, 0, 1]),
        stream=np.array([0, 0, 0, 1, 1, 1]),
        period=np.array([0, 0, 0, 1, 1, 1]),
        cost=np.array([1.0, 3.0, 2.0, 1.0, 1.5, 4.0]),
        volume=np.ones(6),
        quantity=np.array([5.0, 2.0]),
        unmet_cost=np.array([10.0]),
        unmet_streams=np.array([1]),
        nearest=np.array([[0, 1, 2], [1, 0, 2], [2, 0, 1]]),
        by_stream=np.lexsort(([1.0, 3.0, 2.0, 1.0, 1.5, 4.0], [0, 0, 0, 1, 1, 1])),
        penalty=np.array([np.inf, 10.0]),
    )


def test_loss_prices_a_hubs_flows_on_each_streams_next_open_hub() -> None:
    """Hub 0 ships stream 0's 5 units and stream 1's 2 units. Without it in period 1 they
    go by hub 1 at 3 (hub 2, at 2, is closed then): 5 x 2 = 10; in period 2 by hub 1 at 4
    (its own second mode does not count): 2 x 3 = 6, or unmet at 10 with hub 1 closed:
    2 x 9 = 18. Hubs that ship nothing lose nothing."""
    costs = _three_hub_costs()
    model = type("Stub", (), {"block": staticmethod(lambda x, name: x)})()
    x = np.array([5.0, 0.0, 0.0, 2.0, 0.0, 0.0])
    y = np.array([[1.0, 1.0], [1.0, 1.0], [0.0, 1.0]])
    assert costs.loss(model, x, y).tolist() == [[10.0, 6.0], [0.0, 0.0], [0.0, 0.0]]
    y[1, 1] = 0.0
    assert costs.loss(model, x, y)[0].tolist() == [10.0, 18.0]


def test_retimings_come_by_predicted_saving_and_only_where_predicted_to_pay() -> None:
    """Putting off hub 0's opening saves its fixed cost 8 and loses 5 (saving 3); hub 1's
    saves 8 but loses 9 (not yielded); opening hub 2 a period earlier costs 8 and gains 12
    (saving 4, first). Without closing, only first open periods move; with it, the last
    ones too (hub 1 closing in period 3 saves 8 - 1, hub 0's saves 3, as its delay). With
    ``least``, only those predicted to save at least that much."""
    y = np.array([[1.0, 1, 1], [0.0, 1, 1], [0.0, 0, 1]])
    space = HubSpace(
        lb=np.zeros((3, 3)), ub=np.ones((3, 3)), allow_closing=False, min_open=0, max_open=None
    )
    fixed = np.full((3, 3), 8.0)
    loss = np.array([[5.0, 5, 5], [0.0, 9, 1], [0.0, 0, 20]])
    saving = np.zeros((3, 3))
    saving[2, 1] = 12.0
    moves = list(retimings(y, space, loss, saving, fixed))
    assert [(s, np.argwhere(z != y).tolist()) for s, z in moves] == [(4, [[2, 1]]), (3, [[0, 0]])]
    closing = dataclasses.replace(space, allow_closing=True)
    moves = list(retimings(y, closing, loss, saving, fixed))
    assert [np.argwhere(z != y).tolist() for _, z in moves] == [
        [[1, 2]],
        [[2, 1]],
        [[0, 0]],
        [[0, 2]],
    ]
    assert [s for s, _ in moves] == [7, 4, 3, 3]
    assert [s for s, _ in retimings(y, closing, loss, saving, fixed, least=3.5)] == [7, 4]


def _output(status: SolveStatus, objective: float, bound: float) -> SolverOutput:
    x = None if not status.has_solution else np.zeros(2)
    return SolverOutput(status, x, objective, bound, 1.0, "highs", "HiGHS")


def test_a_plan_offered_but_never_taken_is_kept_when_cheaper() -> None:
    """HiGHS asks for user solutions only at set points: a cheaper plan the search offered
    after the last one replaces the solver's, under the solver's bound; ``optimal`` only
    when that bound proves it within the MIP gap. A costlier plan, or a solver that proved
    infeasibility, leaves the output alone."""
    feed = SolutionFeed()
    feed.known(10.0)
    assert feed.offer(np.ones(2), 9.0)
    kept = with_unused_plan(_output(SolveStatus.FEASIBLE, 10.0, 5.0), feed, 0.01)
    assert kept.objective == 9.0 and kept.status == SolveStatus.FEASIBLE
    assert kept.x is not None and kept.x.tolist() == [1.0, 1.0] and kept.bound == 5.0
    assert "not taken by the solver" in kept.log
    proven = with_unused_plan(_output(SolveStatus.FEASIBLE, 10.0, 8.95), feed, 0.01)
    assert proven.status == SolveStatus.OPTIMAL and proven.gap < 0.01
    no_plan = with_unused_plan(_output(SolveStatus.TIME_LIMIT, math.nan, 5.0), feed, 0.01)
    assert no_plan.status == SolveStatus.FEASIBLE and no_plan.objective == 9.0
    better = _output(SolveStatus.FEASIBLE, 8.5, 5.0)
    assert with_unused_plan(better, feed, 0.01) is better
    infeasible = _output(SolveStatus.INFEASIBLE, math.nan, math.nan)
    assert with_unused_plan(infeasible, feed, 0.01) is infeasible
    assert feed.take() is not None  # taken by the solver after all: nothing left unused
    assert with_unused_plan(_output(SolveStatus.FEASIBLE, 10.0, 5.0), feed, 0.01).objective == 10.0


def test_swaps_try_the_nearest_closed_hub_first() -> None:
    """Hub 0 is open, 1 and 2 closed, and 2 lies nearer 0 than 1 does: the first swap
    replaces 0 by 2 (open as 0 was), the next ones by 1."""
    y = np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
    space = HubSpace(
        lb=np.zeros((3, 2)), ub=np.ones((3, 2)), allow_closing=False, min_open=0, max_open=None
    )
    nearest = np.array([[0, 2, 1], [1, 0, 2], [2, 0, 1]])
    pays = np.zeros((3, 2), dtype=bool)
    moves = list(swaps(y, space, np.array([0]), np.array([1, 2]), nearest, pays))
    assert moves[0].tolist() == [[0, 0], [0, 0], [1, 1]]
    assert moves[-1].tolist() == [[0, 0], [1, 1], [0, 0]]


def many_hubs(tmp_path: Path, periods: int, **blocks: Any) -> Path:
    """26 hubs (fixed cost 10 + 5 h per period), two regions, 10 units per region and
    period: 26 x ``periods`` hub-period binaries."""
    hubs = [
        {"hub_id": f"H{h:02d}", "lat": 37.5 + 0.01 * h, "lon": 127.0, "fixed_cost": 10.0 + 5 * h}
        for h in range(26)
    ]
    regions = [{"region_id": r, "lat": 37.6, "lon": 127.1} for r in ("R1", "R2")]
    demand = [
        {"region_id": r, "product_id": "P", "period": t, "quantity": 10}
        for r in ("R1", "R2")
        for t in range(1, periods + 1)
    ]
    return write_scenario(
        tmp_path,
        {"hubs": hubs, "regions": regions, "products": [{"product_id": "P"}], "demand": demand},
        **blocks,
    )


def test_auto_picks_the_heuristic_backend_for_large_multi_period_aggregated_models(
    tmp_path: Path,
) -> None:
    """``auto`` = heuristic with >= 100 hub-period binaries, several periods, aggregated
    (per hub and period) linking rows and no pooling; HiGHS otherwise. The plan is still
    verified and bounded: the cheapest hub H00 (10 per period) serves both regions."""
    aggregated = {"policy": {"linking": "hub"}, "solver": {"backend": "auto"}}

    def picked(path: Path, **update: Any) -> str:
        scenario = load_scenario(path)
        problem = build_problem(scenario)
        settings = scenario.config.solver.model_copy(update=update)
        return auto_backend(problem, build_model(problem), settings)

    four = many_hubs(tmp_path / "four", 4, **aggregated)  # 104 binaries
    assert picked(four) == "heuristic"
    assert picked(four, backend="highs") == "highs"  # only auto is resolved
    assert picked(four, local_search="off") == "auto"
    assert picked(many_hubs(tmp_path / "one", 1, **aggregated)) == "auto"  # one period
    assert picked(many_hubs(tmp_path / "three", 3, **aggregated)) == "auto"  # 78 binaries
    strong = many_hubs(tmp_path / "strong", 4, solver={"backend": "auto"})
    assert picked(strong) == "auto"  # 26 x 8 pairs: the strong per-stream rows
    result = solve(four)
    assert result.backend == "heuristic" and result.verification is not None
    assert result.verification.ok
    assert result.objective == pytest.approx(40.0)
    assert result.bound <= result.objective + 1e-6
