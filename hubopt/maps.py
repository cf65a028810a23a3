"""Folium maps of a plan (DESIGN §4). Returns folium objects; the caller decides where to write.

The plan map shows, as layers a reader switches in the layer control:

- region polygons (or circles sized by demand when the regions have no geometry) coloured
  by delivery-promise tier (shown) and by on-time rate (hidden);
- open hubs (radius ~ throughput, colour = throughput utilisation) and candidate hubs that
  stay closed (grey), plus sources;
- flows: source -> hub and hub -> region lines, width proportional to volume, aggregated
  per pair; one group for all products and periods (shown) and one per product and per
  period (hidden);
- one outline per campaign around the regions in its scope.

Every string that comes from data is HTML-escaped with :func:`hubopt.review.esc`.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.utilities import JsCode
from jinja2 import Template

from hubopt.review import (
    TIER_COLORS,
    TIER_ORDER,
    esc,
    fmt_hours,
    fmt_num,
    fmt_pct,
    open_periods_of,
    periods_text,
)

if TYPE_CHECKING:
    from hubopt.api import Result
    from hubopt.solution import Solution

ON_TIME_STEPS = ((0.8, "#d73027"), (0.9, "#fc8d59"), (0.95, "#fee08b"), (0.99, "#91cf60"))
ON_TIME_TOP = "#1a9850"
NO_DATA = "#d9d9d9"
UTILISATION_STEPS = ((0.5, "#2b8cbe"), (0.8, "#fdae61"), (0.95, "#f46d43"))
UTILISATION_TOP = "#a50026"
CANDIDATE = "#9e9e9e"
OUTBOUND_COLOR = "#e6550d"
INBOUND_COLOR = "#6a51a3"
CAMPAIGN_COLORS = ("#d01c8b", "#4dac26", "#0571b0", "#ca0020", "#8c510a", "#01665e")
GENERIC_ATTRIBUTION = "Plan: hubopt"
SUBGROUP_LINE_BUDGET = 4  # product/period flow groups share 4 x max_flow_lines lines
CARTO_LIGHT = "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png"
CARTO_ATTRIBUTION = (
    "&copy; <a href='https://www.openstreetmap.org/copyright'>OpenStreetMap</a> contributors "
    "&copy; <a href='https://carto.com/attributions'>CARTO</a>"
)
COORD_GRID_DEG = 1e-4


def plan_map(
    result: Result,
    color_by: str = "tier",
    simplify_tolerance_deg: float = 0.01,
    max_flow_lines: int = 400,
    attribution: str | None = None,
    tiles: str | None = None,
) -> folium.Map:
    """Map one solved plan: regions, hubs, flows and campaign areas with a layer control.

    Parameters
    ----------
    result:
        A solved :class:`hubopt.api.Result` (it must have a solution).
    color_by:
        ``"tier"`` (delivery promise) or ``"on_time"``: the region layer shown first; the
        other one is added hidden.
    simplify_tolerance_deg:
        Polygon simplification tolerance in degrees (topology preserved); 0 keeps them.
    max_flow_lines:
        Largest number of lines in a flow group (the biggest volumes are kept); the hidden
        per-product and per-period groups share ``4 * max_flow_lines`` lines.
    attribution:
        Data attribution shown in the map corner; default: the suggested attribution line
        of a ``SOURCES.md`` beside the regions file, else a generic line.
    tiles:
        A folium tile name or URL template; default: CARTO's light basemap.
    """

    if color_by not in {"tier", "on_time"}:
        raise ValueError(
            f"The 'color_by' parameter of plan_map must be 'tier' or 'on_time'. Got {color_by!r} instead."
        )
    if result.solution is None:
        raise ValueError(f"no plan to map (status {result.status})")
    problem = result.problem
    kpis = result.kpis  # computed on each access: once here
    regions = kpis.regions.reset_index(drop=True)
    coords = problem.regions.set_index("region_id")[["lat", "lon"]]
    regions[["lat", "lon"]] = coords.reindex(regions["region_id"]).to_numpy(float)
    fmap = folium.Map(tiles=None, control_scale=True)
    folium.TileLayer(
        tiles or CARTO_LIGHT,
        attr=None if tiles else CARTO_ATTRIBUTION,
        name="Base map",
        control=False,
    ).add_to(fmap)
    geometry = _region_geometry(result, simplify_tolerance_deg)
    hub_names = {str(row["hub_id"]): _plain_title(row) for _, row in problem.hubs.iterrows()}
    in_campaigns = _region_campaigns(result)
    layers = [("tier", "Regions: delivery promise"), ("on_time", "Regions: on-time rate")]
    if color_by == "on_time":
        layers.reverse()
    for index, (kind, name) in enumerate(layers):
        colors = _tier_colors(regions) if kind == "tier" else _on_time_colors(regions)
        layer = _regions_layer(regions, geometry, colors, name, index == 0, hub_names, in_campaigns)
        layer.add_to(fmap)
    for layer in _campaign_layers(result, geometry):
        layer.add_to(fmap)
    names = build_name_table(result)
    names.add_to(fmap)
    for layer in _flow_layers(result, result.solution, names.get_name(), max_flow_lines):
        layer.add_to(fmap)
    for layer in _hub_layers(result, kpis.hubs):
        layer.add_to(fmap)
    if len(problem.sources):
        _source_layer(result).add_to(fmap)
    Legend(_legend_html(color_by)).add_to(fmap)
    DataAttribution(
        esc(attribution if attribution is not None else find_attribution(result))
    ).add_to(fmap)
    folium.LayerControl(collapsed=False, position="topright").add_to(fmap)
    lat = np.concatenate(
        [problem.regions["lat"].to_numpy(float), problem.hubs["lat"].to_numpy(float)]
    )
    lon = np.concatenate(
        [problem.regions["lon"].to_numpy(float), problem.hubs["lon"].to_numpy(float)]
    )
    if geometry is not None:
        minx, miny, maxx, maxy = geometry.total_bounds
        lat, lon = np.append(lat, [miny, maxy]), np.append(lon, [minx, maxx])
    fmap.fit_bounds(
        [
            [float(np.nanmin(lat)), float(np.nanmin(lon))],
            [float(np.nanmax(lat)), float(np.nanmax(lon))],
        ]
    )
    return fmap


# ---- regions ---------------------------------------------------------------------------


def _region_geometry(result: Result, tolerance: float) -> Any:
    """Simplified region polygons aligned with the regions table, or None."""

    geometry = result.scenario.tables.region_geometry
    if geometry is None or len(geometry) != len(result.problem.regions):
        return None
    values = np.asarray(geometry.values)
    if tolerance > 0:
        # A clean coverage keeps shared borders shared (no slivers between neighbours).
        if shapely.coverage_is_valid(values):
            values = shapely.coverage_simplify(values, tolerance)
        else:
            values = shapely.simplify(values, tolerance, preserve_topology=True)
    values = shapely.set_precision(values, COORD_GRID_DEG)
    return type(geometry)(values, crs=geometry.crs)


def _display_name(row: pd.Series) -> tuple[str, str]:
    """(local name, English name) of a hub or region row."""
    english = str(row.get("name") or "") or str(row.get("region_id", row.get("hub_id", "")))
    local = row.get("name_ko")
    local_text = str(local) if isinstance(local, str) and local and local != english else ""
    return local_text, english


def _plain_title(row: pd.Series) -> str:
    """Unescaped display title: local and English names."""
    local, english = _display_name(row)
    return f"{local} · {english}" if local else english


def _title(row: pd.Series) -> str:
    return esc(_plain_title(row))


def _region_rows(
    row: pd.Series, hub_names: dict[str, str], campaigns: list[str]
) -> list[tuple[str, str | None]]:
    """Popup rows (label, escaped value or None) of one region; labels depend on columns only."""
    rows: list[tuple[str, str | None]] = [("Region id", esc(row["region_id"]))]
    if "sido" in row.index:
        rows.append(("Province", esc(row["sido"]) if isinstance(row["sido"], str) else None))
    if "population" in row.index:
        rows.append(("Population", fmt_num(row["population"])))
    fastest = str(row["fastest_hub_id"] or "")
    rows += [
        ("Demand (units)", fmt_num(row["demand_units"])),
        ("On time", fmt_pct(row["on_time_rate"])),
        ("Fill rate", fmt_pct(row["fill_rate"])),
        ("Mean delivery", fmt_hours(row["mean_delivery_hours"])),
        ("Fastest hub", esc(hub_names.get(fastest, fastest)) if fastest else None),
        ("Fastest delivery", fmt_hours(row["fastest_hours"])),
        ("Promise tier", esc(row["tier"])),
        ("Campaigns", ", ".join(esc(c) for c in campaigns) if campaigns else None),
    ]
    return rows


# Builds a region's popup and tooltip in the browser from compact properties: ``t`` local
# name, ``e`` English name, ``v`` escaped values aligned with LABELS (null = no row).
_REGION_JS = """function(feature, layer) {
  const p = feature.properties, labels = __LABELS__;
  const head = p.t ? `<div class='ho-t'>${p.t}</div><div class='ho-s'>${p.e}</div>`
                   : `<div class='ho-t'>${p.e}</div>`;
  const rows = p.v.map((v, i) => v === null ? '' : `<tr><th>${labels[i]}</th><td>${v}</td></tr>`);
  layer.bindPopup(`<div class='ho-pop'>${head}<table>${rows.join('')}</table></div>`,
                  {maxWidth: 340});
  layer.bindTooltip(`${p.t ? p.t + ' · ' : ''}${p.e} — ${p.v[__TIER__]}, ${p.v[__ONTIME__]} on time`,
                    {sticky: true});
}"""


def _popup_html(local: str, english: str, rows: list[tuple[str, str]]) -> str:
    head = (
        f"<div class='ho-t'>{esc(local)}</div><div class='ho-s'>{esc(english)}</div>"
        if local
        else f"<div class='ho-t'>{esc(english)}</div>"
    )
    body = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows)
    return f"<div class='ho-pop'>{head}<table>{body}</table></div>"


def _tier_colors(regions: pd.DataFrame) -> list[str]:
    return [TIER_COLORS.get(str(t), NO_DATA) for t in regions["tier"]]


def _step_color(value: float, steps: tuple[tuple[float, str], ...], top: str) -> str:
    if not math.isfinite(value):
        return NO_DATA
    return next((color for limit, color in steps if value < limit), top)


def _on_time_colors(regions: pd.DataFrame) -> list[str]:
    rates = regions["on_time_rate"].where(regions["demand_units"] > 0)
    return [_step_color(float(v), ON_TIME_STEPS, ON_TIME_TOP) for v in rates.fillna(np.nan)]


def _region_campaigns(result: Result) -> dict[str, list[str]]:
    streams = result.problem.streams
    scoped = streams[streams["campaign_id"] != ""]
    return {
        str(k): sorted(map(str, v.unique())) for k, v in scoped.groupby("region_id")["campaign_id"]
    }


def _regions_layer(
    regions: pd.DataFrame,
    geometry: Any,
    colors: list[str],
    name: str,
    show: bool,
    hub_names: dict[str, str],
    in_campaigns: dict[str, list[str]],
) -> Any:
    """Region polygons (or circles sized by demand without geometry) in the given colours."""
    names = [_display_name(row) for _, row in regions.iterrows()]
    rows = [
        _region_rows(row, hub_names, in_campaigns.get(str(row["region_id"]), []))
        for _, row in regions.iterrows()
    ]
    if geometry is None:
        group = folium.FeatureGroup(name=esc(name), show=show)
        demand = regions["demand_units"].to_numpy(float)
        top = float(demand.max()) if len(demand) and demand.max() > 0 else 1.0
        for i, row in regions.iterrows():
            local, english = names[i]
            shown = [(label, value) for label, value in rows[i] if value is not None]
            tip = f"{_title(row)} — {esc(row['tier'])}, {fmt_pct(row['on_time_rate'])} on time"
            folium.CircleMarker(
                [float(row["lat"]), float(row["lon"])],
                radius=3 + 12 * math.sqrt(max(demand[i], 0) / top),
                color="#ffffff",
                weight=1,
                fill=True,
                fill_color=colors[i],
                fill_opacity=0.85,
                popup=folium.Popup(_popup_html(local, english, shown), max_width=320),
                tooltip=folium.Tooltip(tip, sticky=True),
            ).add_to(group)
        return group
    labels = [label for label, _ in rows[0]] if rows else []
    script = (
        _REGION_JS.replace("__LABELS__", json.dumps(labels))
        .replace("__TIER__", str(labels.index("Promise tier")))
        .replace("__ONTIME__", str(labels.index("On time")))
    )
    features = [
        {
            "type": "Feature",
            "id": i,
            "properties": {
                "fill": colors[i],
                "t": esc(names[i][0]),
                "e": esc(names[i][1]),
                "v": [value for _, value in rows[i]],
            },
            "geometry": shapely.geometry.mapping(geom) if geom is not None else None,
        }
        for i, geom in enumerate(np.asarray(geometry.values))
    ]
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=esc(name),
        show=show,
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "color": "#ffffff",
            "weight": 0.6,
            "fillOpacity": 0.62,
        },
        highlight_function=lambda f: {"weight": 2.5, "color": "#263238", "fillOpacity": 0.9},
        on_each_feature=JsCode(script),
    )


# ---- campaigns -------------------------------------------------------------------------


def _campaign_layers(result: Result, geometry: Any) -> list[Any]:
    """One outline layer per campaign: the union of the regions with campaign demand."""

    problem = result.problem
    streams = problem.streams
    layers: list[Any] = []
    region_ids = problem.regions["region_id"].astype(str)
    for index, campaign in enumerate(problem.campaigns.itertuples()):
        color = CAMPAIGN_COLORS[index % len(CAMPAIGN_COLORS)]
        scope = set(
            streams.loc[streams["campaign_id"] == campaign.campaign_id, "region_id"].astype(str)
        )
        mask = region_ids.isin(scope).to_numpy()
        label = str(campaign.name or campaign.campaign_id)
        window = campaign.delivery_window_hours
        tip = f"Campaign {esc(label)}: {mask.sum()} regions, window {fmt_hours(window)}, target {fmt_pct(campaign.service_level)} on time"
        name = f"Campaign area: {label}"
        show = bool(mask.sum() < len(mask))  # an all-regions outline is just the coastline
        if geometry is not None and mask.any():
            parts = np.asarray(geometry.values)[mask]
            outline = (
                shapely.coverage_union_all(parts)
                if shapely.coverage_is_valid(parts)
                else shapely.union_all(parts)
            )
            outline = shapely.set_precision(outline, COORD_GRID_DEG)
            data = {
                "type": "Feature",
                "id": 0,
                "properties": {"tooltip": tip},
                "geometry": shapely.geometry.mapping(outline),
            }
            layers.append(
                folium.GeoJson(
                    data,
                    name=esc(name),
                    show=show,
                    style_function=lambda f, c=color: {
                        "color": c,
                        "weight": 2.5,
                        "dashArray": "6 4",
                        "fill": False,
                    },
                    tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False, sticky=True),
                )
            )
            continue
        group = folium.FeatureGroup(name=esc(name), show=show)
        for lat, lon in problem.regions.loc[mask, ["lat", "lon"]].to_numpy(float):
            folium.CircleMarker(
                [lat, lon],
                radius=9,
                color=color,
                weight=2,
                dash_array="4 3",
                fill=False,
                tooltip=folium.Tooltip(tip),
            ).add_to(group)
        layers.append(group)
    return layers


# ---- flows -----------------------------------------------------------------------------


class NameTable(MacroElement):  # type: ignore[misc]
    """Escaped display names of hubs (``h``), regions (``r``) and sources (``s``) in JS.

    Flow lines refer to their ends by position, so each name is stored once per page.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = {{ this.names|tojson }};"
        "{% endmacro %}"
    )

    def __init__(self, names: dict[str, list[str]]) -> None:
        super().__init__()
        self._name = "NameTable"
        self.names = names


