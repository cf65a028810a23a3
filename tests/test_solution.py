"""The decoded cost table: one row per period and component, summing to the objective the
solver reports and the independent verifier recomputes; the totals and the written tables
derive from it, and a run folder's tables rebuild it."""

from __future__ import annotations

import pytest
from helpers import lanes, solve_verified, write_scenario

from hubopt.api import Result
from hubopt.solution import COST_COMPONENTS, PLAN_TABLES, solution_from_tables
from hubopt.verify import verify_solution


@pytest.fixture(scope="module")
def switched(tmp_path_factory: pytest.TempPathFactory) -> Result:
    """Demand 10 per period at R1 over two periods, closing allowed. H1 existing (fixed 10,
    closing 3) serves at 2 per unit; H2 (fixed 1, opening 4) may open from period 2 and
    serves at 1 per unit.

    Period 1: only H1: fixed 10 + transport 20 = 30. Period 2: keeping H1 costs 10 + 20 =
    30; switching costs closing 3 + opening 4 + fixed 1 + transport 10 = 18, so H1 closes
    and H2 opens. Objective 48."""
    hub = {"lat": 37.5, "lon": 127.0}
    path = write_scenario(
        tmp_path_factory.mktemp("switched"),
        {
            "hubs": [
                {"hub_id": "H1", **hub, "fixed_cost": 10, "closing_cost": 3, "status": "existing"},
                {"hub_id": "H2", **hub, "fixed_cost": 1, "opening_cost": 4, "open_from_period": 2},
            ],
            "regions": [{"region_id": "R1", "lat": 37.6, "lon": 127.1}],
            "products": [{"product_id": "P"}],
            "demand": [
                {"region_id": "R1", "product_id": "P", "period": t, "quantity": 10} for t in (1, 2)
            ],
            "lanes": lanes(
                [("H1", "R1", 2), ("H2", "R1", 1)], ["from_id", "to_id", "cost_per_unit"]
            ),
        },
        policy={"allow_closing": True},
    )
    return solve_verified(path, "highs")


def cost_cells(result: Result) -> dict[tuple[int, str], float]:
    """The non-zero cells of the solution's cost table, by (period, component)."""
    assert result.solution is not None
    table = result.solution.period_costs
    table = table[table["cost"].abs() > 1e-9]
    return {(int(p), str(c)): float(v) for p, c, v in table.itertuples(index=False)}


def test_cost_table_by_period(switched: Result) -> None:
    """Period 1: fixed 10 + outbound 20; period 2: fixed 1, opening 4, closing 3, outbound
    10; every other cell is zero."""
    assert cost_cells(switched) == pytest.approx(
        {
            (1, "fixed"): 10,
            (1, "outbound_transport"): 20,
            (2, "fixed"): 1,
            (2, "opening"): 4,
            (2, "closing"): 3,
            (2, "outbound_transport"): 10,
        }
    )


def test_cost_table_shape(switched: Result) -> None:
    """One row per period and component, period-major, components in the documented order."""
    assert switched.solution is not None
    table = switched.solution.period_costs
    assert list(table.columns) == ["period", "component", "cost"]
    n = len(COST_COMPONENTS)
    assert table["period"].tolist() == [1] * n + [2] * n
    assert table["component"].tolist() == list(COST_COMPONENTS) * 2


def test_period_costs_sum_to_objective_and_verifier(switched: Result) -> None:
    """Sum of the cost table = the solver's objective (48) = the verifier's recomputation;
    the component totals are the table's column sums."""
    solution = switched.solution
    assert solution is not None
    total = float(solution.period_costs["cost"].sum())
    assert total == pytest.approx(48)
    assert switched.objective == pytest.approx(total)
    assert solution.objective == pytest.approx(total)
    assert verify_solution(switched.scenario, solution).objective == pytest.approx(total)
    assert solution.costs == pytest.approx(
        {name: 0.0 for name in COST_COMPONENTS}
        | {"fixed": 11, "opening": 4, "closing": 3, "outbound_transport": 30}
    )


