"""Mid-campaign re-plan: frozen periods, actual stock, rescaled demand, bad input rows."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
from helpers import lanes, solve_verified, write_omni_scenario, write_scenario

from hubopt.errors import DataValidationError
from hubopt.present.report import render_report
from hubopt.replan import hub_periods, replan
from hubopt.result import Result
from hubopt.verify import check_replan

COST = ["from_id", "to_id", "cost_per_unit"]
NO_STOCK = pd.DataFrame({"hub_id": ["HA"], "product_id": ["P"], "quantity": [0.0]})


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Result:
    """Four periods, R1 and R2 want 10 units each period. Goods cost 2 at S plus 1 to
    either hub; HA (fixed 20) ships at 1 to R1 and 3 to R2, HB (fixed 25) the other way
    round; holding 1 per unit and period, so nothing is stocked. HA alone costs
    20 + 10 + 30 + 20*3 = 120 per period (both hubs: 45 + 20 + 60 = 125): 480 in all."""
    path = write_scenario(
        tmp_path_factory.mktemp("replan"),
        {
            "hubs": [
                {"hub_id": "HA", "lat": 37.5, "lon": 127.0, "fixed_cost": 20},
                {"hub_id": "HB", "lat": 35.2, "lon": 129.0, "fixed_cost": 25},
            ],
            "regions": [
                {"region_id": "R1", "lat": 37.6, "lon": 127.1},
                {"region_id": "R2", "lat": 35.1, "lon": 129.1},
            ],
            "products": [{"product_id": "P", "holding_cost": 1}],
            "sources": [{"source_id": "S", "lat": 36.0, "lon": 128.0}],
            "supply": [{"source_id": "S", "product_id": "P", "unit_cost": 2}],
            "demand": [
                {"region_id": r, "product_id": "P", "period": t, "quantity": 10}
                for r in ("R1", "R2")
                for t in (1, 2, 3, 4)
            ],
            "lanes": lanes(
                [
                    ("S", "HA", 1),
                    ("S", "HB", 1),
                    ("HA", "R1", 1),
                    ("HA", "R2", 3),
                    ("HB", "R1", 3),
                    ("HB", "R2", 1),
                ],
                COST,
            ),
        },
    )
    result = solve_verified(path, "highs")
    assert result.objective == pytest.approx(480)
    return result


def remaining_cost(result: Result, from_period: int) -> float:
    """Cost of periods >= from_period."""
    assert result.solution is not None
    table = result.solution.period_costs
    return float(table.loc[table["period"] >= from_period, "cost"].sum())


def test_period_costs_sum_to_the_objective(run: Result) -> None:
    """Each period costs 120 and the four add up to the objective."""
    assert run.solution is not None
    per_period = run.solution.period_costs.groupby("period")["cost"].sum()
    assert per_period.tolist() == pytest.approx([120] * 4)


def test_frozen_periods_are_unchanged_and_actual_stock_honoured(run: Result) -> None:
    """7 units found at HA at the end of period 2 (plan: 0). Periods 1-2 stay as planned,
    the stock table shows 7 at period 2, and period 3 buys 7 fewer units: the remaining
    cost falls from 240 to 240 - 7*(2 + 1) = 219."""
    stock = pd.DataFrame({"hub_id": ["HA"], "product_id": ["P"], "quantity": [7.0]})
    out = replan(run, stock, from_period=3, backend="highs", mip_gap=0.0)
    result = out.result
    assert result.verification is not None and result.verification.ok, result.verification
    assert run.solution is not None and result.solution is not None
    for name in ("flows", "inflows", "hubs"):
        old = getattr(run.solution, name)
        new = getattr(result.solution, name)
        old, new = old[old["period"] < 3], new[new["period"] < 3]
        pd.testing.assert_frame_equal(
            old.reset_index(drop=True), new.reset_index(drop=True), check_dtype=False
        )
    held = result.solution.stock
    assert held.loc[held["period"] == 2, "quantity"].sum() == pytest.approx(7)
    inflow3 = result.solution.inflows
    assert inflow3.loc[inflow3["period"] == 3, "quantity"].sum() == pytest.approx(13)
    assert out.summary["remaining_cost_original"] == pytest.approx(240)
    assert out.summary["remaining_cost_replanned"] == pytest.approx(219)
    assert remaining_cost(result, 3) == pytest.approx(219)
    assert set(result.solution.hubs["period"]) == {1, 2, 3, 4}


def test_actuals_equal_to_plan_reproduce_the_remaining_cost(run: Result) -> None:
    """Stock as planned (none) and sales as planned (10 per region and period): the re-plan
    costs what the original plan's periods 3-4 cost, 240, within the solves' gap."""
    sales = pd.DataFrame(
        [
            {"region_id": r, "product_id": "P", "period": t, "quantity": 10}
            for r in ("R1", "R2")
            for t in (1, 2)
        ]
    )
    out = replan(run, NO_STOCK, from_period=3, sales=sales, backend="highs", mip_gap=0.0)
    assert out.ratios["ratio"].tolist() == pytest.approx([1.0, 1.0])
    assert out.summary["remaining_cost_replanned"] == pytest.approx(240, abs=1e-6 + 240 * run.gap)
    assert out.result.objective == pytest.approx(run.objective)
    assert (out.changes["kind"] != "delivered").all()


def test_sales_above_plan_raise_the_flows_there(run: Result) -> None:
    """R2 sold 13 per period (plan 10) in periods 1-2: ratio (26 + 20) / (20 + 20) = 1.15
    (shrunk from 1.3), so R2 gets 11.5 units in periods 3 and 4; R1 is unchanged. HA still
    serves alone (129 per period < 131 with HB too)."""
    sales = pd.DataFrame(
        [
            {"region_id": r, "product_id": "P", "period": t, "quantity": q}
            for r, q in (("R1", 10), ("R2", 13))
            for t in (1, 2)
        ]
    )
    out = replan(run, NO_STOCK, from_period=3, sales=sales, backend="highs", mip_gap=0.0)
    ratios = out.ratios.set_index("region_id")
    assert ratios.loc["R2", "raw_ratio"] == pytest.approx(1.3)
    assert ratios.loc["R2", "ratio"] == pytest.approx(1.15)
    flows = out.result.solution.flows if out.result.solution is not None else None
    assert flows is not None
    late = flows[flows["period"] >= 3]
    assert late.loc[late["region_id"] == "R2"].groupby("period")[
        "quantity"
    ].sum().tolist() == pytest.approx([11.5, 11.5])
    assert late.loc[late["region_id"] == "R1", "quantity"].sum() == pytest.approx(20)
    delivered = out.changes[
        (out.changes["kind"] == "delivered") & (out.changes["region_id"] == "R2")
    ]
    assert delivered["change"].sum() == pytest.approx(3)
    assert out.summary["remaining_cost_replanned"] == pytest.approx(2 * 129)


@pytest.mark.parametrize(
    ("stock", "sales", "message"),
    [
        ({"hub_id": ["HX"], "product_id": ["P"], "quantity": [1]}, None, "stock row 2"),
        ({"hub_id": ["HA", "HA"], "product_id": ["P", "P"], "quantity": [1, 1]}, None, "repeated"),
        ({"hub_id": ["HA"], "product_id": ["P"], "quantity": [-1]}, None, "quantity >= 0"),
        (
            None,
            {"region_id": ["R1"], "product_id": ["P"], "period": [3], "quantity": [1]},
            "sales row 2",
        ),
        (None, {"region_id": ["R9"], "product_id": ["P"], "period": [1], "quantity": [1]}, "'R9'"),
        (None, {"region_id": ["R1"], "product_id": ["P"], "quantity": [1]}, "missing period"),
    ],
)
def test_bad_rows_are_named(
    run: Result, stock: dict | None, sales: dict | None, message: str
) -> None:
    """Unknown ids, negative quantities, repeated rows, sales at or after T, missing
    columns: one DataValidationError naming the file and row."""
    with pytest.raises(DataValidationError, match=message):
        replan(
            run,
            pd.DataFrame(stock) if stock is not None else NO_STOCK,
            from_period=3,
            sales=pd.DataFrame(sales) if sales is not None else None,
        )


def test_from_period_outside_horizon(run: Result) -> None:
    """T must leave at least one frozen and one open period: 2..4 here."""
    with pytest.raises(DataValidationError, match=r"a period 2\.\.4"):
        replan(run, NO_STOCK, from_period=5)


def test_verifier_rejects_a_changed_frozen_period(run: Result) -> None:
    """check_replan names a frozen flow that moved, a stock at T-1 that is not the actual
    one, and an open hub that closes at T although closing is not allowed."""
    out = replan(run, NO_STOCK, from_period=3, backend="highs")
    assert run.solution is not None and out.result.solution is not None
    new = out.result.solution
    flows = new.flows.copy()
    flows.loc[flows["period"] == 1, "quantity"] += 1
    moved = dataclasses.replace(new, flows=flows)
    errors = check_replan(run.solution, moved, NO_STOCK, 3, allow_closing=False)
    assert any("frozen flow" in e for e in errors)
    wrong_stock = pd.DataFrame({"hub_id": ["HA"], "product_id": ["P"], "quantity": [4.0]})
    assert any("actual stock" in e for e in check_replan(run.solution, new, wrong_stock, 3, False))
    hubs = new.hubs.copy()
    hubs.loc[(hubs["hub_id"] == "HA") & (hubs["period"] == 3), "open"] = 0
    closed = dataclasses.replace(new, hubs=hubs)
    assert any("closes at 3" in e for e in check_replan(run.solution, closed, NO_STOCK, 3, False))


def test_replan_keeps_the_footprint_and_its_margin(tmp_path: Path) -> None:
    """One hub H; base demand 10 per period at RN (2 per unit) and RF (15) over three
    periods; sale ``footprint: optimize`` over all periods, uplift 2, margin 10: RN is
    included (margin 100 per period > logistics 20), RF not. Re-planned from period 2 with
    nothing in stock, the footprint stands: the spliced plan has the same footprint table,
    incremental margin -100 in each of periods 1-3, spend in period 1 only, and (actuals =
    plan) the same objective 3 x (170 + 20) + 5 - 300 = 275."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [{"hub_id": "H", "lat": 37.5, "lon": 127.0, "fixed_cost": 0}],
            "regions": [{"region_id": r, "lat": 37.6, "lon": 127.1} for r in ("RN", "RF")],
            "products": [{"product_id": "P", "unit_margin": 10}],
            "demand": [
                {"region_id": r, "product_id": "P", "period": t, "quantity": 10}
                for r in ("RN", "RF")
                for t in (1, 2, 3)
            ],
            "lanes": lanes([("H", "RN", 2), ("H", "RF", 15)], COST),
        },
        campaigns=[{"id": "sale", "uplift": 2.0, "footprint": "optimize", "spend_per_region": 5}],
    )
    original = solve_verified(path, "highs")
    assert original.objective == pytest.approx(275)
    stock = pd.DataFrame({"hub_id": ["H"], "product_id": ["P"], "quantity": [0.0]})
    out = replan(original, stock, from_period=2, backend="highs", mip_gap=0.0)
    result = out.result
    assert result.verification is not None and result.verification.ok, result.verification
    assert result.solution is not None and original.solution is not None
    assert result.solution.footprint.equals(original.solution.footprint)
    costs = result.solution.period_costs.set_index(["period", "component"])["cost"]
    assert [costs[(t, "incremental_margin")] for t in (1, 2, 3)] == pytest.approx([-100] * 3)
    assert [costs[(t, "campaign_spend")] for t in (1, 2, 3)] == pytest.approx([5, 0, 0])
    assert result.objective == pytest.approx(275)