def build_name_table(result: Result) -> NameTable:
    """The :class:`NameTable` of a plan's hubs, regions and sources."""
    problem = result.problem
    return NameTable(
        {
            key: [_title(row) for _, row in table.iterrows()]
            for key, table in (("h", problem.hubs), ("r", problem.regions), ("s", problem.sources))
        }
    )


_FLOW_JS = """function(feature, layer) {
  const p = feature.properties, n = __TABLE__;
  layer.bindTooltip(`${n.__FROM__[p.a]} → ${n.__TO__[p.b]}: ${p.q} units`, {sticky: true});
}"""


def _lines_layer(
    lines: pd.DataFrame, name: str, show: bool, spec: _LineSpec, max_lines: int
) -> Any:
    """Straight lines between pair ends, width proportional to ``quantity``."""
    kept = lines.nlargest(max_lines, "quantity") if len(lines) > max_lines else lines
    features = [
        {
            "type": "Feature",
            "id": i,
            "properties": {
                "w": round((1.0 + 9.0 * float(row.quantity) / spec.top) * 2) / 2,
                "q": fmt_num(row.quantity),
                "a": int(row.a),
                "b": int(row.b),
            },
            "geometry": {
                "type": "LineString",
                "coordinates": [
                    [round(row.lon0, 4), round(row.lat0, 4)],
                    [round(row.lon1, 4), round(row.lat1, 4)],
                ],
            },
        }
        for i, row in enumerate(kept.itertuples())
    ]
    script = (
        _FLOW_JS.replace("__TABLE__", spec.table)
        .replace("__FROM__", spec.from_key)
        .replace("__TO__", spec.to_key)
    )
    color, dash = spec.color, spec.dash
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=esc(name),
        show=show,
        style_function=lambda f: {
            "color": color,
            "weight": f["properties"]["w"],
            "opacity": 0.5,
            "dashArray": dash,
            "lineCap": "butt" if dash else "round",
        },
        highlight_function=lambda f: {"opacity": 1.0, "color": "#111111"},
        on_each_feature=JsCode(script),
    )


