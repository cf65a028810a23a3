"""Campaign footprint optimisation (family 14): hand-checkable cases on every backend.

Each case has one product with ``unit_margin`` m, base demand 10 per region in period 1 and
a campaign with ``uplift: 2`` and ``footprint: optimize``, so including a region adds 10
incremental units worth 10 m. Lane costs are per unit, so each optimum is worked out by
hand in the docstring. Every solve goes through the independent verifier.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    assert_objective,
    lanes,
    open_hubs,
    solve_all_backends,
    solve_verified,
    write_scenario,
)

from hubopt.errors import ScenarioError
from hubopt.scenario.scenario import load_scenario
from hubopt.verify import verify_solution

COST = ["from_id", "to_id", "cost_per_unit"]
COST_TIME = ["from_id", "to_id", "cost_per_unit", "transit_hours"]


def hub(hub_id: str, fixed_cost: float = 0.0, **columns: Any) -> dict[str, Any]:
    """A hub row (coordinates do not matter: every arc is priced and timed by a lane)."""
    return {"hub_id": hub_id, "lat": 37.5, "lon": 127.0, "fixed_cost": fixed_cost, **columns}


def regions(*ids: str) -> list[dict[str, Any]]:
    """Region rows."""
    return [{"region_id": r, "lat": 37.6, "lon": 127.1} for r in ids]


def base_demand(*ids: str) -> list[dict[str, Any]]:
    """Base demand 10 of product P in period 1 per region."""
    return [{"region_id": r, "product_id": "P", "period": 1, "quantity": 10} for r in ids]


def campaign(**fields: Any) -> dict[str, Any]:
    """The optimised campaign: uplift 2 over every region, period 1."""
    return {"id": "sale", "uplift": 2.0, "periods": [1], "footprint": "optimize", **fields}


def far_region_scenario(tmp_path: Path, **fields: Any) -> Path:
    """One hub; RN costs 2 per unit to serve, RF 15; margin 10 per unit."""
    return write_scenario(
        tmp_path,
        {
            "hubs": [hub("H")],
            "regions": regions("RN", "RF"),
            "products": [{"product_id": "P", "unit_margin": 10}],
            "demand": base_demand("RN", "RF"),
            "lanes": lanes([("H", "RN", 2), ("H", "RF", 15)], COST),
        },
        campaigns=[campaign(**fields)],
    )


def test_far_region_is_excluded(tmp_path: Path) -> None:
    """Base demand costs 10*2 + 10*15 = 170. RN's 10 incremental units earn 100 and cost
    20 (included, -80); RF's earn 100 but cost 150 (excluded). Objective 170 - 80 = 90."""
    for result in solve_all_backends(far_region_scenario(tmp_path)).values():
        assert_objective(result, 90)
        assert result.solution is not None
        fp = result.solution.footprint.set_index("region_id")
        assert fp.loc["RN", "included"] == 1 and fp.loc["RF", "included"] == 0
        assert fp.loc["RN", "logistics_cost"] == pytest.approx(20)
        assert fp.loc["RF", "logistics_cost"] == pytest.approx(150)  # estimate, cheapest arc
        assert fp.loc["RF", "logistics_basis"] == "estimate"
        assert fp.loc["RN", "profit_per_unit"] == pytest.approx(8)
        assert fp.loc["RF", "profit_per_unit"] == pytest.approx(-5)
        assert result.solution.costs["incremental_margin"] == pytest.approx(-100)
        flows = result.solution.flows
        assert flows.loc[flows["region_id"] == "RF", "quantity"].sum() == pytest.approx(10)
        assert flows.loc[flows["campaign_id"] == "sale", "region_id"].unique().tolist() == ["RN"]


def test_spend_per_region_can_exclude_every_region(tmp_path: Path) -> None:
    """With spend_per_region 90, RN nets 100 - 20 - 90 = -10 too: no region, objective 170."""
    path = far_region_scenario(tmp_path, spend_per_region=90)
    result = solve_verified(path, "highs")
    assert_objective(result, 170)
    assert result.solution is not None
    assert result.solution.footprint["included"].sum() == 0


