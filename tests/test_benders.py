"""Benders decomposition for single-period facility location (hubopt.benders)."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers import FIXTURES, assert_objective, open_hubs, solve_verified, write_tiny_scenario

from hubopt.api import solve
from hubopt.benders import (
    AUTO_MIN_PAIRS,
    IN_OUT_MIX,
    Benders,
    TransportLp,
    benders_scope,
    facility_problem,
    knapsack_cut,
    method_for,
    solve_benders,
)
from hubopt.data.problem import build_problem
from hubopt.errors import SolverError
from hubopt.model.build import build_model
from hubopt.orlib import FacilityInstance, read_optima, read_orlib_cap, write_facility_scenario
from hubopt.scenario.scenario import Scenario, load_scenario
from hubopt.solvers import SolveStatus

CAP_OPTIMA = read_optima(FIXTURES / "orlib" / "capopt.txt")
REL = 1e-6  # capopt prints 3 decimals


def with_method(path: Path, method: str, **solver: object) -> Scenario:
    """The scenario at ``path`` with ``solver.method`` (and other solver keys) set."""
    scenario = load_scenario(path)
    settings = scenario.config.solver.model_copy(update={"method": method, **solver})
    return dataclasses.replace(
        scenario, config=scenario.config.model_copy(update={"solver": settings})
    )


def two_by_three(tmp_path: Path) -> Path:
    """Hubs A (fixed 10, capacity 6) and B (fixed 12, capacity 8); customers 1, 2, 3 with
    demand 3, 3, 2; cost per unit A: 1, 1, 5 and B: 4, 4, 1."""
    instance = FacilityInstance(
        "two_by_three",
        capacity=np.array([6.0, 8.0]),
        fixed_cost=np.array([10.0, 12.0]),
        demand=np.array([3.0, 3.0, 2.0]),
        cost=np.array([[1.0, 1.0, 5.0], [4.0, 4.0, 1.0]]) * np.array([3.0, 3.0, 2.0]),
    )
    return write_facility_scenario(instance, tmp_path)


def test_hand_checkable_two_hubs_three_customers(tmp_path: Path) -> None:
    """A alone lacks capacity (6 < 8); B alone costs 12 + 3*4 + 3*4 + 2*1 = 38; both cost
    10 + 12 + 3*1 + 3*1 + 2*1 = 30 (A serves 1 and 2, B serves 3): the optimum is 30."""
    result = solve(with_method(two_by_three(tmp_path), "benders"))
    assert result.status == SolveStatus.OPTIMAL
    assert result.verification is not None and result.verification.ok
    assert_objective(result, 30.0)
    assert result.bound <= 30.0 + 1e-9
    assert result.solution is not None
    flows = result.solution.flows.groupby(["hub_id", "region_id"])["quantity"].sum()
    assert flows.to_dict() == pytest.approx({("F1", "C1"): 3, ("F1", "C2"): 3, ("F2", "C3"): 2})
    assert "Benders" in result.solver_version


def test_hub_count_rows_go_to_the_master(tmp_path: Path) -> None:
    """With max_open_hubs 1 only B can serve all 8 units: 12 + 3*4 + 3*4 + 2*1 = 38."""
    path = two_by_three(tmp_path)
    doc = yaml.safe_load(path.read_text())
    doc["policy"]["max_open_hubs"] = 1
    path.write_text(yaml.safe_dump(doc))
    result = solve(with_method(path, "benders"))
    assert result.status == SolveStatus.OPTIMAL
    assert result.verification is not None and result.verification.ok
    assert_objective(result, 38.0)
    assert result.bound <= 38.0 + 1e-9
    assert open_hubs(result) == {"F2"}


@pytest.mark.parametrize("name", ["cap41", "cap71", "cap101", "cap131"])
def test_orlib_optimum_by_benders_matches_compact(name: str, tmp_path: Path) -> None:
    """Benders reaches the published optimum, as the compact model does, with a valid bound."""
    path = write_facility_scenario(read_orlib_cap(FIXTURES / "orlib" / f"{name}.txt"), tmp_path)
    benders = solve(with_method(path, "benders"))
    compact = solve(with_method(path, "compact"))
    for result in (benders, compact):
        assert result.status == SolveStatus.OPTIMAL
        assert result.verification is not None and result.verification.ok
        assert_objective(result, CAP_OPTIMA[name], rel=REL)
    assert "Benders" in benders.solver_version and "Benders" not in compact.solver_version
    assert benders.bound <= CAP_OPTIMA[name] * (1 + REL)


@pytest.mark.parametrize("name", ["cap41", "cap131"])
def test_root_and_final_bounds_never_exceed_the_optimum(name: str, tmp_path: Path) -> None:
    """The root cut loop's bound and the final bound stay at or below the optimum."""
    path = write_facility_scenario(read_orlib_cap(FIXTURES / "orlib" / f"{name}.txt"), tmp_path)
    scenario = with_method(path, "benders")
    problem = build_problem(scenario)
    model = build_model(problem)
    output, stats = solve_benders(problem, model, scenario.config.solver)
    optimum = CAP_OPTIMA[name]
    assert stats.root_rounds > 1 and stats.cuts > stats.root_rounds - 1
    assert stats.root_bound <= optimum * (1 + 1e-9)
    assert all(lower <= optimum * (1 + 1e-9) for _, lower, _ in stats.history)
    assert output.bound <= optimum * (1 + 1e-9)
    assert output.objective == pytest.approx(optimum, rel=REL)


