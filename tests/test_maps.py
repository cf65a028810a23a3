"""The plan map (hubopt.maps): layers, counts, legend, attribution and HTML escaping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import folium
import pytest
import yaml

from hubopt.api import Result, solve
from hubopt.maps import GENERIC_ATTRIBUTION, Legend, plan_map

XSS = "<img src=x onerror=alert(1)>"
XSS_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"

# Three square regions: Seoul-like and Daejeon-like near hub H1, Busan-like far from it.
REGIONS = [
    ("R1", "Jongno-gu", "종로구", "Seoul", 150_000, 37.5, 126.9),
    ("R2", "Daedeok-gu", "대덕구", "Daejeon", 170_000, 36.3, 127.3),
    ("R3", "Haeundae-gu", "해운대구", "Busan", 400_000, 35.1, 129.0),
]


def _square(lat: float, lon: float, size: float = 0.2) -> list[list[list[float]]]:
    return [
        [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    ]


def write_tiny_scenario(folder: Path, xss: bool = False, geometry: bool = True) -> Path:
    """A 3-region, 3-hub, 1-source, 2-product, 2-period scenario; return its YAML path.

    With ``xss`` the region R2, its province, hub H1 and the campaign carry a malicious
    name. H1 opens (cheap, near R1/R2); H2 and H3 are too expensive and stay closed.
    """
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    regions = []
    for region_id, name, name_ko, sido, population, lat, lon in REGIONS:
        bad = xss and region_id == "R2"
        regions.append(
            {
                "region_id": region_id,
                "name": XSS if bad else name,
                "name_ko": XSS if bad else name_ko,
                "sido": XSS if bad else sido,
                "population": population,
                "lat": lat + 0.1,
                "lon": lon + 0.1,
                "square": _square(lat, lon),
            }
        )
    if geometry:
        features = [
            {
                "type": "Feature",
                "properties": {k: v for k, v in r.items() if k not in {"square", "lat", "lon"}},
                "geometry": {"type": "Polygon", "coordinates": r["square"]},
            }
            for r in regions
        ]
        (data / "regions.geojson").write_text(
            json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
        )
        regions_file = "data/regions.geojson"
    else:
        rows = [{k: v for k, v in r.items() if k != "square"} for r in regions]
        _csv(data / "regions.csv", rows)
        regions_file = "data/regions.csv"
    _csv(
        data / "hubs.csv",
        [
            {
                "hub_id": "H1",
                "name": XSS if xss else "Daejeon hub",
                "name_ko": "대전 허브",
                "lat": 37.0,
                "lon": 127.2,
                "fixed_cost": 1000,
                "throughput_capacity": 1000,
            },
            {
                "hub_id": "H2",
                "name": "Busan hub",
                "name_ko": "부산 허브",
                "lat": 35.2,
                "lon": 128.9,
                "fixed_cost": 1e9,
                "throughput_capacity": 1000,
            },
            {
                "hub_id": "H3",
                "name": "Gangneung hub",
                "name_ko": "강릉 허브",
                "lat": 37.75,
                "lon": 128.9,
                "fixed_cost": 1e9,
                "throughput_capacity": 1000,
            },
        ],
    )
    _csv(
        data / "sources.csv",
        [{"source_id": "S1", "name": "Incheon port", "lat": 37.35, "lon": 126.6}],
    )
    _csv(
        data / "supply.csv",
        [{"source_id": "S1", "product_id": p, "unit_cost": 10} for p in ("P1", "P2")],
    )
    _csv(
        data / "products.csv",
        [
            {"product_id": "P1", "name": "Padded jacket", "unit_volume": 0.02, "unit_margin": 500},
            {"product_id": "P2", "name": "Mini heater", "unit_volume": 0.03, "unit_margin": 300},
        ],
    )
    demand = [
        {"region_id": r[0], "product_id": p, "period": t, "quantity": q}
        for r, q in zip(REGIONS, (100, 60, 30), strict=True)
        for p in ("P1", "P2")
        for t in (1, 2)
    ]
    _csv(data / "demand.csv", demand)
    _csv(
        data / "modes.csv",
        [
            {
                "mode_id": "PARCEL",
                "leg": "both",
                "cost_per_kg": 1,
                "cost_per_kg_km": 0.01,
                "speed_kmh": 25,
                "handling_hours": 8,
            }
        ],
    )
    doc: dict[str, Any] = {
        "name": "tiny-map",
        "description": "Three regions, three hubs.",
        "data": {
            "regions": regions_file,
            "hubs": "data/hubs.csv",
            "sources": "data/sources.csv",
            "supply": "data/supply.csv",
            "products": "data/products.csv",
            "demand": "data/demand.csv",
            "modes": "data/modes.csv",
        },
        "campaigns": [
            {
                "id": "promo",
                "name": XSS if xss else "Spring promo",
                "regions": ["R1", "R2"],
                "products": ["P1"],
                "periods": [1, 2],
                "uplift": 1.5,
                "delivery_window_hours": 48,
                "service_level": 0.9,
                "spend": 20000,
            }
        ],
        "policy": {"default_delivery_window_hours": 72},
        "solver": {"mip_gap": 0.0, "time_limit_s": 60},
    }
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    import pandas as pd

    pd.DataFrame(rows).to_csv(path, index=False)


def solve_tiny(folder: Path, xss: bool = False, geometry: bool = True) -> Result:
    """Solve the tiny scenario; it must be optimal and verified."""
    result = solve(write_tiny_scenario(folder, xss=xss, geometry=geometry))
    assert result.solution is not None and result.verification is not None
    assert result.verification.ok
    return result


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Result:
    return solve_tiny(tmp_path_factory.mktemp("tiny"))


def _layers(fmap: folium.Map) -> dict[str, Any]:
    return {
        child.layer_name: child for child in fmap._children.values() if hasattr(child, "layer_name")
    }


def test_tiny_plan_opens_only_the_cheap_hub(tiny: Result) -> None:
    """The fixture plan is what the map tests assume: H1 open, H2/H3 closed, two tiers."""
    assert tiny.solution is not None
    hubs = tiny.solution.hubs
    assert set(hubs.loc[hubs["open"] > 0, "hub_id"]) == {"H1"}
    tiers = dict(zip(tiny.kpis.regions["region_id"], tiny.kpis.regions["tier"], strict=True))
    assert tiers == {"R1": "12h", "R2": "12h", "R3": "24h"}


def test_region_layers_hold_one_polygon_per_region(tiny: Result) -> None:
    """Both region layers carry every region once; only the tier layer is shown."""
    layers = _layers(plan_map(tiny))
    tier, on_time = layers["Regions: delivery promise"], layers["Regions: on-time rate"]
    for layer in (tier, on_time):
        assert isinstance(layer, folium.GeoJson)
        assert len(layer.data["features"]) == len(REGIONS)
        assert {f["geometry"]["type"] for f in layer.data["features"]} <= {
            "Polygon",
            "MultiPolygon",
        }
    assert tier.show and not on_time.show


def test_color_by_on_time_shows_that_layer_first(tiny: Result) -> None:
    """``color_by='on_time'`` shows the on-time layer and hides the tier layer."""
    layers = _layers(plan_map(tiny, color_by="on_time"))
    assert layers["Regions: on-time rate"].show
    assert not layers["Regions: delivery promise"].show


def test_bad_color_by_is_rejected(tiny: Result) -> None:
    """An unknown colouring raises one clear message naming the parameter."""
    with pytest.raises(ValueError, match="'color_by' parameter of plan_map"):
        plan_map(tiny, color_by="profit")


def test_every_hub_has_one_marker(tiny: Result) -> None:
    """Open and candidate hub groups together hold one circle marker per hub."""
    layers = _layers(plan_map(tiny))
    opened = [
        c for c in layers["Hubs: open"]._children.values() if isinstance(c, folium.CircleMarker)
    ]
    closed = [
        c
        for c in layers["Hubs: candidate, not opened"]._children.values()
        if isinstance(c, folium.CircleMarker)
    ]
    assert len(opened) == 1 and len(closed) == 2
    assert len(opened) + len(closed) == len(tiny.problem.hubs)
    assert opened[0].options["radius"] > closed[0].options["radius"]


def test_layer_names_legend_and_control(tiny: Result) -> None:
    """Flows (all, per product, per period), campaigns, hubs, legend and layer control exist."""
    fmap = plan_map(tiny)
    names = set(_layers(fmap))
    expected = {
        "Regions: delivery promise",
        "Regions: on-time rate",
        "Campaign area: Spring promo",
        "Flows: source → hub",
        "Flows: hub → region, all",
        "Flows: Padded jacket",
        "Flows: Mini heater",
        "Flows: period 1",
        "Flows: period 2",
        "Hubs: open",
        "Hubs: candidate, not opened",
        "Sources",
    }
    assert expected <= names
    children = list(fmap._children.values())
    assert any(isinstance(c, folium.LayerControl) for c in children)
    assert any(isinstance(c, Legend) for c in children)
    shown = {n for n, layer in _layers(fmap).items() if layer.show}
    assert "Flows: Padded jacket" not in shown and "Flows: period 1" not in shown
    html = fmap.get_root().render()
    assert "ho-legend" in html and "Delivery promise" in html and "utilisation" in html


def test_flow_lines_are_aggregated_and_capped(tiny: Result) -> None:
    """One line per hub→region pair in the 'all' group; ``max_flow_lines`` keeps the biggest."""
    assert tiny.solution is not None
    pairs = tiny.solution.flows.groupby(["hub_id", "region_id"])["quantity"].sum()
    layer = _layers(plan_map(tiny))["Flows: hub → region, all"]
    assert len(layer.data["features"]) == len(pairs)
    capped = _layers(plan_map(tiny, max_flow_lines=1))["Flows: hub → region, all"]
    assert len(capped.data["features"]) == 1
    assert capped.data["features"][0]["properties"]["q"] == f"{pairs.max():,.0f}"


def test_campaign_outline_covers_its_regions(tiny: Result) -> None:
    """The campaign layer is one outline whose bounds span exactly its regions (R1, R2)."""
    import shapely

    outline = _layers(plan_map(tiny))["Campaign area: Spring promo"]
    geom = shapely.geometry.shape(outline.data["features"][0]["geometry"])
    minx, miny, maxx, maxy = geom.bounds
    assert (round(miny, 3), round(maxy, 3)) == (36.3, 37.7)
    assert (round(minx, 3), round(maxx, 3)) == (126.9, 127.5)


def test_regions_without_geometry_become_circles(tmp_path: Path) -> None:
    """CSV regions (no polygons) are drawn as circles, one per region, sized by demand."""
    result = solve_tiny(tmp_path, geometry=False)
    layer = _layers(plan_map(result))["Regions: delivery promise"]
    circles = [c for c in layer._children.values() if isinstance(c, folium.CircleMarker)]
    assert len(circles) == len(REGIONS)
    radius = {c.location[0]: c.options["radius"] for c in circles}
    assert radius[37.6] > radius[35.2]  # R1 has more demand than R3


def test_attribution_from_sources_md_or_generic(tmp_path: Path) -> None:
    """A SOURCES.md beside the regions file supplies the attribution line; else generic."""
    result = solve_tiny(tmp_path)
    assert GENERIC_ATTRIBUTION in plan_map(result).get_root().render()
    (tmp_path / "data" / "SOURCES.md").write_text(
        'Suggested attribution line for the app/map:\n"Boundaries: Test Office <2024>."\n',
        encoding="utf-8",
    )
    html = plan_map(result).get_root().render()
    assert "Boundaries: Test Office \\u0026lt;2024\\u0026gt;." in html
    assert "Test Office <2024>" not in html
    assert "Custom line" in plan_map(result, attribution="Custom line").get_root().render()


def test_data_names_are_escaped_in_the_page(tmp_path: Path) -> None:
    """Malicious hub, region, province and campaign names appear escaped, never raw."""
    result = solve_tiny(tmp_path, xss=True)
    html = plan_map(result).get_root().render()
    assert XSS_ESCAPED in html  # hub popup and tooltip HTML
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in html  # JSON: names, layers
    assert "<img src=x" not in html
    assert "\\u003cimg" not in html.lower()  # a raw name inside JSON would be unescaped markup
    layers = _layers(plan_map(result))
    assert f"Campaign area: {XSS_ESCAPED}" in layers
