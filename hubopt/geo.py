"""Distances and transit times, vectorised.

Default distances are great-circle km (haversine); a scenario that declares a projected
``crs`` gets straight-line km in that CRS instead (both times the policy's circuity).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

EARTH_RADIUS_KM = 6371.0


def haversine_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in km between points (degrees); arrays broadcast.

    Uses the haversine formula on a sphere of radius 6371 km.
    """
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dphi = phi2 - phi1
    dlmb = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@lru_cache(maxsize=8)
def _transformer(crs: str) -> tuple[Any, float]:
    """WGS84 -> ``crs`` transformer and the km per unit of its first axis."""
    from pyproj import CRS, Transformer

    target = CRS.from_user_input(crs)
    km_per_unit = target.axis_info[0].unit_conversion_factor / 1000.0
    return Transformer.from_crs("EPSG:4326", target, always_xy=True), km_per_unit


def project_km(lat: np.ndarray, lon: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Projected coordinates (x, y) in km of WGS84 points in a projected ``crs``."""
    transformer, km_per_unit = _transformer(crs)
    x, y = transformer.transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x) * km_per_unit, np.asarray(y) * km_per_unit


def unproject_km(x_km: np.ndarray, y_km: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 (lat, lon) of points given in km in a projected ``crs`` (inverse of project_km)."""
    transformer, km_per_unit = _transformer(crs)
    lon, lat = transformer.transform(
        np.asarray(x_km, float) / km_per_unit,
        np.asarray(y_km, float) / km_per_unit,
        direction="INVERSE",
    )
    return np.asarray(lat), np.asarray(lon)


def distance_matrix_km(
    lat_a: np.ndarray,
    lon_a: np.ndarray,
    lat_b: np.ndarray,
    lon_b: np.ndarray,
    circuity: float = 1.0,
    crs: str | None = None,
) -> np.ndarray:
    """Road distances from every point a to every point b, in km.

    Great-circle km x ``circuity``; with a projected ``crs``, straight-line km in that
    CRS x ``circuity``.
    """
    if crs is None:
        return circuity * haversine_km(
            lat_a[:, None], lon_a[:, None], lat_b[None, :], lon_b[None, :]
        )
    xa, ya = project_km(lat_a, lon_a, crs)
    xb, yb = project_km(lat_b, lon_b, crs)
    return circuity * np.hypot(xa[:, None] - xb[None, :], ya[:, None] - yb[None, :])


def transit_hours(
    distance_km: np.ndarray, speed_kmh: np.ndarray, handling_hours: np.ndarray
) -> np.ndarray:
    """Transit time = distance / speed + handling hours."""
    return distance_km / speed_kmh + handling_hours
