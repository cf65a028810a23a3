"""Delivery routes from the open hubs (hubopt.routing): tiny cases with the optimal routes
worked out by hand, the route verifier, route KPIs and the run-folder files.

Every case places its points on a planar grid in km (``crs: EPSG:3857``, circuity 1) so
that distances are the grid's straight lines; vans drive 50 km/h, cost 100 per route
and 2 per km. The hub H is at (0, 0).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import folium
import numpy as np
import pandas as pd
import pytest
from helpers import write_scenario

from hubopt.api import solve
from hubopt.cli.routes import route_periods
from hubopt.geo import distance_matrix_km, haversine_km, unproject_km
from hubopt.present.maps import plan_map
from hubopt.present.report import render_report
from hubopt.result import Result
from hubopt.routing import vrp
from hubopt.routing.kpis import compute_route_kpis, route_totals
from hubopt.routing.plan import RoutePlan
from hubopt.routing.verify import verify_routes
from hubopt.runs import write_run

CRS = "EPSG:3857"
SQRT2 = math.sqrt(2.0)


def _point(x_km: float, y_km: float) -> dict[str, float]:
    lat, lon = unproject_km([x_km], [y_km], CRS)
    return {"lat": float(lat[0]), "lon": float(lon[0])}


def routed(
    tmp_path: Path,
    regions: dict[str, tuple[float, float, float]],
    vans: dict[str, Any],
    windows: dict[str, float] | None = None,
    routing: dict[str, Any] | None = None,
) -> Result:
    """Solve a one-hub scenario (``regions``: id -> x km, y km, m3) and route it
    (``routing``: settings over the cases' 0.3 s per hub-period)."""
    campaigns = [
        {"id": f"rush-{region}", "regions": [region], "delivery_window_hours": hours}
        for region, hours in (windows or {}).items()
    ]
    tables = {
        "hubs": [{"hub_id": "H", **_point(0, 0), "fixed_cost": 0, "status": "forced_open"}],
        "regions": [{"region_id": r, **_point(x, y)} for r, (x, y, _) in regions.items()],
        "products": [{"product_id": "P", "unit_volume": 1.0}],
        "demand": [
            {"region_id": r, "product_id": "P", "period": 1, "quantity": q}
            for r, (_, _, q) in regions.items()
        ],
        "vehicles": [
            {
                "vehicle_type": "VAN",
                "fixed_cost": 100,
                "cost_per_km": 2,
                "speed_kmh": 50,
                "max_route_hours": 8,
                **vans,
            }
        ],
    }
    path = write_scenario(
        tmp_path,
        tables,
        crs=CRS,
        campaigns=campaigns,
        policy={"circuity": 1.0},
        routing={"periods": "all", "time_limit_s": 0.3, **(routing or {})},
    )
    result = solve(path)
    assert result.routes is not None and result.route_verification is not None
    assert result.route_verification.ok, result.route_verification.violations
    return result


def _routes(result: Result) -> RoutePlan:
    assert result.routes is not None
    return result.routes


@pytest.fixture(scope="module")
def capacity_case(tmp_path_factory: pytest.TempPathFactory) -> Result:
    """A (10, 0) and B (0, 10), 6 m3 each, two 10 m3 vans (solved once for several tests)."""
    return routed(
        tmp_path_factory.mktemp("capacity"),
        {"A": (10, 0, 6), "B": (0, 10, 6)},
        {"capacity": 10, "count": 2},
    )


def test_capacity_forces_two_routes(capacity_case: Result) -> None:
    """A (10, 0) and B (0, 10) need 6 m3 each and a van holds 10: one loop H-A-B-H would be
    34.14 km, but the 12 m3 do not fit, so the optimum is two out-and-back routes of 20 km:
    40 km, cost 2 x 100 + 2 x 40 = 280."""
    plan = _routes(capacity_case)
    routes = plan.routes.sort_values("sequence")
    assert list(routes["sequence"]) == ["A", "B"]
    assert routes["km"].tolist() == pytest.approx([20.0, 20.0])
    assert routes["load_m3"].tolist() == pytest.approx([6.0, 6.0])
    assert plan.cost == pytest.approx(280.0)
    assert plan.unrouted.empty


def test_one_van_takes_both_stops_when_they_fit(tmp_path: Path) -> None:
    """With 6 + 3 m3 in a 10 m3 van, one loop H-A-B-H (10 + 14.14 + 10 = 34.14 km, cost
    100 + 68.28) beats two routes (40 km, cost 280)."""
    plan = _routes(
        routed(tmp_path, {"A": (10, 0, 6), "B": (0, 10, 3)}, {"capacity": 10, "count": 2})
    )
    assert len(plan.routes) == 1
    assert plan.routes["km"].iloc[0] == pytest.approx(20 + 10 * SQRT2)
    assert plan.cost == pytest.approx(100 + 2 * (20 + 10 * SQRT2))


def test_time_window_forces_the_order(tmp_path: Path) -> None:
    """Stops A (10, 0), B (20, 0), C (0, 10), 1 m3 each, one van at 50 km/h. The cheapest
    loop H-C-B-A-H (10 + 22.36 + 10 + 10 = 52.36 km) reaches A after 42.36 km = 0.85 h.
    With windows C <= 0.25 h and A <= 0.6 h, C must come first (0.2 h; any stop before it
    puts it past 24 km) and A second: H-C-A-B-H, 10 + 14.14 + 10 + 20 = 54.14 km, arriving
    C 0.2 h, A 0.483 h, B 0.683 h, all on time."""
    result = routed(
        tmp_path,
        {"A": (10, 0, 1), "B": (20, 0, 1), "C": (0, 10, 1)},
        {"capacity": 10, "count": 1},
        windows={"C": 0.25, "A": 0.6},
    )
    plan = _routes(result)
    assert plan.routes["sequence"].tolist() == ["C > A > B"]
    assert plan.routes["km"].iloc[0] == pytest.approx(40 + 10 * SQRT2)
    stops = plan.stops.sort_values("stop")
    assert stops["arrival_hours"].tolist() == pytest.approx(
        [0.2, (10 + 10 * SQRT2) / 50, (20 + 10 * SQRT2) / 50]
    )
    assert not stops["late"].any()


def test_route_kpis_of_a_late_stop(tmp_path: Path) -> None:
    """A (10, 0) and B (0, 10), both due within 0.25 h, one van: the first stop is reached
    at 0.2 h, the second after 10 + 14.14 km = 0.483 h, late. KPIs: 1 van, 2 stops, 1 on
    time, 1 late, 34.14 km, 0.683 van-hours, cost 100 + 2 x 34.14 = 168.28."""
    plan = _routes(
        routed(
            tmp_path,
            {"A": (10, 0, 1), "B": (0, 10, 1)},
            {"capacity": 10, "count": 1},
            windows={"A": 0.25, "B": 0.25},
        )
    )
    kpis = compute_route_kpis(plan).iloc[0]
    assert (kpis["vans_used"], kpis["stops"], kpis["on_time_stops"], kpis["late_stops"]) == (
        1,
        2,
        1,
        1,
    )
    assert kpis["on_time_rate"] == pytest.approx(0.5)
    assert kpis["km"] == pytest.approx(20 + 10 * SQRT2)
    assert kpis["hours"] == pytest.approx((20 + 10 * SQRT2) / 50)
    assert kpis["cost"] == pytest.approx(100 + 2 * (20 + 10 * SQRT2))
    totals = route_totals(plan)
    assert totals["vans_used"] == 1 and totals["late_stops"] == 1
    assert plan.stops.sort_values("stop")["late"].tolist() == [False, True]


def test_a_load_larger_than_a_van_is_split(tmp_path: Path) -> None:
    """25 m3 at A (10, 0) with 10 m3 vans: three visits of 8.33 m3, three out-and-back routes
    of 20 km (a van carries one visit's load plus nothing else that fits): cost 3 x 140."""
    plan = _routes(routed(tmp_path, {"A": (10, 0, 25)}, {"capacity": 10, "count": 3}))
    assert plan.stops["load_m3"].tolist() == pytest.approx([25 / 3] * 3)
    assert sorted(plan.stops["part"]) == [1, 2, 3]
    assert set(plan.stops["parts"]) == {3}
    assert plan.cost == pytest.approx(3 * 140.0)


def test_a_fleet_too_small_leaves_a_visit_unrouted(tmp_path: Path) -> None:
    """6 + 6 m3 with a single 10 m3 van: one load cannot go; it is listed as unrouted
    (and the verifier accounts for it), not silently lost."""
    plan = _routes(
        routed(tmp_path, {"A": (10, 0, 6), "B": (0, 10, 6)}, {"capacity": 10, "count": 1})
    )
    assert len(plan.routes) == 1
    assert len(plan.unrouted) == 1
    assert plan.unrouted["reason"].iloc[0] == "fleet too small"
    assert compute_route_kpis(plan)["unrouted_visits"].iloc[0] == 1


class _Clock:
    """A settable ``time.monotonic`` and a routing model whose cost is settable."""

    def __init__(self) -> None:
        self.now = 0.0
        self.cost = 0

    def __call__(self) -> float:
        return self.now

    def CostVar(self) -> _Clock:  # OR-Tools names
        return self

    def Value(self) -> int:
        return self.cost


def test_stall_stop_waits_as_long_as_the_best_plan_took(monkeypatch: pytest.MonkeyPatch) -> None:
    """stall_s = 1: no stop before a first plan; a best plan found at 0.2 s stops the search
    at 1.2 s (1 s idle); one found at 3 s only after 3 more idle seconds (at 6 s); a dearer
    plan does not reset the clock."""
    clock = _Clock()
    monkeypatch.setattr(vrp.time, "monotonic", clock)
    stall = vrp.Stall(1.0, clock)
    clock.now = 5.0
    assert not stall.stalled()  # no plan yet
    clock.now, clock.cost = 0.2, 100
    stall.at_solution()
    clock.now = 1.1
    assert not stall.stalled()
    clock.now = 1.3
    assert stall.stalled()
    clock.now, clock.cost = 3.0, 90
    stall.at_solution()
    clock.now, clock.cost = 4.0, 95  # dearer: the best stays the one found at 3 s
    stall.at_solution()
    clock.now = 5.9
    assert not stall.stalled()
    clock.now = 6.1
    assert stall.stalled()


def _ring(count: int) -> dict[str, tuple[float, float, float]]:
    """``count`` stops of 1 m3 on a ring of 20 km around the hub."""
    return {
        f"S{i:02d}": (
            20 * math.cos(2 * math.pi * i / count),
            20 * math.sin(2 * math.pi * i / count),
            1,
        )
        for i in range(count)
    }


def test_stall_stop_ends_the_search_long_before_its_time_limit(tmp_path: Path) -> None:
    """12 stops on a ring, one 20 m3 van: the optimal loop is found at once; with a 60 s
    limit and stall_s 0.2 the search ends long before 60 s with that loop (the 12-gon's
    perimeter plus the two 20 km legs)."""
    started = time.monotonic()
    plan = _routes(
        routed(
            tmp_path,
            _ring(12),
            {"capacity": 20, "count": 1},
            routing={"time_limit_s": 60.0, "stall_s": 0.2},
        )
    )
    assert time.monotonic() - started < 30.0  # the time limit alone would take 60 s
    assert len(plan.routes) == 1
    side = 2 * 20 * math.sin(math.pi / 12)
    assert plan.routes["km"].iloc[0] == pytest.approx(40 + 11 * side)


def _corrupt(plan: RoutePlan, how: str) -> RoutePlan:
    routes, stops = plan.routes.copy(), plan.stops.copy()
    if how == "stop dropped":
        stops = stops.iloc[1:]
    elif how == "stop delivered twice":
        stops = pd.concat([stops, stops.iloc[[0]]], ignore_index=True)
    elif how == "late flag flipped":
        stops.loc[stops.index[0], "late"] = True
    elif how == "km understated":
        routes.loc[routes.index[0], "km"] -= 1.0
    elif how == "overloaded van":
        # put both stops on the first van: 12 m3 in a 10 m3 van
        first = routes["vehicle"].iloc[0]
        stops["vehicle"] = first
        stops["stop"] = [1, 2]
        routes = routes.iloc[[0]].assign(load_m3=12.0, stops=2)
    return RoutePlan(plan.loads, routes, stops, plan.unrouted)


@pytest.mark.parametrize(
    "how",
    [
        "stop dropped",
        "stop delivered twice",
        "late flag flipped",
        "km understated",
        "overloaded van",
    ],
)
def test_verifier_rejects_a_corrupted_route(capacity_case: Result, how: str) -> None:
    """The route verifier recomputes loads, km, times and capacity and catches each defect."""
    result = capacity_case
    assert result.solution is not None and result.scenario.config.routing is not None
    bad = _corrupt(_routes(result), how)
    check = verify_routes(
        result.scenario, result.solution.flows, bad, result.scenario.config.routing
    )
    assert not check.ok
    assert check.violations


def test_projected_distances_are_straight_lines_in_the_crs() -> None:
    """With crs EPSG:3857, the distance of points placed 3 km and 4 km apart on the grid is
    5 km; without a crs the default stays great-circle (haversine) km."""
    a, b = _point(0, 0), _point(3, 4)
    lat = [a["lat"], b["lat"]]
    lon = [a["lon"], b["lon"]]
    planar = distance_matrix_km(np.array(lat), np.array(lon), np.array(lat), np.array(lon), crs=CRS)
    assert planar[0, 1] == pytest.approx(5.0, rel=1e-9)
    default = distance_matrix_km(np.array(lat), np.array(lon), np.array(lat), np.array(lon))
    assert default[0, 1] == pytest.approx(float(haversine_km(lat[0], lon[0], lat[1], lon[1])))
    assert default[0, 1] != pytest.approx(5.0, rel=1e-3)  # Mercator scale differs from ground km


def test_run_folder_holds_the_routes(tmp_path: Path, capacity_case: Result) -> None:
    """A run with `routing:` writes solution/routes, route_stops, unrouted and kpis/routes, and
    kpis.json carries the route headline."""
    result = capacity_case
    run = write_run(result, tmp_path / "run")
    for stem in ("routes", "route_stops", "unrouted"):
        assert (run / "solution" / f"{stem}.csv").is_file()
        assert (run / "solution" / f"{stem}.parquet").is_file()
    kpis = pd.read_csv(run / "kpis" / "routes.csv")
    assert kpis["vans_used"].tolist() == [2]
    headline = json.loads((run / "kpis.json").read_text())
    assert headline["routes"]["vans_used"] == 2
    assert headline["routes"]["cost"] == pytest.approx(280.0)
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["route_verification"]["ok"] is True


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hubopt.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )


