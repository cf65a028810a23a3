"""Map elements: legend, data attribution."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from branca.element import MacroElement
from jinja2 import Template

from hubopt.present.format import (
    ON_TIME_STEPS,
    ON_TIME_TOP,
    UTILISATION_STEPS,
    UTILISATION_TOP,
    esc,
    fmt_pct,
    tier_palette,
)
from hubopt.present.maps.style import CANDIDATE, GENERIC_ATTRIBUTION, INBOUND_COLOR, OUTBOUND_COLOR
from hubopt.result import Result
from hubopt.tiers import DEFAULT_TIERS_HOURS, tier_labels

# ---- legend and attribution ------------------------------------------------------------


def swatch(color: str, label: str, round_: bool = False) -> str:
    radius = "50%" if round_ else "2px"
    return f"<div class='ho-row'><i style='background:{color};border-radius:{radius}'></i>{label}</div>"


def plan_legend_html(
    color_by: str, tiers_hours: tuple[float, ...] | list[float] = DEFAULT_TIERS_HOURS
) -> str:
    order = tier_labels(tiers_hours)
    palette = tier_palette(order)
    later = {"later": f"later than {max(tiers_hours):g} h", "none": "no open hub reaches"}
    tiers = "".join(swatch(palette[t], esc(later.get(t, t))) for t in order)
    bounds = [0.0] + [limit for limit, _ in ON_TIME_STEPS]
    colors = [c for _, c in ON_TIME_STEPS] + [ON_TIME_TOP]
    labels = (
        [f"< {fmt_pct(ON_TIME_STEPS[0][0], 0)}"]
        + [f"{fmt_pct(a, 0)}–{fmt_pct(b, 0)}" for a, b in itertools.pairwise(bounds[1:])]
        + [f"≥ {fmt_pct(ON_TIME_STEPS[-1][0], 0)}"]
    )
    on_time = "".join(swatch(c, esc(label)) for c, label in zip(colors, labels, strict=True))
    util_labels = ["< 50 %", "50–80 %", "80–95 %", "≥ 95 %"]
    util_colors = [c for _, c in UTILISATION_STEPS] + [UTILISATION_TOP]
    hubs = "".join(
        swatch(c, label, True) for c, label in zip(util_colors, util_labels, strict=True)
    )
    hubs += swatch(CANDIDATE, "candidate, not opened", True) + swatch(INBOUND_COLOR, "source", True)
    first, second = ("Delivery promise (fastest open hub)", tiers), ("On-time rate", on_time)
    if color_by == "on_time":
        first, second = second, first
    return (
        "<div class='ho-legend'>"
        f"<b>{first[0]}</b>{first[1]}"
        f"<details><summary>{second[0]}</summary>{second[1]}</details>"
        "<b>Hubs: utilisation (size = throughput)</b>"
        f"{hubs}"
        "<b>Flows (width = volume)</b>"
        f"<div class='ho-row'><i class='ho-line' style='border-color:{OUTBOUND_COLOR}'></i>hub → region</div>"
        f"<div class='ho-row'><i class='ho-line' style='border-color:{INBOUND_COLOR};border-top-style:dashed'></i>source → hub</div>"
        "</div>"
    )


_LEGEND_CSS = """
<style>
.ho-legend{position:fixed;bottom:44px;left:10px;z-index:9999;background:rgba(255,255,255,.94);
 padding:8px 11px;border-radius:6px;box-shadow:0 1px 5px rgba(0,0,0,.3);
 font:12px/1.35 -apple-system,'Segoe UI',Roboto,'Noto Sans KR','Apple SD Gothic Neo','Malgun Gothic',sans-serif;color:#222;max-width:230px}
.ho-legend b{display:block;margin:5px 0 3px;font-size:12px}
.ho-legend b:first-child{margin-top:0}
.ho-legend summary{cursor:pointer;font-weight:600;margin:5px 0 3px}
.ho-row{display:flex;align-items:center;gap:6px;margin:1px 0}
.ho-row i{display:inline-block;width:14px;height:12px;border:1px solid rgba(0,0,0,.25)}
.ho-row i.ho-line{height:0;border:0;border-top:3px solid;width:18px}
.ho-pop{font:12px/1.35 -apple-system,'Segoe UI',Roboto,'Noto Sans KR','Apple SD Gothic Neo','Malgun Gothic',sans-serif;min-width:200px}
.ho-pop .ho-t{font-size:14px;font-weight:700;color:#111}
.ho-pop .ho-s{color:#555;margin-bottom:4px}
.ho-pop table{border-collapse:collapse;width:100%}
.ho-pop th{text-align:left;font-weight:500;color:#666;padding:1px 8px 1px 0;white-space:nowrap}
.ho-pop td{text-align:right;padding:1px 0;font-variant-numeric:tabular-nums}
.leaflet-control-layers-list{font:12px/1.35 -apple-system,'Segoe UI',Roboto,sans-serif}
.leaflet-control-layers-expanded{padding:6px 10px 6px 6px;border-radius:6px}
.leaflet-container .leaflet-control-attribution{font-size:10px;max-width:62%;line-height:1.3}
</style>
"""


class Legend(MacroElement):  # type: ignore[misc]
    """A fixed legend box (HTML built by :func:`plan_legend_html`, data already escaped)."""

    _template = Template(
        "{% macro header(this, kwargs) %}" + _LEGEND_CSS + "{% endmacro %}"
        "{% macro html(this, kwargs) %}{{ this.legend_html }}{% endmacro %}"
    )

    def __init__(self, legend_html: str) -> None:
        super().__init__()
        self._name = "Legend"
        self.legend_html = legend_html


class DataAttribution(MacroElement):  # type: ignore[misc]
    """Adds an (escaped) data attribution line to the map's attribution control."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});"
        "{% endmacro %}"
    )

    def __init__(self, text_html: str) -> None:
        super().__init__()
        self._name = "DataAttribution"
        self.text = text_html


def find_attribution(result: Result) -> str:
    """The suggested attribution line of a ``SOURCES.md`` near the regions file, else generic."""
    regions_file = result.scenario.tables.files.get("regions")
    if regions_file is None:
        return GENERIC_ATTRIBUTION
    folder = Path(regions_file).parent
    for candidate in (folder, folder / "source", folder.parent, folder.parent / "source"):
        path = candidate / "SOURCES.md"
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            match = re.search(
                r"attribution line[^\n]*\n+\s*\"([^\"]+)\"", text, flags=re.IGNORECASE
            )
            if match:
                return " ".join(match.group(1).split())
    return GENERIC_ATTRIBUTION
