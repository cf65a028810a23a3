"""The root cut loop (hubopt.solvers.rootcuts): it raises the LP bound and never cuts off an
optimum. The scenarios use ``policy.linking: hub`` (one aggregated linking row per hub and
period) so that the per-stream rows are missing from the model and the loop has work to do.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import tempfile
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pytest
from helpers import FIXTURES, assert_objective, lanes, scenarios, solve_verified, write_scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubopt.api import solve
from hubopt.data.problem import build_problem
from hubopt.model.build import build_model
from hubopt.model.strong import region_rows, strong_rows
from hubopt.orlib import read_optima, read_orlib_cap, write_facility_scenario
from hubopt.scenario.scenario import Scenario, load_scenario
from hubopt.scenario.schema import SolverSettings
from hubopt.solvers import SolveStatus, get_backend, rootcuts
from hubopt.solvers.highs import pass_matrix
from hubopt.solvers.rootcuts import ROW_BLOCK, root_cut_loop

CAP_OPTIMA = read_optima(FIXTURES / "orlib" / "capopt.txt")
EXACT = SolverSettings(mip_gap=0.0, time_limit_s=60, threads=1, warm_start=False)
ON = {"mode": "on", "time_share": 1.0}


def aggregated(scenario: Scenario, root_cuts: dict[str, Any] | None = None) -> Scenario:
    """``scenario`` with ``policy.linking: hub`` and the given ``solver.root_cuts``."""
    config = scenario.config
    policy = config.policy.model_copy(update={"linking": "hub"})
    solver = config.solver.model_copy(
        update={"root_cuts": config.solver.root_cuts.model_copy(update=root_cuts or ON)}
    )
    return dataclasses.replace(
        scenario, config=config.model_copy(update={"policy": policy, "solver": solver})
    )


def crossed(tmp_path: Path) -> Path:
    """Hubs A and B (fixed 100 each, no capacity); R1 and R2 need 10 units each; A ships
    to R1 and B to R2 for free, the crossed lanes cost 50 per unit."""
    return write_scenario(
        tmp_path,
        {
            "hubs": [
                {"hub_id": h, "lat": 37.5, "lon": 127.0, "fixed_cost": 100} for h in ("A", "B")
            ],
            "regions": [{"region_id": r, "lat": 37.6, "lon": 127.1} for r in ("R1", "R2")],
            "products": [{"product_id": "P"}],
            "demand": [
                {"region_id": r, "product_id": "P", "period": 1, "quantity": 10}
                for r in ("R1", "R2")
            ],
            "lanes": lanes(
                [("A", "R1", 0), ("A", "R2", 50), ("B", "R1", 50), ("B", "R2", 0)],
                ["from_id", "to_id", "cost_per_unit"],
            ),
        },
    )


def test_loop_closes_the_crossed_case(tmp_path: Path) -> None:
    """Aggregated rows: ship_A1 + ship_A2 <= 20 open_A lets the LP open each hub half (100).
    The strong rows ship_A1 <= 10 open_A and ship_B2 <= 10 open_B give 200 = the optimum
    (opening one hub alone costs 100 + 10 x 50 = 600)."""
    result = solve(aggregated(load_scenario(crossed(tmp_path))), backend="highs")
    assert result.status == SolveStatus.OPTIMAL and result.verification.ok
    assert_objective(result, 200.0)
    loop = result.root_cuts
    assert loop is not None
    assert loop.lp_bound_before == pytest.approx(100.0)
    assert loop.lp_bound_after == pytest.approx(200.0)
    assert loop.rows_added >= 2 and loop.rows_kept >= 2
    assert result.summary()["root_cuts"]["lp_bound_after"] == pytest.approx(200.0)
    assert "root cut loop: LP bound" in result.solver_log


def test_loop_off_and_not_for_other_backends(tmp_path: Path) -> None:
    """mode off: no loop; mode auto with cbc: no loop; both still find the optimum 200."""
    base = load_scenario(crossed(tmp_path))
    off = solve(aggregated(base, {"mode": "off"}), backend="highs")
    assert off.root_cuts is None and off.summary()["root_cuts"] is None
    assert_objective(off, 200.0)
    cbc = solve(aggregated(base, {"mode": "auto"}), backend="cbc")
    assert cbc.root_cuts is None
    assert_objective(cbc, 200.0)


@pytest.mark.parametrize("name", ["cap41", "cap71", "cap101", "cap131"])
def test_orlib_optimum_with_root_cuts(name: str, tmp_path: Path) -> None:
    """OR-Library CFLP with aggregated linking rows and the loop on: the published optimum,
    a verified plan, rows added, and an LP bound that rose but stays below the optimum."""
    instance = read_orlib_cap(FIXTURES / "orlib" / f"{name}.txt")
    path = write_facility_scenario(instance, tmp_path)
    scenario = aggregated(load_scenario(path))
    result = solve(scenario, backend="highs", mip_gap=0.0)
    assert result.status == SolveStatus.OPTIMAL and result.verification.ok
    assert_objective(result, CAP_OPTIMA[name], rel=1e-6)
    loop = result.root_cuts
    assert loop is not None and loop.rows_added > 0
    assert loop.lp_bound_before < loop.lp_bound_after <= CAP_OPTIMA[name] * (1 + 1e-9)


def test_orlib_optimum_in_the_default_strong_form(tmp_path: Path) -> None:
    """cap71 in the default per-stream form, loop on: the optimum; no candidate violated."""
    instance = read_orlib_cap(FIXTURES / "orlib" / "cap71.txt")
    result = solve_verified(write_facility_scenario(instance, tmp_path), "highs")
    assert_objective(result, CAP_OPTIMA["cap71"], rel=1e-6)
    assert result.root_cuts is not None and result.root_cuts.rows_added == 0


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=scenarios())
def test_bound_after_loop_never_exceeds_the_optimum(case: Any) -> None:
    """Random small scenarios, aggregated linking: the LP bound after the loop is at most the
    optimum of the plain model (no strengthening, no loop), and the MIP with the kept rows
    has the same optimum."""
    tables, blocks = copy.deepcopy(case)
    blocks["policy"]["linking"] = "hub"
    with tempfile.TemporaryDirectory() as folder:
        problem = build_problem(load_scenario(write_scenario(Path(folder), tables, **blocks)))
    backend = get_backend("highs")
    plain = backend.solve(build_model(problem, strengthen=False), EXACT)
    if plain.status != SolveStatus.OPTIMAL:
        return  # the strategy's scenarios are feasible; nothing to bound otherwise
    model = build_model(problem)
    cut, loop = root_cut_loop(model, strong_rows(problem, model), EXACT)
    assert loop.lp_bound_before <= loop.lp_bound_after + 1e-9 * max(1.0, abs(plain.objective))
    tolerance = 1e-7 * max(1.0, abs(plain.objective))
    assert loop.lp_bound_after <= plain.objective + tolerance
    assert (ROW_BLOCK in cut.row_blocks) == (loop.rows_kept > 0)
    strong = backend.solve(cut, EXACT)
    assert strong.status == SolveStatus.OPTIMAL
    assert math.isclose(strong.objective, plain.objective, rel_tol=1e-6, abs_tol=1e-6)


def test_heuristic_backend_bound_is_the_loop_bound(tmp_path: Path) -> None:
    """The heuristic backend bounds its plan by the bound loop's LP, run beside its search:
    on the crossed case the plain LP relaxation gives 100, the LP with every per-(hub,
    region, period) row (the loop's first stage) 200, which proves the search's plan
    (200) optimal."""
    scenario = aggregated(load_scenario(crossed(tmp_path)), {"mode": "off"})
    result = solve(scenario, backend="heuristic")
    assert result.status == SolveStatus.OPTIMAL and result.verification.ok
    assert_objective(result, 200.0)
    assert result.bound == pytest.approx(200.0)
    assert "LP relaxation bound 200 (root cut loop: LP bound 200 -> 200" in result.solver_log
    assert "(first LP: every region row, " in result.solver_log


def test_bound_loop_adds_region_rows_in_rounds_when_its_first_lp_runs_out_of_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the LP with every region row is not solved in its share of the time, the loop
    starts again from the plain LP relaxation (100) and adds the region rows in rounds
    (200): the bound is the same, reached another way."""
    problem = build_problem(aggregated(load_scenario(crossed(tmp_path))))
    model = build_model(problem)
    runs: list[int] = []
    run_within = rootcuts.run_within

    def first_runs_out(h: Any, seconds: float, stop: Any = lambda: False) -> None:
        runs.append(h.getNumRow())
        if len(runs) > 1:  # the first run "runs out of time": HiGHS never solves it
            run_within(h, seconds, stop)

    monkeypatch.setattr(rootcuts, "run_within", first_runs_out)
    loop = rootcuts.bound_loop(problem, model, SolverSettings(), 10.0)
    assert loop.bound == pytest.approx(200.0)
    assert loop.lp_bound_before == pytest.approx(100.0)  # the plain LP relaxation
    assert "region rows in rounds" in loop.stop
    assert runs[0] == model.n_rows + region_rows(problem, model).n_rows
    assert runs[1] == model.n_rows  # the fallback starts from the plain LP


def test_region_rows_sum_the_stream_rows_per_hub_region_and_period(tmp_path: Path) -> None:
    """Crossed lanes, two products with 10 units each per region: 2 hubs x 2 regions x 2
    products = 8 per-stream rows (open coefficient -10 each), summed into 4 per-(hub,
    region) rows with open coefficient -20 and both products' ship columns."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [
                {"hub_id": h, "lat": 37.5, "lon": 127.0, "fixed_cost": 100} for h in ("A", "B")
            ],
            "regions": [{"region_id": r, "lat": 37.6, "lon": 127.1} for r in ("R1", "R2")],
            "products": [{"product_id": p} for p in ("P", "Q")],
            "demand": [
                {"region_id": r, "product_id": p, "period": 1, "quantity": 10}
                for r in ("R1", "R2")
                for p in ("P", "Q")
            ],
        },
    )
    problem = build_problem(load_scenario(path))
    model = build_model(problem)
    per_stream, per_region = strong_rows(problem, model), region_rows(problem, model)
    assert per_stream.n_rows == 8 and per_region.n_rows == 4
    assert list(per_region.kind) == ["hub_region"] * 4
    opens = model.var_blocks["open"]
    ships = model.var_blocks["ship"]
    dense = per_region.A.toarray()
    assert (dense[:, opens] == -20.0).sum() == 4  # one open column per row, -(10 + 10)
    arcs = problem.out_arcs
    region = problem.streams["region_idx"].to_numpy()[arcs["stream_idx"].to_numpy()]
    per_pair = np.bincount(arcs["hub_idx"].to_numpy() * 2 + region, minlength=4)
    assert (dense[:, ships] == 1.0).sum(axis=1).tolist() == per_pair.tolist()  # both products
    assert (per_pair >= 2).all()
    assert per_region.A.sum() == pytest.approx(per_stream.A.sum())  # same terms, regrouped


def _cap41_lp(tmp_path: Path) -> tuple[Any, Any, float, np.ndarray]:
    """cap41's problem and model, its LP relaxation's optimum and optimal row duals."""
    path = write_facility_scenario(read_orlib_cap(FIXTURES / "orlib" / "cap41.txt"), tmp_path)
    problem = build_problem(load_scenario(path))
    model = build_model(problem)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    pass_matrix(h, dataclasses.replace(model, integer=np.zeros(model.n_vars, dtype=bool)))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    duals = np.asarray(h.getSolution().row_dual, dtype=float)
    return problem, model, float(h.getInfo().objective_function_value), duals


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(0.0, 2.0))
def test_dual_bound_never_exceeds_the_lp_optimum(
    tmp_path_factory: pytest.TempPathFactory, seed: int, scale: float
) -> None:
    """MatrixModel.dual_bound on cap41: at the LP's optimal row duals it is the LP optimum;
    at those duals scaled and jittered at random (any multipliers) it is never above it."""
    _, model, lp, duals = _cap41_lp(tmp_path_factory.mktemp("cap41"))
    assert model.dual_bound(duals) == pytest.approx(lp, rel=1e-9)
    rng = np.random.default_rng(seed)
    noisy = duals * scale + rng.normal(0.0, 1.0 + abs(duals).mean(), len(duals))
    assert model.dual_bound(noisy) <= lp * (1 + 1e-9)
    assert model.dual_bound(np.zeros(len(duals))) <= lp


def test_bound_loop_bounds_large_models_from_the_duals_of_an_lp_cut_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model above FIRST_STAGE_MAX_COLUMNS (0 here) skips the interior-point stage; its
    plain LP runs by dual simplex without presolve, and when it is cut short (here after
    30 iterations) the bound is the Lagrangian bound of its duals so far: finite, at most
    the LP optimum, and said so in the loop's stop text."""
    problem, model, lp, _ = _cap41_lp(tmp_path)
    monkeypatch.setattr(rootcuts, "FIRST_STAGE_MAX_COLUMNS", 0)
    run_within = rootcuts.run_within
    rows: list[int] = []

    def cut_short(h: Any, seconds: float, stop: Any = lambda: False) -> None:
        rows.append(h.getNumRow())
        h.setOptionValue("simplex_iteration_limit", 30)
        run_within(h, seconds, stop)

    monkeypatch.setattr(rootcuts, "run_within", cut_short)
    loop = rootcuts.bound_loop(problem, model, SolverSettings(), 10.0)
    assert rows == [model.n_rows]  # no interior-point stage with every region row
    assert "bound from its duals so far" in loop.stop and "above 0 columns" in loop.stop
    assert math.isfinite(loop.bound) and loop.bound <= lp * (1 + 1e-9)
    assert loop.bound < lp * (1 - 1e-6)  # cut short indeed: below the LP optimum


CAP41_OPTIMUM = 1_040_444.375  # OR-Library; also cap41's LP with every region row


def _limit_runs(
    monkeypatch: pytest.MonkeyPatch, first: tuple[str, int], later: tuple[str, int] | None = None
) -> list[int]:
    """Patch the root cut loop's HiGHS runs: the first run gets the HiGHS option ``first``
    (name, value), the later ones ``later`` (if any); returns each run's row count."""
    run_within = rootcuts.run_within
    rows: list[int] = []

    def limited(h: Any, seconds: float, stop: Any = lambda: False) -> None:
        rows.append(h.getNumRow())
        option = first if len(rows) == 1 else later
        if option is not None:
            h.setOptionValue(*option)
        run_within(h, seconds, stop)

    monkeypatch.setattr(rootcuts, "run_within", limited)
    return rows


@pytest.mark.parametrize("iterations", [5, 10, 15, 20])
def test_a_first_stage_cut_short_bounds_by_its_interior_point_iterate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, iterations: int
) -> None:
    """The bound loop's first stage (every region row, interior point without presolve)
    stopped after ``iterations`` of its 23 iterations, and the rounds after it cut short
    after one dual simplex iteration each: the bound is valid (never above cap41's
    optimum, which that LP reaches) and, once the iterate is near the end (15 and 20
    iterations: 1 038 649 and 1 040 444), it is the iterate's, said so in the stop text."""
    problem, model, _, _ = _cap41_lp(tmp_path)
    rows = _limit_runs(
        monkeypatch, ("ipm_iteration_limit", iterations), ("simplex_iteration_limit", 1)
    )
    loop = rootcuts.bound_loop(problem, model, SolverSettings(), 10.0)
    assert rows[0] == model.n_rows + region_rows(problem, model).n_rows
    assert rows[1:] == [model.n_rows]  # the fallback ran (and was cut short) too
    assert loop.bound <= CAP41_OPTIMUM * (1 + 1e-9)
    if iterations >= 15:
        assert loop.bound >= 0.998 * CAP41_OPTIMUM
        assert "first LP: every region row, cut short at " in loop.stop
        assert "bound from its duals so far" in loop.stop


