"""One hand-checkable scenario per constraint family (DESIGN §3), on every backend.

Costs and transit times come from lane overrides (``cost_per_unit``, ``transit_hours``,
``distance_km``), so each optimum can be worked out by hand; the arithmetic is in each
test's docstring. The default road mode costs nothing, so an arc without a lane cost is
free. Every solve goes through the independent verifier (``helpers.solve_verified``) and
every backend must reach the same, hand-computed optimum.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    assert_objective,
    lanes,
    open_hubs,
    shipped,
    solve_all_backends,
    stock_of,
    write_scenario,
)


def hub(hub_id: str, fixed_cost: float = 0.0, **columns: Any) -> dict[str, Any]:
    """A hub row near Seoul (coordinates only matter for unpriced, untimed arcs)."""
    return {"hub_id": hub_id, "lat": 37.5, "lon": 127.0, "fixed_cost": fixed_cost, **columns}


def region(region_id: str, **columns: Any) -> dict[str, Any]:
    """A region row near Seoul."""
    return {"region_id": region_id, "lat": 37.6, "lon": 127.1, **columns}


def demand(
    region_id: str, quantity: float, period: int = 1, product_id: str = "P", **columns: Any
) -> dict[str, Any]:
    """A demand row."""
    return {
        "region_id": region_id,
        "product_id": product_id,
        "period": period,
        "quantity": quantity,
        **columns,
    }


PRODUCT = [{"product_id": "P"}]
COST = ["from_id", "to_id", "cost_per_unit"]
COST_TIME = ["from_id", "to_id", "cost_per_unit", "transit_hours"]


# ---- 7. delivery windows ---------------------------------------------------------------


def window_scenario(tmp_path: Path, window_hours: float | None, **blocks: Any) -> Path:
    """Two regions far apart; each hub is 2 h from its own region and 30 h from the other."""
    policy = {} if window_hours is None else {"default_delivery_window_hours": window_hours}
    return write_scenario(
        tmp_path,
        {
            "hubs": [hub("HA", 100), hub("HB", 120)],
            "regions": [region("RA"), region("RB")],
            "products": PRODUCT,
            "demand": [demand("RA", 10), demand("RB", 10)],
            "lanes": lanes(
                [("HA", "RA", 1, 2), ("HA", "RB", 3, 30), ("HB", "RA", 3, 30), ("HB", "RB", 1, 2)],
                COST_TIME,
            ),
        },
        policy=policy,
        **blocks,
    )


def test_no_window_one_hub_serves_both(tmp_path: Path) -> None:
    """Without a window one hub is cheapest: HA alone = 100 + 10*1 + 10*3 = 140
    (HB alone = 120 + 10*3 + 10*1 = 160; both = 220 + 20 = 240)."""
    for result in solve_all_backends(window_scenario(tmp_path, None)).values():
        assert_objective(result, 140)
        assert open_hubs(result) == {"HA"}


def test_delivery_window_forces_second_hub(tmp_path: Path) -> None:
    """A 24 h window prunes the 30 h arcs and late delivery is not allowed, so each region
    needs its own hub: 100 + 120 + 10*1 + 10*1 = 240."""
    for result in solve_all_backends(window_scenario(tmp_path, 24)).values():
        assert_objective(result, 240)
        assert open_hubs(result) == {"HA", "HB"}
        assert shipped(result, hub_id="HA", region_id="RA") == pytest.approx(10)
        assert shipped(result, hub_id="HB", region_id="RB") == pytest.approx(10)
        assert result.solution is not None and result.solution.flows["on_time"].all()


SEOUL = (37.5665, 126.9780)
BUSAN = (35.1796, 129.0756)


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance on a 6371 km sphere (DESIGN §2), written out for the test."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371 * math.asin(math.sqrt(h))


@pytest.mark.parametrize(
    ("window", "expected", "hubs"), [(None, 100, {"HS"}), (4, 220, {"HS", "HB"})]
)
def test_window_from_real_distances(
    tmp_path: Path, window: float | None, expected: float, hubs: set[str]
) -> None:
    """Hubs and regions in Seoul and Busan, free transport, default road mode (60 km/h,
    circuity 1.25). Seoul-Busan is ~325 km great circle -> ~407 km by road -> ~6.8 h.
    No window: the Seoul hub (fixed 100) serves both -> 100. A 4 h window rules out the
    cross-country arcs, so Busan's hub (fixed 120) opens too -> 220."""
    policy = {} if window is None else {"default_delivery_window_hours": window}
    path = write_scenario(
        tmp_path,
        {
            "hubs": [
                {"hub_id": "HS", "lat": SEOUL[0], "lon": SEOUL[1], "fixed_cost": 100},
                {"hub_id": "HB", "lat": BUSAN[0], "lon": BUSAN[1], "fixed_cost": 120},
            ],
            "regions": [
                {"region_id": "RS", "lat": SEOUL[0], "lon": SEOUL[1]},
                {"region_id": "RB", "lat": BUSAN[0], "lon": BUSAN[1]},
            ],
            "products": PRODUCT,
            "demand": [demand("RS", 10), demand("RB", 10)],
        },
        policy=policy,
    )
    road_km = 1.25 * great_circle_km(SEOUL, BUSAN)
    assert 400 < road_km < 410
    for result in solve_all_backends(path).values():
        assert_objective(result, expected)
        assert open_hubs(result) == hubs
        assert result.solution is not None
        flows = result.solution.flows.set_index("region_id")
        if window is None:
            assert flows.at["RB", "distance_km"] == pytest.approx(road_km, rel=1e-9)
            assert flows.at["RB", "transit_hours"] == pytest.approx(road_km / 60, rel=1e-9)
        else:
            assert flows.at["RB", "hub_id"] == "HB"


