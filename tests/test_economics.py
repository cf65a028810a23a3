"""Marginal campaign economics: re-solves without each campaign, compared on the same terms."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import lanes, solve_verified, write_scenario

from hubopt.economics import PlanTerms, campaign_economics, economics_table, without_campaign

COST = ["from_id", "to_id", "cost_per_unit"]


def two_period_toy(tmp_path: Path) -> Path:
    """R1 wants 10 units in periods 1 and 2. HA (fixed 50 per period, 15 units out per
    period) ships at 1 per unit, HB (fixed 80) at 2. The sale (uplift 2, period 2, spend 45,
    margin 10 per unit) doubles period 2 to 20 units, beyond HA's capacity."""
    return write_scenario(
        tmp_path,
        {
            "hubs": [
                {
                    "hub_id": "HA",
                    "lat": 37.5,
                    "lon": 127.0,
                    "fixed_cost": 50,
                    "throughput_capacity": 15,
                },
                {"hub_id": "HB", "lat": 37.5, "lon": 127.0, "fixed_cost": 80},
            ],
            "regions": [{"region_id": "R1", "lat": 37.6, "lon": 127.1}],
            "products": [{"product_id": "P", "unit_margin": 10}],
            "demand": [
                {"region_id": "R1", "product_id": "P", "period": t, "quantity": 10} for t in (1, 2)
            ],
            "lanes": lanes([("HA", "R1", 1), ("HB", "R1", 2)], COST),
        },
        campaigns=[{"id": "sale", "periods": [2], "uplift": 2.0, "spend": 45}],
    )


def test_marginal_cost_equals_hand_computed_difference(tmp_path: Path) -> None:
    """Without the sale: HA both periods, 2*50 + 20*1 = 120. With it, period 2 needs HB for
    the 5 units HA cannot ship: 2*50 + 10*1 + 15*1 + 80 + 5*2 = 215. Marginal logistics cost 215 - 120 = 95; 10 extra units earn 100; ROI =
    (100 - 45 - 95) / (45 + 95) = -40 / 140. Exact solves: the difference is significant."""
    result = solve_verified(two_period_toy(tmp_path), "highs")
    assert result.objective == pytest.approx(215)
    table = campaign_economics(result, workers=2, backend="highs").set_index("campaign_id")
    row = table.loc["sale"]
    assert row["network_cost_with"] == pytest.approx(215)
    assert row["network_cost_without"] == pytest.approx(120)
    assert row["marginal_logistics_cost"] == pytest.approx(95)
    assert row["incremental_units"] == pytest.approx(10)
    assert row["incremental_margin"] == pytest.approx(100)
    assert row["roi"] == pytest.approx(-40 / 140)
    assert bool(row["significant"]) is True
    assert row["status_without"] == "optimal"
    # the volume-share allocation stays, and differs: period 2 volume share of fixed cost
    assert row["allocated_logistics_cost"] != pytest.approx(95)


def test_gap_larger_than_difference_is_not_significant(tmp_path: Path) -> None:
    """A campaign-less plan known only to within 500 (objective - bound, e.g. a solve stopped
    by its time limit) makes the marginal cost of 95 not significant."""
    result = solve_verified(two_period_toy(tmp_path), "highs")
    loose = PlanTerms(
        "time_limit", {"fixed": 100.0, "outbound_transport": 20.0}, {"P": 20.0}, 0.9, 500.0
    )
    row = economics_table(result, {"sale": loose}).set_index("campaign_id").loc["sale"]
    assert row["marginal_logistics_cost"] == pytest.approx(95)
    assert row["uncertainty"] == pytest.approx(500)
    assert bool(row["significant"]) is False


def test_without_campaign_reverts_demand(tmp_path: Path) -> None:
    """Removing the campaign leaves the other config untouched and the base demand."""
    result = solve_verified(two_period_toy(tmp_path), "highs")
    plain = without_campaign(result.scenario, "sale")
    assert plain.config.campaigns == []
    assert plain.config.policy == result.scenario.config.policy
