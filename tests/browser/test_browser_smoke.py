"""The browser harness itself: folium pages built here load offline, and failures show."""

from __future__ import annotations

from pathlib import Path

import folium
import pytest
from folium import plugins

from . import assets
from .helpers import count_leaflet_layers, layer_control_names

pytestmark = pytest.mark.browser

XSS_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
XSS_LITERAL = "<img src=x onerror=alert(1)>"


def _square(lon: float, lat: float, name: str) -> dict:
    ring = [[lon, lat], [lon + 1, lat], [lon + 1, lat + 1], [lon, lat + 1], [lon, lat]]
    return {
        "type": "Feature",
        "properties": {"name": name},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def _smoke_map() -> folium.Map:
    fmap = folium.Map(location=[36.5, 127.5], zoom_start=6)
    regions = {"type": "FeatureCollection", "features": []}
    for i, name in enumerate(["Seoul", "Daejeon", "Busan"]):
        regions["features"].append(_square(125.5 + 1.5 * i, 34.5 + 1.2 * i, name))
    folium.GeoJson(regions, name="Regions", popup=folium.GeoJsonPopup(fields=["name"])).add_to(fmap)
    demand = folium.FeatureGroup(name="Demand").add_to(fmap)
    for lat, lon in [(35.0, 129.0), (35.5, 129.2), (37.0, 128.8), (37.5, 129.1)]:
        folium.CircleMarker([lat, lon], radius=6, popup=f"demand {lat}").add_to(demand)
    hubs = folium.FeatureGroup(name="Hubs").add_to(fmap)
    folium.Marker(
        [38.3, 126.0], popup=folium.Popup(XSS_ESCAPED), icon=folium.Icon(color="red", icon="star")
    ).add_to(hubs)
    folium.Marker(
        [34.0, 128.5], popup="hub B", icon=folium.Icon(icon="warehouse", prefix="fa")
    ).add_to(hubs)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


@pytest.fixture
def smoke_page(open_page, tmp_path: Path):
    path = tmp_path / "map.html"
    _smoke_map().save(path)
    return open_page(path)


def test_folium_map_renders_offline_without_errors(smoke_page) -> None:
    """A folium map with polygons, circle markers, markers and a layer control renders."""
    page = smoke_page.page
    assert smoke_page.errors == []
    assert count_leaflet_layers(page) == {
        "maps": 1,
        "polygons": 3,
        "polylines": 0,
        "circles": 0,
        "circle_markers": 4,
        "markers": 2,
    }
    assert page.locator("path.leaflet-interactive").count() == 3 + 4
    assert page.locator(".leaflet-marker-pane .awesome-marker").count() == 2
    assert page.locator("img.leaflet-tile-loaded").count() > 0
    assert {"Regions", "Demand", "Hubs"} <= set(layer_control_names(page))
    served = "\n".join(smoke_page.served_assets)
    assert "fontawesome-free@6.2.0/webfonts/fa-solid-900.woff2" in served
    assert "bootstrap/3.0.0/fonts/glyphicons-halflings-regular.woff2" in served
    assert "Leaflet.awesome-markers/2.0.2/images/markers-soft.png" in served
    assert smoke_page.screenshot("smoke_map").stat().st_size > 0
    page.locator("path.leaflet-interactive").first.click()
    assert "Seoul" in page.locator(".leaflet-popup-content").inner_text()
    assert smoke_page.errors == []


def test_escaped_popup_html_shows_text_and_runs_nothing(smoke_page) -> None:
    """An HTML-escaped popup shows the markup as text: no img element, no alert."""
    page = smoke_page.page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.locator(".leaflet-marker-pane .awesome-marker-icon-red").click()
    content = page.locator(".leaflet-popup-content")
    content.wait_for(state="visible")
    assert content.inner_text().strip() == XSS_LITERAL
    assert content.locator("img").count() == 0
    page.wait_for_timeout(200)
    assert dialogs == []
    assert smoke_page.errors == []


def test_dual_map_loads_both_panes(open_page, tmp_path: Path) -> None:
    """A DualMap page (Leaflet.Sync) loads without errors and shows two synced maps."""
    dual = plugins.DualMap(location=[36.5, 127.5], zoom_start=6)
    folium.Marker([37.5, 127.0]).add_to(dual.m1)
    folium.CircleMarker([35.1, 129.0]).add_to(dual.m2)
    path = tmp_path / "dual.html"
    dual.save(path)
    check = open_page(path)
    assert check.errors == []
    assert check.page.locator(".leaflet-container").count() == 2
    counts = count_leaflet_layers(check.page)
    assert (counts["maps"], counts["markers"], counts["circle_markers"]) == (2, 1, 1)
    assert check.page.evaluate("typeof L.Map.prototype.sync") == "function"


def test_report_iframe_map_loads_and_is_counted(open_page, tmp_path: Path) -> None:
    """A report that embeds map.html in an iframe loads it; helpers see into the frame."""
    _smoke_map().save(tmp_path / "map.html")
    report = tmp_path / "report.html"
    report.write_text('<html><body><iframe src="map.html" width="800" height="600"></iframe>')
    check = open_page(report)
    assert check.errors == []
    assert count_leaflet_layers(check.page)["polygons"] == 3
    assert {"Regions", "Hubs"} <= set(layer_control_names(check.page))


def test_harness_records_script_errors_and_external_requests(open_page, tmp_path: Path) -> None:
    """A thrown error, an unknown external URL and an unmapped CDN URL all become errors."""
    path = tmp_path / "broken.html"
    path.write_text(
        "<html><body>"
        '<script>throw new Error("boom")</script>'
        '<script src="https://example.invalid/tracker.js"></script>'
        '<script src="https://cdn.jsdelivr.net/npm/leaflet@0.0.1/dist/leaflet.js"></script>'
        "</body></html>"
    )
    errors = open_page(path).errors
    assert any("boom" in e for e in errors), errors
    assert any("blocked external request: https://example.invalid/tracker.js" in e for e in errors)
    assert any("unmapped CDN asset" in e and "leaflet@0.0.1" in e for e in errors), errors


def test_harness_records_errors_inside_iframes(open_page, tmp_path: Path) -> None:
    """A missing iframe target and an error thrown inside an iframe are recorded."""
    (tmp_path / "inner.html").write_text('<script>throw new Error("inner boom")</script>')
    report = tmp_path / "report.html"
    report.write_text('<iframe src="inner.html"></iframe><iframe src="missing.html"></iframe>')
    errors = open_page(report).errors
    assert any("inner boom" in e for e in errors), errors
    assert any("HTTP 404" in e and "missing.html" in e for e in errors), errors


def test_every_supported_cdn_url_resolves_to_a_cached_file() -> None:
    """Folium's default and supported plugin CDN URLs all map to files in the cache."""
    for url in assets.supported_urls():
        assert assets.resolve(url).is_file(), url


@pytest.mark.parametrize(
    "url",
    [
        "https://cdnjs.cloudflare.com/ajax/libs/some-new-lib/1.0.0/lib.js",
        "https://cdn.jsdelivr.net/gh/someone/SomeRepo/file.js",
        "https://netdna.bootstrapcdn.com/bootstrap/3.3.7/css/bootstrap-glyphicons.css",
        "https://code.jquery.com/jquery-latest.js",
    ],
)
def test_unknown_cdn_url_raises_naming_it(url: str) -> None:
    """A CDN URL no rule covers raises UnmappedAssetError that names the URL."""
    with pytest.raises(assets.UnmappedAssetError, match="No local asset mapping"):
        assets.locate(url)
