"""Backends agree, on hand-built cases and on random small scenarios (Hypothesis).

The hand-checkable cases of ``test_model_families.py`` and ``test_orlib.py`` already run on
every backend against a known optimum, so they agree by construction. Here a property
test draws random small scenarios — 2-4 hubs, 2-5 regions, 1-2 products, 1-3 periods,
random capacities, costs, windows, sources, safety stock and carbon — always feasible
because every product has a lost-sale penalty, and checks that the plan verifies, that
the reported objective is the sum of the cost components, and that HiGHS and CBC agree.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pulp
import pytest
import scipy.sparse as sp
from helpers import BACKENDS, REL_TOL, scenarios, solve_all_backends, solve_verified, write_scenario
from hypothesis import HealthCheck, given, settings

from hubopt.model.matrix import MatrixModel
from hubopt.scenario.schema import SolverSettings
from hubopt.solvers import SolveStatus, pulp_cbc

PAIR = ("highs", "cbc")


@pytest.mark.skipif(not set(PAIR) <= set(BACKENDS), reason="needs HiGHS and CBC")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=scenarios())
def test_random_scenarios_verify_and_backends_agree(
    case: tuple[dict[str, list[dict[str, Any]]], dict[str, Any]],
) -> None:
    """Random small scenario: verified, objective = sum of components, HiGHS = CBC."""
    tables, blocks = case
    with tempfile.TemporaryDirectory() as folder:
        path = write_scenario(Path(folder), tables, **blocks)
        results = {backend: solve_verified(path, backend) for backend in PAIR}
    for backend, result in results.items():
        assert result.verification is not None and result.verification.ok
        assert result.solution is not None
        assert math.isclose(
            result.objective, sum(result.solution.costs.values()), rel_tol=REL_TOL, abs_tol=1e-6
        ), backend
        # the verifier recomputes distances on its own (arccos form): ~1e-4 km noise at 0 km
        assert math.isclose(
            result.objective, result.verification.objective, rel_tol=REL_TOL, abs_tol=1e-4
        ), backend
    highs, cbc = (results[b].objective for b in PAIR)
    assert math.isclose(highs, cbc, rel_tol=REL_TOL, abs_tol=1e-6), f"highs {highs} != cbc {cbc}"


def test_every_backend_agrees_on_a_mixed_scenario(tmp_path: Path) -> None:
    """A scenario using most families at once: all four backends, one objective."""
    tables = {
        "hubs": [
            {
                "hub_id": "H0",
                "lat": 37.5,
                "lon": 127.0,
                "fixed_cost": 40,
                "throughput_capacity": 30,
            },
            {"hub_id": "H1", "lat": 35.1, "lon": 129.0, "fixed_cost": 30, "status": "existing"},
            {"hub_id": "H2", "lat": 36.3, "lon": 127.4, "fixed_cost": 25, "open_from_period": 2},
        ],
        "regions": [
            {"region_id": f"R{j}", "lat": 35.0 + 0.5 * j, "lon": 127.0 + 0.4 * j} for j in range(5)
        ],
        "products": [
            {"product_id": "A", "unit_weight_kg": 2, "holding_cost": 1, "lost_sale_penalty": 60},
            {
                "product_id": "B",
                "unit_weight_kg": 1,
                "unit_volume": 2,
                "holding_cost": 2,
                "lost_sale_penalty": 40,
            },
        ],
        "demand": [
            {"region_id": f"R{j}", "product_id": p, "period": t, "quantity": 3 + j + t, "std": 1}
            for j in range(5)
            for p in ("A", "B")
            for t in (1, 2, 3)
        ],
        "sources": [{"source_id": "S", "lat": 37.0, "lon": 126.7}],
        "supply": [
            {"source_id": "S", "product_id": p, "capacity": 60, "unit_cost": 2} for p in ("A", "B")
        ],
        "modes": [
            {
                "mode_id": "road",
                "leg": "both",
                "cost_per_kg_km": 0.01,
                "speed_kmh": 60,
                "co2_g_per_tkm": 100,
            }
        ],
    }
    path = write_scenario(
        tmp_path,
        tables,
        policy={
            "default_delivery_window_hours": 5,
            "late_penalty_per_unit": 4,
            "safety_stock": {"z": 1.65},
            "carbon": {"price_per_t": 100},
            "allow_closing": True,
        },
        campaigns=[{"id": "sale", "periods": [3], "uplift": 1.8, "service_level": 0.5}],
    )
    results = solve_all_backends(path)
    objectives = {backend: r.objective for backend, r in results.items()}
    reference = objectives["highs"] if "highs" in objectives else next(iter(objectives.values()))
    for backend, value in objectives.items():
        assert math.isclose(value, reference, rel_tol=REL_TOL), objectives
        assert results[backend].verification is not None


# drawn by the property test above (3 Dec 2026): CBC presolved it, postsolved to a point
# that broke 11 rows and reported "Optimal"
CBC_BROKEN_CASE = (
    {
        "demand": [
            {"period": 1, "product_id": "P0", "quantity": 24.0, "region_id": "R0", "std": 0.0},
            {"period": 1, "product_id": "P1", "quantity": 19.0, "region_id": "R0", "std": 0.0},
            {"period": 1, "product_id": "P0", "quantity": 4.0, "region_id": "R1", "std": 0.0},
            {"period": 1, "product_id": "P1", "quantity": 0.0, "region_id": "R1", "std": 0.0},
            {"period": 1, "product_id": "P0", "quantity": 0.0, "region_id": "R2", "std": 0.0},
            {"period": 1, "product_id": "P1", "quantity": 0.0, "region_id": "R2", "std": 0.0},
            {"period": 1, "product_id": "P0", "quantity": 19.0, "region_id": "R3", "std": 0.0},
            {"period": 1, "product_id": "P1", "quantity": 0.0, "region_id": "R3", "std": 0.0},
            {"period": 1, "product_id": "P0", "quantity": 16.0, "region_id": "R4", "std": 0.0},
            {"period": 1, "product_id": "P1", "quantity": 0.0, "region_id": "R4", "std": 0.0},
        ],
        "hubs": [
            {
                "fixed_cost": 298.0,
                "handling_cost": 0.0,
                "hub_id": "H0",
                "lat": 36.39,
                "lon": 128.09,
                "opening_cost": 11.0,
            },
            {
                "fixed_cost": 59.0,
                "handling_cost": 0.0,
                "hub_id": "H1",
                "lat": 36.13,
                "lon": 127.17,
                "opening_cost": 21.0,
            },
        ],
        "inventory": [{"hub_id": "H0", "product_id": "P0", "quantity": 11.0}],
        "modes": [
            {
                "co2_g_per_tkm": 100,
                "cost_per_kg": 0.0,
                "cost_per_kg_km": 0.0,
                "leg": "both",
                "mode_id": "road",
                "speed_kmh": 60,
            }
        ],
        "products": [
            {
                "holding_cost": 1.0,
                "lost_sale_penalty": 5.0,
                "product_id": "P0",
                "unit_volume": 0.5,
                "unit_weight_kg": 1.0,
            },
            {
                "holding_cost": 0.0,
                "lost_sale_penalty": 5.0,
                "product_id": "P1",
                "unit_volume": 0.5,
                "unit_weight_kg": 1.0,
            },
        ],
        "regions": [
            {"lat": 35.56, "lon": 129.16, "region_id": "R0"},
            {"lat": 35.12, "lon": 127.14, "region_id": "R1"},
            {"lat": 35.12, "lon": 127.14, "region_id": "R2"},
            {"lat": 36.72, "lon": 127.74, "region_id": "R3"},
            {"lat": 36.72, "lon": 127.74, "region_id": "R4"},
        ],
        "sources": [{"lat": 35.0, "lon": 126.5, "source_id": "S0"}],
        "supply": [
            {"capacity": 10.0, "product_id": "P0", "source_id": "S0", "unit_cost": 0.0},
            {"capacity": 10.0, "product_id": "P1", "source_id": "S0", "unit_cost": 0.0},
        ],
    },
    {
        "policy": {
            "allow_closing": False,
            "carbon": {"price_per_t": 169.0},
            "max_open_hubs": 1,
            "safety_stock": {"z": 0.0},
            "single_sourcing": True,
        }
    },
)


@pytest.mark.skipif(not set(PAIR) <= set(BACKENDS), reason="needs HiGHS and CBC")
def test_cbc_plan_that_breaks_the_rows_is_solved_again_without_preprocessing() -> None:
    """On this scenario CBC's preprocessing returned a point breaking the model's rows as
    "Optimal": the backend checks the point, solves again without preprocessing, and the
    plan verifies at HiGHS's optimum."""
    tables, blocks = CBC_BROKEN_CASE
    with tempfile.TemporaryDirectory() as folder:
        path = write_scenario(Path(folder), tables, **blocks)  # type: ignore[arg-type]
        results = {backend: solve_verified(path, backend) for backend in PAIR}
    assert math.isclose(results["cbc"].objective, results["highs"].objective, rel_tol=REL_TOL)