def extra_hub_scenario(tmp_path: Path, margin: float) -> Path:
    """HA (free) is 2 h from RA and 30 h from RB; HB (fixed 100) is 2 h from RB. The
    campaign's 24 h window keeps RB's incremental units off the 30 h arc (no late penalty),
    so running the campaign in RB needs HB open."""
    return write_scenario(
        tmp_path,
        {
            "hubs": [hub("HA"), hub("HB", 100)],
            "regions": regions("RA", "RB"),
            "products": [{"product_id": "P", "unit_margin": margin}],
            "demand": base_demand("RA", "RB"),
            "lanes": lanes(
                [("HA", "RA", 1, 2), ("HA", "RB", 3, 30), ("HB", "RA", 3, 30), ("HB", "RB", 1, 2)],
                COST_TIME,
            ),
        },
        campaigns=[campaign(delivery_window_hours=24)],
    )


@pytest.mark.parametrize(
    ("margin", "expected", "included", "hubs"),
    [(15, -160, {"RA", "RB"}, {"HA", "HB"}), (8, -30, {"RA"}, {"HA"})],
)
def test_region_needing_a_hub_included_only_if_margin_pays(
    tmp_path: Path, margin: float, expected: float, included: set[str], hubs: set[str]
) -> None:
    """Without RB: RA base 10*1 + RB base 10*3 + RA incremental 10*1 - 10m = 50 - 10m.
    With RB: HB 100 + RA base 10 + RB base via HB 10 + both incremental 20 - 20m = 140 - 20m.
    m = 15: -100 vs -160, RB is included and HB opens; m = 8: -30 vs -20, RB stays out."""
    for result in solve_all_backends(extra_hub_scenario(tmp_path, margin)).values():
        assert_objective(result, expected)
        assert result.solution is not None
        fp = result.solution.footprint
        assert set(fp.loc[fp["included"] == 1, "region_id"]) == included
        assert open_hubs(result) == hubs


def three_region_scenario(tmp_path: Path, **fields: Any) -> Path:
    """One hub; R1, R2, R3 cost 5, 11, 13 per unit; margin 10: incremental profits
    +50, -10 and -30."""
    return write_scenario(
        tmp_path,
        {
            "hubs": [hub("H")],
            "regions": regions("R1", "R2", "R3"),
            "products": [{"product_id": "P", "unit_margin": 10}],
            "demand": base_demand("R1", "R2", "R3"),
            "lanes": lanes([("H", "R1", 5), ("H", "R2", 11), ("H", "R3", 13)], COST),
        },
        campaigns=[campaign(**fields)],
    )


@pytest.mark.parametrize(
    ("fields", "expected", "included"),
    [
        ({}, 240, {"R1"}),
        ({"min_regions": 2}, 250, {"R1", "R2"}),
        ({"max_regions": 0}, 290, set()),
    ],
)
def test_min_regions_forces_next_best(
    tmp_path: Path, fields: dict[str, Any], expected: float, included: set[str]
) -> None:
    """Base cost 10*(5 + 11 + 13) = 290. Free choice: R1 only, 290 - 50 = 240.
    min_regions 2 adds the next best, R2: 240 + 10 = 250. max_regions 0: 290."""
    for result in solve_all_backends(three_region_scenario(tmp_path, **fields)).values():
        assert_objective(result, expected)
        assert result.solution is not None
        fp = result.solution.footprint
        assert set(fp.loc[fp["included"] == 1, "region_id"]) == included


def test_service_level_counts_included_units_only(tmp_path: Path) -> None:
    """Service level 1 with a 24 h window: included incremental units must all be on time
    (their late arcs are pruned), excluded ones count for nothing; the m = 8 plan of the
    extra-hub case stays feasible at -30 with RA alone."""
    path = extra_hub_scenario(tmp_path, 8)
    doc = load_scenario(path).config.model_dump()
    assert doc["campaigns"][0]["service_level"] == 0.0
    text = path.read_text().replace(
        "footprint: optimize", "footprint: optimize\n  service_level: 1.0"
    )
    path.write_text(text)
    result = solve_verified(path, "highs")
    assert_objective(result, -30)
    kpis = result.kpis.campaigns.set_index("campaign_id")
    assert kpis.loc["sale", "units"] == pytest.approx(10)
    assert kpis.loc["sale", "on_time_rate"] == pytest.approx(1.0)


