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

import pytest
from helpers import BACKENDS, REL_TOL, scenarios, solve_all_backends, solve_verified, write_scenario
from hypothesis import HealthCheck, given, settings

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