def _run_without_routing(tmp_path: Path) -> Path:
    """A solved run folder whose scenario has no vehicles table and no routing block."""
    tables = {
        "hubs": [{"hub_id": "H", **_point(0, 0), "fixed_cost": 0, "status": "forced_open"}],
        "regions": [{"region_id": "A", **_point(10, 0)}, {"region_id": "B", **_point(0, 10)}],
        "products": [{"product_id": "P", "unit_volume": 1.0}],
        "demand": [
            {"region_id": r, "product_id": "P", "period": t, "quantity": 6}
            for r in ("A", "B")
            for t in (1, 2)
        ],
    }
    path = write_scenario(tmp_path / "plain", tables, crs=CRS, policy={"circuity": 1.0})
    return write_run(solve(path), tmp_path / "run")


def test_routes_command_routes_any_run_folder(tmp_path: Path) -> None:
    """`hubopt routes RUN --periods 2 --vehicles FILE` routes an existing run (solved without
    routing): period 2 of the capacity case, two 20 km routes costing 280, written into the
    run folder; exit 0."""
    run = _run_without_routing(tmp_path)
    vehicles = tmp_path / "vans.csv"
    vehicles.write_text(
        "vehicle_type,capacity,count,fixed_cost,cost_per_km,speed_kmh\nVAN,10,2,100,2,50\n"
    )
    proc = _cli("routes", str(run), "--periods", "2", "--vehicles", str(vehicles), "--json")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["verified"] is True
    assert payload["routes"]["vans_used"] == 2
    assert payload["routes"]["cost"] == pytest.approx(280.0)
    stops = pd.read_csv(run / "solution" / "route_stops.csv")
    assert set(stops["period"]) == {2}
    assert not list(run.glob(".routes-*")), "staging folder left behind"


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder without vehicles, shared by the refusal tests (which write nothing)."""
    return _run_without_routing(tmp_path_factory.mktemp("plain"))


@pytest.mark.parametrize(
    ("vehicles", "expect"),
    [
        ("vehicle_type,capacity\nVAN,-3\n", "vans.csv, row 1, column 'capacity'"),
        ("vehicle_type,hub_id,capacity\nVAN,H-NOWHERE,3\n", "vans.csv, row 1, column 'hub_id'"),
        ("vehicle_type,capacity\nVAN,0.5\n", "column 'unit_volume' with"),
    ],
    ids=["negative capacity", "unknown hub", "no van carries a unit"],
)
def test_routes_command_refuses_a_bad_vehicles_table(
    tmp_path: Path, plain_run: Path, vehicles: str, expect: str
) -> None:
    """A bad vehicles table gives exit 2 and a message naming the file and row."""
    run = plain_run
    table = tmp_path / "vans.csv"
    table.write_text(vehicles)
    proc = _cli("routes", str(run), "--vehicles", str(table), "--json")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    payload = json.loads(proc.stdout)
    assert payload["status"] == "invalid_input"
    assert expect in payload["error"]


@pytest.mark.parametrize(
    ("periods", "more", "expected"),
    [
        (["5"], ["6"], [5, 6]),
        (["5,6"], None, [5, 6]),
        (["6", "5"], None, [5, 6]),
        (None, None, None),
    ],
)
def test_routes_command_reads_periods(
    periods: list[str] | None, more: list[str] | None, expected: list[int] | None
) -> None:
    """`--periods 5 6`, `--periods 5,6` and `--periods 6 --periods 5` all mean periods 5 and 6."""
    assert route_periods(periods, more) == expected


def test_map_draws_each_route_and_report_lists_the_vans(capacity_case: Result) -> None:
    """The plan map has a 'Van routes: period 1' layer with one polyline per route (hub ->
    stop -> hub, popup listing the stop and its arrival hour); the report has a 'Van routes'
    section with the hub's 2 vans."""
    fmap = plan_map(capacity_case)
    layers = [c for c in fmap._children.values() if isinstance(c, folium.FeatureGroup)]
    routes = [layer for layer in layers if layer.layer_name == "Van routes: period 1"]
    assert len(routes) == 1
    lines = [c for c in routes[0]._children.values() if isinstance(c, folium.PolyLine)]
    assert len(lines) == 2
    for line in lines:
        assert len(line.locations) == 3 and line.locations[0] == line.locations[-1]
    html = fmap.get_root().render()
    assert "0.2 h" in html and "VAN-1" in html
    page = render_report(capacity_case)
    assert "<h2>Van routes</h2>" in page
    assert '<td>H</td><td>1</td><td class="n">2</td>' in page
