"""Two plans side by side (folium DualMap) with what changed."""

from __future__ import annotations

import math
from typing import Any

import folium
import numpy as np
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from hubopt.present.format import (
    TIER_COLORS,
    UTILISATION_STEPS,
    UTILISATION_TOP,
    esc,
    fmt_hours,
    fmt_num,
)
from hubopt.present.maps.elements import Legend, swatch
from hubopt.present.maps.network import (
    LineSpec,
    aggregate,
    build_name_table,
    hub_marker_layers,
    lines_layer,
    with_ends,
)
from hubopt.present.maps.regions import (
    plain_title,
    region_campaigns,
    regions_layer,
    simplified_region_geometry,
    tier_colors,
)
from hubopt.present.maps.style import CANDIDATE, OUTBOUND_COLOR, base_tiles
from hubopt.result import Result
from hubopt.tiers import TIER_ORDER

# ---- comparison of two plans -----------------------------------------------------------

CHANGE_OPENED = "#1a9850"
CHANGE_CLOSED = "#d73027"
TIER_BETTER = "#2166ac"
TIER_WORSE = "#b2182b"


def compare_map(
    result_a: Result,
    result_b: Result,
    hubs: pd.DataFrame,
    tiers: pd.DataFrame,
    lanes: pd.DataFrame,
    simplify_tolerance_deg: float = 0.01,
    max_flow_lines: int = 300,
    top_lanes: int = 20,
    tiles: str | None = None,
) -> folium.plugins.DualMap:
    """Two plans side by side in synchronised panes, with a "What changed" layer on each.

    Each pane shows its plan's regions (delivery-promise tier), hubs and hub -> region
    flows. The "What changed" layer (on both panes) marks hubs opened and closed from A
    to B, outlines regions whose delivery-promise tier changed (blue better, red worse)
    and draws the ``top_lanes`` lanes whose volume changed most (green more, red less).

    Parameters
    ----------
    result_a, result_b:
        Solved results (left and right); e.g. from :func:`hubopt.runs.load_run`.
    hubs, tiers, lanes:
        What changed from A to B: :func:`hubopt.changes.hub_changes`,
        :func:`~hubopt.changes.tier_changes`, :func:`~hubopt.changes.lane_changes`.
    simplify_tolerance_deg, max_flow_lines, tiles:
        As in :func:`plan_map`.
    top_lanes:
        How many changed lanes to draw.
    """
    from folium.plugins import DualMap

    for label, result in (("result_a", result_a), ("result_b", result_b)):
        if result.solution is None:
            raise ValueError(
                f"The '{label}' parameter of compare_map must have a plan. "
                f"Got status {result.status} instead."
            )
    dual = DualMap(tiles=None, control_scale=True)
    changes = (hubs, tiers, lanes.head(top_lanes))
    for fmap, result, side in ((dual.m1, result_a, "A"), (dual.m2, result_b, "B")):
        base_tiles(tiles).add_to(fmap)
        for layer in _pane_layers(result, side, simplify_tolerance_deg, max_flow_lines, fmap):
            layer.add_to(fmap)
        _changes_layer(*changes, result_a.scenario.name, result_b.scenario.name).add_to(fmap)
        _PaneTitle(f"{side}: {esc(result.scenario.name)}").add_to(fmap)
        folium.LayerControl(collapsed=True, position="topright").add_to(fmap)
    Legend(_compare_legend_html()).add_to(dual.m1)
    problem = result_b.problem
    lat = np.concatenate(
        [problem.regions["lat"].to_numpy(float), problem.hubs["lat"].to_numpy(float)]
    )
    lon = np.concatenate(
        [problem.regions["lon"].to_numpy(float), problem.hubs["lon"].to_numpy(float)]
    )
    dual.fit_bounds(
        [
            [float(np.nanmin(lat)), float(np.nanmin(lon))],
            [float(np.nanmax(lat)), float(np.nanmax(lon))],
        ]
    )
    return dual


def _pane_layers(
    result: Result, side: str, tolerance: float, max_lines: int, fmap: folium.Map
) -> list[Any]:
    """Regions by tier, outbound flows (all products and periods) and hubs of one plan."""
    assert result.solution is not None
    problem = result.problem
    kpis = result.kpis
    regions = kpis.regions.reset_index(drop=True)
    coords = problem.regions.set_index("region_id")[["lat", "lon"]]
    regions[["lat", "lon"]] = coords.reindex(regions["region_id"]).to_numpy(float)
    geometry = simplified_region_geometry(result, tolerance)
    hub_names = {str(row["hub_id"]): plain_title(row) for _, row in problem.hubs.iterrows()}
    layers: list[Any] = [
        regions_layer(
            regions,
            geometry,
            tier_colors(regions),
            f"{side}: delivery promise",
            True,
            hub_names,
            region_campaigns(result),
        )
    ]
    names = build_name_table(result)
    names.add_to(fmap)
    flows = result.solution.flows
    if len(flows):
        ends = (problem.hubs, "hub_id", problem.regions, "region_id")
        lines = with_ends(aggregate(flows, ["hub_id", "region_id"]), *ends)
        spec = LineSpec(names.get_name(), "h", "r", OUTBOUND_COLOR, float(lines["quantity"].max()))
        layers.append(lines_layer(lines, f"{side}: flows hub → region", True, spec, max_lines))
    hub_layers = hub_marker_layers(result, kpis.hubs)
    for layer in hub_layers:
        layer.layer_name = f"{side}: {layer.layer_name.removeprefix('Hubs: ')} hubs"
    return [*layers, *hub_layers]


