"""Restricted solves (``solver.arcs_per_stream``): each stream's cheapest arcs, column
generation on the whole LP (:mod:`hubopt.solvers.pricing`), and a bound that holds for
the whole model, so the gap covers what the arcs left out could have saved."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import yaml
from scipy.sparse.linalg import splu

from benchmarks.ladder import write_ladder_scenario
from hubopt import guard
from hubopt.api import solve
from hubopt.data.problem import ProblemData, build_problem, cheapest_arcs, restrict_arcs
from hubopt.data.spill import SpilledArcs, restore_arcs, spill_arcs
from hubopt.errors import ModelTooLargeError, ScenarioError
from hubopt.heuristic.widen import widen_plan
from hubopt.model.build import build_model
from hubopt.model.matrix import MatrixModel
from hubopt.restricted import restrict, search_model, widened_output
from hubopt.scenario.scenario import load_scenario
from hubopt.solvers import SolverOutput, SolveStatus
from hubopt.solvers.base import in_fresh_thread
from hubopt.solvers.crash import BASIC, crash_basis
from hubopt.solvers.fixing import FixedLp, lp_bound
from hubopt.solvers.pricing import price_columns

RUNG = "40x6x2x3"  # 40 regions, 6 hubs, 2 products, 3 periods: ~4 arcs per stream


@pytest.fixture(scope="module")
def rung(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rung")
    return write_ladder_scenario(RUNG, folder, seed=1, time_limit_s=60, mip_gap=0.0)


@pytest.fixture(scope="module")
def whole(rung: Path) -> tuple[ProblemData, MatrixModel]:
    problem = build_problem(load_scenario(rung))
    return problem, build_model(problem)


@pytest.fixture(scope="module")
def optimum(rung: Path) -> float:
    result = solve(rung, backend="highs")
    assert result.status == SolveStatus.OPTIMAL
    return result.objective


def _with_solver(path: Path, **solver: object) -> Path:
    doc = yaml.safe_load(path.read_text())
    doc["solver"] = {**doc["solver"], **solver}
    out = path.with_name(f"restricted-{len(list(path.parent.glob('*.yaml')))}.yaml")
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    return out


@pytest.mark.parametrize("per_stream", [1, 2, 3])
def test_cheapest_arcs_keep_each_streams_cheapest(
    whole: tuple[ProblemData, MatrixModel], per_stream: int
) -> None:
    problem, model = whole
    keep = cheapest_arcs(problem, per_stream)
    cost = model.c[model.var_blocks["ship"]]  # the model's own unit cost of each arc
    stream = problem.out_arcs["stream_idx"].to_numpy()
    kept = np.zeros(len(stream), dtype=bool)
    kept[keep] = True
    assert np.all(np.diff(keep) > 0)
    counts = np.bincount(stream, minlength=len(problem.streams))
    got = np.bincount(stream[keep], minlength=len(problem.streams))
    assert np.array_equal(got, np.minimum(counts, per_stream))
    assert (counts > per_stream).any()  # some stream really loses arcs
    for k in np.flatnonzero(counts > per_stream):
        mine = stream == k
        assert cost[mine & kept].max() <= cost[mine & ~kept].min()


def test_keep_columns_is_the_whole_model_with_fewer_columns(
    whole: tuple[ProblemData, MatrixModel],
) -> None:
    problem, model = whole
    keep = cheapest_arcs(problem, 1)
    part = model.keep_columns("ship", keep)
    ship = model.var_blocks["ship"]
    columns = np.concatenate(
        [np.arange(ship.start), ship.start + keep, np.arange(ship.stop, model.n_vars)]
    )
    assert abs(part.A - model.A[:, columns]).max() == 0
    assert np.array_equal(part.c, model.c[columns])
    assert np.array_equal(part.ub, model.ub[columns])
    assert np.array_equal(part.row_lo, model.row_lo) and np.array_equal(part.row_hi, model.row_hi)
    shorter = len(problem.out_arcs) - len(keep)
    for name, block in model.var_blocks.items():
        got = part.var_blocks[name]
        if name == "ship":
            assert (got.start, got.stop) == (block.start, block.start + len(keep))
        elif block.start >= ship.stop:
            assert (got.start, got.stop) == (block.start - shorter, block.stop - shorter)
        else:
            assert got == block


@pytest.mark.parametrize("per_stream", [1, 2])
def test_column_generation_reaches_the_whole_lp(
    whole: tuple[ProblemData, MatrixModel], per_stream: int
) -> None:
    problem, model = whole
    lp = lp_bound(model, 60.0)
    priced = price_columns(model, "ship", cheapest_arcs(problem, per_stream), 60.0, 10)
    assert priced.priced_out, priced.text()
    assert priced.added > 0 and priced.rounds > 1  # pricing really added arcs
    assert math.isclose(priced.bound, lp, rel_tol=1e-7), (priced.bound, lp)


def test_column_generation_cut_short_still_bounds_the_whole_lp(
    whole: tuple[ProblemData, MatrixModel],
) -> None:
    problem, model = whole
    lp = lp_bound(model, 60.0)
    for rounds in (1, 2):  # stopped before pricing out: the bound of the last duals
        priced = price_columns(model, "ship", cheapest_arcs(problem, 1), 60.0, 10, rounds)
        assert not priced.priced_out and priced.rounds == rounds
        assert math.isfinite(priced.bound) and priced.bound <= lp * (1 + 1e-9)


def test_column_generation_starts_no_lp_it_cannot_finish_when_asked(
    whole: tuple[ProblemData, MatrixModel], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``whole_lps_only``: after the first LP, none starts when the time left is below the
    last LP's seconds (a clock where each LP takes 10 s, 25 s of budget: the third LP
    would start with 5 s left); without it the third runs."""
    import hubopt.solvers.pricing as pricing

    problem, model = whole
    clock = [0.0]
    real_run = pricing.run_within

    def run_taking_ten_seconds(h: object, seconds: float) -> None:
        real_run(h, 60.0)
        clock[0] += 10.0

    monkeypatch.setattr(pricing, "run_within", run_taking_ten_seconds)
    monkeypatch.setattr(pricing.time, "perf_counter", lambda: clock[0])
    keep = cheapest_arcs(problem, 1)
    rounds = {}
    for only in (False, True):
        clock[0] = 0.0
        priced = price_columns(model, "ship", keep, 25.0, 10, whole_lps_only=only)
        assert not priced.priced_out and priced.status == "Optimal", priced.text()
        assert priced.held_back == only and ("no time for another" in priced.text()) == only
        rounds[only] = priced.rounds
    assert rounds == {False: 3, True: 2}


