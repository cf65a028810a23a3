"""The independent verifier rejects deliberately corrupted plans, naming what is broken.

Two small scenarios are solved once each; each test corrupts one table (or the cost
table, or the reported objective) of a verified solution with ``dataclasses.replace`` and
checks that :func:`hubopt.verify.verify_solution` says ``not ok``, lists the broken family
in ``by_family`` and says what is wrong. Every family of :data:`hubopt.verify.FAMILIES`
(plus ``objective``) is broken by at least one test here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from helpers import lanes, solve_verified, write_omni_scenario, write_scenario

from hubopt.result import Result
from hubopt.solution import Solution
from hubopt.verify import FAMILIES, Verification, verify_solution

COST_TIME = ["from_id", "to_id", "cost_per_unit", "transit_hours"]


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Result:
    """Demand 10 in periods 1-2; H1 and H2 hold 6 each (cost 1 and 2), H3 is 30 h away
    beyond the 24 h window (no late penalty); safety stock z=1, std 2; holding 1.
    Plan: H1 6 + H2 4 each period, stock 1.2 at H1 and 0.8 at H2 each period."""
    path = write_scenario(
        tmp_path_factory.mktemp("verifier"),
        {
            "hubs": [
                {
                    "hub_id": "H1",
                    "lat": 37.5,
                    "lon": 127.0,
                    "fixed_cost": 10,
                    "throughput_capacity": 6,
                },
                {
                    "hub_id": "H2",
                    "lat": 37.5,
                    "lon": 127.0,
                    "fixed_cost": 10,
                    "throughput_capacity": 6,
                },
                {"hub_id": "H3", "lat": 37.5, "lon": 127.0, "fixed_cost": 30},
                {
                    "hub_id": "HX",
                    "lat": 37.5,
                    "lon": 127.0,
                    "fixed_cost": 0,
                    "status": "forced_closed",
                },
            ],
            "regions": [{"region_id": "R1", "lat": 37.6, "lon": 127.1}],
            "products": [{"product_id": "P", "holding_cost": 1}],
            "demand": [
                {"region_id": "R1", "product_id": "P", "period": t, "quantity": 10, "std": 2}
                for t in (1, 2)
            ],
            "lanes": lanes(
                [("H1", "R1", 1, 2), ("H2", "R1", 2, 2), ("H3", "R1", 1, 30), ("HX", "R1", 0, 1)],
                COST_TIME,
            ),
        },
        policy={"default_delivery_window_hours": 24, "safety_stock": {"z": 1.0}},
    )
    result = solve_verified(path, "highs")
    assert result.objective == pytest.approx(2 * (20 + 6 + 8) + 2 * 2)
    return result


def violations_of(
    result: Result,
    change: Callable[[Solution], Solution],
    family: str,
    objective: float | None = None,
) -> list[str]:
    """Verify ``change(solution)``; assert it is rejected with ``family`` among the failed
    families, and return that family's violations."""
    assert result.solution is not None
    bad = change(result.solution)
    check: Verification = verify_solution(
        result.scenario, bad, result.objective if objective is None else objective
    )
    assert not check.ok, "the verifier accepted a corrupted plan"
    assert family in check.by_family, (family, check.by_family)
    assert set(check.violations) >= set(check.by_family[family])
    return check.by_family[family]