def test_campaign_window_applies_to_its_streams_only(tmp_path: Path) -> None:
    """Only RB is in a campaign with a 24 h window (no default window): HA alone cannot
    reach RB in time, so HB opens and also serves RA (no window) at 3 per unit:
    120 + 10 x 3 + 10 x 1 = 160 (both hubs: 240)."""
    campaigns = [{"id": "rb", "regions": ["RB"], "delivery_window_hours": 24}]
    for result in solve_all_backends(window_scenario(tmp_path, None, campaigns=campaigns)).values():
        assert_objective(result, 160)
        assert open_hubs(result) == {"HB"}


# ---- 2. stock balance: build ahead of a campaign ---------------------------------------


def test_stock_built_ahead_of_campaign(tmp_path: Path) -> None:
    """Supply is 10 units per period; demand is 5, 5 and 10 x uplift 2 = 20 in the campaign
    period 3. Total supply 30 = total demand 30, so every period takes in 10: stock is
    5 after period 1 and 10 after period 2. Cost = fixed 100 x 3 periods + holding
    2 x (5 + 10) = 330 (supply and transport are free)."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H1", 100)],
            "regions": [region("R1")],
            "products": [{"product_id": "P", "holding_cost": 2}],
            "demand": [demand("R1", 5, 1), demand("R1", 5, 2), demand("R1", 10, 3)],
            "sources": [{"source_id": "S1", "lat": 37.5, "lon": 127.0}],
            "supply": [{"source_id": "S1", "product_id": "P", "capacity": 10}],
        },
        campaigns=[{"id": "sale", "periods": [3], "uplift": 2.0}],
    )
    for result in solve_all_backends(path).values():
        assert_objective(result, 330)
        assert result.solution is not None
        assert result.solution.costs["holding"] == pytest.approx(30)
        assert stock_of(result, "H1", 1) == pytest.approx(5)
        assert stock_of(result, "H1", 2) == pytest.approx(10)
        assert stock_of(result, "H1", 3) == pytest.approx(0)
        inflow = result.solution.inflows.groupby("period")["quantity"].sum()
        assert inflow.to_dict() == pytest.approx({1: 10, 2: 10, 3: 10})
        assert shipped(result, period=3) == pytest.approx(20)


def test_starting_inventory_is_used_first(tmp_path: Path) -> None:
    """8 units on hand at H1, demand 10, supply at unit cost 3: buy only 2.
    Cost = fixed 5 + supply 2 x 3 = 11."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H1", 5)],
            "regions": [region("R1")],
            "products": PRODUCT,
            "demand": [demand("R1", 10)],
            "sources": [{"source_id": "S1", "lat": 37.5, "lon": 127.0}],
            "supply": [{"source_id": "S1", "product_id": "P", "unit_cost": 3}],
            "inventory": [{"hub_id": "H1", "product_id": "P", "quantity": 8}],
        },
    )
    for result in solve_all_backends(path).values():
        assert_objective(result, 11)
        assert result.solution is not None
        assert result.solution.inflows["quantity"].sum() == pytest.approx(2)


