"""Infeasible scenarios are explained in the planner's terms (hubopt.diagnose).

Each case is a tiny scenario with one cause of infeasibility; the diagnosis must name
the campaign, region, hub, source or period and the number that has to change.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from helpers import write_scenario

from hubopt.api import solve
from hubopt.data.problem import build_problem
from hubopt.diagnose import iis_row_families
from hubopt.model.build import build_model
from hubopt.scenario.scenario import load_scenario
from hubopt.solvers import SolveStatus

REPO = Path(__file__).parents[1]
KOREA_SMALL = REPO / "scenarios" / "korea" / "korea-small.yaml"


def _tables(**changes: Any) -> dict[str, list[dict[str, Any]]]:
    """Two hubs (Seoul, Busan), three regions, one product that must be delivered."""
    tables: dict[str, list[dict[str, Any]]] = {
        "hubs": [
            {"hub_id": "H-SEOUL", "lat": 37.55, "lon": 127.0, "fixed_cost": 10},
            {"hub_id": "H-BUSAN", "lat": 35.15, "lon": 129.05, "fixed_cost": 10},
        ],
        "regions": [
            {"region_id": "11010", "name": "Jongno-gu", "lat": 37.57, "lon": 126.98},
            {"region_id": "26110", "name": "Jung-gu", "lat": 35.10, "lon": 129.03},
            {"region_id": "50110", "name": "Jeju-si", "lat": 33.50, "lon": 126.53},
        ],
        "products": [{"product_id": "JACKET", "unit_volume": 1.0}],
        "demand": [
            {"region_id": r, "product_id": "JACKET", "period": 1, "quantity": 100}
            for r in ("11010", "26110", "50110")
        ],
        "modes": [{"mode_id": "ROAD", "leg": "both", "speed_kmh": 60, "co2_g_per_tkm": 100}],
    }
    tables.update(changes)
    return tables


def _diagnose(tmp_path: Path, tables: dict[str, Any], **blocks: Any) -> list[str]:
    path = write_scenario(tmp_path, tables, **blocks)
    result = solve(path)
    assert result.status == SolveStatus.INFEASIBLE, result.status
    assert result.solution is None
    return result.diagnosis


def _text(reasons: list[str]) -> str:
    return "\n".join(reasons)


def test_impossible_window_names_region_and_fastest_lane(tmp_path: Path) -> None:
    """A region no hub reaches within the window: region, window and fastest lane are named."""
    reasons = _diagnose(
        tmp_path,
        _tables(),
        campaigns=[{"id": "launch", "regions": ["50110"], "delivery_window_hours": 2}],
    )
    text = _text(reasons)
    assert "campaign `launch`: 100 units in region 50110 (Jeju-si) cannot arrive within 2 h" in text
    assert "the fastest lane is H-BUSAN by ROAD at" in text
    assert "Cross-check (HiGHS" in text and "demand" in text


def test_campaign_service_level_names_the_shortfall(tmp_path: Path) -> None:
    """With a lost-sale penalty the demand may go unmet, but the service level cannot be met."""
    products = [{"product_id": "JACKET", "lost_sale_penalty": 50}]
    reasons = _diagnose(
        tmp_path,
        _tables(products=products),
        campaigns=[
            {
                "id": "launch",
                "regions": ["50110", "11010"],
                "delivery_window_hours": 3,
                "service_level": 0.9,
            }
        ],
    )
    text = _text(reasons)
    assert "campaign `launch`: service level 90% needs 180 of its 200 units on time" in text
    assert "at most 100 can be" in text
    assert "region 50110 (Jeju-si)" in text


def test_capacity_shortfall_names_hubs_and_period(tmp_path: Path) -> None:
    """Demand above every hub's throughput: the period total and the capacity to add."""
    hubs = _tables()["hubs"]
    for hub in hubs:
        hub["throughput_capacity"] = 120
    reasons = _diagnose(tmp_path, _tables(hubs=hubs))
    text = _text(reasons)
    assert "period 1: demand that must be met is 300 m³, above the throughput capacity" in text
    assert "(240 m³)" in text
    assert "m³ more throughput capacity" in text


def test_max_open_hubs_against_forced_open(tmp_path: Path) -> None:
    """Two forced-open hubs and max_open_hubs 1: the hub limit is what has to change."""
    hubs = _tables()["hubs"]
    for hub in hubs:
        hub["status"] = "forced_open"
    reasons = _diagnose(tmp_path, _tables(hubs=hubs), policy={"max_open_hubs": 1})
    text = _text(reasons)
    assert "period 1: policy.max_open_hubs is 1 but the plan needs 2 open hubs." in text
    assert "LP relaxation" in text  # the IIS cross-check ran


def test_min_open_hubs_above_hubs_available(tmp_path: Path) -> None:
    """min_open_hubs above the number of hubs: the count limit is named."""
    reasons = _diagnose(tmp_path, _tables(), policy={"min_open_hubs": 3})
    assert "policy.min_open_hubs is 3 but only 2 hubs can be open" in _text(reasons)


def test_forced_closed_hub_is_the_cheapest_relaxation(tmp_path: Path) -> None:
    """The only hub is closed by a what-if: reopening it beats dropping demand."""
    tables = _tables(hubs=_tables()["hubs"][:1])
    reasons = _diagnose(tmp_path, tables, whatif=[{"close_hubs": ["H-SEOUL"]}])
    text = _text(reasons)
    assert "hub H-SEOUL is forced_closed" in text
    assert "needs it open in period(s) 1" in text