def random_instance(seed: int, m: int = 6, n: int = 15) -> FacilityInstance:
    """A random CFLP whose total capacity covers the demand."""
    rng = np.random.default_rng(seed)
    demand = rng.integers(1, 20, n).astype(float)
    capacity = rng.integers(10, 60, m).astype(float)
    capacity *= max(1.0, 1.5 * demand.sum() / capacity.sum())
    cost = rng.uniform(1, 10, (m, n)) * demand[None, :]
    return FacilityInstance(f"r{seed}", capacity, rng.uniform(20, 80, m), demand, cost)


@pytest.mark.parametrize("seed", range(4))
def test_knapsack_cuts_are_valid_for_any_duals_and_tight_at_their_point(
    seed: int, tmp_path: Path
) -> None:
    """cut(y) <= transport cost(y) for random duals and 0/1 plans; with the LP's own duals
    the cut equals the transport cost at the (fractional) point it came from."""
    path = write_facility_scenario(random_instance(seed), tmp_path)
    problem = build_problem(load_scenario(path))
    model = build_model(problem)
    fp = facility_problem(problem, model)
    lp = TransportLp(fp)
    rng = np.random.default_rng(seed)
    m = len(fp.fixed)
    cover = np.minimum(fp.capacity, fp.volume)
    for _ in range(5):
        point = rng.uniform(0.3, 1.0, m)
        while cover @ point < fp.volume:
            point = np.minimum(point * 1.2, 1.0)
        assert cover @ point >= fp.volume * (1 - 1e-9)  # the master's cover row holds
        value, duals = lp.solve(point)
        const, coef = knapsack_cut(fp, duals)
        assert const + coef @ point == pytest.approx(value, rel=1e-7)
        plan = np.ones(m)
        plan[rng.integers(0, m)] = 0.0
        cost, _ = lp.solve(plan)
        for u in (duals, rng.uniform(0, 2 * fp.cost.max(), len(fp.demand))):
            const, coef = knapsack_cut(fp, u)
            assert const + coef @ plan <= cost + 1e-6 * max(cost, 1.0)


def test_a_new_master_plan_gets_its_own_and_an_in_out_cut(tmp_path: Path) -> None:
    """After the root, a plan new to the loop gets two cuts: its own (tight at the plan) and
    one separated at 0.5 plan + 0.5 core (tight there, and never above the plan's transport
    cost); the core moves a tenth of the way to the plan. A plan priced before adds none."""
    path = write_facility_scenario(random_instance(1), tmp_path)
    scenario = load_scenario(path)
    problem = build_problem(scenario)
    model = build_model(problem)
    fp = facility_problem(problem, model)
    run = Benders(fp, scenario.config.solver, time.perf_counter() + 60.0)
    run.root()
    core = run.core.copy()
    assert ((core >= 0.0) & (core <= 1.0)).all() and not np.isin(core, (0.0, 1.0)).all()
    plan = np.ones(len(fp.fixed))
    plan[int(np.argmax(fp.fixed))] = 0.0  # the dearest hub closed; the cover row holds
    assert fp.allows(plan) and plan.astype(np.int8).tobytes() not in run.priced
    cuts = run.stats.cuts
    total, added = run.separate_plan(plan)
    assert added and run.stats.cuts == cuts + 2
    transport, _ = TransportLp(fp).solve(plan)
    assert total == pytest.approx(fp.fixed @ plan + transport, rel=1e-9)
    (own_const, own_coef), (const, coef) = run.master.cuts[-2:]
    assert own_const + own_coef @ plan == pytest.approx(transport, rel=1e-7)
    mixed = IN_OUT_MIX * plan + (1 - IN_OUT_MIX) * core
    at_mixed, _ = TransportLp(fp).solve(mixed)
    assert const + coef @ mixed == pytest.approx(at_mixed, rel=1e-7)
    assert const + coef @ plan <= transport * (1 + 1e-9)
    np.testing.assert_allclose(run.core, 0.9 * core + 0.1 * plan)
    assert run.separate_plan(plan) == (total, False) and run.stats.cuts == cuts + 2