def with_flows(solution: Solution, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Solution:
    """The solution with an edited copy of its flows table."""
    return dataclasses.replace(solution, flows=edit(solution.flows.copy()))


def _row(flows: pd.DataFrame, hub_id: str, period: int) -> int:
    return int(flows.index[(flows["hub_id"] == hub_id) & (flows["period"] == period)][0])


def test_untouched_solution_verifies(solved: Result) -> None:
    """Control: the solver's plan passes the verifier with its own objective."""
    assert solved.solution is not None
    check = verify_solution(solved.scenario, solved.solution, solved.objective)
    assert check.ok, check.violations
    assert check.objective == pytest.approx(solved.objective)


def test_demand_shortfall(solved: Result) -> None:
    """One unit fewer delivered, nothing recorded as unmet: the demand family fails."""

    def edit(flows: pd.DataFrame) -> pd.DataFrame:
        flows.loc[_row(flows, "H2", 1), "quantity"] -= 1
        return flows

    found = violations_of(solved, lambda s: with_flows(s, edit), "demand")
    assert any(v.startswith("demand ") and "delivered" in v for v in found), found


def test_unmet_demand_without_penalty(solved: Result) -> None:
    """Demand moved to the unmet table although the product has no lost-sale penalty."""

    def change(s: Solution) -> Solution:
        flows = s.flows.copy()
        flows.loc[_row(flows, "H2", 1), "quantity"] -= 1
        unmet = pd.DataFrame(
            [
                {
                    "region_id": "R1",
                    "product_id": "P",
                    "period": 1,
                    "channel": "parcel",
                    "campaign_id": "",
                    "quantity": 1.0,
                    "penalty_cost": 0.0,
                }
            ]
        )
        return dataclasses.replace(s, flows=flows, unmet=unmet)

    found = violations_of(solved, change, "demand")
    assert any("no lost_sale_penalty" in v for v in found), found


def test_flow_from_closed_hub(solved: Result) -> None:
    """H1 marked closed in period 1 while it still ships."""

    def change(s: Solution) -> Solution:
        hubs = s.hubs.copy()
        hubs.loc[(hubs["hub_id"] == "H1") & (hubs["period"] == 1), "open"] = 0
        return dataclasses.replace(s, hubs=hubs)

    found = violations_of(solved, change, "linking")
    assert any("H1 ships in period 1 while closed" in v for v in found), found


def test_forced_closed_hub_open(solved: Result) -> None:
    """The forced_closed hub reported open (and shipping) is a network-rule violation."""

    def change(s: Solution) -> Solution:
        hubs = s.hubs.copy()
        hubs.loc[hubs["hub_id"] == "HX", "open"] = 1
        return dataclasses.replace(s, hubs=hubs)

    found = violations_of(solved, change, "status")
    assert any("HX is forced_closed but open" in v for v in found), found


def test_capacity_exceeded(solved: Result) -> None:
    """Two of H2's units moved to H1 (capacity 6): H1 throughput 8 m3 > 6 m3."""

    def edit(flows: pd.DataFrame) -> pd.DataFrame:
        flows.loc[_row(flows, "H2", 1), "quantity"] -= 2
        flows.loc[_row(flows, "H1", 1), "quantity"] += 2
        return flows

    found = violations_of(solved, lambda s: with_flows(s, edit), "throughput")
    assert any("hub H1 period 1: throughput 8.000 m3 > capacity 6.000 m3" in v for v in found), (
        found
    )


def test_stock_balance_broken(solved: Result) -> None:
    """Three units appear in H1's period-1 stock from nowhere."""

    def change(s: Solution) -> Solution:
        stock = s.stock.copy()
        stock.loc[(stock["hub_id"] == "H1") & (stock["period"] == 1), "quantity"] += 3
        return dataclasses.replace(s, stock=stock)

    found = violations_of(solved, change, "balance")
    assert any(v.startswith("stock balance ('H1', 'P', 1)") for v in found), found


def test_safety_stock_short(solved: Result) -> None:
    """H1 holds no stock at the end of period 2 (and receives nothing less), below z*sigma*share."""

    def change(s: Solution) -> Solution:
        stock = s.stock[~((s.stock["hub_id"] == "H1") & (s.stock["period"] == 2))]
        inflows = s.inflows.copy()
        row = (inflows["hub_id"] == "H1") & (inflows["period"] == 2)
        inflows.loc[row, "quantity"] -= stock_at(s, "H1", 2)
        return dataclasses.replace(s, stock=stock.reset_index(drop=True), inflows=inflows)

    found = violations_of(solved, change, "safety_stock")
    assert any(v.startswith("safety stock ('H1', 'P', 2)") for v in found), found


def stock_at(s: Solution, hub_id: str, period: int) -> float:
    """End-of-period stock in a solution."""
    rows = (s.stock["hub_id"] == hub_id) & (s.stock["period"] == period)
    return float(s.stock.loc[rows, "quantity"].sum())


def test_objective_mismatch(solved: Result) -> None:
    """A reported objective 100 above the recomputed one."""
    found = violations_of(solved, lambda s: s, "objective", objective=solved.objective + 100)
    assert any(v.startswith("objective: recomputed") for v in found), found


def with_cost(s: Solution, component: str, period: int, extra: float) -> Solution:
    """The solution with ``extra`` added to one cell of its cost table."""
    table = s.period_costs.copy()
    table.loc[(table["component"] == component) & (table["period"] == period), "cost"] += extra
    return dataclasses.replace(s, period_costs=table)


def test_cost_component_mismatch(solved: Result) -> None:
    """A cost-table cell that does not match the plan (fixed cost of period 1: H1 and H2
    open, 10 + 10 = 20, reported 25) is named by component and period."""
    found = violations_of(solved, lambda s: with_cost(s, "fixed", 1, 5.0), "objective")
    assert found == ["cost component fixed, period 1: recomputed 20.0000 != reported 25.0000"]


def test_late_flow_when_late_not_allowed(solved: Result) -> None:
    """A flow re-routed through H3 (30 h > 24 h window) with no late penalty in the policy."""

    def change(s: Solution) -> Solution:
        flows = s.flows.copy()
        flows.loc[_row(flows, "H2", 1), "hub_id"] = "H3"
        hubs = s.hubs.copy()
        hubs.loc[(hubs["hub_id"] == "H3") & (hubs["period"] == 1), "open"] = 1
        return dataclasses.replace(s, flows=flows, hubs=hubs)

    found = violations_of(solved, change, "arcs")
    assert any("H3 -> R1" in v and "late delivery is not allowed" in v for v in found), found


def test_single_sourcing_violated(tmp_path: Path) -> None:
    """Under single sourcing, a region served by two hubs is rejected."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [
                {"hub_id": "H1", "lat": 37.5, "lon": 127.0, "fixed_cost": 0},
                {"hub_id": "H2", "lat": 37.5, "lon": 127.0, "fixed_cost": 0},
            ],
            "regions": [{"region_id": "R1", "lat": 37.6, "lon": 127.1}],
            "products": [{"product_id": "P"}],
            "demand": [{"region_id": "R1", "product_id": "P", "period": 1, "quantity": 10}],
        },
        policy={"single_sourcing": True},
    )
    result = solve_verified(path, "highs")

    def change(s: Solution) -> Solution:
        flows = pd.concat([s.flows, s.flows], ignore_index=True)
        flows["quantity"] = 5.0
        flows.loc[1, "hub_id"] = "H2" if flows.loc[0, "hub_id"] == "H1" else "H1"
        hubs = s.hubs.assign(open=1)
        return dataclasses.replace(s, flows=flows, hubs=hubs)

    found = violations_of(result, change, "single_sourcing")
    assert any("region R1 served by 2 hubs under single sourcing" in v for v in found), found


def test_verifier_accepts_hub_at_region_centroid(tmp_path: Path) -> None:
    """A hub at the very point of its region is 0 km away: transport priced per kg-km
    costs 0, so the plan (fixed 0, objective 0) must verify.

    Engine bug (fixed): ``verify.legs.gc_km`` used the spherical law of cosines, which returns
    ~9.5e-5 km for two identical points (arccos near 1 loses precision); x circuity 1.25 x
    0.01 per kg-km x 10 kg x 1000 units = 0.012 > the 1e-4 tolerance, so a correct plan
    raises VerificationError. Any hub placed in a region's centroid with km-priced modes
    is exposed (the error scales with quantity and weight).
    """
    path = write_scenario(
        tmp_path,
        {
            "hubs": [{"hub_id": "H1", "lat": 35.0, "lon": 126.5, "fixed_cost": 0}],
            "regions": [{"region_id": "R1", "lat": 35.0, "lon": 126.5}],
            "products": [{"product_id": "P", "unit_weight_kg": 10}],
            "demand": [{"region_id": "R1", "product_id": "P", "period": 1, "quantity": 1000}],
            "modes": [{"mode_id": "road", "leg": "both", "cost_per_kg_km": 0.01, "speed_kmh": 60}],
        },
    )
    result = solve_verified(path, "highs")
    assert result.objective == pytest.approx(0, abs=1e-9)


# ---- a two-echelon plan with every network rule in force --------------------------------

LANE = ["from_id", "to_id", "cost_per_unit", "transit_hours", "distance_km"]


@pytest.fixture(scope="module")
def ruled(tmp_path_factory: pytest.TempPathFactory) -> Result:
    """Two periods, R1 wants 10 units of P (1 t each) per period, all in campaign
    ``launch`` (24 h window, service level 0.9, late allowed at 1 per unit). Source S1
    supplies up to 12 per period at 1 per unit (beside the hubs: 0 km, free inbound).
    H1 existing (fixed 2, storage 4 m3): R1 at 10 h, 100 km, cost 1. H2 new (fixed 3,
    opening 5, open from period 2): R1 at 30 h (late), 1000 km, cost 1. H3 (fixed 20):
    lane to R1 forbidden. HF forced open (fixed 0): R1 at cost 100. Road emits 100 g/t-km:
    0.01 t per unit from H1, 0.1 t from H2. Policy: 1-3 open hubs, budget 10 on fixed +
    opening + closing, CO2 cap 0.25 t, no closing.

    Plan: H1 and HF open both periods, H1 ships 10 per period bought from S1.
    Cost = fixed 2 x 2 + supply 20 x 1 + transport 20 x 1 = 44; CO2 = 20 x 0.01 = 0.2 t."""
    hub = {"lat": 37.5, "lon": 127.0}
    path = write_scenario(
        tmp_path_factory.mktemp("ruled"),
        {
            "hubs": [
                {
                    "hub_id": "H1",
                    **hub,
                    "fixed_cost": 2,
                    "status": "existing",
                    "storage_capacity": 4,
                },
                {"hub_id": "H2", **hub, "fixed_cost": 3, "opening_cost": 5, "open_from_period": 2},
                {"hub_id": "H3", **hub, "fixed_cost": 20},
                {"hub_id": "HF", **hub, "fixed_cost": 0, "status": "forced_open"},
            ],
            "regions": [{"region_id": "R1", "lat": 37.6, "lon": 127.1}],
            "products": [{"product_id": "P", "unit_weight_kg": 1000, "holding_cost": 1}],
            "demand": [
                {"region_id": "R1", "product_id": "P", "period": t, "quantity": 10} for t in (1, 2)
            ],
            "sources": [{"source_id": "S1", **hub}],
            "supply": [{"source_id": "S1", "product_id": "P", "capacity": 12, "unit_cost": 1}],
            "modes": [{"mode_id": "road", "leg": "both", "speed_kmh": 60, "co2_g_per_tkm": 100}],
            "lanes": [
                *lanes(
                    [
                        ("H1", "R1", 1, 10, 100),
                        ("H2", "R1", 1, 30, 1000),
                        ("HF", "R1", 100, 10, 100),
                    ],
                    LANE,
                ),
                {"from_id": "H3", "to_id": "R1", "allowed": False},
            ],
        },
        campaigns=[
            {"id": "launch", "regions": ["R1"], "delivery_window_hours": 24, "service_level": 0.9}
        ],
        policy={
            "min_open_hubs": 1,
            "max_open_hubs": 3,
            "fixed_cost_budget": 10,
            "late_penalty_per_unit": 1,
            "carbon": {"cap_t": 0.25},
        },
    )
    result = solve_verified(path, "highs")
    assert result.objective == pytest.approx(44)
    assert result.solution is not None
    assert result.solution.flows["hub_id"].unique().tolist() == ["H1"]
    return result


def with_open(s: Solution, hub_id: str, period: int, value: int) -> Solution:
    """The solution with one hub-period's open flag set to ``value``."""
    hubs = s.hubs.copy()
    hubs.loc[(hubs["hub_id"] == hub_id) & (hubs["period"] == period), "open"] = value
    return dataclasses.replace(s, hubs=hubs)


def moved(s: Solution, hub_id: str, units: float, period: int = 2) -> Solution:
    """``units`` of H1's shipment in ``period`` sent from ``hub_id`` instead (now open)."""
    flows = s.flows.copy()
    row = _row(flows, "H1", period)
    flows.loc[row, "quantity"] -= units
    extra = flows.loc[[row]].assign(hub_id=hub_id, quantity=units)
    return with_open(
        dataclasses.replace(s, flows=pd.concat([flows, extra], ignore_index=True)),
        hub_id,
        period,
        1,
    )


def test_ruled_plan_verifies(ruled: Result) -> None:
    """Control: the solver's two-echelon plan passes with its own objective (44)."""
    assert ruled.solution is not None
    check = verify_solution(ruled.scenario, ruled.solution, ruled.objective)
    assert check.ok, check.violations
    assert check.objective == pytest.approx(44)
    assert check.by_family == {}


def test_supply_capacity_exceeded(ruled: Result) -> None:
    """S1 delivers 13 units to H1 in period 1 although it can supply only 12."""

    def change(s: Solution) -> Solution:
        inflows = s.inflows.copy()
        inflows.loc[inflows["period"] == 1, "quantity"] = 13.0
        return dataclasses.replace(s, inflows=inflows)

    found = violations_of(ruled, change, "supply")
    assert found == ["supply ('S1', 'P', 1): 13.000 > capacity 12.000"]


def test_campaign_service_level_broken(ruled: Result) -> None:
    """5 of period 2's units sent from H2 (30 h > 24 h window): 15 of 20 campaign units on
    time < 0.9 x 20 = 18."""
    found = violations_of(ruled, lambda s: moved(s, "H2", 5), "service")
    assert found == ["campaign launch: 15.00 of 20.00 units on time < service level 0.900"]


def test_carbon_cap_exceeded(ruled: Result) -> None:
    """One unit of period 2 from H2 (1000 km, 0.1 t) instead of H1 (0.01 t):
    CO2 = 19 x 0.01 + 0.1 = 0.29 t > cap 0.25 t (service still met: 19 >= 18)."""
    found = violations_of(ruled, lambda s: moved(s, "H2", 1), "carbon_cap")
    assert found == ["CO2 0.2900 t > cap 0.2500 t"]


def test_forbidden_lane_used(ruled: Result) -> None:
    """One unit shipped from H3, whose lane to R1 says allowed=false."""
    found = violations_of(ruled, lambda s: moved(s, "H3", 1), "arcs")
    assert found == ["outbound flow H3 -> R1 by road uses a lane marked allowed=false"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            lambda s: with_open(with_open(s, "H2", 2, 1), "H3", 2, 1),
            "period 2: 4 open hubs outside [1, 3]",
            id="max: H1 HF H2 H3",
        ),
        pytest.param(
            lambda s: with_open(with_open(s, "H1", 1, 0), "HF", 1, 0),
            "period 1: 0 open hubs outside [1, 3]",
            id="min: none open",
        ),
    ],
)
def test_open_hub_count_outside_bounds(
    ruled: Result, change: Callable[[Solution], Solution], message: str
) -> None:
    """More than max_open_hubs (3) or fewer than min_open_hubs (1) open in a period."""
    assert violations_of(ruled, change, "hub_count") == [message]


