"""KPIs against answers worked out by hand on a small verified plan.

The scenario is solved once (HiGHS, exact); every KPI asserted here is derived in the
fixture's docstring, so a change in a KPI definition fails a test that says which.
Also: delivery-promise tiers (configurable) and the promise per campaign window.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import lanes, solve_tiny, solve_verified, write_scenario

from hubopt.api import solve
from hubopt.errors import ScenarioError
from hubopt.kpis import Kpis, compute_kpis, promise_table, weighted_quantile
from hubopt.present.report import render_report
from hubopt.result import Result
from hubopt.scenario.scenario import load_scenario
from hubopt.tiers import tier_labels, tier_of

LANE = ["from_id", "to_id", "cost_per_unit", "transit_hours", "distance_km"]


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Result:
    """One hub H1 (fixed 10 per period), two periods of 7 days. Product P: 500 kg, 1 m3,
    holding 1, margin 10. Per period R1 wants 10 (x1.5 campaign uplift = 15), R2 10 (std
    2), R3 1. Lanes from H1: R1 cost 1, 10 h, 100 km; R2 cost 2, 30 h, 200 km; R3 cost 3,
    50 h, 300 km; all within the 72 h window. Source S1 supplies free, 50 km away, no
    transport cost. Road emits 100 g/t-km. Safety stock z = 1: H1 holds 1 x 2 = 2 units at
    the end of each period. Campaign ``promo`` on R1: spend 50.

    Plan: ships 26 per period (52 in all); inflow 28 then 26 (54 in all); stock 2 and 2.
    Costs: fixed 2 x 10 = 20; outbound transport 2 x (15 x 1 + 10 x 2 + 1 x 3) = 76;
    holding 2 x 2 x 1 = 4; total 100.
    """
    path = write_scenario(
        tmp_path_factory.mktemp("kpis"),
        {
            "hubs": [{"hub_id": "H1", "lat": 37.5, "lon": 127.0, "fixed_cost": 10}],
            "regions": [{"region_id": r, "lat": 37.6, "lon": 127.1} for r in ("R1", "R2", "R3")],
            "products": [
                {
                    "product_id": "P",
                    "unit_weight_kg": 500,
                    "unit_volume": 1,
                    "holding_cost": 1,
                    "unit_margin": 10,
                }
            ],
            "demand": [
                {"region_id": r, "product_id": "P", "period": t, "quantity": q, "std": s}
                for t in (1, 2)
                for r, q, s in (("R1", 10, 0), ("R2", 10, 2), ("R3", 1, 0))
            ],
            "sources": [{"source_id": "S1", "lat": 37.5, "lon": 127.0}],
            "supply": [{"source_id": "S1", "product_id": "P"}],
            "modes": [{"mode_id": "road", "leg": "both", "speed_kmh": 60, "co2_g_per_tkm": 100}],
            "lanes": lanes(
                [
                    ("H1", "R1", 1, 10, 100),
                    ("H1", "R2", 2, 30, 200),
                    ("H1", "R3", 3, 50, 300),
                    ("S1", "H1", 0, 1, 50),
                ],
                LANE,
            ),
        },
        campaigns=[{"id": "promo", "regions": ["R1"], "uplift": 1.5, "spend": 50}],
        policy={
            "default_delivery_window_hours": 72,
            "period_days": 7,
            "safety_stock": {"z": 1.0},
        },
    )
    result = solve_verified(path, "highs")
    assert result.objective == pytest.approx(100)
    return result


@pytest.fixture(scope="module")
def kpis(plan: Result) -> Kpis:
    """The plan's KPIs."""
    assert plan.solution is not None
    return compute_kpis(plan.problem, plan.solution)


def test_cost_headline_and_components(kpis: Kpis) -> None:
    """Total 100 = fixed 20 + outbound transport 76 + holding 4; cost per unit 100 / 52;
    each component's share is its cost / 100."""
    assert kpis.headline["total_cost"] == pytest.approx(100)
    assert kpis.headline["cost_per_unit_delivered"] == pytest.approx(100 / 52)
    costs = kpis.costs.set_index("component")
    assert costs.loc["fixed", "cost"] == pytest.approx(20)
    assert costs.loc["outbound_transport", "cost"] == pytest.approx(76)
    assert costs.loc["holding", "cost"] == pytest.approx(4)
    assert costs.loc["outbound_transport", "share"] == pytest.approx(0.76)
    assert costs["cost"].sum() == pytest.approx(100)