@pytest.mark.parametrize("seed", range(3))
def test_random_instances_benders_equals_compact(seed: int, tmp_path: Path) -> None:
    """Benders and the compact model find the same optimal cost on random CFLPs."""
    path = write_facility_scenario(random_instance(seed, m=8, n=25), tmp_path)
    benders = solve_verified(with_method(path, "benders"), "highs")
    compact = solve_verified(with_method(path, "compact"), "highs")
    assert_objective(benders, compact.objective, rel=1e-7)
    assert benders.bound <= compact.objective * (1 + 1e-9)


def test_explicit_benders_out_of_scope_is_a_clear_error(tmp_path: Path) -> None:
    """Two periods and a source: `benders` names why; `auto` solves the compact model."""
    path = write_tiny_scenario(tmp_path, geometry=False)
    problem = build_problem(load_scenario(path))
    reasons = benders_scope(problem, build_model(problem))
    assert "2 periods (Benders handles one)" in reasons
    assert "sources (inbound arcs)" in reasons
    with pytest.raises(SolverError, match="2 periods"):
        solve(with_method(path, "benders"))
    result = solve(with_method(path, "auto"))
    assert result.status == SolveStatus.OPTIMAL
    assert "Benders" not in result.solver_version


def test_explicit_benders_needs_highs(tmp_path: Path) -> None:
    """`benders` with another backend is refused; `auto` then stays compact."""
    path = two_by_three(tmp_path)
    scenario = with_method(path, "benders", backend="cbc")
    problem = build_problem(scenario)
    model = build_model(problem)
    with pytest.raises(SolverError, match="backend cbc"):
        method_for(problem, model, scenario.config.solver)
    auto = with_method(path, "auto", backend="cbc").config.solver
    assert method_for(problem, model, auto)[0] == "compact"


def test_auto_decomposes_large_facility_models_only(tmp_path: Path) -> None:
    """`auto` picks Benders from AUTO_MIN_PAIRS hub-stream pairs, compact below."""
    rng = np.random.default_rng(1)
    n = -(-AUTO_MIN_PAIRS // 20)
    demand = rng.integers(1, 10, n).astype(float)
    large = FacilityInstance(
        "large",
        np.full(20, demand.sum() / 5),
        np.full(20, 100.0),
        demand,
        rng.uniform(1, 5, (20, n)) * demand[None, :],
    )
    small = dataclasses.replace(large, demand=demand[:50], cost=large.cost[:, :50])
    chosen = {}
    for instance in (large, small):
        scenario = load_scenario(write_facility_scenario(instance, tmp_path / instance.name))
        problem = build_problem(scenario)
        chosen[len(problem.out_arcs)] = method_for(
            problem, build_model(problem), scenario.config.solver
        )[0]
    assert chosen == {20 * n: "benders", 20 * 50: "compact"}


def test_time_limit_returns_a_verified_plan_with_a_valid_bound(tmp_path: Path) -> None:
    """Stopped early, the best plan is still verified and the bound is below the optimum."""
    path = write_facility_scenario(read_orlib_cap(FIXTURES / "orlib" / "cap131.txt"), tmp_path)
    result = solve(with_method(path, "benders", time_limit_s=0.3))
    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    assert result.verification is not None and result.verification.ok
    assert result.bound <= CAP_OPTIMA["cap131"] * (1 + REL) <= result.objective * (1 + REL)


# ---- slow: capa / capb / capc from ../shared --------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "capacity", "optimum"),
    [("capa", 8000, 19240822.449), ("capb", 5000, 13656379.578), ("capc", 5000, 11646596.974)],
)
def test_large_orlib_by_benders(
    name: str, capacity: float, optimum: float, benchmarks_dir: Path, tmp_path: Path
) -> None:
    """100 x 1000 instances, tightest capacities: `auto` decomposes and proves the optimum."""
    instance = read_orlib_cap(benchmarks_dir / "orlib_cap" / f"{name}.txt", capacity=capacity)
    path = write_facility_scenario(instance, tmp_path)
    result = solve_verified(with_method(path, "auto"), "highs")
    assert "Benders" in result.solver_version
    assert_objective(result, optimum, rel=REL)
    assert result.bound <= optimum * (1 + REL)
