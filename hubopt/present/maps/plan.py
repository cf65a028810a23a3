"""The plan map: :func:`plan_map`."""

from __future__ import annotations

import folium
import numpy as np

from hubopt.present.format import esc
from hubopt.present.maps.campaigns import campaign_promise_layers, footprint_layers
from hubopt.present.maps.elements import DataAttribution, Legend, find_attribution, plan_legend_html
from hubopt.present.maps.network import (
    build_name_table,
    flow_layers,
    hub_marker_layers,
    source_layer,
)
from hubopt.present.maps.pickup import pickup_layer
from hubopt.present.maps.regions import (
    campaign_layers,
    on_time_colors,
    plain_title,
    region_campaigns,
    regions_layer,
    simplified_region_geometry,
    tier_colors,
)
from hubopt.present.maps.routes import period_route_layers
from hubopt.present.maps.style import base_tiles
from hubopt.result import Result


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
    tiers = result.scenario.config.output.promise_tiers_hours
    regions = kpis.regions.reset_index(drop=True)
    coords = problem.regions.set_index("region_id")[["lat", "lon"]]
    regions[["lat", "lon"]] = coords.reindex(regions["region_id"]).to_numpy(float)
    fmap = folium.Map(tiles=None, control_scale=True)
    base_tiles(tiles).add_to(fmap)
    geometry = simplified_region_geometry(result, simplify_tolerance_deg)
    hub_names = {str(row["hub_id"]): plain_title(row) for _, row in problem.hubs.iterrows()}
    in_campaigns = region_campaigns(result)
    layers = [("tier", "Regions: delivery promise"), ("on_time", "Regions: on-time rate")]
    if color_by == "on_time":
        layers.reverse()
    for index, (kind, name) in enumerate(layers):
        colors = tier_colors(regions, tiers) if kind == "tier" else on_time_colors(regions)
        layer = regions_layer(regions, geometry, colors, name, index == 0, hub_names, in_campaigns)
        layer.add_to(fmap)
    for layer in campaign_layers(result, geometry):
        layer.add_to(fmap)
    for layer in footprint_layers(result, geometry) + campaign_promise_layers(result, geometry):
        layer.add_to(fmap)
    names = build_name_table(result)
    names.add_to(fmap)
    for layer in flow_layers(result, result.solution, names.get_name(), max_flow_lines):
        layer.add_to(fmap)
    if result.routes is not None and len(result.routes.routes):
        for layer in period_route_layers(
            result.routes.routes, result.routes.stops, problem.hubs, problem.regions
        ):
            layer.add_to(fmap)
    for layer in hub_marker_layers(result, kpis.hubs):
        layer.add_to(fmap)
    if len(problem.sources):
        source_layer(result).add_to(fmap)
    if len(problem.pickups):
        pickup_layer(result).add_to(fmap)
    Legend(plan_legend_html(color_by, tiers)).add_to(fmap)
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
