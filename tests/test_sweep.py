"""Sweeps: a sweep file expands to the right scenarios, with readable names; bad paths are errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import write_scenario

from hubopt.errors import ScenarioError
from hubopt.scenario.sweep import format_value, is_sweep_file, load_point, load_sweep

REPO = Path(__file__).parents[1]
TABLES = {
    "hubs": [{"hub_id": "H1", "lat": 37.5, "lon": 127.0, "fixed_cost": 10}],
    "regions": [{"region_id": "R1", "lat": 37.6, "lon": 127.1}],
    "products": [{"product_id": "P"}, {"product_id": "Q"}],
    "demand": [
        {"region_id": "R1", "product_id": p, "period": 1, "quantity": 5} for p in ("P", "Q")
    ],
}
CAMPAIGNS = [
    {"id": "sale", "products": ["P"], "uplift": 1.8, "delivery_window_hours": 48},
    {"id": "launch", "products": ["Q"], "uplift": 1.0, "delivery_window_hours": 12},
]


def write_sweep(tmp_path: Path, sweep: dict[str, Any], **blocks: Any) -> Path:
    """A base scenario ``base/base.yaml`` and ``sweep.yaml`` (in another folder) over it."""
    write_scenario(
        tmp_path / "base",
        TABLES,
        name="tiny",
        filename="base.yaml",
        campaigns=CAMPAIGNS,
        output={"dir": "out/tiny"},
        **blocks,
    )
    path = tmp_path / "sweeps" / "sweep.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        yaml.safe_dump({"sweep": {"base": "../base/base.yaml", **sweep}}, sort_keys=False)
    )
    return path


def test_korea_sweep_file_expands_to_six_named_scenarios() -> None:
    """The shipped Korea sweep: 3 windows x 2 uplifts, named korea-small--window=..--uplift=.."""
    points = load_sweep(REPO / "scenarios" / "korea" / "sweep-window-uplift.yaml")
    assert [p.name for p in points] == [
        f"korea-small--window={w}--uplift={u}" for w in (24, 48, 72) for u in (1.8, 2.2)
    ]
    sale = [next(c for c in p.doc["campaigns"] if c["id"] == "winter-sale") for p in points]
    assert [(c["delivery_window_hours"], c["uplift"]) for c in sale] == [
        (w, u) for w in (24, 48, 72) for u in (1.8, 2.2)
    ]


def test_grid_times_zip_with_set_and_names(tmp_path: Path) -> None:
    """Grid is a cartesian product, zip goes row by row, set applies to every point."""
    path = write_sweep(
        tmp_path,
        {
            "grid": {"campaigns[id=sale].delivery_window_hours": [24, 48.0]},
            "zip": {"policy.carbon.price_per_t": [0, 100000], "solver.seed": [1, 2]},
            "set": {"policy.max_open_hubs": 1},
            "labels": {"policy.carbon.price_per_t": "carbon"},
        },
    )
    points = load_sweep(path)
    assert [p.name for p in points] == [
        "tiny--window=24--carbon=0--seed=1",
        "tiny--window=24--carbon=100000--seed=2",
        "tiny--window=48--carbon=0--seed=1",
        "tiny--window=48--carbon=100000--seed=2",
    ]
    assert points[1].params == {"window": 24, "carbon": 100000, "seed": 2}
    assert all(p.doc["policy"]["max_open_hubs"] == 1 for p in points)
    assert points[3].doc["policy"]["carbon"]["price_per_t"] == 100000
    assert points[3].doc["solver"]["seed"] == 2
    # each point gets its own output folder beside the base's
    assert Path(points[0].doc["output"]["dir"]).name == points[0].name


def test_point_loads_as_a_scenario_with_the_values_set(tmp_path: Path) -> None:
    """A point loads (tables found relative to the base) with the swept values in its config."""
    path = write_sweep(
        tmp_path,
        {"grid": {"campaigns[id=launch].uplift": [2.5], "whatif[0].scale_demand.factor": [3]}},
        whatif=[{"scale_demand": {"products": ["P"], "factor": 2}}],
    )
    (point,) = load_sweep(path)
    assert point.name == "tiny--uplift=2.5--factor=3"
    scenario = load_point(point)
    assert scenario.name == point.name
    assert scenario.config.campaigns[1].uplift == 2.5
    demand = scenario.tables.demand.set_index("product_id")["quantity"]
    assert demand["P"] == 15 and demand["Q"] == 5
    assert scenario.path == path.resolve()


def test_same_last_key_is_disambiguated_by_the_item_id(tmp_path: Path) -> None:
    """Two campaigns' uplifts get labels ``sale.uplift`` and ``launch.uplift``."""
    path = write_sweep(
        tmp_path,
        {"grid": {"campaigns[id=sale].uplift": [2], "campaigns[id=launch].uplift": [3]}},
    )
    assert load_sweep(path)[0].name == "tiny--sale.uplift=2--launch.uplift=3"


