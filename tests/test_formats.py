"""Tables read the same from CSV, Parquet and GeoPackage/GeoJSON (DESIGN §2)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from helpers import write_scenario
from shapely.geometry import box

from hubopt.api import solve
from hubopt.scenario.scenario import load_scenario

TABLES = {
    "hubs": [
        {"hub_id": "H1", "lat": 37.50, "lon": 127.00, "fixed_cost": 100, "throughput_capacity": 30},
        {"hub_id": "H2", "lat": 35.10, "lon": 129.00, "fixed_cost": 80},
    ],
    "regions": [
        {"region_id": "R1", "lat": 37.55, "lon": 127.05, "sido": "Seoul"},
        {"region_id": "R2", "lat": 35.15, "lon": 129.05, "sido": "Busan"},
    ],
    "products": [{"product_id": "P", "holding_cost": 1}],
    "modes": [{"mode_id": "van", "leg": "both", "cost_per_kg_km": 0.5, "speed_kmh": 50}],
    "demand": [
        {"region_id": "R1", "product_id": "P", "period": 1, "quantity": 20},
        {"region_id": "R2", "product_id": "P", "period": 1, "quantity": 15},
    ],
}


def test_parquet_and_geopackage_give_the_csv_answer(tmp_path: Path) -> None:
    """The same scenario from CSV, from Parquet with GeoPackage regions, and with GeoJSON
    regions (polygons: the representative point is used) reaches the same objective."""
    csv_path = write_scenario(tmp_path / "csv", TABLES)
    expected = solve(csv_path).objective
    alt = tmp_path / "alt"
    (alt / "data").mkdir(parents=True)
    data = {}
    for table, rows in TABLES.items():
        if table == "regions":
            continue
        pd.DataFrame(rows).to_parquet(alt / "data" / f"{table}.parquet", index=False)
        data[table] = f"data/{table}.parquet"
    regions = pd.DataFrame(TABLES["regions"])
    gdf = gpd.GeoDataFrame(
        regions,
        geometry=gpd.points_from_xy(regions["lon"], regions["lat"]).buffer(0.001),
        crs="EPSG:4326",
    )
    gdf.to_file(alt / "data" / "regions.gpkg", driver="GPKG")
    doc = yaml.safe_load(csv_path.read_text()) | {"data": data | {"regions": "data/regions.gpkg"}}
    (alt / "scenario.yaml").write_text(yaml.safe_dump(doc))
    assert solve(alt / "scenario.yaml").objective == pytest.approx(expected, rel=1e-6)
    # GeoJSON polygons without lat/lon columns: the point inside each polygon is used
    squares = gpd.GeoDataFrame(
        {"region_id": ["R1", "R2"], "sido": ["Seoul", "Busan"]},
        geometry=[
            box(127.0499, 37.5499, 127.0501, 37.5501),
            box(129.0499, 35.1499, 129.0501, 35.1501),
        ],
        crs="EPSG:4326",
    )
    squares.to_file(alt / "data" / "regions.geojson", driver="GeoJSON")
    doc["data"]["regions"] = "data/regions.geojson"
    (alt / "scenario.yaml").write_text(yaml.safe_dump(doc))
    scenario = load_scenario(alt / "scenario.yaml")
    assert scenario.tables.region_geometry is not None and len(scenario.tables.region_geometry) == 2
    assert solve(scenario).objective == pytest.approx(expected, rel=1e-4)
