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
from helpers import BACKENDS, REL_TOL, solve_all_backends, solve_verified, write_scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PAIR = ("highs", "cbc")


def _money(draw: st.DrawFn, low: int, high: int) -> float:
    return float(draw(st.integers(low, high)))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """Tables and YAML blocks of a random, always-feasible small scenario."""
    n_hubs = draw(st.integers(2, 4))
    n_regions = draw(st.integers(2, 5))
    n_products = draw(st.integers(1, 2))
    periods = draw(st.integers(1, 3))
    # Hubs sit on odd, regions on even hundredths of a degree: never at the same point,
    # which the verifier's distance formula gets wrong (see test_verifier, centroid).
    grid = st.tuples(st.integers(1750, 1900), st.integers(6325, 6475))
    hub_coord = grid.map(lambda c: ((2 * c[0] + 1) / 100, (2 * c[1] + 1) / 100))
    coord = grid.map(lambda c: (2 * c[0] / 100, 2 * c[1] / 100))
    windows = draw(st.booleans())
    late_penalty = draw(st.one_of(st.none(), st.integers(1, 30))) if windows else None
    single = draw(st.booleans()) and not windows  # single sourcing needs an arc to every region
    forced_ok = not single

    hubs = []
    for i in range(n_hubs):
        lat, lon = draw(hub_coord)
        row: dict[str, Any] = {
            "hub_id": f"H{i}",
            "lat": lat,
            "lon": lon,
            "fixed_cost": _money(draw, 0, 300),
        }
        if draw(st.booleans()):
            row["throughput_capacity"] = _money(draw, 5, 80)
        row["handling_cost"] = _money(draw, 0, 3)
        row["opening_cost"] = _money(draw, 0, 50)
        # hub 0 is a plain candidate from period 1, so every region has somewhere to turn
        if i > 0 and forced_ok:
            row["status"] = draw(
                st.sampled_from(
                    ["candidate", "candidate", "existing", "forced_open", "forced_closed"]
                )
            )
            if row["status"] in ("candidate", "forced_open"):
                row["open_from_period"] = draw(st.integers(1, periods))
        hubs.append(row)
    regions = []
    for j in range(n_regions):
        lat, lon = draw(coord)
        regions.append({"region_id": f"R{j}", "lat": lat, "lon": lon})
    products = [
        {
            "product_id": f"P{p}",
            "unit_weight_kg": _money(draw, 1, 5),
            "unit_volume": draw(st.sampled_from([0.5, 1.0, 2.0])),
            "holding_cost": _money(draw, 0, 3),
            "lost_sale_penalty": _money(draw, 5, 200),
        }
        for p in range(n_products)
    ]
    demand = [
        {
            "region_id": f"R{j}",
            "product_id": f"P{p}",
            "period": t,
            "quantity": _money(draw, 0, 30),
            "std": _money(draw, 0, 5),
        }
        for j in range(n_regions)
        for p in range(n_products)
        for t in range(1, periods + 1)
    ]
    tables: dict[str, list[dict[str, Any]]] = {
        "hubs": hubs,
        "regions": regions,
        "products": products,
        "demand": demand,
        "modes": [
            {
                "mode_id": "road",
                "leg": "both",
                "cost_per_kg": draw(st.sampled_from([0.0, 0.5, 1.0])),
                "cost_per_kg_km": draw(st.sampled_from([0.0, 0.002, 0.01])),
                "speed_kmh": 60,
                "co2_g_per_tkm": draw(st.sampled_from([0, 100, 1000])),
            }
        ],
    }
    if draw(st.booleans()):
        lat, lon = draw(coord)
        tables["sources"] = [{"source_id": "S0", "lat": lat, "lon": lon}]
        tables["supply"] = [
            {
                "source_id": "S0",
                "product_id": f"P{p}",
                "capacity": _money(draw, 10, 100),
                "unit_cost": _money(draw, 0, 10),
            }
            for p in range(n_products)
        ]
    if draw(st.booleans()):
        tables["inventory"] = [
            {"hub_id": "H0", "product_id": "P0", "quantity": _money(draw, 0, 20)}
        ]

    policy: dict[str, Any] = {
        "single_sourcing": single,
        "allow_closing": draw(st.booleans()),
        "safety_stock": {"z": draw(st.sampled_from([0.0, 1.0, 1.65]))},
        "carbon": {"price_per_t": _money(draw, 0, 200)},
    }
    if windows:
        policy["default_delivery_window_hours"] = draw(st.sampled_from([2, 4, 8]))
        if late_penalty is not None:
            policy["late_penalty_per_unit"] = float(late_penalty)
    if not any(h.get("status") in ("existing", "forced_open") for h in hubs) and draw(
        st.booleans()
    ):
        policy["max_open_hubs"] = draw(st.integers(1, n_hubs))
    blocks: dict[str, Any] = {"policy": policy}
    if draw(st.booleans()):
        blocks["campaigns"] = [
            {"id": "promo", "periods": [periods], "uplift": draw(st.sampled_from([1.0, 1.5, 2.0]))}
        ]
    return tables, blocks


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
