"""Region layers: polygons (or circles) by tier and on-time rate, campaign areas."""

from __future__ import annotations

import json
import math
from typing import Any

import folium
import numpy as np
import pandas as pd
import shapely
from folium.utilities import JsCode

from hubopt.present.format import (
    NO_DATA,
    ON_TIME_STEPS,
    ON_TIME_TOP,
    esc,
    finite,
    fmt_hours,
    fmt_num,
    fmt_pct,
    step_color,
    tier_palette,
)
from hubopt.present.maps.style import CAMPAIGN_COLORS, COORD_GRID_DEG
from hubopt.result import Result
from hubopt.solution import realised_streams
from hubopt.tiers import DEFAULT_TIERS_HOURS, tier_labels


def simplified_region_geometry(result: Result, tolerance: float) -> Any:
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


def display_name(row: pd.Series) -> tuple[str, str]:
    """(local name, English name) of a hub or region row."""
    english = str(row.get("name") or "") or str(row.get("region_id", row.get("hub_id", "")))
    local = row.get("name_local")
    local_text = str(local) if isinstance(local, str) and local and local != english else ""
    return local_text, english


def plain_title(row: pd.Series) -> str:
    """Unescaped display title: local and English names."""
    local, english = display_name(row)
    return f"{local} · {english}" if local else english


def escaped_title(row: pd.Series) -> str:
    return esc(plain_title(row))


def _region_rows(
    row: pd.Series, hub_names: dict[str, str], campaigns: list[str]
) -> list[tuple[str, str | None]]:
    """Popup rows (label, escaped value or None) of one region; labels depend on columns only."""
    rows: list[tuple[str, str | None]] = [("Region id", esc(row["region_id"]))]
    province = row.get("province")
    if isinstance(province, str) and province:
        rows.append(("Province", esc(province)))
    if finite(row.get("population")) is not None:
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


def popup_html(local: str, english: str, rows: list[tuple[str, str]]) -> str:
    head = (
        f"<div class='ho-t'>{esc(local)}</div><div class='ho-s'>{esc(english)}</div>"
        if local
        else f"<div class='ho-t'>{esc(english)}</div>"
    )
    body = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows)
    return f"<div class='ho-pop'>{head}<table>{body}</table></div>"


def tier_colors(
    regions: pd.DataFrame, tiers_hours: tuple[float, ...] | list[float] = DEFAULT_TIERS_HOURS
) -> list[str]:
    colors = tier_palette(tier_labels(tiers_hours))
    return [colors.get(str(t), NO_DATA) for t in regions["tier"]]


def on_time_colors(regions: pd.DataFrame) -> list[str]:
    rates = regions["on_time_rate"].where(regions["demand_units"] > 0)
    return [step_color(float(v), ON_TIME_STEPS, ON_TIME_TOP) for v in rates.fillna(np.nan)]


def region_campaigns(result: Result) -> dict[str, list[str]]:
    streams = (
        realised_streams(result.problem, result.solution)
        if result.solution is not None
        else result.problem.streams
    )
    scoped = streams[streams["campaign_id"] != ""]
    return {
        str(k): sorted(map(str, v.unique())) for k, v in scoped.groupby("region_id")["campaign_id"]
    }


def regions_layer(
    regions: pd.DataFrame,
    geometry: Any,
    colors: list[str],
    name: str,
    show: bool,
    hub_names: dict[str, str],
    in_campaigns: dict[str, list[str]],
) -> Any:
    """Region polygons (or circles sized by demand without geometry) in the given colours."""
    names = [display_name(row) for _, row in regions.iterrows()]
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
            tip = (
                f"{escaped_title(row)} — {esc(row['tier'])}, {fmt_pct(row['on_time_rate'])} on time"
            )
            folium.CircleMarker(
                [float(row["lat"]), float(row["lon"])],
                radius=3 + 12 * math.sqrt(max(demand[i], 0) / top),
                color="#ffffff",
                weight=1,
                fill=True,
                fill_color=colors[i],
                fill_opacity=0.85,
                popup=folium.Popup(popup_html(local, english, shown), max_width=320),
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


def campaign_layers(result: Result, geometry: Any) -> list[Any]:
    """One outline layer per campaign: the union of the regions with campaign demand."""

    problem = result.problem
    streams = (
        realised_streams(problem, result.solution)
        if result.solution is not None
        else problem.streams
    )
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