def test_verifier_rejects_tampered_footprint(tmp_path: Path) -> None:
    """Flipping RF to included without delivering its units, dropping a candidate, or
    breaking min_regions are each reported by the verifier."""
    result = solve_verified(far_region_scenario(tmp_path), "highs")
    assert result.solution is not None
    fp = result.solution.footprint
    flipped = fp.assign(included=1)
    bad = verify_solution(result.scenario, dataclasses.replace(result.solution, footprint=flipped))
    assert not bad.ok and any("demand" in v for v in bad.violations)
    assert any("incremental_margin" in v for v in bad.violations)
    dropped = fp[fp["region_id"] != "RF"]
    bad = verify_solution(result.scenario, dataclasses.replace(result.solution, footprint=dropped))
    assert any("has no decision" in v for v in bad.violations)
    half = fp.assign(included=0.5)
    bad = verify_solution(result.scenario, dataclasses.replace(result.solution, footprint=half))
    assert any("0 or 1" in v for v in bad.violations)


def test_verifier_checks_region_bounds(tmp_path: Path) -> None:
    """A plan with one region does not verify against min_regions 2."""
    result = solve_verified(three_region_scenario(tmp_path), "highs")
    assert result.solution is not None
    strict = dataclasses.replace(
        result.scenario,
        config=result.scenario.config.model_copy(
            update={
                "campaigns": [
                    result.scenario.config.campaigns[0].model_copy(update={"min_regions": 2})
                ]
            }
        ),
    )
    bad = verify_solution(strict, result.solution)
    assert any("min_regions" in v for v in bad.violations)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"footprint": "fixed", "max_regions": 2}, "only apply with footprint: optimize"),
        ({"uplift": 1.0}, "needs uplift > 1"),
        ({"min_regions": 3, "max_regions": 2}, "min_regions (3) must be <= max_regions (2)"),
    ],
)
def test_bad_footprint_fields(tmp_path: Path, fields: dict[str, Any], message: str) -> None:
    """Inconsistent footprint settings are refused with a message naming the field."""
    path = three_region_scenario(tmp_path, **fields)
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_scenario(path)


def test_set_campaign_turns_footprint_on(tmp_path: Path) -> None:
    """A what-if switches a fixed campaign to footprint optimisation: same optimum (90) as
    the far-region case declared directly."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H")],
            "regions": regions("RN", "RF"),
            "products": [{"product_id": "P", "unit_margin": 10}],
            "demand": base_demand("RN", "RF"),
            "lanes": lanes([("H", "RN", 2), ("H", "RF", 15)], COST),
        },
        campaigns=[{"id": "sale", "uplift": 2.0, "periods": [1]}],
        whatif=[{"set_campaign": {"id": "sale", "footprint": "optimize"}}],
    )
    result = solve_verified(path, "highs")
    assert_objective(result, 90)
    assert result.solution is not None
    fp = result.solution.footprint.set_index("region_id")
    assert fp["included"].to_dict() == {"RN": 1, "RF": 0}


def test_footprint_with_pooling_and_returns(tmp_path: Path) -> None:
    """The far-region case with pooled safety stock (z 1, std 4 per base row) and 20 %
    returns: the uplift scales a row's std with its units (8 for RN's 20 units) and the
    split gives RN's base and incremental streams 4 each, so the hub holds
    1 x sqrt(4^2 + 4^2 + 4^2) = 6.93 for RN's two streams and RF's base (unpooled 12), and
    the KPIs' pooled figure equals that requirement; the plan is
    verified (footprint, exact pooled requirement, returns) and the incremental margin is
    in the objective."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H")],
            "regions": regions("RN", "RF"),
            "products": [{"product_id": "P", "unit_margin": 10, "holding_cost": 0.01}],
            "demand": [dict(row, std=4) for row in base_demand("RN", "RF")],
            "channels": [{"channel_id": "parcel", "return_rate": 0.2}],
            "lanes": lanes([("H", "RN", 2), ("H", "RF", 15)], COST),
        },
        campaigns=[campaign()],
        policy={"safety_stock": {"z": 1.0, "pooling": True}},
    )
    result = solve_verified(path, "highs")
    assert result.solution is not None
    fp = result.solution.footprint.set_index("region_id")
    assert fp.loc["RN", "included"] == 1 and fp.loc["RF", "included"] == 0
    assert result.solution.costs["incremental_margin"] == pytest.approx(-100)
    safety = result.kpis.safety_stock.set_index("hub_id")
    assert safety.at["H", "safety_stock_pooled_units"] == pytest.approx(48**0.5, rel=1e-3)
    assert safety.at["H", "safety_stock_unpooled_units"] == pytest.approx(12, rel=1e-3)
