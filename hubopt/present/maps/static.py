"""A static SVG map of a plan, for the report: readable offline and in print.

Drawn from the same geometry as the interactive map (:func:`simplified_region_geometry`,
the tier colours, the flow and hub colours), in a plain equirectangular projection whose
longitudes are scaled by the cosine of the mid latitude (shapes look right at the scale
of a country). No tiles, no JavaScript. :func:`plan_svg` returns the drawing as data
(pixel geometry, colours, titles); the ``static_map`` macro of
``templates/charts.html.j2`` turns it into an ``<svg>`` (Jinja2 escapes every title).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from hubopt.present.format import fmt_num, tier_palette, utilisation_color
from hubopt.present.maps.network import aggregate
from hubopt.present.maps.regions import plain_title, simplified_region_geometry, tier_colors
from hubopt.present.maps.style import CANDIDATE, INBOUND_COLOR, OUTBOUND_COLOR
from hubopt.result import Result
from hubopt.tiers import tier_labels

MARGIN_PX = 12.0


@dataclass(frozen=True)
class Projection:
    """Degrees -> SVG pixels: x = (lon - west) * cos(mid lat) * scale, y from the north."""

    west: float
    north: float
    kx: float
    ky: float

    @classmethod
    def fit(cls, lats: np.ndarray, lons: np.ndarray, width: float) -> tuple[Projection, float]:
        """The projection that fits the points into ``width`` pixels; and the height."""
        south, north = float(np.min(lats)), float(np.max(lats))
        west, east = float(np.min(lons)), float(np.max(lons))
        shrink = math.cos(math.radians((south + north) / 2))
        span_x = max((east - west) * shrink, 1e-6)
        span_y = max(north - south, 1e-6)
        scale = (width - 2 * MARGIN_PX) / max(span_x, span_y * 0.75)
        height = span_y * scale + 2 * MARGIN_PX
        return cls(west, north, shrink * scale, scale), height

    def xy(self, lat: Any, lon: Any) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates of points (arrays broadcast)."""
        x = (np.asarray(lon, float) - self.west) * self.kx + MARGIN_PX
        y = (self.north - np.asarray(lat, float)) * self.ky + MARGIN_PX
        return x, y


def plan_svg(
    result: Result,
    width: int = 860,
    simplify_tolerance_deg: float = 0.01,
    max_flow_lines: int = 300,
) -> dict[str, Any]:
    """The plan as drawing data: regions by delivery tier, flows, hubs and sources.

    Parameters
    ----------
    result:
        A solved result (it must have a solution).
    width:
        Width of the drawing in pixels (the height follows from the area's shape).
    simplify_tolerance_deg:
        Polygon simplification, as on the interactive map.
    max_flow_lines:
        The largest hub -> region flows drawn (by volume).

    Returns
    -------
    dict
        ``width, height, regions`` (each ``path`` or ``cx, cy``, ``fill``, ``title``),
        ``lines`` (``x1 .. y2, color, width, dash, title``), ``sources``, ``hubs``
        (``cx, cy, r, fill, open, label, title``).
    """
    if result.solution is None:
        raise ValueError("plan_svg needs a solved result (no solution)")
    problem, kpis = result.problem, result.kpis
    geometry = simplified_region_geometry(result, simplify_tolerance_deg)
    lats = [problem.regions["lat"], problem.hubs["lat"], problem.sources["lat"]]
    lons = [problem.regions["lon"], problem.hubs["lon"], problem.sources["lon"]]
    if geometry is not None:
        bounds = np.asarray(shapely.bounds(np.asarray(geometry.values)))
        bounds = bounds[np.isfinite(bounds).all(axis=1)]
        lats += [pd.Series(bounds[:, 1]), pd.Series(bounds[:, 3])]
        lons += [pd.Series(bounds[:, 0]), pd.Series(bounds[:, 2])]
    projection, height = Projection.fit(
        np.concatenate([np.asarray(v, float) for v in lats]),
        np.concatenate([np.asarray(v, float) for v in lons]),
        float(width),
    )
    return {
        "width": width,
        "height": round(height),
        "regions": _regions(
            problem.regions,
            geometry,
            kpis.regions,
            projection,
            result.scenario.config.output.promise_tiers_hours,
        ),
        "lines": _flow_lines(result, projection, max_flow_lines),
        "sources": _sources(problem.sources, projection),
        "hubs": _hubs(result, projection),
    }


def _path(geom: Any, projection: Projection) -> str:
    polygons = getattr(geom, "geoms", [geom])
    out = []
    for polygon in polygons:
        if polygon.is_empty or polygon.geom_type != "Polygon":
            continue
        for ring in (polygon.exterior, *polygon.interiors):
            coords = np.asarray(ring.coords)
            x, y = projection.xy(coords[:, 1], coords[:, 0])
            points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y, strict=True))
            out.append(f"M{points}Z")
    return "".join(out)


