"""Route layers: the vans' routes as polylines, one colour per van, one layer per period."""

from __future__ import annotations

from typing import Any

import folium
import pandas as pd

from hubopt.present.format import esc, fmt_num

ROUTE_COLORS = (
    "#1f78b4",
    "#33a02c",
    "#e31a1c",
    "#ff7f00",
    "#6a3d9a",
    "#b15928",
    "#a6cee3",
    "#b2df8a",
    "#fb9a99",
    "#fdbf6f",
    "#cab2d6",
    "#17becf",
)
LATE_COLOR = "#d7301f"


def route_layer(
    routes: pd.DataFrame,
    stops: pd.DataFrame,
    hubs: pd.DataFrame,
    regions: pd.DataFrame,
    name: str = "Routes",
    show: bool = True,
) -> folium.FeatureGroup:
    """A layer with every route of ``routes`` (a route plan's tables) as a polyline.

    Each van gets its own colour (cycling through :data:`ROUTE_COLORS` per hub); the
    line runs hub -> stops in order -> hub; its popup lists the stops with arrival hours
    and flags the late ones, which are also circled in red. Coordinates are the tables'
    WGS84 lat/lon (a scenario's projected ``crs`` only changes how distances are measured).
    """
    layer = folium.FeatureGroup(name=name, show=show)
    hub_xy = hubs.set_index("hub_id")[["lat", "lon"]].astype(float)
    region_xy = regions.set_index("region_id")[["lat", "lon"]].astype(float)
    region_name = (
        regions.set_index("region_id")["name"].astype(str)
        if "name" in regions.columns
        else pd.Series(dtype=str)
    )
    by_route = {
        key: rows.sort_values("stop")
        for key, rows in stops.groupby(["hub_id", "period", "vehicle"])
    }
    colour_index: dict[str, int] = {}
    for route in routes.itertuples():
        rows = by_route.get((route.hub_id, route.period, route.vehicle))
        if rows is None:
            continue
        colour = ROUTE_COLORS[colour_index.setdefault(route.hub_id, 0) % len(ROUTE_COLORS)]
        colour_index[route.hub_id] += 1
        home = hub_xy.loc[route.hub_id]
        points = [(home["lat"], home["lon"])]
        points += [tuple(region_xy.loc[r]) for r in rows["region_id"]]
        points.append(points[0])
        folium.PolyLine(
            points,
            color=colour,
            weight=3,
            opacity=0.85,
            tooltip=esc(f"{route.hub_id} {route.vehicle}: {route.stops} stops, {route.km:.1f} km"),
            popup=folium.Popup(_popup(route, rows, region_name), max_width=420),
        ).add_to(layer)
        for row in rows[rows["late"]].itertuples():
            lat, lon = region_xy.loc[row.region_id]
            folium.CircleMarker(
                (lat, lon),
                radius=7,
                color=LATE_COLOR,
                weight=2,
                fill=False,
                tooltip=esc(f"late: {row.region_id} at {row.arrival_hours:.1f} h"),
            ).add_to(layer)
    return layer


def _popup(route: Any, stops: pd.DataFrame, names: pd.Series) -> str:
    head = (
        f"<b>{esc(route.hub_id)} &middot; {esc(route.vehicle)} &middot; period "
        f"{esc(route.period)}</b><br>"
        f"{fmt_num(route.km, 1)} km, {fmt_num(route.hours, 1)} h, "
        f"{fmt_num(route.load_m3, 1)} m3 of {fmt_num(route.capacity_m3, 1)}, "
        f"cost {fmt_num(route.cost)}"
    )
    rows = []
    for stop in stops.itertuples():
        label = names.get(stop.region_id, stop.region_id)
        window = (
            ""
            if pd.isna(stop.window_hours) or stop.window_hours == float("inf")
            else f" / {stop.window_hours:g} h"
        )
        late = " <b style='color:#d7301f'>late</b>" if stop.late else ""
        rows.append(
            f"<tr><td>{stop.stop}</td><td>{esc(label)}</td>"
            f"<td>{stop.arrival_hours:.1f} h{window}</td><td>{fmt_num(stop.load_m3, 2)} m3{late}</td></tr>"
        )
    table = (
        "<table><tr><th>#</th><th>stop</th><th>arrival</th><th>load</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    return head + table


def period_route_layers(
    routes: pd.DataFrame, stops: pd.DataFrame, hubs: pd.DataFrame, regions: pd.DataFrame
) -> list[folium.FeatureGroup]:
    """One :func:`route_layer` per routed period; the first shown, the others hidden."""
    return [
        route_layer(
            routes[routes["period"] == period],
            stops[stops["period"] == period],
            hubs,
            regions,
            name=f"Van routes: period {period}",
            show=index == 0,
        )
        for index, period in enumerate(sorted(set(routes["period"])))
    ]
