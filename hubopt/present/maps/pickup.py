"""The pickup-point layer of the plan map: open points sized by units handed over, closed
candidates as small grey dots, each with its reach circle (``max_distance_km``)."""

from __future__ import annotations

import math

import folium

from hubopt.present.format import esc, fmt_num, fmt_pct
from hubopt.present.maps.regions import display_name, escaped_title, popup_html
from hubopt.present.maps.style import CANDIDATE
from hubopt.result import Result

PICKUP_COLOR = "#7b3294"


def pickup_layer(result: Result) -> folium.FeatureGroup:
    """A layer with every pickup point of the scenario (open ones highlighted)."""
    group = folium.FeatureGroup(name="Pickup points")
    kpis = result.kpis.pickup_points.set_index("pickup_id")
    top = float(kpis["units"].max()) if len(kpis) else 0.0
    for _, point in result.problem.pickups.iterrows():
        pid = str(point["pickup_id"])
        row = kpis.loc[pid] if pid in kpis.index else None
        units = float(row["units"]) if row is not None else 0.0
        is_open = row is not None and float(row["periods_open"]) > 0
        local, english = display_name(point)
        rows = [
            ("Pickup point id", esc(pid)),
            ("Periods open", fmt_num(row["periods_open"]) if row is not None else "0"),
            ("Units handed over", fmt_num(units)),
            ("Utilisation", fmt_pct(row["utilisation"]) if row is not None else "–"),
            ("Customer reach", f"{fmt_num(point['max_distance_km'], 1)} km"),
            (
                "Regions served",
                esc(str(row["served_regions"]).replace(";", ", ")) if row is not None else "",
            ),
        ]
        where = [float(point["lat"]), float(point["lon"])]
        if is_open:
            folium.Circle(
                where,
                radius=float(point["max_distance_km"]) * 1000 / result.problem.policy.circuity,
                color=PICKUP_COLOR,
                weight=1,
                fill=True,
                fill_opacity=0.05,
            ).add_to(group)
        folium.CircleMarker(
            where,
            radius=(4 + 8 * math.sqrt(units / top)) if is_open and top > 0 else 3,
            color="#ffffff",
            weight=1,
            fill=True,
            fill_color=PICKUP_COLOR if is_open else CANDIDATE,
            fill_opacity=0.95 if is_open else 0.6,
            popup=folium.Popup(popup_html(local, english, rows), max_width=300),
            tooltip=folium.Tooltip(
                f"{escaped_title(point)} — pickup point{'' if is_open else ' (closed)'}"
            ),
        ).add_to(group)
    return group
