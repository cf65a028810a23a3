"""What-if operations: each changes exactly what it says on the resolved tables and config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers import write_scenario

from hubopt.errors import ScenarioError
from hubopt.scenario.scenario import Scenario, load_scenario

HUBS = [
    {"hub_id": "H1", "lat": 37.5, "lon": 127.0, "fixed_cost": 100, "opening_cost": 10,
     "closing_cost": 4, "handling_cost": 2, "throughput_capacity": 1000, "storage_capacity": 500},
    {"hub_id": "H2", "lat": 35.1, "lon": 129.0, "fixed_cost": 200, "opening_cost": 20,
     "closing_cost": 8, "handling_cost": 3, "throughput_capacity": 2000, "storage_capacity": 800},
]  # fmt: skip
REGIONS = [
    {"region_id": "R1", "lat": 37.6, "lon": 127.1, "sido": "Seoul"},
    {"region_id": "R2", "lat": 35.2, "lon": 129.1, "sido": "Busan"},
]
PRODUCTS = [
    {"product_id": "P", "holding_cost": 1.0},
    {"product_id": "Q", "holding_cost": 2.0},
]
DEMAND = [
    {"region_id": r, "product_id": p, "period": t, "quantity": q, "std": 1.0, "channel": c}
    for r, q in (("R1", 10.0), ("R2", 20.0))
    for p in ("P", "Q")
    for t in (1, 2)
    for c in ("parcel", "store")
]
SOURCES = [{"source_id": "S", "lat": 37.4, "lon": 126.6}]
SUPPLY = [{"source_id": "S", "product_id": p, "unit_cost": 5.0} for p in ("P", "Q")]
MODES = [
    {"mode_id": "ROAD", "leg": "both", "cost_per_kg": 1.0, "cost_per_kg_km": 0.01,
     "speed_kmh": 60},
    {"mode_id": "AIR", "leg": "outbound", "cost_per_kg": 4.0, "cost_per_kg_km": 0.05,
     "speed_kmh": 500},
]  # fmt: skip
LANES = [
    {"from_id": "H1", "to_id": "R2", "mode_id": "ROAD", "cost_per_unit": 7.0},
    {"from_id": "H2", "to_id": "R1", "mode_id": "AIR", "cost_per_unit": 9.0},
]
CHANNELS = [{"channel_id": "parcel"}, {"channel_id": "store"}]
CAMPAIGNS = [
    {"id": "sale", "regions": "all", "periods": [2], "uplift": 1.5, "delivery_window_hours": 48}
]


def load(tmp_path: Path, whatif: list[dict[str, Any]] | None = None) -> Scenario:
    """The small scenario with the given what-ifs (none: the base)."""
    tables = {
        "hubs": HUBS,
        "regions": REGIONS,
        "products": PRODUCTS,
        "demand": DEMAND,
        "sources": SOURCES,
        "supply": SUPPLY,
        "modes": MODES,
        "lanes": LANES,
        "channels": CHANNELS,
    }
    blocks: dict[str, Any] = {"campaigns": CAMPAIGNS}
    if whatif is not None:
        blocks["whatif"] = whatif
    folder = tmp_path / ("base" if whatif is None else "whatif")
    return load_scenario(write_scenario(folder, tables, **blocks))


def changed(before: pd.DataFrame, after: pd.DataFrame, column: str) -> pd.Series:
    """Boolean mask of the rows whose ``column`` changed."""
    return ~(before[column].to_numpy() == after[column].to_numpy())


def unchanged_except(before: Scenario, after: Scenario, table: str, columns: set[str]) -> None:
    """Every table other than ``table``, and every other column of it, is unchanged."""
    for name in ("hubs", "regions", "products", "demand", "supply", "modes", "lanes"):
        a, b = getattr(before.tables, name), getattr(after.tables, name)
        keep = [c for c in a.columns if name != table or c not in columns]
        pd.testing.assert_frame_equal(a[keep], b[keep], obj=f"{name}{keep}")


def test_scale_demand_scales_only_the_filtered_rows(tmp_path: Path) -> None:
    """scale_demand multiplies quantity and std of exactly the rows in its filter."""
    base = load(tmp_path)
    op = {"regions": {"sido": ["Busan"]}, "products": ["Q"], "periods": [2],
          "channels": ["parcel"], "factor": 1.3}  # fmt: skip
    after = load(tmp_path, [{"scale_demand": op}])
    a, b = base.tables.demand, after.tables.demand
    scope = (
        (a["region_id"] == "R2") & (a["product_id"] == "Q") & (a["period"] == 2)
        & (a["channel"] == "parcel")
    )  # fmt: skip
    assert scope.sum() == 1
    assert (changed(a, b, "quantity") == scope.to_numpy()).all()
    assert b.loc[scope, "quantity"].tolist() == pytest.approx([26.0])
    assert b.loc[scope, "std"].tolist() == pytest.approx([1.3])
    unchanged_except(base, after, "demand", {"quantity", "std"})


def test_scale_demand_by_region_ids(tmp_path: Path) -> None:
    """A list of region ids filters like an attribute filter."""
    base = load(tmp_path)
    after = load(tmp_path, [{"scale_demand": {"regions": ["R1"], "factor": 2}}])
    scope = base.tables.demand["region_id"] == "R1"
    ratio = after.tables.demand["quantity"] / base.tables.demand["quantity"]
    assert ratio[scope].eq(2).all() and ratio[~scope].eq(1).all()


@pytest.mark.parametrize(("op", "status"), [("open_hubs", "forced_open"), ("close_hubs", "forced_closed")])  # fmt: skip
def test_open_and_close_hubs_force_the_status(tmp_path: Path, op: str, status: str) -> None:
    """open_hubs / close_hubs set only the listed hubs' status."""
    base = load(tmp_path)
    after = load(tmp_path, [{op: ["H2"]}])
    hubs = after.tables.hubs.set_index("hub_id")
    assert hubs.at["H2", "status"] == status
    assert hubs.at["H1", "status"] == base.tables.hubs.set_index("hub_id").at["H1", "status"]
    unchanged_except(base, after, "hubs", {"status"})