def test_written_tables_carry_totals_and_periods(switched: Result) -> None:
    """``tables()`` writes the plan, the component totals (``costs``), the cost table and the
    footprint table."""
    assert switched.solution is not None
    tables = switched.solution.tables()
    assert list(tables) == [*PLAN_TABLES, "costs", "period_costs", "campaign_footprint"]
    totals = tables["costs"].set_index("component")["cost"]
    assert totals["fixed"] == pytest.approx(11)
    assert totals.sum() == pytest.approx(48)


def test_solution_from_tables_rebuilds_the_cost_table(switched: Result) -> None:
    """Reading back only the plan tables recomputes the same cost table."""
    solution = switched.solution
    assert solution is not None
    rebuilt = solution_from_tables(switched.problem, solution.tables())
    assert rebuilt.period_costs["cost"].to_numpy() == pytest.approx(
        solution.period_costs["cost"].to_numpy()
    )
    assert rebuilt.period_costs[["period", "component"]].equals(
        solution.period_costs[["period", "component"]]
    )


@pytest.fixture(scope="module")
def footprint(tmp_path_factory: pytest.TempPathFactory) -> Result:
    """One hub H; base demand 10 of P per period at RN (2 per unit) and RF (15 per unit)
    over two periods; sale ``footprint: optimize`` over both periods, uplift 2 (10
    incremental units per region and period), margin 10, spend_per_region 5.

    RN: margin 2 x 100 = 200 - logistics 2 x 20 = 40 - spend 5 > 0: included. RF: 200 -
    300 - 5 < 0: excluded. Period 1: outbound 10 x 2 + 10 x 15 + 10 x 2 = 190, spend 5,
    margin -100; period 2: outbound 190, margin -100. Objective 380 + 5 - 200 = 185."""
    path = write_scenario(
        tmp_path_factory.mktemp("footprint"),
        {
            "hubs": [{"hub_id": "H", "lat": 37.5, "lon": 127.0, "fixed_cost": 0}],
            "regions": [{"region_id": r, "lat": 37.6, "lon": 127.1} for r in ("RN", "RF")],
            "products": [{"product_id": "P", "unit_margin": 10}],
            "demand": [
                {"region_id": r, "product_id": "P", "period": t, "quantity": 10}
                for r in ("RN", "RF")
                for t in (1, 2)
            ],
            "lanes": lanes(
                [("H", "RN", 2), ("H", "RF", 15)], ["from_id", "to_id", "cost_per_unit"]
            ),
        },
        campaigns=[
            {
                "id": "sale",
                "uplift": 2.0,
                "periods": [1, 2],
                "footprint": "optimize",
                "spend_per_region": 5,
            }
        ],
    )
    return solve_verified(path, "highs")


def test_footprint_spend_and_margin_by_period(footprint: Result) -> None:
    """Spend lands in the campaign's first period, the incremental margin (negative) in the
    period of its units; the table sums to the objective 185 and the verifier agrees."""
    assert cost_cells(footprint) == pytest.approx(
        {
            (1, "outbound_transport"): 190,
            (1, "campaign_spend"): 5,
            (1, "incremental_margin"): -100,
            (2, "outbound_transport"): 190,
            (2, "incremental_margin"): -100,
        }
    )
    assert footprint.solution is not None
    assert footprint.objective == pytest.approx(185)
    check = verify_solution(footprint.scenario, footprint.solution, footprint.objective)
    assert check.ok, check.violations


def test_solution_from_tables_carries_the_footprint(footprint: Result) -> None:
    """Rebuilt from its written tables, the plan keeps its footprint and so its spend and
    margin rows (objective 185); without the footprint table they would be missing."""
    solution = footprint.solution
    assert solution is not None
    rebuilt = solution_from_tables(footprint.problem, solution.tables())
    assert rebuilt.footprint.equals(solution.footprint)
    assert rebuilt.period_costs.equals(solution.period_costs)
    assert rebuilt.objective == pytest.approx(185)
    plan_only = {stem: solution.tables()[stem] for stem in PLAN_TABLES}
    assert solution_from_tables(footprint.problem, plan_only).objective == pytest.approx(380)