def test_service_rates(kpis: Kpis) -> None:
    """Demand 2 x (15 + 10 + 1) = 52, all delivered within 72 h: fill and on-time rates 1."""
    h = kpis.headline
    assert h["demand_units"] == pytest.approx(52)
    assert h["delivered_units"] == pytest.approx(52)
    assert h["fill_rate"] == pytest.approx(1.0)
    assert h["on_time_rate"] == pytest.approx(1.0)


def test_delivery_hours_mean_and_p95(kpis: Kpis) -> None:
    """Units by transit: 30 at 10 h, 20 at 30 h, 2 at 50 h. Mean = (300 + 600 + 100) / 52
    = 19.23 h. P95: the cumulative share reaches 50 / 52 = 0.96 >= 0.95 at 30 h, so P95 is
    30 h (not the 50 h maximum)."""
    assert kpis.headline["mean_delivery_hours"] == pytest.approx(1000 / 52)
    assert kpis.headline["p95_delivery_hours"] == pytest.approx(30)


def test_tonne_km_and_co2(kpis: Kpis) -> None:
    """Outbound t-km = 0.5 t x (30 x 100 + 20 x 200 + 2 x 300) = 3800; inbound = 54 units
    x 0.5 t x 50 km = 1350; total 5150 t-km. CO2 = 5150 x 100 g / 1e6 = 0.515 t, i.e.
    0.515 x 1000 / 52 kg per delivered unit."""
    assert kpis.headline["tonne_km"] == pytest.approx(5150)
    assert kpis.headline["co2_t"] == pytest.approx(0.515)
    assert kpis.headline["co2_kg_per_unit"] == pytest.approx(515 / 52)


def test_inventory_turnover_and_days_of_cover(kpis: Kpis) -> None:
    """Average stock = (2 + 2) / 2 = 2 units. Turnover = 52 shipped / 2 = 26 turns. Days of
    cover = 2 / (52 / 2 periods / 7 days) = 14 / 26 = 0.538 days; the same for H1 alone."""
    h = kpis.headline
    assert h["average_stock_units"] == pytest.approx(2)
    assert h["inventory_turnover"] == pytest.approx(26)
    assert h["days_of_cover"] == pytest.approx(14 / 26)
    hub = kpis.hubs.set_index("hub_id").loc["H1"]
    assert hub["inventory_turnover"] == pytest.approx(26)
    assert hub["days_of_cover"] == pytest.approx(14 / 26)
    assert hub["throughput_m3"] == pytest.approx(52)


def test_campaign_logistics_cost(kpis: Kpis) -> None:
    """Campaign promo: 30 units (2 x 15). Own costs: transport 30 x 1 = 30. Shared per
    period: fixed 10 + holding 2 = 12 (no opening, closing or inbound cost), of which promo
    takes its outbound m3 share 15 / 26. Logistics = 30 + 2 x 12 x 15 / 26 = 570 / 13
    = 43.85; per unit 570 / 13 / 30."""
    row = kpis.campaigns.set_index("campaign_id").loc["promo"]
    assert row["units"] == pytest.approx(30)
    assert row["delivered_units"] == pytest.approx(30)
    assert row["logistics_cost"] == pytest.approx(570 / 13)
    assert row["logistics_cost_per_unit"] == pytest.approx(570 / 13 / 30)


def test_promotion_roi(kpis: Kpis) -> None:
    """Margin = 30 x 10 = 300, spend 50, logistics 570 / 13. ROI = (300 - 50 - 570/13) /
    (50 + 570/13) = 2680 / 1220 = 134 / 61 = 2.197."""
    row = kpis.campaigns.set_index("campaign_id").loc["promo"]
    assert row["margin"] == pytest.approx(300)
    assert row["spend"] == pytest.approx(50)
    assert row["roi"] == pytest.approx(134 / 61)


def test_period_table(kpis: Kpis) -> None:
    """Each period: one hub open, 26 units wanted and delivered on time, 2 in stock."""
    assert kpis.periods["open_hubs"].tolist() == [1, 1]
    assert kpis.periods["delivered_units"].tolist() == pytest.approx([26, 26])
    assert kpis.periods["stock_units"].tolist() == pytest.approx([2, 2])
    assert kpis.periods["on_time_rate"].tolist() == pytest.approx([1, 1])