def test_budget_exceeded(ruled: Result) -> None:
    """H3 opened in period 2 (fixed 20, 3 hubs open, within the count): fixed 2 x 2 + 20 =
    24 > budget 10."""
    found = violations_of(ruled, lambda s: with_open(s, "H3", 2, 1), "budget")
    assert found == ["fixed + opening + closing cost 24.00 > budget 10.00"]


def test_storage_capacity_exceeded(ruled: Result) -> None:
    """H1 holds 5 units (5 m3) at the end of period 1; its storage capacity is 4 m3."""

    def change(s: Solution) -> Solution:
        stock = pd.DataFrame([{"hub_id": "H1", "product_id": "P", "period": 1, "quantity": 5.0}])
        return dataclasses.replace(s, stock=stock)

    found = violations_of(ruled, change, "storage")
    assert found == ["hub H1 period 1: stock 5.000 m3 > storage capacity 4.000 m3"]


def test_stock_at_closed_hub(ruled: Result) -> None:
    """H3 (closed) holds a unit at the end of period 1."""

    def change(s: Solution) -> Solution:
        stock = pd.DataFrame([{"hub_id": "H3", "product_id": "P", "period": 1, "quantity": 1.0}])
        return dataclasses.replace(s, stock=stock)

    found = violations_of(ruled, change, "linking")
    assert found == ["hub H3 period 1: holds stock while closed"]


