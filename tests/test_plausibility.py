"""No silent wrong plans (issue 15): every realistic mistake of the issue's walk-through is
named by ``hubopt validate`` (and ``solve``) with the file, row or key and the fix, and
``--strict`` turns each warning into exit 2; correct scenarios raise no warning.

The base is ``tests/fixtures/plausible/nl``: 30 Dutch cities, 4 hubs, 2 sources, 3
products, a Sinterklaas campaign (valid, optimal, no warning). Each case copies it to
``tmp_path`` and makes one mistake; the real CLI runs on the copy.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import write_scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubopt.data.plausibility import check_coordinates, median_centre
from hubopt.data.problem import build_problem
from hubopt.diagnose.structural import collect_warnings
from hubopt.errors import did_you_mean, edit_distance, hint_text
from hubopt.runs import load_run
from hubopt.scenario.scenario import load_scenario

NL = Path(__file__).parent / "fixtures" / "plausible" / "nl"
REPO = Path(__file__).resolve().parents[1]


def _cli(*args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "hubopt.cli", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    payload = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return {"code": proc.returncode, "json": payload, "stderr": proc.stderr}


def _replace(folder: Path, file: str, old: str, new: str) -> None:
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, (file, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _yaml(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = folder / "scenario.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def _drop_lines(folder: Path, file: str, needle: str) -> None:
    path = folder / file
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(line for line in lines if needle not in line), encoding="utf-8")


def _set_column(folder: Path, file: str, column: str, value: object) -> None:
    path = folder / file
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame[column] = str(value)
    frame.to_csv(path, index=False)


def _no_late_penalty(doc: dict[str, Any]) -> None:
    del doc["policy"]["late_penalty_per_unit"]


def _launch_window_2h(doc: dict[str, Any]) -> None:
    doc["campaigns"][0]["delivery_window_hours"] = 2
    del doc["policy"]["late_penalty_per_unit"]


def _bounds(doc: dict[str, Any]) -> None:
    doc["bounds"] = {"south": 50.7, "west": 3.3, "north": 53.6, "east": 7.3}


# case -> (mistake, command, expected exit without --strict, expected substrings)
Mistake = Callable[[Path], None]
CASES: dict[str, tuple[Mistake, str, int, list[str]]] = {
    "hub_lat_lon_swapped": (
        lambda f: _replace(f, "data/hubs.csv", "51.56,5.09,9000", "5.09,51.56,9000"),
        "validate",
        0,
        [
            "data/hubs.csv, row 1 (hub 'H-TILBURG')",
            "Latitude and longitude look swapped",
            "Exchange the lat and lon values of this row.",
            " km from the median centre",
        ],
    ),
    "source_lat_lon_swapped": (
        lambda f: _replace(f, "data/sources.csv", "51.95,4.05", "4.05,51.95"),
        "validate",
        0,
        ["data/sources.csv, row 1 (source 'S-ROTTERDAM-PORT')", "look swapped"],
    ),
    "region_lat_lon_swapped": (
        lambda f: _replace(f, "data/regions.csv", "52.16,4.49,", "4.49,52.16,"),
        "validate",
        0,
        ["data/regions.csv, row 20 (region 'NL-LEI')", "look swapped"],
    ),
    "region_longitude_sign_lost": (
        lambda f: _replace(f, "data/regions.csv", "53.22,6.57,", "53.22,-6.57,"),
        "validate",
        0,
        ["data/regions.csv, row 7 (region 'NL-GRQ')", "sign of the longitude looks wrong"],
    ),
    "hub_outside_bounds": (
        lambda f: (
            _yaml(f, _bounds),
            _replace(f, "data/hubs.csv", "52.52,6.08,8000", "50.52,6.08,8000"),
        ),
        "validate",
        0,
        [
            "data/hubs.csv, row 3 (hub 'H-ZWOLLE')",
            "outside the box lat 50.7..53.6",
            "km from its edge",
        ],
    ),
    "product_without_supply_row": (
        lambda f: _drop_lines(f, "data/supply.csv", "CHOC-LETTER"),
        "validate",
        3,
        [
            "data/supply.csv",
            "CHOC-LETTER has demand in 30 region(s)",
            "but no supply row",
            "Add supply rows for CHOC-LETTER",
        ],
    ),
    "service_level_without_late_penalty": (
        lambda f: _yaml(f, _no_late_penalty),
        "validate",
        0,
        [
            "key 'campaigns.0.service_level' (campaign 'sinterklaas')",
            "service_level 90% has no effect",
            "Set policy.late_penalty_per_unit",
        ],
    ),
    "unit_volume_in_litres": (
        lambda f: _replace(f, "data/products.csv", "Stroopwafel tin,0.002", "Stroopwafel tin,2"),
        "validate",
        3,
        ["data/products.csv, column 'unit_volume'", "unit_volume looks like litres, not m³?"],
    ),
    "window_no_mode_can_meet": (
        lambda f: _yaml(f, _launch_window_2h),
        "validate",
        3,
        ["campaign `sinterklaas`", "cannot arrive within 2 h", "the fastest lane is"],
    ),
    "hub_capacity_short_in_a_period": (
        lambda f: _set_column(f, "data/hubs.csv", "throughput_capacity", 30),
        "validate",
        3,
        [
            "data/hubs.csv, column 'throughput_capacity'",
            "period 2: demand that must be met is 9",
            "above the throughput capacity of the 3 largest hubs allowed to open (90 m³)",
        ],
    ),
}
ERROR_CASES: dict[str, tuple[Mistake, list[str]]] = {
    "unquoted_decimal_comma": (
        lambda f: _replace(f, "data/products.csv", "0.001,0.2", "0,001,0.2"),
        [
            "Invalid data: 1 problem(s)",  # no blame on the tables that refer to products
            "data/products.csv, line 3 (row 2)",
            "expected 7 fields, as in the header; found 8 fields",
            "0,001 looks like a number with a decimal comma",
        ],
    ),
    "typo_in_region_id": (
        lambda f: _replace(f, "data/demand.csv", "NL-AMS,", "NL-AMD,"),
        [
            "data/demand.csv, row 1, column 'region_id'",
            "unknown id 'NL-AMD'",
            "Did you mean 'NL-AMF' or 'NL-AMS'?",
        ],
    ),
    "korea_style_swap_out_of_range": (
        lambda f: _replace(f, "data/hubs.csv", "51.56,5.09,9000", "127.0,37.5,9000"),
        ["column 'lat'", "Latitude and longitude look swapped"],
    ),
}


def _make(root: Path, name: str, mistake: Mistake) -> Path:
    folder = root / name
    shutil.copytree(NL, folder)
    mistake(folder)
    return folder / "scenario.yaml"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every mistake through `validate` and `validate --strict` (and errors through `solve`)."""
    root = tmp_path_factory.mktemp("mistakes")
    jobs: list[tuple[str, list[str]]] = []
    for name, (mistake, command, _, _) in CASES.items():
        path = str(_make(root, name, mistake))
        jobs += [(name, [command, path]), (f"{name}--strict", [command, path, "--strict"])]
    for name, (mistake, _) in ERROR_CASES.items():
        path = str(_make(root, name, mistake))
        jobs.append((name, ["solve", path, "--out", str(root / f"{name}-run")]))
    jobs.append(("base", ["validate", str(NL / "scenario.yaml"), "--strict"]))
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = pool.map(lambda job: (job[0], _cli(*job[1])), jobs)
        return dict(results)