# ---- 1. demand: lost sales -------------------------------------------------------------


def test_lost_sale_when_penalty_below_cost_to_serve(tmp_path: Path) -> None:
    """Penalty 5 per unit. R1 costs 8 to serve: all 10 units go unmet (10 x 5 = 50).
    R2 costs 3 to serve: its 4 units are delivered (4 x 3 = 12) from H1 (fixed 1).
    Total = 50 + 12 + 1 = 63."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H1", 1)],
            "regions": [region("R1"), region("R2")],
            "products": [{"product_id": "P", "lost_sale_penalty": 5}],
            "demand": [demand("R1", 10), demand("R2", 4)],
            "lanes": lanes([("H1", "R1", 8), ("H1", "R2", 3)], COST),
        },
    )
    for result in solve_all_backends(path).values():
        assert_objective(result, 63)
        assert result.solution is not None
        unmet = result.solution.unmet.set_index("region_id")
        assert list(unmet.index) == ["R1"]
        assert unmet.at["R1", "quantity"] == pytest.approx(10)
        assert result.solution.costs["lost_sales"] == pytest.approx(50)
        assert shipped(result, region_id="R2") == pytest.approx(4)


# ---- 4. throughput capacity --------------------------------------------------------------


def test_capacity_forces_split(tmp_path: Path) -> None:
    """Demand 10; H1 and H2 each handle 6 per period (fixed 10, unit cost 1 and 2); H3 has
    room (fixed 30, cost 5). H1+H2: 20 + 6 x 1 + 4 x 2 = 34; H3 alone: 30 + 50 = 80.
    So H1 ships 6 and H2 ships 4."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [
                hub("H1", 10, throughput_capacity=6),
                hub("H2", 10, throughput_capacity=6),
                hub("H3", 30),
            ],
            "regions": [region("R1")],
            "products": PRODUCT,
            "demand": [demand("R1", 10)],
            "lanes": lanes([("H1", "R1", 1), ("H2", "R1", 2), ("H3", "R1", 5)], COST),
        },
    )
    for result in solve_all_backends(path).values():
        assert_objective(result, 34)
        assert open_hubs(result) == {"H1", "H2"}
        assert shipped(result, hub_id="H1") == pytest.approx(6)
        assert shipped(result, hub_id="H2") == pytest.approx(4)


