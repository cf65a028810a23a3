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

Every string that comes from data is HTML-escaped with :func:`hubopt.present.format.esc`.
"""

from hubopt.present.maps.compare import compare_map
from hubopt.present.maps.elements import Legend
from hubopt.present.maps.plan import plan_map
from hubopt.present.maps.style import GENERIC_ATTRIBUTION

__all__ = ["GENERIC_ATTRIBUTION", "Legend", "compare_map", "plan_map"]
