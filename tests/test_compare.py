"""Comparison of two plans: run folders read back, what changed, the side-by-side map, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from folium.plugins import DualMap
from helpers import solve_pair
from typer.testing import CliRunner

from hubopt import compare, load_run
from hubopt.changes import comparison_table, hub_changes, lane_changes, tier_changes
from hubopt.cli import app
from hubopt.compare import compare_runs
from hubopt.present.compare_page import render_compare_page
from hubopt.runs import write_run


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Run folders of the pair."""
    folder = tmp_path_factory.mktemp("compare")
    a, b = solve_pair(folder)
    return write_run(a, folder / "run-a"), write_run(b, folder / "run-b")


def test_what_changed_tables(runs: tuple[Path, Path]) -> None:
    """Closing H1 closes it, opens another hub, moves regions' tiers and their lanes."""
    a, b = (load_run(r) for r in runs)
    hubs = hub_changes(a, b).set_index("hub_id")["change"]
    assert hubs["H1"] == "closed"
    assert set(hubs.drop("H1")) == {"opened"} and len(hubs) >= 2
    tiers = tier_changes(a, b)
    assert {"R1", "R2"} <= set(tiers["region_id"])
    assert not tiers["better"].any()  # the far hub is slower for R1 and R2
    lanes = lane_changes(a, b)
    assert (lanes.loc[lanes["hub_id"] == "H1", "delta"] < 0).all()
    total = a.flows["quantity"].sum()
    assert lanes["delta"].sum() == pytest.approx(b.flows["quantity"].sum() - total)


def test_compare_api_returns_table_and_dual_map(runs: tuple[Path, Path]) -> None:
    """compare(run dirs or results) -> two-row table and a DualMap with a changes layer per pane."""
    a = load_run(runs[0])
    table, dual = compare([a, runs[1]])
    assert table["name"].tolist() == ["tiny-map", "tiny-h1-closed"]
    assert isinstance(table, pd.DataFrame) and table["objective"].notna().all()
    assert isinstance(dual, DualMap)
    for pane in (dual.m1, dual.m2):
        names = [getattr(c, "layer_name", "") for c in pane._children.values()]
        assert "What changed (A → B)" in names
        assert any(n.endswith("delivery promise") for n in names)


def test_compare_needs_two(runs: tuple[Path, Path]) -> None:
    """One item is not a comparison."""
    with pytest.raises(ValueError, match="at least 2"):
        compare([runs[0]])


def test_cli_compare_writes_map_page_and_changes(runs: tuple[Path, Path], tmp_path: Path) -> None:
    """`hubopt compare A B --out DIR` writes the DualMap page, compare.html and change tables."""
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        app, ["compare", str(runs[0]), str(runs[1]), "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert payload["hubs_closed"] == 1 and payload["hubs_opened"] >= 1
    for name in ("compare_map.html", "compare.html", "comparison.csv", "changes/hubs.csv"):
        assert (out / name).is_file(), name
    html = (out / "compare_map.html").read_text(encoding="utf-8")
    assert ".sync(" in html and "What changed" in html
    a, b = load_run(runs[0]), load_run(runs[1])
    assert payload["cost_delta"] == pytest.approx(b.objective - a.objective)
    combined = (a.objective - a.bound) + (b.objective - b.bound)
    assert payload["within_solver_gap"] is (abs(b.objective - a.objective) < combined)


def test_comparison_colours_a_worse_on_time_rate_as_worse() -> None:
    """Base: cost 1 000, on-time 95 %, CO2 10 t. B: cost 900 (lower: better), on-time 90 %
    (lower: worse), CO2 12 t (higher: worse), utilisation up (no judgement). The legend
    names the direction of good."""
    table = comparison_table(
        [
            {
                "name": "base",
                "status": "optimal",
                "total_cost": 1000.0,
                "on_time_rate": 0.95,
                "co2_t": 10.0,
                "throughput_utilisation": 0.5,
                "open_hubs": "H1;H2",
                "error": "",
            },
            {
                "name": "b",
                "status": "optimal",
                "total_cost": 900.0,
                "on_time_rate": 0.90,
                "co2_t": 12.0,
                "throughput_utilisation": 0.6,
                "open_hubs": "H2;H3",
                "error": "",
            },
        ]
    )
    assert table["hubs_vs_base"].tolist() == ["base", "opened H3; closed H1"]
    page = render_compare_page(table)
    row_b = page.split("<tbody>")[1].split("</tr>")[1]
    assert '<span class="d better">-10.0%</span>' in row_b  # total cost
    assert '<span class="d worse">-5.0 pp</span>' in row_b  # on-time rate
    assert '<span class="d worse">+20.0%</span>' in row_b  # CO2
    assert '<span class="d neutral">+10.0 pp</span>' in row_b  # utilisation
    assert "opened H3; closed H1" in row_b and "2 open: H2, H3" in row_b
    assert "Lower is better for Total cost, Cost / unit, CO2 t" in page
    assert "higher is better for On-time rate, Fill rate" in page


def test_two_run_compare_page_shows_what_changed_with_relative_links(
    runs: tuple[Path, Path], tmp_path: Path
) -> None:
    """The two-run compare.html lists H1 closed, the tiers and lanes that changed, links the
    side-by-side map and both runs' pages by relative paths, and has the hub column."""
    out = tmp_path / "deep" / "cmp"
    report = compare_runs(runs[0], runs[1], out)
    page = (out / "compare.html").read_text(encoding="utf-8")
    assert "What changed from" in page
    assert "<td>H1</td>" in page.split('id="hub-changes"')[1] and "closed in tiny-h1-closed" in page
    assert 'id="tier-changes"' in page or "No region changed its delivery tier." in page
    assert 'id="lane-changes"' in page
    assert '<a id="side-by-side" href="compare_map.html">' in page
    hrefs = [h.split('"')[0] for h in page.split('href="')[1:]]
    assert hrefs and all(not h.startswith(("/", "file:", "http")) for h in hrefs), hrefs
    assert any(h.startswith("../../") and h.endswith("report.html") for h in hrefs), hrefs
    csv = pd.read_csv(out / "comparison.csv")
    assert csv["hubs_vs_base"].tolist()[0] == "base"
    assert "closed H1" in csv["hubs_vs_base"].tolist()[1]
    assert report["hubs_closed"] == 1