def test_scale_capacity_scales_the_listed_hubs(tmp_path: Path) -> None:
    """scale_capacity multiplies throughput (and only throughput when storage is not given)."""
    base = load(tmp_path)
    after = load(tmp_path, [{"scale_capacity": {"hubs": ["H1"], "throughput": 0.5}}])
    hubs = after.tables.hubs.set_index("hub_id")
    assert hubs.at["H1", "throughput_capacity"] == 500
    assert hubs.at["H2", "throughput_capacity"] == 2000
    unchanged_except(base, after, "hubs", {"throughput_capacity"})
    both = load(tmp_path, [{"scale_capacity": {"throughput": 2, "storage": 3}}])
    assert both.tables.hubs["throughput_capacity"].tolist() == [2000, 4000]
    assert both.tables.hubs["storage_capacity"].tolist() == [1500, 2400]


def test_scale_cost_transport_per_mode(tmp_path: Path) -> None:
    """scale_cost.transport as a mapping scales that mode's costs and its lanes only."""
    base = load(tmp_path)
    after = load(tmp_path, [{"scale_cost": {"transport": {"AIR": 2.0}}}])
    modes = after.tables.modes.set_index("mode_id")
    assert modes.at["AIR", "cost_per_kg"] == 8.0 and modes.at["AIR", "cost_per_kg_km"] == 0.1
    assert modes.at["ROAD", "cost_per_kg"] == 1.0 and modes.at["ROAD", "cost_per_kg_km"] == 0.01
    assert after.tables.lanes["cost_per_unit"].tolist() == [7.0, 18.0]
    for table in ("hubs", "demand", "products", "supply"):
        pd.testing.assert_frame_equal(getattr(base.tables, table), getattr(after.tables, table))


def test_scale_cost_transport_everywhere(tmp_path: Path) -> None:
    """A single transport factor ("fuel +20 %") scales every mode and every lane."""
    after = load(tmp_path, [{"scale_cost": {"transport": 1.2}}])
    assert after.tables.modes["cost_per_kg"].tolist() == pytest.approx([1.2, 4.8])
    assert after.tables.lanes["cost_per_unit"].tolist() == pytest.approx([8.4, 10.8])


def test_scale_cost_fixed_handling_holding_supply(tmp_path: Path) -> None:
    """fixed scales fixed, opening and closing; handling, holding and supply their column."""
    base = load(tmp_path)
    after = load(
        tmp_path,
        [{"scale_cost": {"fixed": 2, "handling": 3, "holding": 0.5, "supply": 1.1}}],
    )
    hubs = after.tables.hubs
    assert hubs["fixed_cost"].tolist() == [200, 400]
    assert hubs["opening_cost"].tolist() == [20, 40]
    assert hubs["closing_cost"].tolist() == [8, 16]
    assert hubs["handling_cost"].tolist() == [6, 9]
    assert after.tables.products["holding_cost"].tolist() == [0.5, 1.0]
    assert after.tables.supply["unit_cost"].tolist() == pytest.approx([5.5, 5.5])
    pd.testing.assert_frame_equal(base.tables.modes, after.tables.modes)
    pd.testing.assert_frame_equal(base.tables.demand, after.tables.demand)