@dataclass(frozen=True)
class _LineSpec:
    table: str  # JS name of the NameTable
    from_key: str
    to_key: str
    color: str
    top: float  # the quantity drawn at full width
    dash: str | None = None


def _with_ends(
    pairs: pd.DataFrame,
    from_table: pd.DataFrame,
    from_key: str,
    to_table: pd.DataFrame,
    to_key: str,
) -> pd.DataFrame:
    """Add positions (``a``, ``b``) and coordinates of both ends of each (from, to) pair."""
    src = pd.Index(from_table[from_key].astype(str))
    dst = pd.Index(to_table[to_key].astype(str))
    out = pairs.copy()
    out["a"] = src.get_indexer(pairs[from_key].astype(str))
    out["b"] = dst.get_indexer(pairs[to_key].astype(str))
    out = out[(out["a"] >= 0) & (out["b"] >= 0)]
    a, b = out["a"].to_numpy(), out["b"].to_numpy()
    out["lat0"] = from_table["lat"].to_numpy(float)[a]
    out["lon0"] = from_table["lon"].to_numpy(float)[a]
    out["lat1"] = to_table["lat"].to_numpy(float)[b]
    out["lon1"] = to_table["lon"].to_numpy(float)[b]
    return out


def _aggregate(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.groupby(keys, as_index=False, sort=False)["quantity"].sum()


def _flow_layers(result: Result, solution: Solution, names: str, max_lines: int) -> list[Any]:
    """Inbound lines, outbound lines for everything, then per product and per period."""
    problem = result.problem
    flows, inflows = solution.flows, solution.inflows
    layers: list[Any] = []
    inbound = inflows[inflows["source_id"] != ""]
    if len(inbound):
        pairs = _aggregate(inbound, ["source_id", "hub_id"])
        lines = _with_ends(pairs, problem.sources, "source_id", problem.hubs, "hub_id")
        spec = _LineSpec(names, "s", "h", INBOUND_COLOR, float(lines["quantity"].max()), "8 5")
        layers.append(_lines_layer(lines, "Flows: source → hub", True, spec, max_lines))
    if not len(flows):
        return layers
    ends = (problem.hubs, "hub_id", problem.regions, "region_id")
    out = _with_ends(_aggregate(flows, ["hub_id", "region_id"]), *ends)
    spec = _LineSpec(names, "h", "r", OUTBOUND_COLOR, float(out["quantity"].max()))
    layers.append(_lines_layer(out, "Flows: hub → region, all", True, spec, max_lines))
    products = problem.products
    product_names = dict(
        zip(products["product_id"].astype(str), products["name"].astype(str), strict=True)
    )
    groups = [
        (f"Flows: {product_names.get(str(product)) or product}", part)
        for product, part in flows.groupby("product_id", sort=True)
    ]
    groups += [
        (f"Flows: period {period}", part) for period, part in flows.groupby("period", sort=True)
    ]
    # The hidden product/period groups share a budget so long horizons keep the page light.
    per_group = max(25, min(max_lines, SUBGROUP_LINE_BUDGET * max_lines // max(1, len(groups))))
    for name, part in groups:
        lines = _with_ends(_aggregate(part, ["hub_id", "region_id"]), *ends)
        own = _LineSpec(names, "h", "r", OUTBOUND_COLOR, float(lines["quantity"].max()))
        layers.append(_lines_layer(lines, name, False, own, per_group))
    return layers


# ---- hubs and sources ------------------------------------------------------------------


def _hub_layers(result: Result, hub_kpis: pd.DataFrame) -> list[Any]:
    """Open hubs (size ~ throughput, colour = utilisation) and never-opened candidates."""

    assert result.solution is not None
    problem = result.problem
    stats = hub_kpis.set_index("hub_id")
    per_period = result.solution.hubs
    open_periods = open_periods_of(per_period)
    served = result.solution.flows.groupby("hub_id")["region_id"].nunique()
    opened = folium.FeatureGroup(name="Hubs: open")
    closed = folium.FeatureGroup(name="Hubs: candidate, not opened")
    top = float(stats["throughput_m3"].max()) if len(stats) else 0.0
    for _, hub in problem.hubs.iterrows():
        hub_id = str(hub["hub_id"])
        row = stats.loc[hub_id] if hub_id in stats.index else None
        periods = open_periods.get(hub_id, [])
        local, english = _display_name(hub)
        rows = [
            ("Hub id", esc(hub_id)),
            ("Status", esc(hub["status"])),
            ("Open periods", periods_text(periods)),
        ]
        tip = _title(hub)
        if periods and row is not None:
            utilisation = float(row["throughput_utilisation"])
            rows += [
                ("Throughput", f"{fmt_num(row['throughput_m3'])} m³"),
                ("Utilisation", fmt_pct(utilisation)),
                ("Peak utilisation", fmt_pct(row["peak_throughput_utilisation"])),
                ("Units shipped", fmt_num(row["shipped_units"])),
                ("Regions served", fmt_num(served.get(hub_id, 0))),
                ("Average stock", f"{fmt_num(row['average_stock_units'])} units"),
                ("Turnover", fmt_num(row["inventory_turnover"], 1)),
                ("Days of cover", fmt_num(row["days_of_cover"], 1)),
            ]
            radius = 6 + 14 * math.sqrt(float(row["throughput_m3"]) / top) if top > 0 else 8
            color = (
                _step_color(utilisation, UTILISATION_STEPS, UTILISATION_TOP)
                if math.isfinite(utilisation)
                else "#2b8cbe"
            )
            tip += f" — open, {fmt_pct(utilisation)} utilised"
            target, stroke, weight = opened, "#212121", 1.5
        else:
            rows += [
                ("Throughput capacity", f"{fmt_num(hub['throughput_capacity'])} m³"),
                ("Fixed cost / period", fmt_num(hub["fixed_cost"])),
            ]
            radius, color, stroke, weight = 4.5, CANDIDATE, "#ffffff", 1.0
            tip += " — candidate, not opened"
            target = closed
        folium.CircleMarker(
            [float(hub["lat"]), float(hub["lon"])],
            radius=radius,
            color=stroke,
            weight=weight,
            fill=True,
            fill_color=color,
            fill_opacity=0.95,
            popup=folium.Popup(_popup_html(local, english, rows), max_width=320),
            tooltip=folium.Tooltip(tip, sticky=True),
        ).add_to(target)
    return [closed, opened]


def _source_layer(result: Result) -> Any:

    group = folium.FeatureGroup(name="Sources")
    inflows = result.solution.inflows if result.solution is not None else pd.DataFrame()
    sent = (
        inflows.groupby("source_id")["quantity"].sum() if len(inflows) else pd.Series(dtype=float)
    )
    for _, source in result.problem.sources.iterrows():
        local, english = _display_name(source)
        rows = [
            ("Source id", esc(source["source_id"])),
            ("Units sent", fmt_num(sent.get(source["source_id"], 0.0))),
        ]
        folium.CircleMarker(
            [float(source["lat"]), float(source["lon"])],
            radius=7,
            color="#ffffff",
            weight=2,
            fill=True,
            fill_color=INBOUND_COLOR,
            fill_opacity=1.0,
            popup=folium.Popup(_popup_html(local, english, rows), max_width=300),
            tooltip=folium.Tooltip(f"{_title(source)} — source"),
        ).add_to(group)
    return group


# ---- legend and attribution ------------------------------------------------------------


def _swatch(color: str, label: str, round_: bool = False) -> str:
    radius = "50%" if round_ else "2px"
    return f"<div class='ho-row'><i style='background:{color};border-radius:{radius}'></i>{label}</div>"


def _legend_html(color_by: str) -> str:
    tiers = "".join(
        _swatch(
            TIER_COLORS[t],
            esc(
                t
                if t not in {"later", "none"}
                else {"later": "later than 72 h", "none": "no open hub reaches"}[t]
            ),
        )
        for t in TIER_ORDER
    )
    bounds = [0.0] + [limit for limit, _ in ON_TIME_STEPS]
    colors = [c for _, c in ON_TIME_STEPS] + [ON_TIME_TOP]
    labels = (
        [f"< {fmt_pct(ON_TIME_STEPS[0][0], 0)}"]
        + [f"{fmt_pct(a, 0)}–{fmt_pct(b, 0)}" for a, b in itertools.pairwise(bounds[1:])]
        + [f"≥ {fmt_pct(ON_TIME_STEPS[-1][0], 0)}"]
    )
    on_time = "".join(_swatch(c, esc(label)) for c, label in zip(colors, labels, strict=True))
    util_labels = ["< 50 %", "50–80 %", "80–95 %", "≥ 95 %"]
    util_colors = [c for _, c in UTILISATION_STEPS] + [UTILISATION_TOP]
    hubs = "".join(
        _swatch(c, label, True) for c, label in zip(util_colors, util_labels, strict=True)
    )
    hubs += _swatch(CANDIDATE, "candidate, not opened", True) + _swatch(
        INBOUND_COLOR, "source", True
    )
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
    """A fixed legend box (HTML built by :func:`_legend_html`, data already escaped)."""

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


# ---- comparison of two plans -----------------------------------------------------------

CHANGE_OPENED = "#1a9850"
CHANGE_CLOSED = "#d73027"
TIER_BETTER = "#2166ac"
TIER_WORSE = "#b2182b"


def compare_map(
    result_a: Result,
    result_b: Result,
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
        Solved results (left and right); e.g. from :func:`hubopt.batch.load_run`.
    simplify_tolerance_deg, max_flow_lines, tiles:
        As in :func:`plan_map`.
    top_lanes:
        How many changed lanes to draw.
    """
    from folium.plugins import DualMap

    from hubopt.compare import hub_changes, lane_changes, tier_changes

    for label, result in (("result_a", result_a), ("result_b", result_b)):
        if result.solution is None:
            raise ValueError(
                f"The '{label}' parameter of compare_map must have a plan. "
                f"Got status {result.status} instead."
            )
    dual = DualMap(tiles=None, control_scale=True)
    changes = (
        hub_changes(result_a, result_b),
        tier_changes(result_a, result_b),
        lane_changes(result_a, result_b, top_lanes),
    )
    for fmap, result, side in ((dual.m1, result_a, "A"), (dual.m2, result_b, "B")):
        folium.TileLayer(
            tiles or CARTO_LIGHT,
            attr=None if tiles else CARTO_ATTRIBUTION,
            name="Base map",
            control=False,
        ).add_to(fmap)
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
    geometry = _region_geometry(result, tolerance)
    hub_names = {str(row["hub_id"]): _plain_title(row) for _, row in problem.hubs.iterrows()}
    layers: list[Any] = [
        _regions_layer(
            regions,
            geometry,
            _tier_colors(regions),
            f"{side}: delivery promise",
            True,
            hub_names,
            _region_campaigns(result),
        )
    ]
    names = build_name_table(result)
    names.add_to(fmap)
    flows = result.solution.flows
    if len(flows):
        ends = (problem.hubs, "hub_id", problem.regions, "region_id")
        lines = _with_ends(_aggregate(flows, ["hub_id", "region_id"]), *ends)
        spec = _LineSpec(names.get_name(), "h", "r", OUTBOUND_COLOR, float(lines["quantity"].max()))
        layers.append(_lines_layer(lines, f"{side}: flows hub → region", True, spec, max_lines))
    hub_layers = _hub_layers(result, kpis.hubs)
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
    tiers = "".join(_swatch(TIER_COLORS[t], esc(t)) for t in TIER_ORDER)
    util = [c for _, c in UTILISATION_STEPS] + [UTILISATION_TOP]
    labels = ["< 50 %", "50–80 %", "80–95 %", "≥ 95 %"]
    hubs = "".join(_swatch(c, label, True) for c, label in zip(util, labels, strict=True))
    hubs += _swatch(CANDIDATE, "candidate, not opened", True)
    return (
        "<div class='ho-legend'>"
        f"<b>Delivery promise</b>{tiers}"
        "<b>Hubs: utilisation</b>"
        f"{hubs}"
        "<b>What changed (A → B), rings and dashed lines</b>"
        f"{_swatch(CHANGE_OPENED, 'hub opened / lane volume up', True)}"
        f"{_swatch(CHANGE_CLOSED, 'hub closed / lane volume down', True)}"
        f"{_swatch(TIER_BETTER, 'region: faster promise tier', True)}"
        f"{_swatch(TIER_WORSE, 'region: slower promise tier', True)}"
        "</div>"
    )


class _PaneTitle(MacroElement):  # type: ignore[misc]
    """A title box at the top centre of one pane (text already escaped)."""

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