def test_base_scenario_has_no_warning(runs: dict[str, dict[str, Any]]) -> None:
    """The correct Netherlands scenario passes validate --strict with no warning."""
    base = runs["base"]
    assert base["code"] == 0, base
    assert base["json"]["warnings"] == []


@pytest.mark.parametrize("case", [c for c in CASES if CASES[c][3]])
def test_mistake_is_named_with_its_fix(case: str, runs: dict[str, dict[str, Any]]) -> None:
    """The warning names the file, row/key and id and the likely fix; exit 0 (or 3 when the
    check proves the solve infeasible)."""
    _, _, code, expect = CASES[case]
    result = runs[case]
    assert result["code"] == code, (result["code"], result["json"], result["stderr"][-1500:])
    text = "\n".join(w["text"] for w in result["json"]["warnings"])
    for part in expect:
        assert part in text, f"{part!r} not in:\n{text}"


@pytest.mark.parametrize("case", [c for c in CASES if CASES[c][3]])
def test_strict_turns_the_warning_into_exit_2(case: str, runs: dict[str, dict[str, Any]]) -> None:
    """--strict refuses the scenario: exit 2, status invalid_input, the warning listed."""
    result = runs[f"{case}--strict"]
    assert result["code"] == 2, result
    assert result["json"]["status"] == "invalid_input"
    assert "Warnings refused in strict mode" in result["json"]["error"]
    assert result["json"]["warnings"], result["json"]
    for part in CASES[case][3][:1]:
        assert part in result["json"]["error"]


