"""Delivery-promise tiers (configurable) and the promise per campaign window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import lanes, solve_verified, write_scenario

from hubopt.errors import ScenarioError
from hubopt.kpis import tier_labels, tier_of
from hubopt.scenario.scenario import load_scenario

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
