"""JavaScript-evaluation helpers for browser tests of folium maps and reports.

Each helper takes a Playwright ``Page`` (and then looks into every frame of it, so a
report whose maps sit in iframes is covered) or a single ``Frame``.
"""

from __future__ import annotations

from playwright.sync_api import Frame, Page

LAYER_KINDS = ("polygons", "polylines", "circles", "circle_markers", "markers")

# Counts the layers currently on each Leaflet map found as a `map_*` global (folium
# names its maps so). Subclasses are tested first: Polygon extends Polyline, Circle
# extends CircleMarker. Layers hidden through the layer control are not on the map.
_COUNT_LAYERS_JS = """
() => {
  const counts = {maps: 0, polygons: 0, polylines: 0, circles: 0, circle_markers: 0, markers: 0};
  if (typeof L === "undefined") return counts;
  for (const name of Object.keys(window)) {
    const map = name.startsWith("map_") ? window[name] : null;
    if (!(map instanceof L.Map)) continue;
    counts.maps += 1;
    for (const layer of Object.values(map._layers)) {
      if (layer instanceof L.Polygon) counts.polygons += 1;
      else if (layer instanceof L.Polyline) counts.polylines += 1;
      else if (layer instanceof L.Circle) counts.circles += 1;
      else if (layer instanceof L.CircleMarker) counts.circle_markers += 1;
      else if (layer instanceof L.Marker) counts.markers += 1;
    }
  }
  return counts;
}
"""

_LAYER_CONTROL_NAMES_JS = """
() => Array.from(document.querySelectorAll(".leaflet-control-layers-list label"))
  .map((label) => label.textContent.trim())
"""


def _frames(target: Page | Frame) -> list[Frame]:
    return target.frames if isinstance(target, Page) else [target]


def count_leaflet_layers(target: Page | Frame) -> dict[str, int]:
    """Count the vector layers and markers on every folium map of a page.

    Returns a dict with ``maps`` (number of maps found) and one count per kind in
    ``LAYER_KINDS``, summed over all maps in all frames.
    """
    totals = dict.fromkeys(("maps", *LAYER_KINDS), 0)
    for frame in _frames(target):
        for key, value in frame.evaluate(_COUNT_LAYERS_JS).items():
            totals[key] += value
    return totals


def layer_control_names(target: Page | Frame) -> list[str]:
    """Return the layer names listed by every Leaflet layer control, in page order."""
    names: list[str] = []
    for frame in _frames(target):
        names += frame.evaluate(_LAYER_CONTROL_NAMES_JS)
    return names