def test_replan_with_returns_pickup_and_pooling(tmp_path: Path) -> None:
    """The omnichannel toy (helpers.write_omni_scenario: 12 parcel units per period, 20 %
    returned and restocked the next period; 10 pickup units through locker Q; pooled
    safety stock) re-planned from period 2 with the planned period-1 stock as the actual
    stock: the 2.4 units returned in period 1 still re-enter stock in period 2 (the tail
    starts with them), so the spliced plan verifies from scratch and period 2 costs what
    the original plan's period 2 cost; locker Q stays the pickup point."""
    run = solve_verified(write_omni_scenario(tmp_path), "highs")
    assert run.solution is not None
    planned = run.solution.stock
    stock = planned.loc[planned["period"] == 1, ["hub_id", "product_id", "quantity"]]
    out = replan(run, stock, from_period=2, backend="highs", mip_gap=0.0)
    result = out.result
    assert result.verification is not None and result.verification.ok, result.verification
    assert out.tail.scenario.tables.inventory["quantity"].sum() == pytest.approx(
        stock["quantity"].sum() + 12 * 0.2
    )
    assert remaining_cost(result, 2) == pytest.approx(remaining_cost(run, 2), rel=1e-6)
    assert result.solution is not None
    points = result.solution.pickup_points
    assert set(points.loc[points["open"] > 0.5, "pickup_id"]) == {"Q"}


