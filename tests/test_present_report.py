"""The campaign-review report (hubopt.present.report), read as a person would: the parsed
page's sections, cells and numbers; no scripts; escaping."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from helpers import XSS, solve_tiny, solve_verified, write_omni_scenario

from hubopt.present.format import fmt_num, fmt_pct
from hubopt.present.report import render_report
from hubopt.result import Result
from hubopt.solvers import SolveStatus


def parse(page: str) -> BeautifulSoup:
    """The page as a DOM (html.parser: what a browser would build, for these tests)."""
    return BeautifulSoup(page, "html.parser")


def texts(nodes: list) -> list[str]:
    return [" ".join(n.get_text(" ", strip=True).split()) for n in nodes]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Result:
    return solve_tiny(tmp_path_factory.mktemp("tiny-review"))


def test_report_has_cards_campaigns_and_province_table(tiny: Result) -> None:
    """Headline cards, the campaign row and one promise row per province are present."""
    dom = parse(render_report(tiny))
    cards = texts(dom.select("#headline .card .k"))
    assert cards == ["Total cost", "On-time rate", "Fill rate", "Open hubs", "CO₂", "Cost per unit"]
    total = dom.select("#headline .card")[0].select_one(".d").get_text()
    assert total.replace(",", "").strip() == f"{tiny.kpis.headline['total_cost']:.0f}"
    campaign = dom.select("#campaigns tbody tr")
    assert len(campaign) == 1
    first = campaign[0].find_all("td")
    assert first[0].find("b").get_text() == "promo" and "Spring promo" in first[0].get_text()
    assert dom.select_one("#promise h2").get_text() == (
        "Fastest possible delivery by province (not the plan)"
    )
    assert dom.select_one("#delivery h2").get_text() == (
        "Delivery promise: what the plan delivers, by channel"
    )
    groups = [tr.find("td").get_text() for tr in dom.select("#promise tbody tr")]
    assert sorted(groups[:-1]) == ["Busan", "Daejeon", "Seoul"] and groups[-1] == "Total"
    headers = texts(dom.select("#promise thead th"))
    assert headers[2:7] == ["≤ 6 h", "≤ 12 h", "≤ 24 h", "≤ 48 h", "≤ 72 h"]
    assert dom.select_one("#costs svg.chart") is not None
    hubs = texts(dom.select("#hubs tbody td.hub b"))
    assert "Daejeon hub" in hubs
    assert "Not opened (2)" in dom.select_one("#hubs p.muted").get_text()
    assert "tiny-map" in dom.title.get_text()
    assert dom.select_one("header .badge").get_text() == "optimal"
    assert dom.select_one("#definitions") is not None


def test_campaign_row_shows_the_kpi_values(tiny: Result) -> None:
    """The campaign's units, on-time rate, target and ROI cells equal its KPIs, formatted."""
    c = tiny.kpis.campaigns.iloc[0]
    cells = texts(parse(render_report(tiny)).select("#campaigns tbody tr")[0].find_all("td"))
    assert cells[1] == fmt_num(c["units"])
    assert cells[3].startswith(fmt_pct(c["on_time_rate"]))
    assert cells[4] == fmt_pct(c["service_level_target"], 0)
    assert cells[10] == fmt_pct(c["roi"])


def test_report_is_self_contained(tiny: Result) -> None:
    """No script, no external stylesheet or font: inline CSS and SVG only."""
    dom = parse(render_report(tiny))
    assert dom.find("script") is None and dom.find("link") is None
    assert all(not str(i.get("src", "")).startswith("http") for i in dom.find_all(src=True))
    assert "http://" not in dom.style.get_text() and "https://" not in dom.style.get_text()


def test_map_iframe_only_when_asked(tiny: Result) -> None:
    """``map_file`` embeds the map in an iframe; None leaves it out."""
    frame = parse(render_report(tiny, map_file="map.html")).select_one("iframe.map")
    assert frame is not None and frame["src"] == "map.html"
    assert parse(render_report(tiny, map_file=None)).find("iframe") is None


def test_gap_is_shown_in_money(tiny: Result) -> None:
    """The header states the gap in per cent and as money above the proven bound."""
    feasible = dataclasses.replace(
        tiny, status=SolveStatus.FEASIBLE, objective=1_000_000.0, bound=990_000.0, gap=0.01
    )
    header = parse(render_report(feasible, currency="KRW")).select_one("header").get_text()
    assert "gap 1.00 %" in header and "at most 10,000 KRW above optimal" in header


def test_data_names_are_escaped_in_the_report(tmp_path: Path) -> None:
    """Malicious hub, region, province and campaign names appear as text, never as markup."""
    result = solve_tiny(tmp_path, xss=True)
    page = render_report(result)
    dom = parse(page)
    assert dom.find("img") is None and "<img" not in page
    assert XSS in dom.select_one("#promise tbody").get_text()


def test_report_without_a_plan_states_the_status(tiny: Result) -> None:
    """A result with no solution still renders: status, message and diagnosis."""
    failed = dataclasses.replace(
        tiny, solution=None, status=SolveStatus.INFEASIBLE, diagnosis=[f"demand {XSS} unreachable"]
    )
    dom = parse(render_report(failed))
    assert dom.select_one("#no-plan h2").get_text() == "No plan"
    assert dom.select_one("header .badge").get_text() == "infeasible"
    assert texts(dom.select("#no-plan li")) == [f"demand {XSS} unreachable"]
    assert dom.find("img") is None and dom.select_one("#hubs") is None


def test_capacity_sections_staffing_returns_safety_and_pickup(tmp_path: Path) -> None:
    """The issue-13 sections: extra shifts at Gimpo in weeks 1-2 (2 x 4.4 m3 above the 20
    m3 base), returns (2 x 2.4 units), pooled vs summed safety stock (z * sqrt(2^2 + 2^2) =
    2.83 against 4 per period), and the one open locker Q (20 units, 1.4 km)."""
    result = solve_verified(write_omni_scenario(tmp_path), "highs")
    page = parse(render_report(result, map_file=None))
    section = page.select_one("section#capacity")
    assert section is not None
    text = " ".join(section.get_text(" ", strip=True).split())
    assert "Extra shifts needed at Gimpo in weeks 1–2: 9 m³ above the base capacity" in text
    assert "5 units come back" in text, text
    assert "Pooled safety stock 3 units per period, against 4 summed per region" in text, text
    assert "1 of 2 pickup points open" in text, text
    rows = texts(section.select("h3#pickup-points ~ table tbody tr"))
    assert rows[0].startswith("Locker Q Q 2 20"), rows