def test_open_before_open_from_period(ruled: Result) -> None:
    """H2 open in period 1 although its open_from_period is 2."""
    found = violations_of(ruled, lambda s: with_open(s, "H2", 1, 1), "status")
    assert "hub H2 open before its open_from_period 2" in found, found


def test_forced_open_hub_closed(ruled: Result) -> None:
    """The forced_open hub HF reported closed in period 2."""
    found = violations_of(ruled, lambda s: with_open(s, "HF", 2, 0), "status")
    assert found == ["hub HF is forced_open but closed in some period"]


def test_closing_when_not_allowed(ruled: Result) -> None:
    """The existing hub H1 reported closed in period 1 (before: open) with closing not
    allowed."""
    found = violations_of(ruled, lambda s: with_open(s, "H1", 1, 0), "events")
    assert "hub H1 closes although closing is not allowed" in found, found


def test_opening_event_missing(ruled: Result) -> None:
    """H2 open in period 2 (it was closed in period 1) but its ``opened`` flag is 0: the
    opening cost would be skipped."""
    found = violations_of(ruled, lambda s: with_open(s, "H2", 2, 1), "events")
    assert found == ["hub H2 period 2: opened 0 misses the event 1"]


def test_every_family_is_mutated_here() -> None:
    """Each family the verifier runs has a mutation test in this module (by name)."""
    source = Path(__file__).read_text(encoding="utf-8")
    untested = [name for name, _ in FAMILIES if f'"{name}")' not in source]
    assert not untested, untested