@pytest.mark.parametrize(
    ("values", "weights", "q", "expected"),
    [
        ([10.0, 30.0, 50.0], [30.0, 20.0, 2.0], 0.95, 30.0),
        ([10.0, 30.0, 50.0], [30.0, 20.0, 2.0], 0.97, 50.0),
        ([10.0, 30.0], [1.0, 1.0], 0.5, 10.0),
    ],
)
def test_weighted_quantile(
    values: list[float], weights: list[float], q: float, expected: float
) -> None:
    """Inverted CDF: the smallest value whose cumulative weight share reaches q (30/52 and
    50/52 = 0.96 straddle 0.95; 0.97 needs the last value; exactly 0.5 stops at the first)."""
    assert weighted_quantile(np.array(values), np.array(weights), q) == expected


# ---- the delivery-promise table ----------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_map(tmp_path_factory: pytest.TempPathFactory) -> Result:
    """The tiny three-province scenario of the map tests (populations 150k, 170k, 400k)."""
    return solve_tiny(tmp_path_factory.mktemp("tiny-promise"))


def test_promise_table_counts_people_cumulatively(tiny_map: Result) -> None:
    """Population within 12/24/48/72 h per province, cumulative, with a total row."""
    table = promise_table(tiny_map.kpis.regions).set_index("group")
    assert table["basis"].iloc[0] == "population"
    assert table.loc["Seoul", "within_12h"] == 150_000
    assert table.loc["Busan", "within_12h"] == 0
    assert table.loc["Busan", "within_24h"] == 400_000
    assert table.loc["Total", "within_12h"] == 320_000
    assert table.loc["Total", "within_72h"] == table.loc["Total", "total"] == 720_000


def test_promise_table_without_provinces_uses_demand() -> None:
    """Without ``province``/``population`` columns the table has one row of demand units."""
    regions = pd.DataFrame({"tier": ["12h", "48h", "none"], "demand_units": [10.0, 5.0, 2.0]})
    table = promise_table(regions)
    assert list(table["group"]) == ["All regions"]
    row = table.iloc[0]
    assert (row["basis"], row["within_12h"], row["within_24h"], row["within_48h"]) == (
        "demand_units",
        10,
        10,
        15,
    )
    assert (row["none"], row["total"]) == (2, 17)


def test_delivery_by_channel_counts_the_plans_own_transit(plan: Result) -> None:
    """Per period R1 gets 15 units at 10 h, R2 10 at 30 h, R3 1 at 50 h (two periods):
    within 12 h 30, within 24 h 30, within 48 h 50, within 72 h all 52; none later or lost."""
    row = plan.kpis.delivery.set_index("channel").loc["parcel"]
    assert row[
        ["demand_units", "within_12h", "within_24h", "within_48h", "within_72h"]
    ].tolist() == [
        52,
        30,
        30,
        50,
        52,
    ]
    assert (row["later"], row["undelivered"]) == (0, 0)


def test_delivery_promise_is_what_the_plan_delivers(tmp_path: Path) -> None:
    """One hub 1.3 km from one region; VAN takes 1 h at 10 per kg, PARCEL 17 h at 1 per kg.
    With no window the plan sends all 100 units by PARCEL: 0 % within 12 h and 100 %
    within 24 h by the plan, although the fastest possible delivery (VAN) is in the fastest
    tier (6 h with the default tiers). The report shows both, labelled."""
    tables = {
        "hubs": [{"hub_id": "H1", "lat": 52.37, "lon": 4.90, "fixed_cost": 0}],
        "regions": [{"region_id": "R1", "lat": 52.38, "lon": 4.90}],
        "products": [{"product_id": "P", "unit_weight_kg": 1.0}],
        "demand": [{"region_id": "R1", "product_id": "P", "period": 1, "quantity": 100}],
        "modes": [
            {
                "mode_id": "VAN",
                "leg": "outbound",
                "cost_per_kg": 10,
                "speed_kmh": 40,
                "handling_hours": 1,
            },
            {
                "mode_id": "PARCEL",
                "leg": "outbound",
                "cost_per_kg": 1,
                "speed_kmh": 40,
                "handling_hours": 17,
            },
        ],
    }
    result = solve(write_scenario(tmp_path, tables))
    delivery = result.kpis.delivery.set_index("channel")
    assert delivery.loc[
        "parcel", ["demand_units", "within_12h", "within_24h", "later", "undelivered"]
    ].tolist() == [
        100,
        0,
        100,
        0,
        0,
    ]
    assert result.kpis.regions["tier"].tolist() == ["6h"]
    page = render_report(result, map_file=None)
    assert "what the plan delivers, by channel" in page
    assert "Fastest possible delivery (not the plan)" in page
    assert "0.0 %" in page.split('id="delivery"')[1].split("</table>")[0]