@pytest.mark.parametrize("case", ERROR_CASES)
def test_error_names_file_row_and_fix(case: str, runs: dict[str, dict[str, Any]]) -> None:
    """Mistakes that make the input unreadable are errors (exit 2) naming file, row and fix."""
    result = runs[case]
    assert result["code"] == 2, result
    for part in ERROR_CASES[case][1]:
        assert part in result["json"]["error"], f"{part!r} not in:\n{result['json']['error']}"


SHIPPED = sorted(
    p for p in (REPO / "scenarios").rglob("*.yaml") if "sweep:" not in p.read_text(encoding="utf-8")
)


def test_every_shipped_scenario_passes_validate_strict() -> None:
    """No false alarm: Korea (Jeju and Ulleung included) and every shipped scenario pass
    `hubopt validate --strict` with no warning."""
    assert any(p.name == "korea.yaml" for p in SHIPPED)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda p: (p, _cli("validate", str(p), "--strict")), SHIPPED))
    for path, result in results:
        assert result["code"] == 0, (path, result["json"].get("error"), result["stderr"][-500:])
        assert result["json"]["warnings"] == [], path


def test_korean_islands_are_inside_the_cloud() -> None:
    """Jeju (about 365 km) and Ulleung (about 310 km) are the farthest Korean sites from the
    median centre, yet within 3 typical distances (about 128 km); the limit is 5 (642 km)."""
    scenario = load_scenario(REPO / "scenarios" / "korea" / "korea.yaml")
    assert check_coordinates(scenario.tables, scenario.config) == []
    regions = scenario.tables.regions.set_index("region_id")
    centre = median_centre(
        np.concatenate(
            [scenario.tables.hubs["lat"], scenario.tables.sources["lat"], regions["lat"]]
        ),
        np.concatenate(
            [scenario.tables.hubs["lon"], scenario.tables.sources["lon"], regions["lon"]]
        ),
    )
    assert centre is not None
    from hubopt.geo import haversine_km

    jeju = float(haversine_km(regions.at["39020", "lat"], regions.at["39020", "lon"], *centre))
    ulleung = float(haversine_km(regions.at["37430", "lat"], regions.at["37430", "lon"], *centre))
    assert 330 < jeju < 400 and 280 < ulleung < 340, (jeju, ulleung)


def test_median_centre_works_across_the_antimeridian() -> None:
    """Fiji-like sites at lon 179 and -179 have their centre near lon 180, not 0."""
    centre = median_centre(
        np.array([-17.0, -17.5, -18.0, -16.8]), np.array([179.0, -179.5, 178.5, -179.0])
    )
    assert centre is not None
    assert abs(abs(centre[1]) - 180) < 1.5, centre


def test_edit_distance_ranks_the_one_letter_typo_first() -> None:
    """NL-AMD is one letter from NL-AMS, NL-AMF and NL-APD, two from NL-MDB; swaps count 1;
    keyboard neighbours rank first."""
    assert edit_distance("NL-AMD", "NL-AMS") == 1
    assert edit_distance("NL-AMD", "NL-MDB") == 2
    assert edit_distance("servcie", "service") == 1
    assert did_you_mean("NL-AMD", ["NL-MDB", "NL-AMS", "NL-RTM"]) == "NL-AMS"
    # D sits between S and F on the keyboard: those slips rank before P for M
    assert hint_text("NL-AMD", ["NL-APD", "NL-AMS", "NL-AMF", "NL-MDB"]) == (
        "Did you mean 'NL-AMF' or 'NL-AMS'?"
    )
    assert (
        did_you_mean("late_penalty", ["late_penalty_per_unit", "linking"])
        == "late_penalty_per_unit"
    )
    assert did_you_mean("xyz", ["NL-AMS"]) is None