def test_column_generation_expects_the_next_lp_to_grow_as_the_last_did(
    whole: tuple[ProblemData, MatrixModel], monkeypatch: pytest.MonkeyPatch
) -> None:
    """LPs of 10 s, then 20 s, 55 s of budget: after the second 25 s are left, more than
    the last LP took, but the LPs doubled, so with ``whole_lps_only`` no third starts (it
    would take ~40 s); without it the third runs."""
    import hubopt.solvers.pricing as pricing

    problem, model = whole
    clock = [0.0]
    real_run = pricing.run_within
    lps = [0]

    def run_growing(h: object, seconds: float) -> None:
        real_run(h, 60.0)
        lps[0] += 1
        clock[0] += 10.0 * lps[0]

    monkeypatch.setattr(pricing, "run_within", run_growing)
    monkeypatch.setattr(pricing.time, "perf_counter", lambda: clock[0])
    keep = cheapest_arcs(problem, 1)
    rounds = {}
    for only in (False, True):
        clock[0], lps[0] = 0.0, 0
        priced = price_columns(model, "ship", keep, 55.0, 10, whole_lps_only=only)
        assert not priced.priced_out, priced.text()
        assert priced.held_back == only
        rounds[only] = priced.rounds
    assert rounds == {False: 3, True: 2}