def test_set_campaign_changes_only_the_named_fields(tmp_path: Path) -> None:
    """set_campaign changes the given fields of that campaign; tables are untouched."""
    base = load(tmp_path)
    after = load(tmp_path, [{"set_campaign": {"id": "sale", "delivery_window_hours": 24}}])
    old, new = base.config.campaigns[0], after.config.campaigns[0]
    assert new.delivery_window_hours == 24
    assert new.model_dump(exclude={"delivery_window_hours"}) == old.model_dump(
        exclude={"delivery_window_hours"}
    )
    unchanged_except(base, after, "", set())


def test_add_campaign_appends_a_campaign(tmp_path: Path) -> None:
    """add_campaign appends a validated campaign and keeps the others."""
    base = load(tmp_path)
    new = {
        "id": "launch",
        "regions": {"sido": ["Seoul"]},
        "products": ["Q"],
        "periods": [1],
        "uplift": 2.0,
    }
    after = load(tmp_path, [{"add_campaign": new}])
    assert [c.id for c in after.config.campaigns] == ["sale", "launch"]
    assert after.config.campaigns[0] == base.config.campaigns[0]
    assert after.config.campaigns[1].uplift == 2.0


def test_whatifs_apply_in_order(tmp_path: Path) -> None:
    """Two operations on the same rows compose in the order written."""
    after = load(
        tmp_path,
        [
            {"scale_demand": {"regions": ["R1"], "factor": 2}},
            {"scale_demand": {"regions": ["R1"], "factor": 1.5}},
        ],
    )
    r1 = after.tables.demand["region_id"] == "R1"
    assert after.tables.demand.loc[r1, "quantity"].eq(30.0).all()


@pytest.mark.parametrize(
    ("whatif", "needle"),
    [
        ({"close_hubs": ["H9"]}, "'H9'"),
        ({"scale_cost": {"transport": {"SHIP": 2}}}, "'SHIP'"),
        ({"set_campaign": {"id": "sael", "uplift": 2}}, "Did you mean 'sale'"),
        ({"set_campaign": {"id": "sale", "uplfit": 2}}, "Did you mean 'uplift'"),
        ({"add_campaign": {"id": "sale"}}, "Use set_campaign"),
        ({"scale_demand": {"factor": -1}}, "scale_demand.factor"),
        ({"scale_capacity": {"hubs": ["H1"]}}, "throughput"),
        ({"close_hubs": ["H1"], "open_hubs": ["H2"]}, "exactly one operation"),
        ({"set_campaign": {"id": "sale", "service_level": 1.5}},
         "whatif[0].set_campaign.service_level: expected less than or equal to 1; found 1.5."),
    ],
    ids=["unknown-hub", "unknown-mode", "unknown-campaign", "unknown-field", "existing-id",
         "negative-factor", "no-capacity-factor", "two-operations", "service-level-limit"],
)  # fmt: skip
def test_bad_whatifs_are_scenario_errors(
    tmp_path: Path, whatif: dict[str, Any], needle: str
) -> None:
    """A bad what-if is an input error naming the operation and the fix."""
    with pytest.raises(ScenarioError) as info:
        load(tmp_path, [whatif])
    assert needle in str(info.value)
    assert "pydantic.dev" not in str(info.value)  # the limit, not a link to it


def test_shift_channel_moves_a_share_into_the_other_channel(tmp_path: Path) -> None:
    """shift_channel 0.25 of R1's parcel demand to store: R1 parcel 10 -> 7.5 (std 0.75);
    R1 store 10 + 2.5 = 12.5 with std sqrt(1 + 0.25^2); R2 and the totals unchanged."""
    base = load(tmp_path)
    after = load(
        tmp_path,
        [
            {
                "shift_channel": {
                    "regions": {"sido": ["Seoul"]},
                    "from_channel": "parcel",
                    "to_channel": "store",
                    "share": 0.25,
                }
            }
        ],
    )
    key = ["region_id", "product_id", "period", "channel"]
    d = after.tables.demand.set_index(key)
    assert d.at[("R1", "P", 1, "parcel"), "quantity"] == pytest.approx(7.5)
    assert d.at[("R1", "P", 1, "parcel"), "std"] == pytest.approx(0.75)
    assert d.at[("R1", "P", 1, "store"), "quantity"] == pytest.approx(12.5)
    assert d.at[("R1", "P", 1, "store"), "std"] == pytest.approx((1 + 0.25**2) ** 0.5)
    assert d.at[("R2", "P", 1, "parcel"), "quantity"] == pytest.approx(20)
    assert after.tables.demand["quantity"].sum() == pytest.approx(
        base.tables.demand["quantity"].sum()
    )


def test_shift_channel_unknown_channel_is_refused(tmp_path: Path) -> None:
    """A shift to a channel the channels table does not list names the key and the id."""
    with pytest.raises(ScenarioError, match="from_channel/to_channel"):
        load(
            tmp_path,
            [{"shift_channel": {"from_channel": "parcel", "to_channel": "lockr", "share": 0.5}}],
        )