# ---- issue 13: peak capacity, returns, pooled safety stock, pickup points ----------------


@pytest.fixture(scope="module")
def omni(tmp_path_factory: pytest.TempPathFactory) -> Result:
    """Two periods, region R: 12 parcel units per period (20 % returned, all restocked)
    and 10 pickup units (locker Q within reach, capacity 20); hub H has a base capacity
    of 20 m3 and 10 m3 of peak at 1 per m3; pooled safety stock with z 1, std 2 per stream
    (helpers.write_omni_scenario, which adds a far locker QF beyond reach).
    Period 1 ships 22 units, 24.4 m3 with returns: 4.4 m3 of peak."""
    path = write_omni_scenario(tmp_path_factory.mktemp("omni"))
    result = solve_verified(path, "highs")
    hubs = result.solution.hubs.set_index("period")
    assert hubs.at[1, "peak_m3"] == pytest.approx(4.4)
    return result


def with_hubs(solution: Solution, column: str, period: int, value: float) -> Solution:
    """The solution with one hub-row cell changed."""
    hubs = solution.hubs.copy()
    hubs.loc[hubs["period"] == period, column] = value
    return dataclasses.replace(solution, hubs=hubs)


def test_peak_below_the_throughput_above_base(omni: Result) -> None:
    """Period 1 reports 2 m3 of peak where 4.4 m3 is above the base capacity (returns
    count): the throughput family fails (and the peak cost no longer matches)."""
    found = violations_of(omni, lambda s: with_hubs(s, "peak_m3", 1, 2.0), "throughput")
    assert any("throughput 24.400 m3 > capacity 20.000 m3 + peak 2.000 m3" in v for v in found)


