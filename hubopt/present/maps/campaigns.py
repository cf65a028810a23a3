"""Campaign layers: where a footprint campaign runs, and its promise per campaign window."""

from __future__ import annotations

from typing import Any

import folium
import numpy as np
import pandas as pd
import shapely

from hubopt.present.format import NO_DATA, esc, fmt_hours, fmt_num, fmt_pct, tier_palette
from hubopt.present.maps.style import COORD_GRID_DEG
from hubopt.result import Result
from hubopt.tiers import tier_labels

INCLUDED = "#1a9850"
EXCLUDED = "#d73027"


def footprint_layers(result: Result, geometry: Any) -> list[Any]:
    """Per footprint campaign: its candidate regions, green where it runs, red where not."""
    if result.solution is None or not len(result.solution.footprint):
        return []
    layers = []
    for campaign_id, group in result.solution.footprint.groupby("campaign_id", sort=False):
        colors = np.where(group["included"].to_numpy() == 1, INCLUDED, EXCLUDED)
        tips = [
            f"{'runs' if r.included else 'not run'}: {fmt_num(r.incremental_units)} incremental units, "
            f"profit {fmt_num(r.profit_per_unit)} per unit ({esc(r.logistics_basis)})"
            for r in group.itertuples()
        ]
        layers.append(
            _region_fill_layer(
                result,
                geometry,
                group["region_id"].astype(str).tolist(),
                colors.tolist(),
                tips,
                f"Campaign footprint: {campaign_id} (green runs, red not)",
            )
        )
    return layers


def campaign_promise_layers(result: Result, geometry: Any) -> list[Any]:
    """Per campaign: its regions coloured by the promise tier within its window."""
    if result.solution is None:
        return []
    promise = result.kpis.campaign_promise
    if not len(promise):
        return []
    colors_of = tier_palette(tier_labels(result.scenario.config.output.promise_tiers_hours))
    layers = []
    for campaign_id, group in promise.groupby("campaign_id", sort=False):
        window = float(group["delivery_window_hours"].iloc[0])
        tips = [
            f"{esc(r.tier)} ({fmt_hours(r.fastest_hours)}), "
            f"{'within' if r.within_window else 'beyond'} the {fmt_num(window)} h window; "
            f"{fmt_pct(r.on_time_rate)} on time"
            for r in group.itertuples()
        ]
        layers.append(
            _region_fill_layer(
                result,
                geometry,
                group["region_id"].astype(str).tolist(),
                [colors_of.get(str(t), NO_DATA) for t in group["tier"]],
                tips,
                f"Campaign promise: {campaign_id} ({fmt_num(window)} h window)",
            )
        )
    return layers


def _region_fill_layer(
    result: Result,
    geometry: Any,
    region_ids: list[str],
    colors: list[str],
    tips: list[str],
    name: str,
) -> Any:
    """Regions filled with one colour each (polygons, or circles without geometry)."""
    regions = result.problem.regions
    position = pd.Index(regions["region_id"].astype(str)).get_indexer(region_ids)
    titles = regions["name"].astype(str).to_numpy()
    if geometry is None:
        group = folium.FeatureGroup(name=esc(name), show=False)
        coords = regions[["lat", "lon"]].to_numpy(float)
        for i, color, tip in zip(position, colors, tips, strict=True):
            folium.CircleMarker(
                coords[i].tolist(),
                radius=7,
                color="#ffffff",
                weight=1,
                fill=True,
                fill_color=color,
                fill_opacity=0.85,
                tooltip=folium.Tooltip(f"{esc(titles[i])}: {tip}", sticky=True),
            ).add_to(group)
        return group
    shapes = np.asarray(geometry.values)
    features = [
        {
            "type": "Feature",
            "id": int(k),
            "properties": {"fill": color, "tooltip": f"{esc(titles[i])}: {tip}"},
            "geometry": shapely.geometry.mapping(shapely.set_precision(shapes[i], COORD_GRID_DEG)),
        }
        for k, (i, color, tip) in enumerate(zip(position, colors, tips, strict=True))
        if shapes[i] is not None
    ]
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=esc(name),
        show=False,
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "color": "#ffffff",
            "weight": 0.5,
            "fillOpacity": 0.7,
        },
        tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False, sticky=True),
    )
