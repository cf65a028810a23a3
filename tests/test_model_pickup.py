"""Pickup points (family 13) on every backend: reach, capacity, open binaries, outputs.

The region sits at (37.6, 127.1); a pickup point at (37.61, 127.1) is 1.39 road km away
(great circle 1.11 km x circuity 1.25), one at (37.8, 127.1) 27.8 km. Arcs are free, so
each optimum is the pickup points' fixed costs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import assert_objective, solve_all_backends, write_scenario

from hubopt.api import solve
from hubopt.solvers import SolveStatus

NEAR = (37.61, 127.1)
NEAR_2 = (37.59, 127.1)
FAR = (37.8, 127.1)


def point(
    pickup_id: str, where: tuple[float, float], fixed: float, **columns: Any
) -> dict[str, Any]:
    """A pickup point row; customers travel at most 5 km unless told."""
    return {
        "pickup_id": pickup_id,
        "lat": where[0],
        "lon": where[1],
        "fixed_cost": fixed,
        "max_distance_km": columns.pop("max_distance_km", 5),
        **columns,
    }


def pickup_scenario(tmp_path: Path, points: list[dict[str, Any]], units: float = 10) -> Path:
    """One free hub, region R with ``units`` of pickup-channel demand and 4 of parcel."""
    return write_scenario(
        tmp_path,
        {
            "hubs": [{"hub_id": "H", "lat": 37.5, "lon": 127.0, "fixed_cost": 0}],
            "regions": [{"region_id": "R", "lat": 37.6, "lon": 127.1}],
            "products": [{"product_id": "P"}],
            "demand": [
                {
                    "region_id": "R",
                    "product_id": "P",
                    "period": 1,
                    "quantity": units,
                    "channel": "store",
                },
                {
                    "region_id": "R",
                    "product_id": "P",
                    "period": 1,
                    "quantity": 4,
                    "channel": "parcel",
                },
            ],
            "channels": [
                {"channel_id": "store", "kind": "pickup"},
                {"channel_id": "parcel", "kind": "delivery"},
            ],
            "pickup_points": points,
        },
    )


def test_pickup_point_beyond_reach_is_never_used(tmp_path: Path) -> None:
    """QF costs 1 per period but lies 27.8 km away (reach 5 km); QN costs 10 and lies
    1.39 km away: QN opens, objective 10; the 4 parcel units go to the region directly."""
    path = pickup_scenario(tmp_path, [point("QN", NEAR, 10), point("QF", FAR, 1)])
    for result in solve_all_backends(path).values():
        assert_objective(result, 10)
        table = result.solution.pickup_points.set_index("pickup_id")
        assert table.at["QN", "open"] == 1 and table.at["QF", "open"] == 0
        assert table.at["QN", "units"] == pytest.approx(10)
        assert table.at["QN", "served_regions"] == "R"
        flows = result.solution.flows
        assert set(flows.loc[flows["channel"] == "parcel", "pickup_id"]) == {""}
        headline = result.kpis.headline
        assert headline["pickup_share"] == pytest.approx(10 / 14)
        assert headline["pickup_customer_km_mean"] == pytest.approx(1.39, abs=0.01)


def test_pickup_capacity_forces_a_second_point(tmp_path: Path) -> None:
    """Q1 (fixed 10) and Q2 (fixed 12) both in reach, 6 units each: the 10 units need both,
    objective 22. Without the capacities Q1 alone serves them: objective 10."""
    (tmp_path / "capped").mkdir()
    (tmp_path / "free").mkdir()
    capped = [point("Q1", NEAR, 10, capacity=6), point("Q2", NEAR_2, 12, capacity=6)]
    for result in solve_all_backends(pickup_scenario(tmp_path / "capped", capped)).values():
        assert_objective(result, 22)
        table = result.solution.pickup_points.set_index("pickup_id")
        assert table["open"].sum() == 2
        assert (table["units"] <= 6 + 1e-6).all()
    free = [point("Q1", NEAR, 10), point("Q2", NEAR_2, 12)]
    for result in solve_all_backends(pickup_scenario(tmp_path / "free", free)).values():
        assert_objective(result, 10)


def test_diagnosis_names_the_pickup_reach(tmp_path: Path) -> None:
    """Q1 in reach holds 6 of the 10 pickup units; Q2 has room but lies 27.8 km away,
    beyond its 5 km reach: infeasible, and the diagnosis names Q1's capacity and Q2's reach."""
    path = pickup_scenario(
        tmp_path, [point("Q1", NEAR, 10, capacity=6), point("Q2", FAR, 1, capacity=100)]
    )
    result = solve(path)
    assert result.status == SolveStatus.INFEASIBLE
    text = " ".join(result.diagnosis)
    assert "pickup point Q1 needs 4 more units of capacity" in text, text
    assert "Q2 is 27.8 km away, beyond its max_distance_km 5" in text, text
