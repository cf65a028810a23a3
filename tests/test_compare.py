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
from hubopt.changes import hub_changes, lane_changes, tier_changes
from hubopt.cli import app
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
