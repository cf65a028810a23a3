"""The pages people open (map.html, report.html) in headless Chromium, offline."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers import REGIONS, XSS, solve_tiny

from hubopt.api import solve
from hubopt.result import Result
from hubopt.runs import write_run

from .helpers import count_leaflet_layers, layer_control_names

pytestmark = pytest.mark.browser

REPO = Path(__file__).parents[2]
KOREA_SMALL = REPO / "scenarios" / "korea" / "korea-small.yaml"

# Opens the popup (and tooltip) of every region, hub and source layer whose popup or
# tooltip text mentions `needle`; returns how many it opened.
_OPEN_POPUPS_JS = """
(needle) => {
  let opened = 0;
  for (const name of Object.keys(window)) {
    const map = name.startsWith("map_") ? window[name] : null;
    if (!(map instanceof L.Map)) continue;
    map.eachLayer((layer) => {
      const popup = layer.getPopup && layer.getPopup();
      if (!popup) return;
      const content = String(popup.getContent());
      const tip = layer.getTooltip && layer.getTooltip();
      const tipText = tip ? String(tip.getContent()) : "";
      if (content.includes(needle) || tipText.includes(needle)) {
        layer.openPopup();
        opened += 1;
      }
    });
  }
  return opened;
}
"""


def _write_run(result: Result, folder: Path) -> Path:
    return write_run(result, folder, force=True)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-run")
    return _write_run(solve_tiny(folder / "scenario"), folder / "run")


@pytest.fixture(scope="module")
def xss_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("xss-run")
    return _write_run(solve_tiny(folder / "scenario", xss=True), folder / "run")


def test_tiny_map_shows_polygons_hubs_flows_and_layers(open_page, tiny_run: Path) -> None:
    """Shown layers: 3 region polygons + 1 campaign outline, 4 flow lines, 3 hubs + 1 source."""
    check = open_page(tiny_run / "map.html")
    assert check.errors == []
    counts = count_leaflet_layers(check.page)
    assert counts["maps"] == 1
    assert counts["polygons"] == len(REGIONS) + 1
    assert counts["polylines"] == 1 + 3  # source→hub, hub→R1/R2/R3
    assert counts["circle_markers"] == 3 + 1
    names = layer_control_names(check.page)
    for expected in (
        "Regions: delivery promise",
        "Regions: on-time rate",
        "Campaign area: Spring promo",
        "Flows: hub → region, all",
        "Flows: Padded jacket",
        "Flows: period 2",
        "Hubs: open",
        "Sources",
    ):
        assert expected in names
    assert check.page.locator(".ho-legend").is_visible()
    check.screenshot("tiny_map")
    assert check.errors == []


def test_tiny_map_switches_to_the_on_time_layer(open_page, tiny_run: Path) -> None:
    """Ticking the on-time layer adds 3 more polygons; a region popup shows the numbers."""
    check = open_page(tiny_run / "map.html")
    page = check.page
    page.locator(".leaflet-control-layers-list label", has_text="Regions: on-time rate").click()
    assert count_leaflet_layers(page)["polygons"] == 2 * len(REGIONS) + 1
    assert page.evaluate(_OPEN_POPUPS_JS, "Jongno-gu") >= 1
    popup = page.locator(".leaflet-popup-content").first
    popup.wait_for(state="visible")
    text = popup.inner_text()
    assert "종로구" in text and "Jongno-gu" in text and "Promise tier" in text and "12h" in text
    assert check.errors == []


def test_tiny_report_loads_with_its_map(open_page, tiny_run: Path) -> None:
    """The report renders without errors and its iframe map is live."""
    check = open_page(tiny_run / "report.html")
    page = check.page
    assert check.errors == []
    assert page.locator(".card").count() == 6
    assert page.locator("iframe.map").count() == 1
    frame = page.frame_locator("iframe.map")
    frame.locator(".leaflet-container").wait_for()
    assert count_leaflet_layers(page)["maps"] == 1
    check.screenshot("tiny_report")


def test_tiny_report_static_map_renders_without_the_network(open_page, tiny_run: Path) -> None:
    """The report's static SVG map is drawn (regions, flows, every open hub) with no
    request leaving the page, is visible in print, and links the interactive map."""
    check = open_page(tiny_run / "report.html")
    page = check.page
    svg = page.locator("#static-map svg.static-map")
    assert svg.count() == 1
    box = svg.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100, box
    assert page.locator("#static-map svg g.regions > *").count() == len(REGIONS)
    assert page.locator("#static-map svg g.flows line").count() >= 1
    solution_hubs = pd.read_csv(tiny_run / "solution" / "hubs.csv")
    opened = solution_hubs.loc[solution_hubs["open"] > 0.5, "hub_id"].nunique()
    assert page.locator("#static-map circle.hub-open").count() == opened
    assert page.locator("#interactive-map").get_attribute("href") == "map.html"
    page.emulate_media(media="print")
    assert page.locator("#static-map svg.static-map").is_visible()
    assert not page.locator("iframe.map").is_visible()
    page.emulate_media(media="screen")
    check.screenshot("tiny_report_static_map")
    assert check.errors == []


def test_malicious_names_stay_text_in_map_and_report(open_page, xss_run: Path) -> None:
    """Hub/region/campaign names with markup show as text; no img element, no dialog."""
    check = open_page(xss_run / "map.html")
    page = check.page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    assert page.evaluate(_OPEN_POPUPS_JS, "onerror") >= 2  # the region R2 and the hub H1
    content = page.locator(".leaflet-popup-content")
    content.first.wait_for(state="visible")
    assert XSS in "\n".join(content.all_inner_texts())
    assert page.locator("img[src='x']").count() == 0
    assert any(XSS in name for name in layer_control_names(page))
    page.wait_for_timeout(200)
    report = open_page(xss_run / "report.html")
    report.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    body = report.page.locator("body").inner_text()
    assert XSS in body
    assert report.page.locator("img[src='x']").count() == 0
    report.page.wait_for_timeout(200)
    assert dialogs == []
    assert check.errors == [] and report.errors == []


@pytest.fixture(scope="module")
def korea_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    result = solve(KOREA_SMALL)
    return result, write_run(result, tmp_path_factory.mktemp("korea") / "run")


def test_korea_small_pages(open_page, korea_run: tuple[Result, Path]) -> None:
    """korea-small: 250 region polygons, every hub and source, layers listed, pages < 2 MB."""
    result, run = korea_run
    n_regions, n_hubs = len(result.problem.regions), len(result.problem.hubs)
    n_sources = len(result.problem.sources)
    streams = result.problem.streams
    scope = streams[streams["campaign_id"] != ""].groupby("campaign_id")["region_id"].nunique()
    n_outlines = int((scope < n_regions).sum())  # all-regions campaigns start hidden
    assert n_outlines == 1
    assert (run / "map.html").stat().st_size < 2_000_000
    check = open_page(run / "map.html")
    assert check.errors == []
    # under the parallel suite's load the layers were once not drawn yet at network idle
    check.page.locator(".leaflet-overlay-pane path").first.wait_for()
    counts = count_leaflet_layers(check.page)
    assert counts["polygons"] == n_regions + n_outlines
    assert counts["circle_markers"] == n_hubs + n_sources
    assert counts["polylines"] > 0
    names = layer_control_names(check.page)
    assert {"Regions: delivery promise", "Regions: on-time rate", "Hubs: open"} <= set(names)
    assert "Campaign area: winter-sale" in names and "Campaign area: ltd-launch" in names
    assert "Statistics Korea" in check.page.locator(".leaflet-control-attribution").inner_text()
    check.screenshot("map")
    report = open_page(run / "report.html")
    assert report.errors == []
    text = report.page.locator("body").inner_text()
    assert "winter-sale" in text and "ltd-launch" in text and "Gyeonggi-do" in text
    # the map iframe loads lazily, as a reader scrolls to it (the campaign sections above
    # push it below the first screens)
    report.page.locator("iframe.map").scroll_into_view_if_needed()
    report.page.frame_locator("iframe.map").locator(".leaflet-container").wait_for()
    report.screenshot("report")
    assert report.errors == []