def test_capacity_counts_volume(tmp_path: Path) -> None:
    """unit_volume 2 m3 and capacity 12 m3: H1 ships at most 6 units, as above -> 34."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [
                hub("H1", 10, throughput_capacity=12),
                hub("H2", 10, throughput_capacity=12),
                hub("H3", 30),
            ],
            "regions": [region("R1")],
            "products": [{"product_id": "P", "unit_volume": 2}],
            "demand": [demand("R1", 10)],
            "lanes": lanes([("H1", "R1", 1), ("H2", "R1", 2), ("H3", "R1", 5)], COST),
        },
    )
    for result in solve_all_backends(path).values():
        assert_objective(result, 34)
        assert shipped(result, hub_id="H1") == pytest.approx(6)


def test_storage_capacity_does_not_cap_throughput(tmp_path: Path) -> None:
    """A cross-dock (storage_capacity 0, no throughput limit) still ships what it receives:
    demand 10, fixed 1, free transport -> 1, nothing unmet.

    Engine bug: the inflow linking row uses the storage capacity as its big-M, so the
    hub can take in at most 0 units per period and the scenario is reported infeasible.
    """
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H1", 1, storage_capacity=0)],
            "regions": [region("R1")],
            "products": PRODUCT,
            "demand": [demand("R1", 10)],
        },
    )
    for result in solve_all_backends(path).values():
        assert_objective(result, 1)
        assert shipped(result, hub_id="H1") == pytest.approx(10)


def test_small_storage_capacity_with_lost_sales(tmp_path: Path) -> None:
    """Storage 1 m3 limits end-of-period stock, not throughput: all 10 units ship
    (penalty 100 each would otherwise apply). Cost = fixed 1.

    Engine bug (same as above): only 1 unit gets in, 9 go unmet, objective 901.
    """
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H1", 1, storage_capacity=1)],
            "regions": [region("R1")],
            "products": [{"product_id": "P", "lost_sale_penalty": 100}],
            "demand": [demand("R1", 10)],
        },
    )
    for result in solve_all_backends(path).values():
        assert_objective(result, 1)
        assert result.solution is not None and result.solution.unmet.empty


# ---- 3. safety stock ---------------------------------------------------------------------


def test_safety_stock_held_at_serving_hub(tmp_path: Path) -> None:
    """z = 2, demand 10 with std 3 in each of 2 periods, one hub: it must end each period
    with 2 x 3 = 6 units. Cost = fixed 10 x 2 + holding 1.5 x (6 + 6) = 38."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H1", 10)],
            "regions": [region("R1")],
            "products": [{"product_id": "P", "holding_cost": 1.5}],
            "demand": [demand("R1", 10, 1, std=3), demand("R1", 10, 2, std=3)],
        },
        policy={"safety_stock": {"z": 2.0}},
    )
    for result in solve_all_backends(path).values():
        assert_objective(result, 38)
        assert stock_of(result, "H1", 1) == pytest.approx(6)
        assert stock_of(result, "H1", 2) == pytest.approx(6)
        assert result.solution is not None
        assert result.solution.costs["holding"] == pytest.approx(18)


def test_safety_stock_follows_the_split(tmp_path: Path) -> None:
    """Capacity 6 at H1 forces a 6/4 split of demand 10 (std 5, z 1): safety stock is
    z * sigma * share = 1 x 5 x 0.6 = 3 at H1 and 5 x 0.4 = 2 at H2. Holding 1 per unit.
    Cost = transport 6 x 1 + 4 x 2 + holding 3 + 2 = 19 (fixed costs 0)."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H1", throughput_capacity=6), hub("H2", throughput_capacity=6)],
            "regions": [region("R1")],
            "products": [{"product_id": "P", "holding_cost": 1}],
            "demand": [demand("R1", 10, std=5)],
            "lanes": lanes([("H1", "R1", 1), ("H2", "R1", 2)], COST),
        },
        policy={"safety_stock": {"z": 1.0}},
    )
    for result in solve_all_backends(path).values():
        assert_objective(result, 19)
        assert stock_of(result, "H1", 1) == pytest.approx(3)
        assert stock_of(result, "H2", 1) == pytest.approx(2)


def test_safety_stock_larger_than_demand(tmp_path: Path) -> None:
    """One period, demand 5 with std 2 and z 1: the hub takes in 5 + 2 = 7 and ends with
    2 units. Cost = fixed 1 + holding 1 x 2 = 3.

    Engine bug: the inflow big-M (``stock_bound``: total demand volume + 1 = 6) ignores
    safety stock, so inflow 7 is cut off and the scenario is reported infeasible.
    """
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H1", 1)],
            "regions": [region("R1")],
            "products": [{"product_id": "P", "holding_cost": 1}],
            "demand": [demand("R1", 5, std=2)],
        },
        policy={"safety_stock": {"z": 1.0}},
    )
    for result in solve_all_backends(path).values():
        assert_objective(result, 3)
        assert stock_of(result, "H1", 1) == pytest.approx(2)


# ---- lanes and modes --------------------------------------------------------------------


def test_lane_forbids_cheap_arc(tmp_path: Path) -> None:
    """H1 -> R1 costs 1 but the lane says allowed=false, so H2 (cost 2) serves:
    fixed 5 + 10 x 2 = 25; H1 stays closed."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H1", 5), hub("H2", 5)],
            "regions": [region("R1")],
            "products": PRODUCT,
            "demand": [demand("R1", 10)],
            "lanes": [
                {"from_id": "H1", "to_id": "R1", "cost_per_unit": 1, "allowed": False},
                {"from_id": "H2", "to_id": "R1", "cost_per_unit": 2},
            ],
        },
    )
    for result in solve_all_backends(path).values():
        assert_objective(result, 25)
        assert open_hubs(result) == {"H2"}
        assert shipped(result, hub_id="H1") == 0