def test_polygon_bounds_flag_a_site_outside(tmp_path: Path) -> None:
    """`bounds: {polygon: FILE}`: a hub moved to Belgium is outside the Dutch polygon."""
    folder = tmp_path / "nl"
    shutil.copytree(NL, folder)
    ring = [[3.3, 50.7], [7.3, 50.7], [7.3, 53.6], [3.3, 53.6], [3.3, 50.7]]
    polygon = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    (folder / "nl.geojson").write_text(json.dumps(polygon), encoding="utf-8")
    _yaml(folder, lambda doc: doc.update(bounds={"polygon": "nl.geojson"}))
    assert load_scenario(folder / "scenario.yaml").warnings == ()
    _replace(folder, "data/hubs.csv", "51.56,5.09,9000", "50.45,4.35,9000")  # Charleroi
    warnings = load_scenario(folder / "scenario.yaml").warnings
    assert [w.code for w in warnings] == ["coordinates_outside_bounds"]
    assert "hub 'H-TILBURG'" in warnings[0].where
    assert "outside the polygon of nl.geojson" in warnings[0].message
    assert " km from its edge" in warnings[0].message


@st.composite
def sane_scenarios(draw: st.DrawFn) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """A correct random scenario anywhere on Earth: sites in a box of 0.2-12 degrees, maybe
    one island off the coast, ample capacity and supply, windows every mode can meet."""
    lat0 = draw(st.floats(-55, 60))
    lon0 = draw(st.floats(-180, 180))
    size = draw(st.floats(0.2, 12))

    def point(island: bool = False) -> tuple[float, float]:
        if island:  # 1.2-1.6 half-diagonals from the centre: an island, not a mistake
            angle = draw(st.floats(0, 2 * np.pi))
            reach = draw(st.floats(1.2, 1.6)) * size / 2
            return lat0 + reach * np.sin(angle), lon0 + reach * np.cos(angle)
        return lat0 + draw(st.floats(-size / 2, size / 2)), lon0 + draw(
            st.floats(-size / 2, size / 2)
        )

    def wrap(lon: float) -> float:
        return (lon + 180) % 360 - 180

    n_hubs, n_regions, n_products = (
        draw(st.integers(2, 5)),
        draw(st.integers(3, 12)),
        draw(st.integers(1, 3)),
    )
    hubs = []
    for i in range(n_hubs):
        lat, lon = point()
        hubs.append(
            {
                "hub_id": f"H{i}",
                "lat": lat,
                "lon": wrap(lon),
                "fixed_cost": 100,
                "throughput_capacity": 1e6,
            }
        )
    regions = []
    island = draw(st.booleans())
    for j in range(n_regions):
        lat, lon = point(island=island and j == 0)
        regions.append({"region_id": f"R{j}", "lat": lat, "lon": wrap(lon)})
    products = [
        {
            "product_id": f"P{p}",
            "unit_volume": draw(st.sampled_from([0.001, 0.02, 0.1])),
            "unit_weight_kg": 1.0,
        }
        for p in range(n_products)
    ]
    demand = [
        {
            "region_id": f"R{j}",
            "product_id": f"P{p}",
            "period": t,
            "quantity": draw(st.integers(0, 500)),
        }
        for j in range(n_regions)
        for p in range(n_products)
        for t in (1, 2)
    ]
    tables: dict[str, list[dict[str, Any]]] = {
        "hubs": hubs,
        "regions": regions,
        "products": products,
        "demand": demand,
        "modes": [{"mode_id": "ROAD", "leg": "both", "speed_kmh": 60}],
    }
    if draw(st.booleans()):
        lat, lon = point()
        tables["sources"] = [{"source_id": "S0", "lat": lat, "lon": wrap(lon)}]
        tables["supply"] = [{"source_id": "S0", "product_id": f"P{p}"} for p in range(n_products)]
    blocks: dict[str, Any] = {"policy": {}}
    if draw(st.booleans()):
        blocks["policy"]["late_penalty_per_unit"] = 5
        blocks["campaigns"] = [
            {
                "id": "sale",
                "periods": [2],
                "uplift": 1.5,
                "delivery_window_hours": 5000,
                "service_level": 0.9,
            }
        ]
    return tables, blocks


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=sane_scenarios())
def test_random_correct_scenario_raises_no_warning(
    case: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    """No false alarm on a random correct scenario (any place on Earth, islands included)."""
    tables, blocks = case
    with tempfile.TemporaryDirectory() as folder:
        scenario = load_scenario(write_scenario(Path(folder), tables, **blocks))
        warnings = collect_warnings(scenario, build_problem(scenario))
    assert warnings == [], [str(w) for w in warnings]


def test_capacity_of_the_only_hubs_that_reach_a_region_in_time(tmp_path: Path) -> None:
    """Jeju can be reached within 24 h only from H-MOKPO (capacity 50 m³) while it needs 100
    m³: named although the network as a whole has 1 050 m³ for 300 m³ of demand."""
    tables = {
        "hubs": [
            {
                "hub_id": "H-SEOUL",
                "lat": 37.55,
                "lon": 127.0,
                "fixed_cost": 10,
                "throughput_capacity": 1000,
            },
            {
                "hub_id": "H-MOKPO",
                "lat": 34.8,
                "lon": 126.4,
                "fixed_cost": 10,
                "throughput_capacity": 50,
            },
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
        "modes": [{"mode_id": "ROAD", "leg": "both", "speed_kmh": 20}],
        "channels": [{"channel_id": "parcel", "delivery_window_hours": 24}],
    }
    scenario = load_scenario(write_scenario(tmp_path, tables))
    warnings = collect_warnings(scenario, build_problem(scenario))
    assert [w.code for w in warnings] == ["capacity_short"], [str(w) for w in warnings]
    text = str(warnings[0])
    assert "period 1: 100 m³ of demand that must be met in 1 region(s) (50110 (Jeju-si))" in text
    assert "can be delivered in time only from H-MOKPO, whose throughput capacity is 50 m³" in text
    assert warnings[0].blocking


def test_warnings_reach_json_manifest_and_report(tmp_path: Path) -> None:
    """A swapped hub: `solve --json` lists the warning, the run folder's manifest keeps it,
    the report shows it above the plan, and load_run reads it back."""
    folder = tmp_path / "nl"
    shutil.copytree(NL, folder)
    _replace(folder, "data/hubs.csv", "52.52,6.08,8000", "6.08,52.52,8000")
    _yaml(folder, lambda doc: doc.update(output={"map": False, "report": True}))
    out = tmp_path / "run"
    result = _cli("solve", str(folder / "scenario.yaml"), "--out", str(out))
    assert result["code"] == 0, result
    codes = [w["code"] for w in result["json"]["warnings"]]
    assert codes == ["coordinates_swapped"], result["json"]["warnings"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [w["code"] for w in manifest["warnings"]] == ["coordinates_swapped"]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="warnings"' in report and "hub &#39;H-ZWOLLE&#39;" in report
    assert [w.code for w in load_run(out).warnings] == ["coordinates_swapped"]


def test_scarce_supply_with_a_lost_sale_penalty_is_modelled_not_a_mistake(tmp_path: Path) -> None:
    """CHOC-LETTER with a lost_sale_penalty: no supply row at all is still named (sales will
    be lost, not blocking); a supply row of 100 units (below its demand) is a modelled
    scarcity, like a limited edition, and raises no warning."""
    folder = tmp_path / "nl"
    shutil.copytree(NL, folder)
    _replace(folder, "data/products.csv", "0.001,0.2,0.02,,4.0", "0.001,0.2,0.02,9,4.0")
    _drop_lines(folder, "data/supply.csv", "CHOC-LETTER")
    scenario = load_scenario(folder / "scenario.yaml")
    warnings = collect_warnings(scenario, build_problem(scenario))
    assert [(w.code, w.blocking) for w in warnings] == [("supply_missing", False)]
    assert "plan loses these sales" in warnings[0].fix
    supply = folder / "data" / "supply.csv"
    supply.write_text(supply.read_text() + "S-VENLO-DC,CHOC-LETTER,,100,0.9\n")
    scenario = load_scenario(folder / "scenario.yaml")
    assert collect_warnings(scenario, build_problem(scenario)) == []


def test_swapped_pickup_point_is_flagged() -> None:
    """A pickup point with lat and lon exchanged (Korea pickup variant) is named with the fix."""
    scenario = load_scenario(REPO / "scenarios" / "korea" / "whatif-pickup.yaml")
    assert not check_coordinates(scenario.tables, scenario.config)  # no false alarm
    points = scenario.tables.pickup_points.copy()
    lat, lon = float(points.at[0, "lat"]), float(points.at[0, "lon"])
    points.at[0, "lat"], points.at[0, "lon"] = lon, lat
    tables = dataclasses.replace(scenario.tables, pickup_points=points)
    warnings = [str(w) for w in check_coordinates(tables, scenario.config)]
    pid = str(points.loc[0, "pickup_id"])
    assert any(f"pickup point '{pid}'" in w and "look swapped" in w for w in warnings), warnings