def test_out_of_reach_service_level_is_relaxed_and_reported(tmp_path: Path) -> None:
    """R wants 10 units in each of two periods; a campaign in period 2 asks 100 % of its
    units within 48 h. HA (10 h away, throughput 10 m3, 1 m3 per unit) can deliver 10 on
    time; HB (100 h away) only late (late penalty 1). The plan: 10 from HA each period.
    Period-1 sales of 20 (twice the plan) rescale period 2 to 10 x (20 + 20) / (10 + 20)
    = 13.33 units, so no plan delivers all of them on time: the re-plan drops the service
    level, says so, and reaches 10 / 13.33 = 75 % on time (3.33 units late from HB)."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [
                {"hub_id": h, "lat": 37.5, "lon": 127.0, "fixed_cost": 0, "throughput_capacity": 10}
                for h in ("HA", "HB")
            ],
            "regions": [{"region_id": "R", "lat": 37.6, "lon": 127.1}],
            "products": [{"product_id": "P", "unit_volume": 1}],
            "demand": [
                {"region_id": "R", "product_id": "P", "period": t, "quantity": 10} for t in (1, 2)
            ],
            "lanes": lanes(
                [("HA", "R", 1, 10), ("HB", "R", 1, 100)],
                ["from_id", "to_id", "cost_per_unit", "transit_hours"],
            ),
        },
        campaigns=[
            {
                "id": "sale",
                "periods": [2],
                "delivery_window_hours": 48,
                "service_level": 1.0,
            }
        ],
        policy={"late_penalty_per_unit": 1},
    )
    run = solve_verified(path, "highs")
    sales = pd.DataFrame([{"region_id": "R", "product_id": "P", "period": 1, "quantity": 20}])
    out = replan(run, NO_STOCK, from_period=2, sales=sales, backend="highs", mip_gap=0.0)
    assert out.result.verification is not None and out.result.verification.ok
    relaxed = out.summary["service_levels_relaxed"]["sale"]
    assert relaxed["level"] == 1.0
    assert relaxed["on_time_rate_remaining"] == pytest.approx(0.75)
    assert relaxed["held_solve_status"] == "infeasible"
    page = render_report(out.result, map_file=None)
    assert "Service level of sale dropped" in page and "75.0 %" in page


def test_summary_lists_hub_changes_by_period_then_hub_order() -> None:
    rows = pd.DataFrame({"hub_id": ["H10", "H2", "H10", "H2", "H2"], "period": [2, 10, 10, 2, 2]})
    order = {"H2": 0, "H10": 1}
    # text order would give H10@10, H10@2, H2@10, H2@2
    assert hub_periods(rows, order) == ["H2@2", "H10@2", "H2@10", "H10@10"]