def test_lane_cost_overrides_mode_cost(tmp_path: Path) -> None:
    """The road mode costs 2 per kg (products weigh 1 kg), so both hubs cost 2 per unit,
    but a lane sets H2 -> R1 to 0.5. H2 (fixed 3): 3 + 10 x 0.5 = 8 beats
    H1 (fixed 1): 1 + 10 x 2 = 21."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H1", 1), hub("H2", 3)],
            "regions": [region("R1")],
            "products": PRODUCT,
            "demand": [demand("R1", 10)],
            "modes": [{"mode_id": "road", "leg": "both", "cost_per_kg": 2, "speed_kmh": 60}],
            "lanes": lanes([("H2", "R1", 0.5)], COST),
        },
    )
    for result in solve_all_backends(path).values():
        assert_objective(result, 8)
        assert open_hubs(result) == {"H2"}
        assert result.solution is not None
        assert result.solution.costs["outbound_transport"] == pytest.approx(5)


def test_mode_requiring_lane_only_on_listed_arcs(tmp_path: Path) -> None:
    """Air costs 1 per kg but requires a lane; only H1 -> R1 lists air. Road costs 3 per kg.
    R1 flies (10 x 1), R2 goes by road (10 x 3): 40 (fixed 0)."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H1")],
            "regions": [region("R1"), region("R2")],
            "products": PRODUCT,
            "demand": [demand("R1", 10), demand("R2", 10)],
            "modes": [
                {"mode_id": "road", "leg": "both", "cost_per_kg": 3, "speed_kmh": 60},
                {
                    "mode_id": "air",
                    "leg": "both",
                    "cost_per_kg": 1,
                    "speed_kmh": 500,
                    "requires_lane": True,
                },
            ],
            "lanes": [{"from_id": "H1", "to_id": "R1", "mode_id": "air"}],
        },
    )
    for result in solve_all_backends(path).values():
        assert_objective(result, 40)
        assert shipped(result, region_id="R1", mode_id="air") == pytest.approx(10)
        assert shipped(result, region_id="R2", mode_id="road") == pytest.approx(10)
        assert shipped(result, region_id="R2", mode_id="air") == 0