def test_a_cbc_point_breaking_the_rows_is_never_a_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CBC backend re-solves without preprocessing when CBC's point breaks a row or a
    bound, and returns no plan (status error) when the second point breaks them too."""
    model = MatrixModel(  # x0 + x1 >= 1, x in [0, 1], x0 integer; optimum x0 = 1
        c=np.array([1.0, 2.0]),
        lb=np.zeros(2),
        ub=np.ones(2),
        integer=np.array([True, False]),
        A=sp.csr_matrix(np.array([[1.0, 1.0]])),
        row_lo=np.array([1.0]),
        row_hi=np.array([np.inf]),
        var_blocks={"x": slice(0, 2)},
        row_blocks={"cover": slice(0, 1)},
    )
    asked: list[list[str] | None] = []

    def broken_then(second: np.ndarray) -> object:
        def run(
            prob: object, xs: object, settings: object, warm: bool, extra: list[str] | None = None
        ) -> tuple[int, np.ndarray, str]:
            asked.append(extra)
            point = np.zeros(2) if len(asked) == 1 else second
            return pulp.LpSolutionOptimal, point, f"run {len(asked)}"

        return run

    monkeypatch.setattr(pulp_cbc, "_run_cbc", broken_then(np.array([1.0, 0.0])))
    out = pulp_cbc.PulpCbcBackend().solve(model, SolverSettings())
    assert asked == [None, ["preprocess off"]]
    assert out.status == SolveStatus.OPTIMAL and out.objective == 1.0
    assert "solved again without preprocessing" in out.log

    asked.clear()
    monkeypatch.setattr(pulp_cbc, "_run_cbc", broken_then(np.array([0.5, 0.5])))
    out = pulp_cbc.PulpCbcBackend().solve(model, SolverSettings())
    assert out.status == SolveStatus.ERROR and out.x is None
    assert "broke the model's rows, with and without preprocessing" in out.message


def test_a_point_within_the_tolerances_satisfies_the_model() -> None:
    """``satisfies`` allows the solver's tolerances: a capacity of 1e5 times an ``open`` of
    0.9999999 (1e-2 over in absolute terms) keeps its row; 1 % over does not."""
    model = MatrixModel(  # ship - 1e5 open <= 0, ship >= 5e4, open binary
        c=np.array([1.0, 1.0]),
        lb=np.zeros(2),
        ub=np.array([np.inf, 1.0]),
        integer=np.array([False, True]),
        A=sp.csr_matrix(np.array([[1.0, -1e5], [1.0, 0.0]])),
        row_lo=np.array([-np.inf, 5e4]),
        row_hi=np.array([0.0, np.inf]),
        var_blocks={"x": slice(0, 2)},
        row_blocks={"r": slice(0, 2)},
    )
    assert pulp_cbc.satisfies(model, np.array([1e5, 0.9999999]))
    assert not pulp_cbc.satisfies(model, np.array([1.01e5, 1.0]))
    assert not pulp_cbc.satisfies(model, np.array([4.9e4, 1.0]))
    assert not pulp_cbc.satisfies(model, np.array([6e4, 0.5]))