def test_restocked_returns_missing_from_balance(omni: Result) -> None:
    """Period 2's end stock raised by the 2.4 restocked units as if they came on top:
    the balance family fails."""

    def change(s: Solution) -> Solution:
        stock = s.stock.copy()
        stock.loc[stock["period"] == 2, "quantity"] += 2.4
        return dataclasses.replace(s, stock=stock)

    found = violations_of(omni, change, "balance")
    assert any("('H', 'P', 2)" in v for v in found), found


def test_pooled_safety_stock_short(omni: Result) -> None:
    """Period 1's stock cut to half the pooled requirement z * sqrt(2^2 + 2^2) = 2.83."""

    def change(s: Solution) -> Solution:
        stock = s.stock.copy()
        stock.loc[stock["period"] == 1, "quantity"] = 1.4
        return dataclasses.replace(s, stock=stock)

    found = violations_of(omni, change, "safety_stock")
    assert any("pooled safety stock ('H', 'P', 1)" in v and "2.828" in v for v in found), found


def test_pickup_point_closed(omni: Result) -> None:
    """The pickup point Q reported closed in period 2 while 10 units go through it."""

    def change(s: Solution) -> Solution:
        points = s.pickup_points.copy()
        points.loc[points["period"] == 2, "open"] = 0
        return dataclasses.replace(s, pickup_points=points)

    found = violations_of(omni, change, "pickup")
    assert "pickup point Q period 2: 10.000 units (closed)" in found, found