def test_supply_shortfall_names_source_and_product(tmp_path: Path) -> None:
    """A source that cannot supply enough: source, product, period and amount."""
    tables = _tables(
        sources=[{"source_id": "PORT-BUSAN", "lat": 35.1, "lon": 129.0}],
        supply=[{"source_id": "PORT-BUSAN", "product_id": "JACKET", "capacity": 250}],
    )
    reasons = _diagnose(tmp_path, tables)
    assert "period 1: source PORT-BUSAN is short of 50 units of JACKET" in _text(reasons)


def test_carbon_cap_names_the_lowest_emissions(tmp_path: Path) -> None:
    """A carbon cap of zero with road transport: the cap and the least CO2 possible."""
    reasons = _diagnose(tmp_path, _tables(), policy={"carbon": {"cap_t": 0.0}})
    text = _text(reasons)
    assert "policy.carbon.cap_t is 0 t CO2 but the lowest-emission plan emits" in text


def test_iis_lists_row_families(tmp_path: Path) -> None:
    """HiGHS's IIS of an infeasible LP relaxation names model row families."""
    path = write_scenario(
        tmp_path,
        _tables(),
        campaigns=[{"id": "c", "regions": ["50110"], "delivery_window_hours": 1}],
    )
    problem = build_problem(load_scenario(path))
    families = iis_row_families(build_model(problem))
    assert families == ["demand"]


def test_cli_exit_3_with_diagnosis_in_json_and_run_folder(tmp_path: Path) -> None:
    """`hubopt solve --json` exits 3, prints the diagnosis and writes diagnosis.json."""
    path = write_scenario(
        tmp_path / "s",
        _tables(),
        campaigns=[{"id": "launch", "regions": ["50110"], "delivery_window_hours": 2}],
    )
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "hubopt.cli", "solve", str(path), "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["status"] == "infeasible"
    assert any("region 50110 (Jeju-si)" in r for r in payload["diagnosis"])
    written = json.loads((out / "diagnosis.json").read_text(encoding="utf-8"))
    assert written["reasons"] == payload["diagnosis"]
    assert "Traceback" not in proc.stderr


def test_korea_small_impossible_launch_window(tmp_path: Path) -> None:
    """Korea, launch window 2 h, no late penalty, sneaker without lost-sale penalty."""
    products = (REPO / "scenarios/korea/data-small/products.csv").read_text(encoding="utf-8")
    (tmp_path / "products.csv").write_text(products.replace(",131800,", ",,"), encoding="utf-8")
    (tmp_path / "s.yaml").write_text(
        f"extends: {KOREA_SMALL}\nname: korea-small-2h-launch\n"
        "data: {products: products.csv}\n"
        "policy: {late_penalty_per_unit: null}\n"
        "whatif:\n  - set_campaign: {id: ltd-launch, delivery_window_hours: 2}\n",
        encoding="utf-8",
    )
    result = solve(tmp_path / "s.yaml")
    assert result.status == SolveStatus.INFEASIBLE
    text = _text(result.diagnosis)
    assert "campaign `ltd-launch`:" in text
    assert "cannot arrive within 2 h from any allowed hub; the fastest lane is H-" in text
    assert "service level 90%" in text


def test_feasible_scenarios_get_no_diagnosis(tmp_path: Path) -> None:
    """A feasible solve carries no diagnosis."""
    result = solve(write_scenario(tmp_path, _tables()))
    assert result.status == SolveStatus.OPTIMAL
    assert result.diagnosis == []


def test_volume_cause_is_not_also_blamed_on_windows(tmp_path: Path) -> None:
    """Seoul needs 100 m³ in 24 h; only H-NEAR (50 m³) reaches it in time, H-FAR (Busan) is
    40 h away. The elastic re-solve ships 50 units late from H-FAR (a window relaxation is
    cheaper than capacity), but the cause is H-NEAR's capacity: the diagnosis names it and
    does not claim the window cannot be met."""
    tables = {
        "hubs": [
            {
                "hub_id": "H-NEAR",
                "lat": 37.56,
                "lon": 126.99,
                "fixed_cost": 10,
                "throughput_capacity": 50,
            },
            {
                "hub_id": "H-FAR",
                "lat": 35.15,
                "lon": 129.05,
                "fixed_cost": 10,
                "throughput_capacity": 1000,
            },
        ],
        "regions": [
            {"region_id": "11010", "name": "Jongno-gu", "lat": 37.57, "lon": 126.98},
            {"region_id": "26110", "name": "Jung-gu", "lat": 35.10, "lon": 129.03},
        ],
        "products": [{"product_id": "JACKET", "unit_volume": 1.0}],
        "demand": [
            {"region_id": r, "product_id": "JACKET", "period": 1, "quantity": 100}
            for r in ("11010", "26110")
        ],
        "modes": [{"mode_id": "ROAD", "leg": "both", "speed_kmh": 10}],
        "channels": [{"channel_id": "parcel", "delivery_window_hours": 24}],
    }
    text = _text(_diagnose(tmp_path, tables))
    assert "can be delivered in time only from H-NEAR, whose throughput capacity is 50 m³" in text
    assert "cannot arrive within 24 h" not in text, text
    assert "follows from the capacity or supply shortfall" in text
