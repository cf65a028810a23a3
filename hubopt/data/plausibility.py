"""Coordinate plausibility: sites far outside the cloud of the others, swapped latitude and
longitude, sites outside the scenario's ``bounds:``.

Every finding is an :class:`~hubopt.errors.InputWarning` naming the table, the row, the
id, the distance and the likely fix. The checks are robust: the cloud's centre is the
median of the sites (as unit vectors, so it works across the antimeridian) and its
spread the median distance to that centre, so a handful of wrong sites cannot move them,
and real islands (Jeju and Ulleung are 2.9 and 2.4 typical distances from the centre of
Korea) stay well inside the limit of ``OUTLIER_FACTOR`` typical distances.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hubopt.data.dataset import Tables
from hubopt.errors import InputWarning, Problem, ScenarioError
from hubopt.geo import haversine_km
from hubopt.scenario.schema import Bounds, ScenarioConfig

# (table, id column, noun): every table of sites with coordinates
SITE_TABLES = (
    ("hubs", "hub_id", "hub"),
    ("sources", "source_id", "source"),
    ("regions", "region_id", "region"),
    ("pickup_points", "pickup_id", "pickup point"),
)
OUTLIER_FACTOR = 5.0  # a site beyond 5 typical distances from the centre is an outlier ...
OUTLIER_FLOOR_KM = 500.0  # ... and beyond 500 km (sites in one city have a tiny spread)
MIN_SITES = 4  # below this the "cloud" says nothing
MAX_WARNINGS_PER_CHECK = 20


@dataclass(frozen=True)
class Sites:
    """Every site of a scenario, flattened: table, row (1-based), id, noun, lat, lon."""

    frame: pd.DataFrame

    @classmethod
    def of(cls, tables: Tables) -> Sites:
        """Collect the sites of every table in :data:`SITE_TABLES`."""
        parts = []
        for table, id_column, noun in SITE_TABLES:
            frame = getattr(tables, table)
            if not len(frame):
                continue
            parts.append(
                pd.DataFrame(
                    {
                        "table": table,
                        "row": np.arange(1, len(frame) + 1),
                        "site_id": frame[id_column].astype(str).to_numpy(),
                        "noun": noun,
                        "lat": frame["lat"].to_numpy(float),
                        "lon": frame["lon"].to_numpy(float),
                    }
                )
            )
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        if len(frame):
            frame = frame[np.isfinite(frame["lat"]) & np.isfinite(frame["lon"])]
        return cls(frame.reset_index(drop=True))


def median_centre(lat: np.ndarray, lon: np.ndarray) -> tuple[float, float] | None:
    """Coordinate-wise median of the sites as 3-D unit vectors, back on the sphere.

    None when the sites surround the globe (the median vector is near zero).
    """
    phi, lam = np.radians(lat), np.radians(lon)
    vectors = np.c_[np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)]
    centre = np.median(vectors, axis=0)
    norm = float(np.linalg.norm(centre))
    if norm < 0.1:
        return None
    centre /= norm
    return float(np.degrees(np.arcsin(centre[2]))), float(
        np.degrees(np.arctan2(centre[1], centre[0]))
    )


def check_coordinates(
    tables: Tables, config: ScenarioConfig, labels: dict[str, str] | None = None
) -> list[InputWarning]:
    """Warnings for implausible site coordinates (see the module docstring).

    ``labels`` maps a table to how messages name its file (default: the table name).
    """
    sites = Sites.of(tables).frame
    labels = labels or {}
    if not len(sites):
        return []
    inside = None
    warnings: list[InputWarning] = []
    if config.bounds is not None:
        area = Area.of(config.bounds)
        inside = area.contains(sites["lat"].to_numpy(), sites["lon"].to_numpy())
        for i in np.flatnonzero(~inside)[:MAX_WARNINGS_PER_CHECK]:
            warnings.append(_outside_bounds(sites.iloc[i], area, labels))
    if len(sites) < MIN_SITES:
        return warnings
    lat, lon = sites["lat"].to_numpy(), sites["lon"].to_numpy()
    centre = median_centre(lat, lon)
    if centre is None:
        return warnings
    distance = haversine_km(lat, lon, centre[0], centre[1])
    typical = float(np.median(distance))
    limit = max(OUTLIER_FACTOR * typical, OUTLIER_FLOOR_KM)
    outlier = distance > limit
    if inside is not None:
        outlier &= inside  # outside the bounds is reported once, above
    for i in np.flatnonzero(outlier)[:MAX_WARNINGS_PER_CHECK]:
        warnings.append(_outlier(sites.iloc[i], float(distance[i]), centre, typical, limit, labels))
    return warnings


def _where(site: Any, labels: dict[str, str]) -> str:
    return f"{labels.get(site.table, site.table)}, row {site.row} ({site.noun} {site.site_id!r})"


def _km(value: float) -> str:
    return f"{value:,.0f} km".replace(",", " ")


def _coords(lat: float, lon: float) -> str:
    return f"(lat {lat:g}, lon {lon:g})"


def _outlier(
    site: Any,
    distance: float,
    centre: tuple[float, float],
    typical: float,
    limit: float,
    labels: dict[str, str],
) -> InputWarning:
    lat, lon = float(site.lat), float(site.lon)
    message = (
        f"{_coords(lat, lon)} is {_km(distance)} from the median centre of all sites "
        f"{_coords(round(centre[0], 2), round(centre[1], 2))}, whose typical distance to it is "
        f"{_km(typical)} (limit {_km(limit)})."
    )
    for code, new_lat, new_lon, what, fix in _alternatives(lat, lon):
        near = float(haversine_km(new_lat, new_lon, centre[0], centre[1]))
        if near <= limit:
            return InputWarning(
                code,
                _where(site, labels),
                f"{message} {what}: {_coords(new_lat, new_lon)} lies {_km(near)} from the centre.",
                fix,
            )
    return InputWarning(
        "coordinates_outlier",
        _where(site, labels),
        f"{message} The site lies far outside the cloud of the others.",
        "Check lat and lon (decimal degrees, WGS84). If the site is real, add a `bounds:` box or "
        "polygon to the scenario that includes it.",
    )


def _alternatives(lat: float, lon: float) -> list[tuple[str, float, float, str, str]]:
    """Corrections of a usual mistake, most likely first: swapped, then a sign lost."""
    out = []
    if abs(lon) <= 90:
        out.append(
            (
                "coordinates_swapped",
                lon,
                lat,
                "Latitude and longitude look swapped",
                "Exchange the lat and lon values of this row.",
            )
        )
    if lon != 0:
        out.append(
            (
                "coordinates_sign",
                lat,
                -lon,
                "The sign of the longitude looks wrong",
                f"Write lon {-lon:g} (east is positive, west negative).",
            )
        )
    if lat != 0:
        out.append(
            (
                "coordinates_sign",
                -lat,
                lon,
                "The sign of the latitude looks wrong",
                f"Write lat {-lat:g} (north is positive, south negative).",
            )
        )
    return out


@dataclass(frozen=True)
class Area:
    """The scenario's bounds, ready to test points: a box or a (multi)polygon."""

    bounds: Bounds
    shape: Any = None  # shapely geometry for a polygon file

    @classmethod
    def of(cls, bounds: Bounds) -> Area:
        """Read the polygon file if the bounds name one."""
        if bounds.is_box:
            return cls(bounds)
        return cls(bounds, _read_polygon(Path(str(bounds.polygon))))

    def describe(self) -> str:
        """'the box lat 33..39, lon 124..132' or 'the polygon of FILE'."""
        b = self.bounds
        if b.is_box:
            return f"the box lat {b.south:g}..{b.north:g}, lon {b.west:g}..{b.east:g}"
        return f"the polygon of {Path(str(b.polygon)).name}"

    def contains(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Whether each point lies inside (or on the edge of) the area."""
        lat, lon = np.asarray(lat, float), np.asarray(lon, float)
        b = self.bounds
        if b.is_box:
            west, east = float(b.west or 0.0), float(b.east or 0.0)
            in_lon = (
                (lon >= west) & (lon <= east) if west <= east else (lon >= west) | (lon <= east)
            )
            return (lat >= float(b.south or 0.0)) & (lat <= float(b.north or 0.0)) & in_lon
        import shapely

        return np.asarray(shapely.intersects_xy(self.shape, lon, lat), dtype=bool)

    def distance_km(self, lat: float, lon: float) -> float:
        """Great-circle distance from a point outside to the nearest point of the area."""
        b = self.bounds
        if b.is_box:
            near_lat = min(max(lat, float(b.south or 0.0)), float(b.north or 0.0))
            west, east = float(b.west or 0.0), float(b.east or 0.0)
            wraps = west > east  # a box across the antimeridian
            if (west <= lon <= east) or (wraps and (lon >= west or lon <= east)):
                near_lon = lon
            else:  # the nearer edge, counting degrees around the globe
                to_west = abs((lon - west + 180) % 360 - 180)
                to_east = abs((lon - east + 180) % 360 - 180)
                near_lon = west if to_west <= to_east else east
            return float(haversine_km(lat, lon, near_lat, near_lon))
        import shapely
        from shapely.ops import nearest_points

        point = shapely.Point(lon, lat)
        nearest = nearest_points(self.shape, point)[0]
        return float(haversine_km(lat, lon, nearest.y, nearest.x))


def _read_polygon(path: Path) -> Any:
    where = f"scenario key 'bounds.polygon' ({path})"
    if not path.exists():
        raise ScenarioError(
            Problem(where, "an existing GeoJSON or GeoPackage file", "no such file")
        )
    try:
        import geopandas as gpd

        frame = gpd.read_file(path)
    except Exception as err:  # third-party readers raise many types
        raise ScenarioError(
            Problem(where, "a readable GeoJSON or GeoPackage file", f"{type(err).__name__}: {err}")
        ) from err
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
    polygons = frame.geometry[frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if not len(polygons):
        raise ScenarioError(
            Problem(where, "at least one polygon", f"geometry types {sorted(set(frame.geom_type))}")
        )
    return polygons.union_all()


def _outside_bounds(site: Any, area: Area, labels: dict[str, str]) -> InputWarning:
    lat, lon = float(site.lat), float(site.lon)
    distance = area.distance_km(lat, lon)
    message = f"{_coords(lat, lon)} lies outside {area.describe()} (bounds:), {_km(distance)} from its edge."
    for code, new_lat, new_lon, what, fix in _alternatives(lat, lon):
        if area.contains(np.array([new_lat]), np.array([new_lon]))[0]:
            return InputWarning(
                code,
                _where(site, labels),
                f"{message} {what}: {_coords(new_lat, new_lon)} lies inside.",
                fix,
            )
    return InputWarning(
        "coordinates_outside_bounds",
        _where(site, labels),
        message,
        "Check lat and lon (decimal degrees, WGS84), or widen `bounds:` if the site is real.",
    )
