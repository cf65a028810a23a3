"""Every number, label and colour shown on a page or map, formatted in one place.

Pages are rendered by Jinja2 with autoescape (:mod:`hubopt.present.templates`), so these
functions return plain text; :func:`esc` is only for the few strings that folium puts
into HTML or JavaScript itself (popups, tooltips, legends). Fixed-point numbers use the
``z`` format option (PEP 682): a value that rounds to zero (solver round-off, -1e-9 units)
reads 0, never -0.
"""

from __future__ import annotations

import html
import math
from typing import Any

from hubopt.tiers import TIER_ORDER

DASH = "–"
# Sequential blues, fastest darkest; a tier list takes evenly spaced shades from it.
TIER_SHADES = ("#081d58", "#253494", "#225ea8", "#2c7fb8", "#41b6c4", "#7fcdbb", "#a1dab4")


def tier_palette(labels: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Colour of each tier label (fastest darkest), plus ``later`` and ``none``."""
    timed = [t for t in labels if t not in {"later", "none"}]
    n = len(timed)
    picks = [TIER_SHADES[round(i * (len(TIER_SHADES) - 1) / max(n - 1, 1))] for i in range(n)]
    return dict(zip(timed, picks, strict=True)) | {"later": "#ffffb2", "none": "#d9d9d9"}


TIER_COLORS = tier_palette(TIER_ORDER)
COST_LABELS = {
    "fixed": "Hub fixed",
    "opening": "Hub opening",
    "closing": "Hub closing",
    "supply": "Supply (purchase)",
    "inbound_transport": "Inbound transport",
    "outbound_transport": "Outbound transport",
    "handling": "Handling",
    "peak": "Peak capacity",
    "pickup_points": "Pickup points",
    "returns": "Returns",
    "holding": "Holding stock",
    "lost_sales": "Lost sales",
    "late": "Late delivery",
    "carbon": "Carbon price",
}
UTILISATION_STEPS = ((0.5, "#2b8cbe"), (0.8, "#fdae61"), (0.95, "#f46d43"))
UTILISATION_TOP = "#a50026"
ON_TIME_STEPS = ((0.8, "#d73027"), (0.9, "#fc8d59"), (0.95, "#fee08b"), (0.99, "#91cf60"))
ON_TIME_TOP = "#1a9850"
NO_DATA = "#d9d9d9"
# ISO 4217 minor units that are not 2 (money below 1 000 is shown with these decimals)
CURRENCY_DECIMALS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"), 0),
    **dict.fromkeys(("RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def esc(value: object) -> str:
    """HTML-escape a data string; the result is also inert inside a JS template literal."""
    text = html.escape("" if value is None else str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def finite(value: Any) -> float | None:
    """``value`` as a finite float, else None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def fmt_num(value: Any, digits: int = 0) -> str:
    """``1234567.8`` -> ``1,234,568``; NaN/inf/None -> a dash."""
    number = finite(value)
    return DASH if number is None else f"{number:z,.{digits}f}"


def fmt_signed(value: Any, digits: int = 0) -> str:
    """A change with its sign: ``1234.5`` -> ``+1,234``, ``-0.3`` -> ``+0`` (never
    ``-0``); NaN/inf/None -> a dash."""
    number = finite(value)
    return DASH if number is None else f"{number:+z,.{digits}f}"


def fmt_pct(value: Any, digits: int = 1) -> str:
    """A share as a percentage: ``0.9867`` -> ``98.7 %``."""
    number = finite(value)
    return DASH if number is None else f"{100 * number:z.{digits}f} %"


def fmt_hours(value: Any) -> str:
    """Hours with one decimal: ``11.72`` -> ``11.7 h``."""
    number = finite(value)
    return DASH if number is None else f"{number:z,.1f} h"


def currency_decimals(currency: str = "") -> int:
    """Minor-unit digits of an ISO 4217 currency (``KRW`` 0, ``EUR`` 2, ``KWD`` 3); 2 when
    the currency is unknown or not given."""
    return CURRENCY_DECIMALS.get(currency.strip().upper(), 2) if currency else 2


def fmt_money(value: Any, currency: str = "", per_unit: bool = False) -> str:
    """Money that cannot be misread.

    Large amounts are compact (``5.03 bn KRW``, ``275.5 m``, ``12,345``); amounts below
    1 000 keep the currency's decimals (``17.80 EUR``, ``950 KRW``); per-unit figures
    (``per_unit=True``) always show two decimals (``1.78 KRW``), since a cost per unit
    of 1.78 must not read "2".
    """
    number = finite(value)
    if number is None:
        return DASH
    size = abs(number)
    if per_unit and size < 1e6:
        text = f"{number:z,.2f}"
    elif size >= 1e9:
        text = f"{number / 1e9:z,.2f} bn"
    elif size >= 1e6:
        text = f"{number / 1e6:z,.1f} m"
    elif size >= 1e3:
        text = f"{number:z,.0f}"
    else:
        text = f"{number:z,.{currency_decimals(currency)}f}"
    return f"{text} {currency}".strip()


def fmt_axis(value: float, kind: str = "num") -> str:
    """A chart tick: per cent for ``pct``, else compact (``1.2 bn``, ``3.4 m``, ``5,600``)."""
    if kind == "pct":
        return fmt_pct(value)
    size = abs(value)
    if size >= 1e9:
        return f"{value / 1e9:z,.2f} bn"
    if size >= 1e6:
        return f"{value / 1e6:z,.1f} m"
    if size >= 1e3:
        return f"{value:z,.0f}"
    return f"{value:.3g}"


def fmt_value(kind: str, value: Any) -> str:
    """Format by kind: ``money``, ``money_unit`` (per unit, two decimals), ``pct``,
    ``hours``, ``num``, ``num1``; else the text."""
    if kind == "money":
        return fmt_money(value)
    if kind == "money_unit":
        return fmt_money(value, per_unit=True)
    if kind == "pct":
        return fmt_pct(value)
    if kind == "hours":
        return fmt_hours(value)
    if kind == "num1":
        return fmt_num(value, 1)
    if kind == "num":
        return fmt_num(value)
    return "" if value is None else str(value)


def periods_text(periods: list[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``1–3, 5``."""
    if not periods:
        return "none"
    runs: list[list[int]] = [[periods[0], periods[0]]]
    for p in periods[1:]:
        if p == runs[-1][1] + 1:
            runs[-1][1] = p
        else:
            runs.append([p, p])
    return ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in runs)


def step_color(value: float, steps: tuple[tuple[float, str], ...], top: str) -> str:
    """The colour of the first step whose upper limit exceeds ``value``, else ``top``.

    A missing or non-finite value is grey (:data:`NO_DATA`).
    """
    if not math.isfinite(value):
        return NO_DATA
    for limit, color in steps:
        if value < limit:
            return color
    return top


def utilisation_color(value: float) -> str:
    """Blue below 50 %, orange to 80 %, red to 95 %, dark red above."""
    return step_color(value, UTILISATION_STEPS, UTILISATION_TOP)


def tier_color(tier: str) -> str:
    """The colour of a delivery-promise tier (grey when unknown)."""
    return TIER_COLORS.get(tier, TIER_COLORS["none"])


__all__ = [
    "COST_LABELS",
    "CURRENCY_DECIMALS",
    "DASH",
    "NO_DATA",
    "ON_TIME_STEPS",
    "ON_TIME_TOP",
    "TIER_COLORS",
    "TIER_ORDER",
    "UTILISATION_STEPS",
    "UTILISATION_TOP",
    "currency_decimals",
    "esc",
    "finite",
    "fmt_axis",
    "fmt_hours",
    "fmt_money",
    "fmt_num",
    "fmt_pct",
    "fmt_value",
    "periods_text",
    "step_color",
    "tier_color",
    "tier_palette",
    "utilisation_color",
]