def test_distance_priced_mode(tmp_path: Path) -> None:
    """cost_per_kg_km 0.01 on lanes of 100 km and 300 km (weight 2 kg): 2 and 6 per unit.
    Demand 10, fixed 0: H1 serves for 20."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H1"), hub("H2")],
            "regions": [region("R1")],
            "products": [{"product_id": "P", "unit_weight_kg": 2}],
            "demand": [demand("R1", 10)],
            "modes": [{"mode_id": "road", "leg": "both", "cost_per_kg_km": 0.01, "speed_kmh": 60}],
            "lanes": lanes(
                [("H1", "R1", 100), ("H2", "R1", 300)], ["from_id", "to_id", "distance_km"]
            ),
        },
    )
    for result in solve_all_backends(path).values():
        assert_objective(result, 20)
        assert shipped(result, hub_id="H1") == pytest.approx(10)


# ---- 8. network rules ---------------------------------------------------------------------


def test_forced_open_and_forced_closed(tmp_path: Path) -> None:
    """H1 is forced open (fixed 50, cost 5), H2 is forced closed although free, H3 is a
    candidate (fixed 10, cost 1). Best: H1 (must pay 50) + H3 serving: 50 + 10 + 10 = 70
    (H1 serving alone: 50 + 50 = 100)."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [
                hub("H1", 50, status="forced_open"),
                hub("H2", 0, status="forced_closed"),
                hub("H3", 10),
            ],
            "regions": [region("R1")],
            "products": PRODUCT,
            "demand": [demand("R1", 10)],
            "lanes": lanes([("H1", "R1", 5), ("H2", "R1", 0), ("H3", "R1", 1)], COST),
        },
    )
    for result in solve_all_backends(path).values():
        assert_objective(result, 70)
        assert open_hubs(result) == {"H1", "H3"}
        assert shipped(result, hub_id="H3") == pytest.approx(10)


@pytest.mark.parametrize(("allow_closing", "expected"), [(False, 63), (True, 62)])
def test_open_from_period_and_closing(tmp_path: Path, allow_closing: bool, expected: float) -> None:
    """H1 (fixed 1, cost 1) may open only from period 2; H2 (fixed 1, cost 5) serves
    period 1: 1 + 50 = 51. In period 2 H1 opens and serves for 1 + 10 = 11; without
    closing H2 must stay open (+1): 63. With closing allowed (closing_cost 0): 62."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H1", 1, open_from_period=2), hub("H2", 1)],
            "regions": [region("R1")],
            "products": PRODUCT,
            "demand": [demand("R1", 10, 1), demand("R1", 10, 2)],
            "lanes": lanes([("H1", "R1", 1), ("H2", "R1", 5)], COST),
        },
        policy={"allow_closing": allow_closing},
    )
    for result in solve_all_backends(path).values():
        assert_objective(result, expected)
        assert open_hubs(result, 1) == {"H2"}
        assert open_hubs(result, 2) == ({"H1"} if allow_closing else {"H1", "H2"})
        assert shipped(result, hub_id="H1", period=2) == pytest.approx(10)


@pytest.mark.parametrize(("allow_closing", "expected"), [(False, 117), (True, 47)])
def test_existing_hub_stays_open_unless_closing_allowed(
    tmp_path: Path, allow_closing: bool, expected: float
) -> None:
    """HE exists (fixed 100, cost 2, closing_cost 30); HN is a candidate (fixed 5,
    opening_cost 2, cost 1). Demand 10 in one period.
    No closing: HE stays open (100); serving from HN adds 5 + 2 + 10 = 17 < HE's 20: 117.
    Closing allowed: close HE (30) and serve from HN (17): 47 (keeping HE: 120)."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [
                hub("HE", 100, status="existing", closing_cost=30),
                hub("HN", 5, opening_cost=2),
            ],
            "regions": [region("R1")],
            "products": PRODUCT,
            "demand": [demand("R1", 10)],
            "lanes": lanes([("HE", "R1", 2), ("HN", "R1", 1)], COST),
        },
        policy={"allow_closing": allow_closing},
    )
    for result in solve_all_backends(path).values():
        assert_objective(result, expected)
        assert open_hubs(result) == ({"HN"} if allow_closing else {"HE", "HN"})
        assert result.solution is not None
        costs = result.solution.costs
        assert costs["opening"] == pytest.approx(2)
        assert costs["closing"] == pytest.approx(30 if allow_closing else 0)