def _changes_layer(
    hubs: pd.DataFrame, tiers: pd.DataFrame, lanes: pd.DataFrame, name_a: str, name_b: str
) -> Any:
    """The "What changed" group: changed lanes, tier-change outlines, opened/closed hubs."""
    group = folium.FeatureGroup(name="What changed (A → B)", show=True)
    top = float(lanes["delta"].abs().max()) if len(lanes) else 1.0
    for lane in lanes.itertuples():
        more = lane.delta > 0
        folium.PolyLine(
            [[lane.hub_lat, lane.hub_lon], [lane.region_lat, lane.region_lon]],
            color=CHANGE_OPENED if more else CHANGE_CLOSED,
            weight=2 + 8 * abs(lane.delta) / top,
            opacity=0.8,
            dash_array="6 4",
            tooltip=folium.Tooltip(
                f"{esc(lane.hub_id)} → {esc(lane.region_id)}: {fmt_num(lane.quantity_a)} → "
                f"{fmt_num(lane.quantity_b)} units ({'+' if more else ''}{fmt_num(lane.delta)})"
            ),
        ).add_to(group)
    for region in tiers.itertuples():
        if not (math.isfinite(region.lat) and math.isfinite(region.lon)):
            continue
        color = TIER_BETTER if region.better else TIER_WORSE
        folium.CircleMarker(
            [region.lat, region.lon],
            radius=7,
            color=color,
            weight=3,
            fill=False,
            tooltip=folium.Tooltip(
                f"{esc(region.name or region.region_id)}: promise {esc(region.tier_a)} → "
                f"{esc(region.tier_b)} ({fmt_hours(region.fastest_hours_a)} → "
                f"{fmt_hours(region.fastest_hours_b)})"
            ),
        ).add_to(group)
    for hub in hubs.itertuples():
        opened = hub.change == "opened"
        folium.CircleMarker(
            [hub.lat, hub.lon],
            radius=13,
            color=CHANGE_OPENED if opened else CHANGE_CLOSED,
            weight=4,
            fill=False,
            tooltip=folium.Tooltip(
                f"{esc(hub.name or hub.hub_id)}: {'opened' if opened else 'closed'} in "
                f"{esc(name_b)} (vs {esc(name_a)})"
            ),
        ).add_to(group)
    return group


def _compare_legend_html() -> str:
    tiers = "".join(swatch(TIER_COLORS[t], esc(t)) for t in TIER_ORDER)
    util = [c for _, c in UTILISATION_STEPS] + [UTILISATION_TOP]
    labels = ["< 50 %", "50–80 %", "80–95 %", "≥ 95 %"]
    hubs = "".join(swatch(c, label, True) for c, label in zip(util, labels, strict=True))
    hubs += swatch(CANDIDATE, "candidate, not opened", True)
    return (
        "<div class='ho-legend'>"
        f"<b>Delivery promise</b>{tiers}"
        "<b>Hubs: utilisation</b>"
        f"{hubs}"
        "<b>What changed (A → B), rings and dashed lines</b>"
        f"{swatch(CHANGE_OPENED, 'hub opened / lane volume up', True)}"
        f"{swatch(CHANGE_CLOSED, 'hub closed / lane volume down', True)}"
        f"{swatch(TIER_BETTER, 'region: faster promise tier', True)}"
        f"{swatch(TIER_WORSE, 'region: slower promise tier', True)}"
        "</div>"
    )


class _PaneTitle(MacroElement):  # type: ignore[misc]
    """A title box in the bottom-right corner of one pane (text already escaped)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function(){var c=L.control({position:'bottomright'});"
        "c.onAdd=function(){var d=L.DomUtil.create('div');"
        "d.style.cssText='background:rgba(255,255,255,.92);padding:4px 10px;border-radius:5px;"
        "font:600 13px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)';"
        "d.innerHTML={{ this.text|tojson }};return d;};"
        "c.addTo({{ this._parent.get_name() }});})();"
        "{% endmacro %}"
    )

    def __init__(self, text_html: str) -> None:
        super().__init__()
        self._name = "PaneTitle"
        self.text = text_html
