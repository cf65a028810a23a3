"""Number formats, escaping and colours (hubopt.present.format)."""

from __future__ import annotations

import math

from helpers import XSS, XSS_ESCAPED

from hubopt.present.format import (
    NO_DATA,
    esc,
    fmt_hours,
    fmt_money,
    fmt_num,
    fmt_pct,
    fmt_signed,
    fmt_value,
    periods_text,
    utilisation_color,
)


def test_money_and_share_formats() -> None:
    """Numbers read like a planner writes them."""
    assert fmt_money(5_029_397_598.9, "KRW") == "5.03 bn KRW"
    assert fmt_money(275_473_864.0) == "275.5 m"
    assert fmt_money(12_345.4) == "12,345"
    assert fmt_money(float("nan")) == "–"
    assert fmt_pct(0.98676) == "98.7 %"
    assert periods_text([1, 2, 3, 5, 7, 8]) == "1–3, 5, 7–8"


def test_a_value_that_rounds_to_zero_never_reads_minus_zero() -> None:
    """Solver round-off (demand minus delivered: -1e-9 units) shows as 0, not "-0" (seen
    in the report's "Not delivered" column); real negatives keep their sign."""
    assert fmt_num(-1e-9) == "0" and fmt_num(-0.4) == "0" and fmt_num(-0.6) == "-1"
    assert fmt_num(-1e-9, 2) == "0.00"
    assert fmt_pct(-1e-12) == "0.0 %"
    assert fmt_hours(-0.01) == "0.0 h"
    assert fmt_money(-0.3, "KRW") == "0 KRW" and fmt_money(-1e-9, "EUR") == "0.00 EUR"
    assert fmt_money(-0.001, per_unit=True) == "0.00"
    assert fmt_money(-2_500.0, "KRW") == "-2,500 KRW"


def test_a_change_keeps_its_sign_and_never_reads_minus_zero() -> None:
    """Changes (compare page lanes, ``hubopt compare``, re-plan) carry their sign; one that
    rounds to zero reads "+0", never "-0"; a missing one a dash, not "+nan"."""
    assert fmt_signed(1_234.5) == "+1,234" and fmt_signed(-2_500.0) == "-2,500"
    assert fmt_signed(-0.3) == "+0" and fmt_signed(-1e-9, 1) == "+0.0"
    assert fmt_signed(float("nan")) == "–" and fmt_signed(None) == "–"


def test_escape_is_safe_in_html_and_js_template_literals() -> None:
    """Markup, quotes, backticks, ``${`` and backslashes are all neutralised."""
    assert esc(XSS) == XSS_ESCAPED
    assert esc("a`${x}`\\'\"") == "a&#96;&#36;{x}&#96;&#92;&#x27;&quot;"


def test_hours_and_colours() -> None:
    """Hours keep one decimal; utilisation colours step at 50/80/95 %; NaN is grey."""
    assert fmt_hours(11.72) == "11.7 h"
    assert utilisation_color(0.2) == "#2b8cbe" and utilisation_color(0.97) == "#a50026"
    assert utilisation_color(math.nan) == NO_DATA


def test_small_money_keeps_the_currency_decimals() -> None:
    """A cost per unit of 1.78 never reads "2": per-unit figures have two decimals in any
    currency; amounts below 1 000 keep the currency's minor units (EUR 2, KRW 0, KWD 3)."""
    assert fmt_money(1.78, "KRW", per_unit=True) == "1.78 KRW"
    assert fmt_money(1.78, "EUR") == "1.78 EUR"
    assert fmt_money(950.4, "KRW") == "950 KRW"
    assert fmt_money(0.1234, "KWD") == "0.123 KWD"
    assert fmt_money(17.8) == "17.80"
    assert fmt_money(12_345.4, "EUR", per_unit=True) == "12,345.40 EUR"
    assert fmt_value("money_unit", 1.78) == "1.78"
