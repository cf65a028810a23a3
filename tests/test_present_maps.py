"""The plan map (hubopt.present.maps): layers, counts, legend, attribution and HTML escaping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import folium
import pytest
from helpers import REGIONS, XSS_ESCAPED, solve_tiny, solve_verified, write_omni_scenario

from hubopt.present.maps import GENERIC_ATTRIBUTION, Legend, plan_map
from hubopt.result import Result


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


def test_pickup_layer_marks_open_points_and_reach(tmp_path: Path) -> None:
    """The pickup layer has a marker per pickup point (Q open and sized, QF a closed grey
    dot) and a reach circle around the open one only."""
    result = solve_verified(write_omni_scenario(tmp_path), "highs")
    layer = _layers(plan_map(result))["Pickup points"]
    children = list(layer._children.values())
    markers = [c for c in children if isinstance(c, folium.CircleMarker)]
    circles = [c for c in children if type(c) is folium.Circle]
    assert len(markers) == 2 and len(circles) == 1
    tooltips = sorted(
        next(ch for ch in m._children.values() if isinstance(ch, folium.Tooltip)).text
        for m in markers
    )
    assert tooltips == ["Locker Q — pickup point", "Locker QF — pickup point (closed)"]
