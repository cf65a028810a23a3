"""The independent verifier rejects deliberately corrupted plans, naming what is broken.

One small scenario is solved once; each test corrupts one table (or the costs, or the
reported objective) of its verified solution with ``dataclasses.replace`` and checks that
:func:`hubopt.verify.verify_solution` says ``not ok`` with a message naming the family.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from helpers import lanes, solve_verified, write_scenario

from hubopt.result import Result
from hubopt.solution import Solution
from hubopt.verify import verify_solution

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
    result: Result, change: Callable[[Solution], Solution], objective: float | None = None
) -> list[str]:
    """Verify ``change(solution)``; assert it is rejected and return the violations."""
    assert result.solution is not None
    bad = change(result.solution)
    check = verify_solution(
        result.scenario, bad, result.objective if objective is None else objective
    )
    assert not check.ok, "the verifier accepted a corrupted plan"
    assert check.violations
    return check.violations


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

    found = violations_of(solved, lambda s: with_flows(s, edit))
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

    found = violations_of(solved, change)
    assert any("no lost_sale_penalty" in v for v in found), found


def test_flow_from_closed_hub(solved: Result) -> None:
    """H1 marked closed in period 1 while it still ships."""

    def change(s: Solution) -> Solution:
        hubs = s.hubs.copy()
        hubs.loc[(hubs["hub_id"] == "H1") & (hubs["period"] == 1), "open"] = 0
        return dataclasses.replace(s, hubs=hubs)

    found = violations_of(solved, change)
    assert any("H1 ships in period 1 while closed" in v for v in found), found


def test_forced_closed_hub_open(solved: Result) -> None:
    """The forced_closed hub reported open (and shipping) is a network-rule violation."""

    def change(s: Solution) -> Solution:
        hubs = s.hubs.copy()
        hubs.loc[hubs["hub_id"] == "HX", "open"] = 1
        return dataclasses.replace(s, hubs=hubs)

    found = violations_of(solved, change)
    assert any("HX is forced_closed but open" in v for v in found), found


def test_capacity_exceeded(solved: Result) -> None:
    """Two of H2's units moved to H1 (capacity 6): H1 throughput 8 m3 > 6 m3."""

    def edit(flows: pd.DataFrame) -> pd.DataFrame:
        flows.loc[_row(flows, "H2", 1), "quantity"] -= 2
        flows.loc[_row(flows, "H1", 1), "quantity"] += 2
        return flows

    found = violations_of(solved, lambda s: with_flows(s, edit))
    assert any("hub H1 period 1: throughput 8.000 m3 > capacity 6.000 m3" in v for v in found), (
        found
    )


def test_stock_balance_broken(solved: Result) -> None:
    """Three units appear in H1's period-1 stock from nowhere."""

    def change(s: Solution) -> Solution:
        stock = s.stock.copy()
        stock.loc[(stock["hub_id"] == "H1") & (stock["period"] == 1), "quantity"] += 3
        return dataclasses.replace(s, stock=stock)

    found = violations_of(solved, change)
    assert any(v.startswith("stock balance ('H1', 'P', 1)") for v in found), found


def test_safety_stock_short(solved: Result) -> None:
    """H1 holds no stock at the end of period 2 (and receives nothing less), below z*sigma*share."""

    def change(s: Solution) -> Solution:
        stock = s.stock[~((s.stock["hub_id"] == "H1") & (s.stock["period"] == 2))]
        inflows = s.inflows.copy()
        row = (inflows["hub_id"] == "H1") & (inflows["period"] == 2)
        inflows.loc[row, "quantity"] -= stock_at(s, "H1", 2)
        return dataclasses.replace(s, stock=stock.reset_index(drop=True), inflows=inflows)

    found = violations_of(solved, change)
    assert any(v.startswith("safety stock ('H1', 'P', 2)") for v in found), found


def stock_at(s: Solution, hub_id: str, period: int) -> float:
    """End-of-period stock in a solution."""
    rows = (s.stock["hub_id"] == hub_id) & (s.stock["period"] == period)
    return float(s.stock.loc[rows, "quantity"].sum())


def test_objective_mismatch(solved: Result) -> None:
    """A reported objective 100 above the recomputed one."""
    found = violations_of(solved, lambda s: s, objective=solved.objective + 100)
    assert any(v.startswith("objective: recomputed") for v in found), found


def test_cost_component_mismatch(solved: Result) -> None:
    """A cost component that does not match the plan."""
    found = violations_of(
        solved, lambda s: dataclasses.replace(s, costs={**s.costs, "fixed": s.costs["fixed"] + 5})
    )
    assert any(v.startswith("cost component fixed") for v in found), found


def test_late_flow_when_late_not_allowed(solved: Result) -> None:
    """A flow re-routed through H3 (30 h > 24 h window) with no late penalty in the policy."""

    def change(s: Solution) -> Solution:
        flows = s.flows.copy()
        flows.loc[_row(flows, "H2", 1), "hub_id"] = "H3"
        hubs = s.hubs.copy()
        hubs.loc[(hubs["hub_id"] == "H3") & (hubs["period"] == 1), "open"] = 1
        return dataclasses.replace(s, flows=flows, hubs=hubs)

    found = violations_of(solved, change)
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

    found = violations_of(result, change)
    assert any("region R1 served by 2 hubs under single sourcing" in v for v in found), found


def test_verifier_accepts_hub_at_region_centroid(tmp_path: Path) -> None:
    """A hub at the very point of its region is 0 km away: transport priced per kg-km
    costs 0, so the plan (fixed 0, objective 0) must verify.

    Engine bug: ``verify._gc_km`` uses the spherical law of cosines, which returns
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
