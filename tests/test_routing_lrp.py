"""Location-routing against the Prodhon CLRP benchmark (hubopt.routing.lrp and the
integrated mode of hubopt.routing.locate).

Instances and best-known values: ../shared/benchmarks/lrp (see its README: the cost of
an arc is ceil(100 d) for Prodhon's integer instances; coord20-5-1 has the proven optimum
54793, whose routes are in coord20-5-1.sol).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from hubopt.api import solve
from hubopt.data.problem import build_problem
from hubopt.routing.lrp import (
    customer_ids,
    depot_ids,
    gap_percent,
    lrp_cost,
    read_lrp,
    read_solution_routes,
    write_lrp_scenario,
)
from hubopt.scenario.scenario import load_scenario

LRP = Path(
    os.environ.get(
        "HUBOPT_LRP_DIR", Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "lrp"
    )
)
PRODHON = LRP / "prodhon"
OPTIMUM_20_5_1 = 54793.0

pytestmark = pytest.mark.skipif(
    not (PRODHON / "coord20-5-1.dat").is_file(), reason=f"LRP instances not found in {LRP}"
)


def test_reader_parses_prodhon_format() -> None:
    """coord20-5-1: 20 customers, 5 depots, vans of 70, route cost 1000, integer costs;
    depot 1 at (6, 7), customer 1 at (20, 35), depot capacities 140."""
    instance = read_lrp(PRODHON / "coord20-5-1.dat")
    assert instance.customer_xy.shape == (20, 2) and instance.depot_xy.shape == (5, 2)
    assert instance.vehicle_capacity == 70 and instance.route_cost == 1000
    assert instance.integer_costs
    assert instance.depot_xy[0].tolist() == [6, 7]
    assert instance.customer_xy[0].tolist() == [20, 35]
    assert instance.depot_capacity.tolist() == [140] * 5


def test_optimal_solution_prices_to_the_best_known_value() -> None:
    """The published optimal routes of coord20-5-1 (depots 2, 3, 5) cost exactly 54793 under
    the ceil(100 d) convention, so lrp_cost prices plans like the literature."""
    instance = read_lrp(PRODHON / "coord20-5-1.dat")
    stops = read_solution_routes(PRODHON / "coord20-5-1.sol", instance)
    assert sorted(set(stops["region_id"])) == sorted(customer_ids(instance))
    assert lrp_cost(instance, ["D2", "D3", "D5"], stops) == OPTIMUM_20_5_1


def test_converted_scenario_keeps_the_planar_distances(tmp_path: Path) -> None:
    """In the converted scenario (crs EPSG:3857, circuity 1) every depot -> customer distance
    hubopt computes equals the instance's Euclidean distance."""
    instance = read_lrp(PRODHON / "coord20-5-1.dat")
    problem = build_problem(load_scenario(write_lrp_scenario(instance, tmp_path)))
    pairs = problem.out_pairs
    depot = instance.depot_xy[pairs["hub_idx"].to_numpy()]
    customer = instance.customer_xy[pairs["region_idx"].to_numpy()]
    expected = np.hypot(*(depot - customer).T)
    assert np.allclose(pairs["distance_km"].to_numpy(float), expected, rtol=1e-9, atol=1e-9)
    assert list(problem.hubs["hub_id"]) == depot_ids(instance)


def test_integrated_mode_solves_coord20_5_1_within_2_percent(tmp_path: Path) -> None:
    """Location-routing on coord20-5-1 ends within 2 % of the optimum 54793, with verified
    routes that visit every customer once from open depots within their capacity."""
    instance = read_lrp(PRODHON / "coord20-5-1.dat")
    result = solve(write_lrp_scenario(instance, tmp_path, time_limit_s=0.5, max_iterations=8))
    assert result.solution is not None and result.routes is not None
    assert result.route_verification is not None and result.route_verification.ok
    assert result.verification is not None and result.verification.ok
    stops = result.routes.stops
    assert sorted(stops["region_id"]) == sorted(customer_ids(instance))
    hubs = result.solution.hubs
    open_hubs = sorted(hubs.loc[hubs["open"] > 0.5, "hub_id"])
    assert set(stops["hub_id"]) <= set(open_hubs)
    served = stops.groupby("hub_id")["load_m3"].sum()
    capacity = dict(zip(depot_ids(instance), instance.depot_capacity, strict=True))
    assert all(served[h] <= capacity[h] + 1e-9 for h in served.index)
    assert (result.routes.routes["load_m3"] <= instance.vehicle_capacity + 1e-9).all()
    cost = lrp_cost(instance, open_hubs, stops)
    assert cost >= OPTIMUM_20_5_1  # an optimum cannot be beaten: the pricing is right
    assert gap_percent(cost, OPTIMUM_20_5_1) <= 2.0, (cost, open_hubs)
    assert result.location_routing is not None and len(result.location_routing) >= 2