def three_by_three(tmp_path: Path, fixed: float, **policy: Any) -> Path:
    """Three hubs, three regions of 10 units; own region costs 1, another region 5."""
    hubs = [hub(f"H{i}", fixed) for i in (1, 2, 3)]
    rows = [(f"H{i}", f"R{j}", 1 if i == j else 5) for i in (1, 2, 3) for j in (1, 2, 3)]
    return write_scenario(
        tmp_path,
        {
            "hubs": hubs,
            "regions": [region(f"R{j}") for j in (1, 2, 3)],
            "products": PRODUCT,
            "demand": [demand(f"R{j}", 10) for j in (1, 2, 3)],
            "lanes": lanes(rows, COST),
        },
        policy=policy,
    )


@pytest.mark.parametrize(
    ("fixed", "policy", "expected", "n_open"),
    [
        # k hubs open: fixed*k + 10*k*1 + (30 - 10*k)*5
        pytest.param(20, {}, 90, 3, id="fixed20-free: 60+30"),
        pytest.param(20, {"max_open_hubs": 2}, 110, 2, id="fixed20-max2: 40+20+50"),
        pytest.param(20, {"max_open_hubs": 1}, 130, 1, id="fixed20-max1: 20+10+100"),
        pytest.param(60, {}, 170, 1, id="fixed60-free: 60+10+100"),
        pytest.param(60, {"min_open_hubs": 2}, 190, 2, id="fixed60-min2: 120+20+50"),
    ],
)
def test_min_max_open_hubs(
    tmp_path: Path, fixed: float, policy: dict[str, int], expected: float, n_open: int
) -> None:
    """k open hubs cost fixed*k + 10k x 1 + (30 - 10k) x 5; the bounds on k pick the optimum."""
    for result in solve_all_backends(three_by_three(tmp_path, fixed, **policy)).values():
        assert_objective(result, expected)
        assert len(open_hubs(result)) == n_open


def test_fixed_cost_budget(tmp_path: Path) -> None:
    """Fixed 20 per hub, budget 45: at most 2 hubs -> 110 (as with max_open_hubs 2)."""
    for result in solve_all_backends(three_by_three(tmp_path, 20, fixed_cost_budget=45)).values():
        assert_objective(result, 110)
        assert len(open_hubs(result)) == 2


# ---- 7. campaign service level with late penalty ------------------------------------------


