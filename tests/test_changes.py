"""Plan comparison tables (hubopt.changes): the solver-gap marks on cost differences."""

from __future__ import annotations

import math

import pytest
from bs4 import BeautifulSoup

from hubopt.changes import comparison_table, gap_money, within_solver_gap
from hubopt.present.compare_page import render_compare_page
from hubopt.solvers.base import status_text


def _row(name: str, objective: float, bound: float, status: str = "feasible") -> dict:
    return {
        "name": name,
        "status": status,
        "objective": objective,
        "bound": bound,
        "gap": (objective - bound) / objective,
        "total_cost": objective,
    }


def test_gap_money_is_objective_minus_bound() -> None:
    """A plan of 1,000 with a bound of 970 may be up to 30 above the optimum."""
    assert gap_money(1000.0, 970.0) == 30.0
    assert gap_money(1000.0, float("nan")) is None and gap_money(None, 5.0) is None


def test_difference_smaller_than_combined_gap_is_marked() -> None:
    """A: 1,000 (bound 980, gap 20); B: 1,015 (bound 1,000, gap 15). |Δ| = 15 < 35: noise."""
    delta, within = within_solver_gap(1000.0, 980.0, 1015.0, 1000.0)
    assert delta == pytest.approx(15.0) and within is True


def test_difference_larger_than_combined_gap_is_not_marked() -> None:
    """A: 1,000 (bound 995); B: 1,100 (bound 1,090). |Δ| = 100 > 5 + 10: a real difference."""
    delta, within = within_solver_gap(1000.0, 995.0, 1100.0, 1090.0)
    assert delta == pytest.approx(100.0) and within is False


def test_comparison_table_marks_rows_against_the_first_solved_row() -> None:
    """The base (first solved row) gets no mark; an infeasible row gets none either."""
    rows = [
        {"name": "broken", "status": "infeasible", "objective": math.nan, "bound": math.nan},
        _row("base", 1000.0, 980.0),
        _row("close", 1010.0, 995.0),
        _row("far", 1200.0, 1190.0),
    ]
    table = comparison_table(rows).set_index("name")
    assert table.loc["base", "gap_money"] == pytest.approx(20.0)
    assert table.loc["base", "within_solver_gap"] is None
    assert table.loc["broken", "within_solver_gap"] is None
    assert table.loc["close", "within_solver_gap"] is True
    assert table.loc["close", "cost_delta_vs_base"] == pytest.approx(10.0)
    assert table.loc["far", "within_solver_gap"] is False


def test_compare_page_says_within_solver_gap() -> None:
    """The total-cost cell of a row within the gap carries the note; others do not."""
    table = comparison_table(
        [_row("base", 1000.0, 980.0), _row("close", 1010.0, 995.0), _row("far", 1200.0, 1190.0)]
    )
    dom = BeautifulSoup(render_compare_page(table), "html.parser")
    notes = {
        tr.find("td").get_text(): [s.get_text() for s in tr.select("span.d.gap")]
        for tr in dom.select("#comparison tbody tr")
    }
    assert notes == {"base": [], "close": ["within solver gap"], "far": []}


def test_status_says_optimal_only_for_a_proven_optimum() -> None:
    """A plan the solver calls optimal because it met a 1 % ``mip_gap`` (gap 0.84 %) reads
    "proven within 0.84%"; an exact one (gap 0) reads "optimal"; other statuses unchanged.
    The comparison page's badges say the same."""
    assert status_text("optimal", 0.0084) == "proven within 0.84%"
    assert status_text("optimal", 0.0) == "optimal"
    assert status_text("optimal", float("nan")) == "optimal"
    assert status_text("feasible", 0.0084) == "feasible"
    table = comparison_table(
        [_row("exact", 1000.0, 1000.0, "optimal"), _row("loose", 1010.0, 1000.0, "optimal")]
    )
    dom = BeautifulSoup(render_compare_page(table), "html.parser")
    badges = {
        tr.find("td").get_text(): tr.select_one("span.badge").get_text()
        for tr in dom.select("#comparison tbody tr")
    }
    assert badges == {"exact": "optimal", "loose": "proven within 0.99%"}