@pytest.mark.parametrize(
    ("sweep", "needle"),
    [
        ({"grid": {"campaigns[id=sale].windw": [1]}}, "Did you mean 'delivery_window_hours'"),
        ({"grid": {"campaigns[id=sale].delivery_windw_hours": [1]}}, "delivery_window_hours"),
        ({"grid": {"campaigns[id=nope].uplift": [1]}}, "Items there: sale, launch"),
        ({"grid": {"polcy.circuity": [1.3]}}, "Did you mean 'policy'"),
        ({"grid": {"policy[id=x].circuity": [1.3]}}, "a selector on a non-list key"),
        ({"grid": {"policy.circuity.x": [1.3]}}, "a plain value"),
        ({"grid": {"policy..circuity": [1.3]}}, "bad segment"),
        ({"zip": {"solver.seed": [1, 2], "policy.circuity": [1.3]}}, "equal lengths"),
        ({"grid": {"solver.seed": []}}, "at least one value"),
        ({}, "a 'grid' or a 'zip'"),
        ({"grid": {"solver.seed": [1]}, "labels": {"solver.threads": "t"}}, "labels"),
        ({"grid": {"solver.seed": [1]}, "gird": {}}, "gird"),
    ],
    ids=["unknown-field", "typo-field", "unknown-id", "unknown-block", "selector-on-block",
         "path-below-value", "empty-segment", "zip-lengths", "empty-values", "nothing-varied",
         "label-unknown-path", "unknown-key"],
)  # fmt: skip
def test_bad_sweeps_are_scenario_errors(tmp_path: Path, sweep: dict[str, Any], needle: str) -> None:
    """Every defect names the path and how to fix it."""
    with pytest.raises(ScenarioError) as info:
        load_sweep(write_sweep(tmp_path, sweep))
    assert needle in str(info.value)


def test_sweep_file_is_detected(tmp_path: Path) -> None:
    """is_sweep_file tells sweeps from scenarios."""
    path = write_sweep(tmp_path, {"grid": {"solver.seed": [1]}})
    assert is_sweep_file(path)
    assert not is_sweep_file(tmp_path / "base" / "base.yaml")


def test_bad_value_fails_when_the_point_loads(tmp_path: Path) -> None:
    """Values are validated like any scenario value, naming the point."""
    (point,) = load_sweep(write_sweep(tmp_path, {"grid": {"campaigns[id=sale].uplift": [-1]}}))
    with pytest.raises(ScenarioError) as info:
        load_point(point)
    assert "tiny--uplift=-1" in str(info.value) and "campaigns.0.uplift" in str(info.value)


@pytest.mark.parametrize(
    ("value", "text"),
    [(24.0, "24"), (2.2, "2.2"), (True, "true"), ([1, 2], "1+2"), ("fast", "fast")],
)
def test_format_value(value: Any, text: str) -> None:
    """Values print compactly in names."""
    assert format_value(value) == text