def test_duals_far_from_optimal_bound_better_with_the_demand_rows_kept(tmp_path: Path) -> None:
    """cap41's LP with every region row, interior point (no presolve) stopped after 8
    iterations: the duals' bound with the demand rows kept as constraints (568 097) is
    well above the bound pricing every row (504 852), both below the LP optimum, and the
    loop takes the better one."""
    problem, model, _, _ = _cap41_lp(tmp_path)
    regions = region_rows(problem, model)
    whole = rootcuts.append_rows(model, regions, np.arange(regions.n_rows))
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    pass_matrix(h, dataclasses.replace(whole, integer=np.zeros(whole.n_vars, dtype=bool)))
    h.setOptionValue("presolve", "off")
    h.setOptionValue("solver", "ipm")
    h.setOptionValue("ipm_iteration_limit", 8)
    h.run()
    duals = np.asarray(h.getSolution().row_dual, dtype=float)
    priced, kept = whole.dual_bound(duals), whole.dual_bound_keeping(duals, "demand")
    assert priced < kept * (1 - 0.05) and kept < CAP41_OPTIMUM
    assert rootcuts._duals_bound(h, whole) == kept


def test_the_rounds_win_over_a_first_stage_cut_short_early(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first stage stopped after 5 interior-point iterations (its iterate bounds
    -5.3 M) and the rounds after it uncut: the bound is theirs, cap41's optimum."""
    problem, model, _, _ = _cap41_lp(tmp_path)
    _limit_runs(monkeypatch, ("ipm_iteration_limit", 5))
    loop = rootcuts.bound_loop(problem, model, SolverSettings(), 10.0)
    assert loop.bound == pytest.approx(CAP41_OPTIMUM, rel=1e-7)
    assert "region rows in rounds: every region row at once ran out of time" in loop.stop


def test_a_round_cut_short_still_raises_the_bound_by_its_duals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cap41 with the aggregated linking rows: the first LP is solved, the first round's
    re-solve (violated per-stream rows added) is cut short after 5 dual simplex
    iterations. Its rows are not kept, but the Lagrangian bound of its duals so far is
    above the plain LP and at most what the uncut round reaches (and the optimum)."""
    path = write_facility_scenario(read_orlib_cap(FIXTURES / "orlib" / "cap41.txt"), tmp_path)
    problem = build_problem(aggregated(load_scenario(path)))
    model = build_model(problem)
    one_round = SolverSettings(root_cuts={"mode": "on", "time_share": 1.0, "max_rounds": 1})
    _, full = root_cut_loop(model, strong_rows(problem, model), one_round)
    run_within = rootcuts.run_within
    runs: list[int] = []

    def second_cut_short(h: Any, seconds: float, stop: Any = lambda: False) -> None:
        runs.append(h.getNumRow())
        if len(runs) == 2:
            h.setOptionValue("simplex_iteration_limit", h.getInfo().simplex_iteration_count + 5)
        run_within(h, seconds, stop)

    monkeypatch.setattr(rootcuts, "run_within", second_cut_short)
    _, cut = root_cut_loop(model, strong_rows(problem, model), one_round)
    assert len(runs) == 2 and "its duals so far" in cut.stop
    assert cut.rows_kept == 0
    assert full.lp_bound_before == pytest.approx(cut.lp_bound_before)
    assert cut.lp_bound_before < cut.bound <= full.bound * (1 + 1e-9)
    assert full.bound <= CAP_OPTIMA["cap41"] * (1 + 1e-9)