COST_TIME = ["from_id", "to_id", "cost_per_unit", "transit_hours"]


def test_tier_of_uses_the_configured_tiers() -> None:
    """5 h is '6h' with the default tiers; 7 h '12h'; 100 h 'later'; inf 'none'; with
    tiers [4, 8] 5 h is '8h' and 9 h 'later'."""
    hours = np.array([5.0, 7.0, 100.0, np.inf])
    assert tier_of(hours).tolist() == ["6h", "12h", "later", "none"]
    assert tier_of(np.array([5.0, 9.0]), [4, 8]).tolist() == ["8h", "later"]
    assert tier_labels([4, 8]) == ["4h", "8h", "later", "none"]


def promise_scenario(tmp_path: Path, tiers: list[float] | None = None) -> Path:
    """HA is 5 h from R1 and 20 h from R2; the sale's window is 12 h and late delivery
    costs 1 per unit, so R2's sale units arrive late."""
    output = {"promise_tiers_hours": tiers} if tiers is not None else {}
    return write_scenario(
        tmp_path,
        {
            "hubs": [{"hub_id": "HA", "lat": 37.5, "lon": 127.0, "fixed_cost": 10}],
            "regions": [
                {"region_id": "R1", "lat": 37.6, "lon": 127.1},
                {"region_id": "R2", "lat": 35.1, "lon": 129.0},
            ],
            "products": [{"product_id": "P"}],
            "demand": [
                {"region_id": r, "product_id": "P", "period": 1, "quantity": 10}
                for r in ("R1", "R2")
            ],
            "lanes": lanes([("HA", "R1", 1, 5), ("HA", "R2", 1, 20)], COST_TIME),
        },
        campaigns=[{"id": "sale", "uplift": 1.5, "delivery_window_hours": 12}],
        policy={"late_penalty_per_unit": 1},
        output=output,
    )


def test_campaign_promise_by_region(tmp_path: Path) -> None:
    """With tiers [6, 12, 24]: R1 is promised 6 h, within the 12 h window, all 15 sale
    units on time; R2 24 h, outside the window, none on time."""
    result = solve_verified(promise_scenario(tmp_path, [6, 12, 24]), "highs")
    promise = result.kpis.campaign_promise.set_index("region_id")
    assert promise.loc["R1", "tier"] == "6h" and bool(promise.loc["R1", "within_window"])
    assert promise.loc["R2", "tier"] == "24h" and not bool(promise.loc["R2", "within_window"])
    assert promise["on_time_rate"].to_dict() == {"R1": 1.0, "R2": 0.0}
    assert promise["demand_units"].to_dict() == {"R1": 15.0, "R2": 15.0}
    regions = result.kpis.regions.set_index("region_id")
    assert regions["tier"].to_dict() == {"R1": "6h", "R2": "24h"}


def test_default_tiers_reach_72_hours(tmp_path: Path) -> None:
    """Without output.promise_tiers_hours the tiers are 6/12/24/48/72 h: R2 (20 h) is '24h'."""
    result = solve_verified(promise_scenario(tmp_path), "highs")
    assert result.scenario.config.output.promise_tiers_hours == [6, 12, 24, 48, 72]
    assert result.kpis.regions.set_index("region_id").loc["R2", "tier"] == "24h"


def test_tiers_must_ascend(tmp_path: Path) -> None:
    """Tiers out of order are refused naming the key."""
    with pytest.raises(ScenarioError, match="promise_tiers_hours"):
        load_scenario(promise_scenario(tmp_path, [12, 6]))
