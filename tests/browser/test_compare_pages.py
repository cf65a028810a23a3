"""compare.html (a batch over a sweep) and the side-by-side map, in headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers import solve_pair, write_tiny_scenario

from hubopt.batch import run_batch
from hubopt.compare import compare_runs
from hubopt.runs import write_run

from .helpers import count_leaflet_layers

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sweep_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 x 2 sweep (window x uplift) of the tiny map scenario, run as a batch."""
    folder = tmp_path_factory.mktemp("sweep")
    base = write_tiny_scenario(folder / "base")
    sweep = folder / "sweep.yaml"
    grid = {
        "campaigns[id=promo].delivery_window_hours": [24, 48],
        "campaigns[id=promo].uplift": [1.0, 1.5],
    }
    sweep.write_text(yaml.safe_dump({"sweep": {"base": "base/scenario.yaml", "grid": grid}}))
    assert base.is_file()
    out = folder / "out"
    table = run_batch([sweep], out=out, workers=0)
    assert (table["status"] == "optimal").all(), table[["name", "status", "error"]]
    return out


def test_compare_page_loads_sorts_and_charts(open_page, sweep_batch: Path) -> None:
    """The page loads without JS errors, lists 4 scenarios, sorts by a column, has 4 charts."""
    check = open_page(sweep_batch / "compare.html")
    page = check.page
    assert page.locator("#comparison tbody tr").count() == 4
    assert page.locator("div.chart svg").count() == 4  # on-time, CO2, window, uplift
    header = page.locator("#comparison th", has_text="Total cost")
    header.click()
    header.click()  # descending
    costs = page.eval_on_selector_all(
        "#comparison tbody tr", "rows => rows.map(r => parseFloat(r.cells[4].dataset.v))"
    )
    assert costs == sorted(costs, reverse=True)
    check.screenshot("compare-page-sweep")
    assert check.errors == []


def test_side_by_side_map_loads(open_page, tmp_path: Path) -> None:
    """The DualMap page: two synchronised Leaflet maps with layers, no JS errors."""
    a, b = solve_pair(tmp_path)
    report = compare_runs(
        write_run(a, tmp_path / "a-run"), write_run(b, tmp_path / "b-run"), tmp_path / "c"
    )
    check = open_page(report["map"])
    counts = count_leaflet_layers(check.page)
    assert counts["maps"] == 2
    assert counts["polygons"] >= 6  # three regions on each pane
    assert counts["circle_markers"] >= 6  # hubs on both panes plus change rings
    synced = check.page.evaluate(
        "() => Object.keys(window).filter(k => k.startsWith('map_'))"
        ".map(k => window[k]).filter(m => m instanceof L.Map && m._syncMaps && m._syncMaps.length)"
        ".length"
    )
    assert synced == 2
    check.screenshot("compare-map-tiny")
    assert check.errors == []
