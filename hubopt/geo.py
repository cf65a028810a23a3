"""Distances and transit times, vectorised."""

from __future__ import annotations

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


def distance_matrix_km(
    lat_a: np.ndarray,
    lon_a: np.ndarray,
    lat_b: np.ndarray,
    lon_b: np.ndarray,
    circuity: float = 1.0,
) -> np.ndarray:
    """Matrix of road distances (great circle x circuity) from every point a to every point b."""
    return circuity * haversine_km(lat_a[:, None], lon_a[:, None], lat_b[None, :], lon_b[None, :])


def transit_hours(
    distance_km: np.ndarray, speed_kmh: np.ndarray, handling_hours: np.ndarray
) -> np.ndarray:
    """Transit time = distance / speed + handling hours."""
    return distance_km / speed_kmh + handling_hours