def test_pickup_demand_delivered_to_the_region(omni: Result) -> None:
    """A pickup-channel flow relabelled as going to the region: the pickup family fails."""

    def edit(flows: pd.DataFrame) -> pd.DataFrame:
        flows.loc[flows["channel"] == "store", "pickup_id"] = ""
        return flows

    found = violations_of(omni, lambda s: with_flows(s, edit), "pickup")
    assert any("goes to the region, not to a pickup point" in v for v in found), found


def test_footprint_candidate_dropped(tmp_path: Path) -> None:
    """One hub; a ``footprint: optimize`` sale (uplift 2, margin 10) over RN (cost 2 per
    unit: included) and RF (cost 15: excluded). Dropping RF's row from the footprint table
    leaves a candidate without a decision: the footprint family fails and names it."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [{"hub_id": "H", "lat": 37.5, "lon": 127.0, "fixed_cost": 0}],
            "regions": [{"region_id": r, "lat": 37.6, "lon": 127.1} for r in ("RN", "RF")],
            "products": [{"product_id": "P", "unit_margin": 10}],
            "demand": [
                {"region_id": r, "product_id": "P", "period": 1, "quantity": 10}
                for r in ("RN", "RF")
            ],
            "lanes": lanes([("H", "RN", 2, 1), ("H", "RF", 15, 1)], COST_TIME),
        },
        campaigns=[{"id": "sale", "uplift": 2.0, "periods": [1], "footprint": "optimize"}],
    )
    result = solve_verified(path, "highs")

    def change(s: Solution) -> Solution:
        return dataclasses.replace(s, footprint=s.footprint[s.footprint["region_id"] != "RF"])

    found = violations_of(result, change, "footprint")
    assert found == ["footprint: candidate region RF of campaign sale has no decision"]