def _regions(
    table: pd.DataFrame,
    geometry: Any,
    kpis: pd.DataFrame,
    projection: Projection,
    tiers_hours: tuple[float, ...] | list[float],
) -> list[dict[str, Any]]:
    colours = tier_colors(kpis, tiers_hours)
    tiers = kpis["tier"].astype(str).tolist()
    out = []
    for i, row in table.reset_index(drop=True).iterrows():
        item: dict[str, Any] = {"fill": colours[i], "title": f"{plain_title(row)}: {tiers[i]}"}
        geom = geometry.iloc[i] if geometry is not None else None
        if geom is not None and not geom.is_empty:
            item["path"] = _path(geom, projection)
        else:
            x, y = projection.xy(row["lat"], row["lon"])
            item["cx"], item["cy"] = f"{float(x):.1f}", f"{float(y):.1f}"
        out.append(item)
    return out


def _line(
    ends: tuple[Any, Any, Any, Any],
    projection: Projection,
    color: str,
    width: float,
    dash: str,
    title: str,
) -> dict[str, str]:
    x1, y1 = projection.xy(ends[0], ends[1])
    x2, y2 = projection.xy(ends[2], ends[3])
    return {
        "x1": f"{float(x1):.1f}",
        "y1": f"{float(y1):.1f}",
        "x2": f"{float(x2):.1f}",
        "y2": f"{float(y2):.1f}",
        "color": color,
        "width": f"{width:.1f}",
        "dash": dash,
        "title": title,
    }


def _flow_lines(result: Result, projection: Projection, max_lines: int) -> list[dict[str, str]]:
    problem, solution = result.problem, result.solution
    if solution is None:
        return []
    out = []
    hubs = problem.hubs.set_index("hub_id")
    inbound = solution.inflows[solution.inflows["source_id"] != ""]
    if len(inbound):
        sources = problem.sources.set_index("source_id")
        pairs = aggregate(inbound, ["source_id", "hub_id"])
        top = float(pairs["quantity"].max())
        for row in pairs.itertuples():
            ends = (
                sources.at[row.source_id, "lat"],
                sources.at[row.source_id, "lon"],
                hubs.at[row.hub_id, "lat"],
                hubs.at[row.hub_id, "lon"],
            )
            title = f"{row.source_id} → {row.hub_id}: {fmt_num(row.quantity)} units"
            width = 0.8 + 3 * row.quantity / top
            out.append(_line(ends, projection, INBOUND_COLOR, width, "6 4", title))
    if not len(solution.flows):
        return out
    regions = problem.regions.set_index("region_id")
    pairs = aggregate(solution.flows, ["hub_id", "region_id"]).nlargest(max_lines, "quantity")
    top = float(pairs["quantity"].max())
    for row in pairs.itertuples():
        ends = (
            hubs.at[row.hub_id, "lat"],
            hubs.at[row.hub_id, "lon"],
            regions.at[row.region_id, "lat"],
            regions.at[row.region_id, "lon"],
        )
        title = f"{row.hub_id} → {row.region_id}: {fmt_num(row.quantity)} units"
        width = 0.4 + 2.6 * row.quantity / top
        out.append(_line(ends, projection, OUTBOUND_COLOR, width, "", title))
    return out


def _sources(sources: pd.DataFrame, projection: Projection) -> list[dict[str, str]]:
    out = []
    for row in sources.itertuples():
        x, y = projection.xy(row.lat, row.lon)
        out.append(
            {
                "x": f"{float(x) - 4:.1f}",
                "y": f"{float(y) - 4:.1f}",
                "color": INBOUND_COLOR,
                "title": f"source {row.source_id}",
            }
        )
    return out


def _hubs(result: Result, projection: Projection) -> list[dict[str, Any]]:
    problem, kpis = result.problem, result.kpis
    hub_kpis = kpis.hubs.set_index("hub_id")
    throughput = hub_kpis["throughput_m3"].astype(float)
    top = float(throughput.max()) if len(throughput) else 0.0
    out = []
    for _, hub in problem.hubs.iterrows():
        hub_id = str(hub["hub_id"])
        x, y = projection.xy(hub["lat"], hub["lon"])
        volume = float(throughput.get(hub_id, 0.0))
        opened = hub_id in hub_kpis.index and bool(hub_kpis.at[hub_id, "periods_open"] > 0)
        radius = (4 + 8 * math.sqrt(volume / top) if top > 0 else 6.0) if opened else 3.0
        util = float(hub_kpis.at[hub_id, "throughput_utilisation"]) if opened else math.nan
        out.append(
            {
                "cx": f"{float(x):.1f}",
                "cy": f"{float(y):.1f}",
                "r": f"{radius:.1f}",
                "open": opened,
                "fill": utilisation_color(util) if opened else "#ffffff",
                "stroke": "#111111" if opened else CANDIDATE,
                "label": hub_id if opened else "",
                "label_x": f"{float(x) + radius + 2:.1f}",
                "label_y": f"{float(y) + 3:.1f}",
                "title": f"{plain_title(hub)} (open): {fmt_num(volume)} m³"
                if opened
                else f"{plain_title(hub)} (not opened)",
            }
        )
    return out


def static_legend(tiers_hours: tuple[float, ...] | list[float]) -> dict[str, Any]:
    """The legend under the static map: tier colours (``output.promise_tiers_hours``),
    flow and hub keys."""
    colours = tier_palette(tier_labels(tiers_hours))
    return {
        "tiers": list(colours.items()),
        "outbound": OUTBOUND_COLOR,
        "inbound": INBOUND_COLOR,
        "candidate": CANDIDATE,
    }
