"""Map-only colours, palettes and tile settings (shared colour steps live in
:mod:`hubopt.present.format`)."""

from __future__ import annotations

import folium

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


def base_tiles(tiles: str | None = None) -> folium.TileLayer:
    """The base map: CARTO light (no API key needed) unless a tile URL is given."""
    return folium.TileLayer(
        tiles or CARTO_LIGHT,
        attr=None if tiles else CARTO_ATTRIBUTION,
        name="Base map",
        control=False,
    )