@pytest.mark.parametrize(("service_level", "expected", "fast_units"), [(0.0, 31, 0), (0.8, 48, 8)])
def test_campaign_service_level_with_late_penalty(
    tmp_path: Path, service_level: float, expected: float, fast_units: float
) -> None:
    """Campaign on R1 (10 units, 24 h window); H1 is on time (10 h, cost 5), H2 late
    (30 h, cost 1, late penalty 2 -> 3 per unit). Fixed 1 each.
    Level 0: H2 alone, all late: 1 + 10 x (1 + 2) = 31 (H1 alone: 1 + 50 = 51).
    Level 0.8: >= 8 units on time, so both open: 2 + 8 x 5 + 2 x (1 + 2) = 48."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H1", 1), hub("H2", 1)],
            "regions": [region("R1")],
            "products": PRODUCT,
            "demand": [demand("R1", 10)],
            "lanes": lanes([("H1", "R1", 5, 10), ("H2", "R1", 1, 30)], COST_TIME),
        },
        campaigns=[
            {
                "id": "launch",
                "regions": ["R1"],
                "delivery_window_hours": 24,
                "service_level": service_level,
            }
        ],
        policy={"late_penalty_per_unit": 2},
    )
    for result in solve_all_backends(path).values():
        assert_objective(result, expected)
        assert shipped(result, hub_id="H1") == pytest.approx(fast_units)
        assert shipped(result, hub_id="H2", on_time=False) == pytest.approx(10 - fast_units)
        assert result.solution is not None
        assert result.solution.costs["late"] == pytest.approx(2 * (10 - fast_units))


# ---- 10. carbon ---------------------------------------------------------------------------


def carbon_scenario(tmp_path: Path, carbon: dict[str, float]) -> Path:
    """Units of 1 t; 100 g/t-km; H1 is 100 km away (0.01 t CO2/unit, cost 10), H2 300 km
    (0.03 t CO2/unit, cost 4). Demand 10, fixed 0."""
    return write_scenario(
        tmp_path,
        {
            "hubs": [hub("H1"), hub("H2")],
            "regions": [region("R1")],
            "products": [{"product_id": "P", "unit_weight_kg": 1000}],
            "demand": [demand("R1", 10)],
            "modes": [{"mode_id": "road", "leg": "both", "speed_kmh": 60, "co2_g_per_tkm": 100}],
            "lanes": lanes(
                [("H1", "R1", 10, 100), ("H2", "R1", 4, 300)],
                ["from_id", "to_id", "cost_per_unit", "distance_km"],
            ),
        },
        policy={"carbon": carbon},
    )


@pytest.mark.parametrize(
    ("carbon", "expected", "near_units", "carbon_cost"),
    [
        pytest.param({}, 40, 0, 0, id="none: H2 10x4"),
        pytest.param({"price_per_t": 500}, 150, 10, 50, id="price: H1 10x(10+5) < H2 10x(4+15)"),
        pytest.param({"cap_t": 0.2}, 70, 5, 0, id="cap: 0.01a+0.03b<=0.2 -> 5/5, 50+20"),
    ],
)
def test_carbon_price_and_cap(
    tmp_path: Path, carbon: dict[str, float], expected: float, near_units: float, carbon_cost: float
) -> None:
    """Carbon price turns the far cheap hub dear; a cap of 0.2 t allows at most 5 far units."""
    for result in solve_all_backends(carbon_scenario(tmp_path, carbon)).values():
        assert_objective(result, expected)
        assert shipped(result, hub_id="H1") == pytest.approx(near_units)
        assert result.solution is not None
        assert result.solution.costs["carbon"] == pytest.approx(carbon_cost)
        assert result.solution.flows["co2_t"].sum() <= 0.3 + 1e-9


# ---- 9. single sourcing ------------------------------------------------------------------


@pytest.mark.parametrize(("single", "expected"), [(False, 14), (True, 20)])
def test_single_sourcing(tmp_path: Path, single: bool, expected: float) -> None:
    """Demand 10; H1 (cost 1) handles only 6, H2 (cost 2) any amount; fixed 0.
    Split: 6 x 1 + 4 x 2 = 14. Single sourcing: R1 must take all from H2: 20."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H1", throughput_capacity=6), hub("H2")],
            "regions": [region("R1")],
            "products": PRODUCT,
            "demand": [demand("R1", 10)],
            "lanes": lanes([("H1", "R1", 1), ("H2", "R1", 2)], COST),
        },
        policy={"single_sourcing": single},
    )
    for result in solve_all_backends(path).values():
        assert_objective(result, expected)
        assert result.solution is not None
        if single:
            assert result.solution.assignments.to_dict("records") == [
                {"region_id": "R1", "hub_id": "H2"}
            ]
            assert shipped(result, hub_id="H2") == pytest.approx(10)
        else:
            assert shipped(result, hub_id="H1") == pytest.approx(6)


def test_single_sourcing_region_without_arc_goes_unmet(tmp_path: Path) -> None:
    """Single sourcing, but no hub may serve R2 (lane allowed=false) and the product has a
    lost-sale penalty of 10: R1 is served free from H1 (fixed 1), R2's 5 units go unmet.
    Cost = 1 + 5 x 10 = 51 (the same as without single sourcing).

    Engine bug: ``define_single_sourcing`` adds ``sum_h assign[h,R2] = 1`` although R2 has
    no assign variable, so the row reads 0 = 1 and the scenario is infeasible.
    """
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H1", 1)],
            "regions": [region("R1"), region("R2")],
            "products": [{"product_id": "P", "lost_sale_penalty": 10}],
            "demand": [demand("R1", 5), demand("R2", 5)],
            "lanes": [{"from_id": "H1", "to_id": "R2", "allowed": False}],
        },
        policy={"single_sourcing": True},
    )
    for result in solve_all_backends(path).values():
        assert_objective(result, 51)
        assert result.solution is not None
        assert result.solution.unmet["region_id"].tolist() == ["R2"]