def test_spilled_arcs_come_back_restricted_and_leave_no_file(
    whole: tuple[ProblemData, MatrixModel],
) -> None:
    problem, _ = whole
    light, spilled = spill_arcs(problem)
    assert spilled.path.exists() and spilled.rows == len(problem.out_arcs)
    assert light.out_arcs.empty and list(light.out_arcs.columns) == list(problem.out_arcs.columns)
    keep = cheapest_arcs(problem, 2)
    back = restore_arcs(light, spilled, keep)
    assert not spilled.path.exists()
    expected = restrict_arcs(problem, keep).out_arcs
    assert back.out_arcs.equals(expected) and back.streams is problem.streams


def test_a_plan_re_solved_on_its_open_hubs_arcs_costs_what_the_whole_model_says(
    whole: tuple[ProblemData, MatrixModel], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Searched on each stream's cheapest arc only, a plan that closes the hub most
    streams have as their cheapest loses those streams' demand. Re-solved on every arc to
    its open hubs (:func:`widen_plan`) it costs what the whole model's LP with the same
    hubs fixed says (arcs to closed hubs carry nothing), and the spilled file stays."""
    problem, _ = whole
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    keep = cheapest_arcs(problem, 1)
    cheapest_hub = problem.out_arcs["hub_idx"].to_numpy()[keep]
    open_ht = np.ones((problem.n_hubs, problem.periods))
    open_ht[np.bincount(cheapest_hub, minlength=problem.n_hubs).argmax()] = 0.0

    def cost_with_hubs_fixed(model: MatrixModel) -> float:
        opens = model.var_blocks["open"]
        point = FixedLp(model, np.arange(opens.start, opens.stop)).evaluate(open_ht.ravel(), 60)
        assert point.optimal
        return point.objective

    reference = cost_with_hubs_fixed(build_model(problem, reach=False))
    restricted = cost_with_hubs_fixed(build_model(restrict_arcs(problem, keep), reach=False))
    assert restricted > reference * (1 + 1e-3)  # the restriction lost sales
    light, spilled = spill_arcs(problem)
    try:
        wide = widen_plan(light, spilled, open_ht, 60)
        assert spilled.path.exists()
    finally:
        spilled.discard()
    assert wide.point.optimal and math.isclose(wide.point.objective, reference, rel_tol=1e-7)
    arcs = wide.problem.out_arcs
    period = problem.streams["period"].to_numpy()[arcs["stream_idx"].to_numpy()]
    assert (open_ht[arcs["hub_idx"].to_numpy(), period - 1] == 1).all()
    assert wide.arcs == len(arcs) < len(problem.out_arcs)
    assert "->" in wide.text(restricted)


def test_a_plan_is_re_solved_on_its_open_hubs_arcs_only_when_the_time_left_fits(
    whole: tuple[ProblemData, MatrixModel], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan searched on each stream's cheapest arc that closes the hub most streams have
    as their cheapest: with less time left than a re-solve takes (``least_seconds``) it
    stands, and the log says why; with the time, the re-solve on every arc to its open hubs
    makes it cheaper (the same bound)."""
    problem, _ = whole
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    keep = cheapest_arcs(problem, 1)
    open_ht = np.ones((problem.n_hubs, problem.periods))
    cheapest_hub = problem.out_arcs["hub_idx"].to_numpy()[keep]
    open_ht[np.bincount(cheapest_hub, minlength=problem.n_hubs).argmax()] = 0.0
    light, spilled = spill_arcs(problem)
    try:
        small = restore_arcs(light, spilled, keep, discard=False)
        model = build_model(small, reach=False)
        opens = model.var_blocks["open"]
        point = FixedLp(model, np.arange(opens.start, opens.stop)).evaluate(open_ht.ravel(), 60)
        assert point.optimal and point.x is not None
        output = SolverOutput(
            SolveStatus.FEASIBLE, point.x, point.objective, 0.0, 1.0, "heuristic", "test"
        )
        late = widened_output(small, model, output, spilled, 30.0, 0.0, least_seconds=31.0)
        timely = widened_output(small, model, output, spilled, 30.0, 0.0, least_seconds=29.0)
    finally:
        spilled.discard()
    assert late[0] is small and late[1] is model and late[2].objective == output.objective
    assert "30.0 s left, a re-solve takes ~31 s" in late[2].log
    assert timely[2].objective < output.objective * (1 - 1e-3) and timely[2].bound == 0.0
    assert len(timely[0].out_arcs) > len(small.out_arcs)


def test_a_restricted_search_gets_every_arc_to_its_starts_hubs(
    whole: tuple[ProblemData, MatrixModel], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The restricted search's problem holds the kept arcs and every arc to the hubs of its
    start (the first LP start), and searches from that start without the restricted
    model's LP point; without room in memory it stays restricted."""
    problem, model = whole
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    part, priced = restrict(model, cheapest_arcs(problem, 1), 1, 60, len(problem.streams))
    light, spilled = spill_arcs(problem)
    try:
        small = restore_arcs(light, spilled, priced.kept, discard=False)
        space = search_model(small, part, priced, spilled, None)
        monkeypatch.setattr("hubopt.restricted.widening_fits", lambda *args: False)
        same = search_model(small, part, priced, spilled, None)
    finally:
        spilled.discard()
    start = space.start
    assert start is not None and space.priced.x is None and "hubs of its start" in space.note
    assert space.covered is start
    n = len(problem.streams)
    key = problem.out_arcs["hub_idx"] * n + problem.out_arcs["stream_idx"]
    wide_key = space.problem.out_arcs["hub_idx"] * n + space.problem.out_arcs["stream_idx"]
    assert set(key.iloc[priced.kept]) <= set(wide_key)
    period = problem.streams["period"].to_numpy()[problem.out_arcs["stream_idx"].to_numpy()]
    to_open = start[problem.out_arcs["hub_idx"].to_numpy(), period - 1] > 0.5
    assert set(key[to_open]) <= set(wide_key) and len(wide_key) < len(key)
    ship = space.model.var_blocks["ship"]
    assert ship.stop - ship.start == len(wide_key)
    assert same.problem is small and same.priced.x is not None and same.covered is None
    assert "memory" in same.note


def test_restricted_solve_is_verified_and_bounded_by_the_whole_optimum(
    rung: Path, optimum: float, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))  # where the arcs wait
    spills: list[Path] = []

    def spill(problem: ProblemData) -> tuple[ProblemData, SpilledArcs]:
        light, spilled = spill_arcs(problem)
        spills.append(spilled.path)
        return light, spilled

    monkeypatch.setattr("hubopt.api.spill_arcs", spill)
    limited: list[bool] = []  # glibc told to hand freed memory back (guard.limit_heap_growth)
    monkeypatch.setattr("hubopt.api.limit_heap_growth", lambda: limited.append(True) or True)
    result = solve(_with_solver(rung, backend="heuristic", arcs_per_stream=1))
    assert limited == []  # memory to spare: glibc's defaults (faster numpy temporaries)
    # the arcs waited on disk during the column generation, and the file is gone
    assert len(spills) == 1 and spills[0].parent == tmp_path and not spills[0].exists()
    assert result.status in {SolveStatus.OPTIMAL, SolveStatus.FEASIBLE}, result.message
    assert result.verification is not None and result.verification.ok
    tol = 1e-6 * abs(optimum)
    assert result.objective >= optimum - tol
    assert result.bound <= optimum + tol
    assert result.model_stats["arcs_per_stream"] == 1
    # the stats are the searched model's, with the whole model's beside them
    assert result.model_stats["columns"] < result.model_stats["whole_columns"]
    # the plan's model: the arcs to its open hubs (:mod:`hubopt.heuristic.widen`), whose
    # linking rows are only those of hubs with arcs
    assert result.model_stats["rows"] <= result.model_stats["whole_rows"]
    assert "cheapest arcs" in result.message and "priced in" in result.message
    assert "to its open hubs" in result.solver_log  # re-solved there, or searched there
    # searched on the priced arcs and every arc to its start's hubs (api.search_model)
    assert "hubs of its start" in result.message
    # bounded by the Lagrangian climb beside the search, from the column generation's duals
    climbed = re.search(
        r"opening plan kept: (\S+) at the LP's duals, (\S+) after", result.solver_log
    )
    assert climbed is not None, result.solver_log
    start, end = float(climbed[1]), float(climbed[2])
    assert start <= end <= optimum + tol
    assert result.bound >= end * (1 - 1e-7)  # the climb's, or the column generation's
    if result.status == SolveStatus.OPTIMAL:
        assert result.gap <= 1e-9 + 1e-6


def test_auto_restricts_only_a_model_that_does_not_fit(
    rung: Path,
    whole: tuple[ProblemData, MatrixModel],
    optimum: float,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problem, _ = whole
    need = guard.estimate_model_bytes(problem)
    assert guard.estimate_restricted_bytes(problem, 1) < need
    monkeypatch.setattr(guard, "available_bytes", lambda: need - 1)
    assert guard.arcs_to_keep(problem, "auto", "auto") is not None
    result = solve(rung, backend="heuristic")
    assert "arcs_per_stream" in result.model_stats
    assert result.verification is not None and result.verification.ok
    assert result.bound <= optimum * (1 + 1e-6)
    with pytest.raises(ModelTooLargeError, match="arcs_per_stream"):
        solve(rung, backend="highs")  # HiGHS's MIP bound would not hold for the whole
    monkeypatch.setattr(guard, "available_bytes", lambda: need)
    assert guard.arcs_to_keep(problem, "auto", "auto") is None


def test_a_restricted_solve_without_room_for_its_whole_model_limits_heap_growth(
    rung: Path, optimum: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the whole model does not fit beside the search (the 5000 rung under its 8 GB),
    the solve tells glibc to hand freed pages back (:func:`hubopt.guard.limit_heap_growth`,
    once) and still returns a verified plan bounded by the whole optimum."""
    limited: list[bool] = []
    monkeypatch.setattr("hubopt.api.limit_heap_growth", lambda: limited.append(True) or True)
    monkeypatch.setattr("hubopt.api.whole_bound", lambda model, problem: None)
    result = solve(_with_solver(rung, backend="heuristic", arcs_per_stream=1))
    assert limited == [True]
    assert result.verification is not None and result.verification.ok
    tol = 1e-6 * abs(optimum)
    assert result.bound <= optimum + tol <= result.objective + 2 * tol


def test_a_number_of_arcs_per_stream_needs_the_heuristic_backend(rung: Path) -> None:
    with pytest.raises(ScenarioError, match="arcs_per_stream"):
        load_scenario(_with_solver(rung, backend="highs", arcs_per_stream=2))


def test_auto_restricts_a_large_heuristic_solve(
    rung: Path, optimum: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the bound loop's first-stage size the heuristic backend starts from each
    stream's 3 cheapest arcs (the size lowered here to this small rung's)."""
    monkeypatch.setattr("hubopt.api.FIRST_STAGE_MAX_COLUMNS", 10)
    result = solve(rung, backend="heuristic")
    assert result.model_stats["arcs_per_stream"] == 3
    assert result.verification is not None and result.verification.ok
    assert result.bound <= optimum * (1 + 1e-6) <= result.objective * (1 + 2e-6)
    exact = solve(rung, backend="highs")  # not restricted: its bound is HiGHS's own
    assert "arcs_per_stream" not in exact.model_stats
    assert math.isclose(exact.objective, optimum, rel_tol=1e-9)


def test_keeping_the_demand_rows_bounds_the_lp_for_any_multipliers(
    whole: tuple[ProblemData, MatrixModel],
) -> None:
    """Property: the bound with the demand rows kept never exceeds the LP optimum, for
    random multipliers; and from an LP over each stream's cheapest arc only, it is
    positive."""
    problem, model = whole
    lp = lp_bound(model, 60.0)
    rng = np.random.default_rng(5)
    scale = np.abs(model.c).max()
    for _ in range(20):
        y = rng.normal(0.0, scale * rng.uniform(0.001, 1.0), model.n_rows)
        assert model.dual_bound_keeping(y, "demand") <= lp * (1 + 1e-9) + 1e-6
    priced = price_columns(model, "ship", cheapest_arcs(problem, 1), 60.0, 10, max_rounds=1)
    assert priced.bound <= lp * (1 + 1e-9)
    # pricing the demand rows too, those duals bound the LP far below zero (every
    # left-out arc at its stream's whole quantity); kept, 15 % of the LP here
    assert priced.bound > 0.1 * lp


def test_keeping_the_demand_rows_is_exact_at_the_lp_duals(
    whole: tuple[ProblemData, MatrixModel],
) -> None:
    problem, model = whole
    keep_all = np.arange(len(problem.out_arcs))
    duals = price_columns(model, "ship", keep_all, 60.0, 10)
    assert duals.priced_out
    assert math.isclose(duals.bound, lp_bound(model, 60.0), rel_tol=1e-7)


def test_a_failed_lagrangian_climb_loses_neither_plan_nor_bound(
    rung: Path, optimum: float, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The climb beside a restricted solve's search is a bonus: when it fails (here out of
    memory), the solve still returns its verified plan, bounded by the column generation,
    and the log says what failed."""

    def fail(*args: object, **kwargs: object) -> None:
        raise MemoryError("no room for the step's vectors")

    monkeypatch.setattr("hubopt.restricted.climb", fail)
    result = solve(_with_solver(rung, backend="heuristic", arcs_per_stream=1))
    assert result.status in {SolveStatus.OPTIMAL, SolveStatus.FEASIBLE}, result.message
    assert result.verification is not None and result.verification.ok
    assert result.bound <= optimum + 1e-6 * abs(optimum)
    assert "opening plan kept" not in result.solver_log
    assert "by column generation" in result.solver_log
    assert "Lagrangian bound beside the search failed" in caplog.text


def _lp_from(model: MatrixModel, basis: object | None) -> tuple[float, int]:
    """The LP relaxation's optimum and dual simplex iterations, from ``basis`` (else the
    slack basis)."""
    import highspy

    from hubopt.solvers.highs import pass_matrix

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("presolve", "off")
    h.setOptionValue("threads", 1)
    pass_matrix(h, dataclasses.replace(model, integer=np.zeros(model.n_vars, dtype=bool)))
    if basis is not None:
        assert h.setBasis(basis) == highspy.HighsStatus.kOk
    # on a thread of its own: a thread whose HiGHS scheduler an earlier test sized
    # otherwise refuses one thread ("Not Set")
    in_fresh_thread(h.run)
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return h.getInfo().objective_function_value, h.getInfo().simplex_iteration_count


def test_the_crash_basis_is_regular_dual_feasible_on_arcs_and_starts_nearer_the_optimum(
    whole: tuple[ProblemData, MatrixModel],
) -> None:
    """The crash basis (:mod:`hubopt.solvers.crash`) of each stream's 2 cheapest arcs: one
    basic variable per row, a regular basis matrix, every arc and lost sale left out priced
    at a reduced cost of at least zero, and the LP from it reaches the same optimum as from
    the slack basis in fewer dual simplex iterations."""
    problem, model = whole
    part = model.keep_columns("ship", cheapest_arcs(problem, 2))
    crash = crash_basis(part)
    assert crash is not None
    demand, balance = part.row_blocks["demand"], part.row_blocks["balance"]
    assert crash.crashed == (demand.stop - demand.start) + (balance.stop - balance.start)
    structural = np.flatnonzero(crash.columns == BASIC)
    slack = np.flatnonzero(crash.rows == BASIC)
    assert len(structural) + len(slack) == part.n_rows
    B = sp.hstack(
        [part.A[:, structural], sp.eye(part.n_rows, format="csr")[:, slack]], format="csc"
    )
    lu = splu(B)  # raises on a singular matrix
    c_basic = np.concatenate([part.c[structural], np.zeros(len(slack))])
    y = lu.solve(c_basic, trans="T")
    reduced = part.c - part.A.T @ y
    for name in ("ship", "unmet"):
        block = np.arange(part.var_blocks[name].start, part.var_blocks[name].stop)
        out = block[crash.columns[block] != BASIC]
        assert (reduced[out] >= -1e-6 * (1 + np.abs(part.c[out]))).all(), name
    cold, cold_steps = _lp_from(part, None)
    warm, warm_steps = _lp_from(part, crash.highs())
    assert math.isclose(warm, cold, rel_tol=1e-9)
    assert warm_steps < 0.6 * cold_steps, (warm_steps, cold_steps)  # 306 against 596


def test_column_generation_from_the_crash_basis_reaches_the_same_lp(
    whole: tuple[ProblemData, MatrixModel],
) -> None:
    problem, model = whole
    keep = cheapest_arcs(problem, 1)
    cold = price_columns(model, "ship", keep, 60.0, 10, crashed=False)
    warm = price_columns(model, "ship", keep, 60.0, 10)
    assert cold.priced_out and warm.priced_out
    assert math.isclose(warm.bound, cold.bound, rel_tol=1e-7)
    assert "the first LP" in warm.text()


def test_a_plans_crash_makes_only_arcs_to_its_open_hubs_basic_and_starts_its_lp_nearer(
    whole: tuple[ProblemData, MatrixModel],
) -> None:
    """A search start with no LP basis at hand starts from its own crash
    (:meth:`Searcher.crashed`): no arc to a hub-period the plan keeps closed is basic, and
    the plan's LP reaches the same optimum as from the slack basis in fewer dual simplex
    iterations than from it or from the crash that ignores the plan."""
    import highspy

    from hubopt.heuristic.search import Searcher

    problem, model = whole
    searcher = Searcher(problem, model)
    y = np.ones(searcher.shape)
    y[: problem.n_hubs // 2] = 0.0  # half the hubs closed throughout
    y = searcher.space.repair(y, -searcher.fixed.sum(axis=1))
    assert (y < 0.5).any() and searcher.space.allows(y)
    basis = searcher.crashed(y)
    assert basis is not None
    ship = model.var_blocks["ship"]
    status = np.array([s == highspy.HighsBasisStatus.kBasic for s in basis.col_status])
    closed = y[searcher.costs.hub, searcher.costs.period] < 0.5
    assert closed.any() and not status[ship][closed].any()
    assert status[ship][~closed].any()
    plain = crash_basis(model)
    assert plain is not None
    points = {
        name: FixedLp(
            model, np.arange(model.var_blocks["open"].start, model.var_blocks["open"].stop)
        ).evaluate(y.ravel(), 60.0, start)
        for name, start in (("cold", None), ("plain", plain.highs()), ("own", basis))
    }
    assert all(point.optimal for point in points.values())
    assert math.isclose(points["own"].objective, points["cold"].objective, rel_tol=1e-9)
    steps = {name: point.iterations for name, point in points.items()}
    assert steps["own"] <= steps["plain"] < steps["cold"], steps  # 39, 42 and 278


def test_a_restricted_search_ends_in_time_to_re_solve_its_plan(
    rung: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restricted solve's search ends :data:`hubopt.api.RESOLVE_STARTS` of its longest
    start LP before its time, for the plan's re-solve on the arcs to its open hubs:
    kept very long, the search scores no move after its start, and the plan (the
    start's) is still verified."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    found = {}
    for reserve in (0.0, 1e9):
        monkeypatch.setattr("hubopt.api.RESOLVE_STARTS", reserve)
        result = solve(_with_solver(rung, backend="heuristic", arcs_per_stream=1))
        assert result.verification is not None and result.verification.ok
        moves = re.search(r"(\d+) improving of (\d+) LP-scored moves", result.solver_log)
        assert moves is not None, result.solver_log
        found[reserve] = int(moves[2])
    # kept very long: only the start's LP (the search model's start, api.search_model)
    assert found[1e9] == 1 < found[0.0], found  # 1 and 13
