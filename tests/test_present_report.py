"""The campaign-review report (hubopt.review): sections, numbers, no scripts, escaping."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers import XSS, XSS_ESCAPED, solve_tiny

from hubopt.kpis import promise_table
from hubopt.present.format import esc, fmt_money, fmt_pct, periods_text
from hubopt.present.report import render_report
from hubopt.result import Result


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Result:
    return solve_tiny(tmp_path_factory.mktemp("tiny-review"))


def test_report_has_cards_campaigns_and_province_table(tiny: Result) -> None:
    """Headline cards, the campaign row and one promise row per province are present."""
    page = render_report(tiny)
    for card in ("Total cost", "On-time rate", "Fill rate", "Open hubs", "CO₂", "Cost per unit"):
        assert f"<div class='k'>{card}</div>" in page
    assert "<b>promo</b>" in page and "Spring promo" in page
    assert "Delivery promise by province" in page
    for province in ("Seoul", "Daejeon", "Busan"):
        assert f"<td>{province}</td>" in page
    assert "≤ 12 h" in page and "≤ 72 h" in page
    assert "Cost breakdown" in page and "<svg class='chart'" in page
    assert "Daejeon hub" in page and "Not opened (2)" in page
    assert "tiny-map" in page and "optimal" in page and "Definitions" in page


def test_report_is_self_contained(tiny: Result) -> None:
    """No script, no external stylesheet or font: inline CSS and SVG only."""
    page = render_report(tiny)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "http://" not in page and "https://" not in page


def test_map_iframe_only_when_asked(tiny: Result) -> None:
    """``map_file`` embeds the map in an iframe; None leaves it out."""
    assert "<iframe class='map' src='map.html'" in render_report(tiny, map_file="map.html")
    assert "<iframe" not in render_report(tiny, map_file=None)


def test_promise_table_counts_people_cumulatively(tiny: Result) -> None:
    """Population within 12/24/48/72 h per province, cumulative, with a total row."""
    table = promise_table(tiny.kpis.regions).set_index("group")
    assert table["basis"].iloc[0] == "population"
    assert table.loc["Seoul", "within_12h"] == 150_000
    assert table.loc["Busan", "within_12h"] == 0
    assert table.loc["Busan", "within_24h"] == 400_000
    assert table.loc["Total", "within_12h"] == 320_000
    assert table.loc["Total", "within_72h"] == table.loc["Total", "total"] == 720_000


def test_promise_table_without_provinces_uses_demand() -> None:
    """Without ``sido``/``population`` columns the table has one row of demand units."""
    regions = pd.DataFrame({"tier": ["12h", "48h", "none"], "demand_units": [10.0, 5.0, 2.0]})
    table = promise_table(regions)
    assert list(table["group"]) == ["All regions"]
    row = table.iloc[0]
    assert (row["basis"], row["within_12h"], row["within_24h"], row["within_48h"]) == (
        "demand_units",
        10,
        10,
        15,
    )
    assert (row["none"], row["total"]) == (2, 17)


def test_money_and_share_formats() -> None:
    """Numbers read like a planner writes them."""
    assert fmt_money(5_029_397_598.9, "KRW") == "5.03 bn KRW"
    assert fmt_money(275_473_864.0) == "275.5 m"
    assert fmt_money(12_345.4) == "12,345"
    assert fmt_money(float("nan")) == "–"
    assert fmt_pct(0.98676) == "98.7 %"
    assert periods_text([1, 2, 3, 5, 7, 8]) == "1–3, 5, 7–8"


def test_escape_is_safe_in_html_and_js_template_literals() -> None:
    """Markup, quotes, backticks, ``${`` and backslashes are all neutralised."""
    assert esc(XSS) == XSS_ESCAPED
    assert esc("a`${x}`\\'\"") == "a&#96;&#36;{x}&#96;&#92;&#x27;&quot;"


def test_data_names_are_escaped_in_the_report(tmp_path: Path) -> None:
    """Malicious hub, region, province and campaign names appear escaped, never raw."""
    result = solve_tiny(tmp_path, xss=True)
    page = render_report(result)
    assert XSS_ESCAPED in page
    assert "<img" not in page


def test_report_without_a_plan_states_the_status(tiny: Result) -> None:
    """A result with no solution still renders: status, message and diagnosis."""
    import dataclasses

    from hubopt.solvers import SolveStatus

    failed = dataclasses.replace(
        tiny, solution=None, status=SolveStatus.INFEASIBLE, diagnosis=[f"demand {XSS} unreachable"]
    )
    page = render_report(failed)
    assert "No plan" in page and "infeasible" in page
    assert f"demand {XSS_ESCAPED} unreachable" in page and "<img" not in page
