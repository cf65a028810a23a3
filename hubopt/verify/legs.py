"""Arc geometry, transit and unit costs recomputed from the raw tables.

Written again on purpose (not ``hubopt.geo`` nor ``hubopt.data``): the verifier shares no
code with the model, so a bug in one is caught by the other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hubopt.scenario.scenario import Scenario

EARTH_KM = 6371.0

# Arc rules of the model, as (flag column, what the message says the flow uses).
ARC_RULES = (
    ("bad_leg", "a mode not allowed on this leg"),
    ("forbidden", "a lane marked allowed=false"),
    ("needs_lane", "a lane-only mode without a lane"),
    ("too_far", "beyond the mode's max_distance_km"),
)


def gc_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance (km), atan2 form: an exact zero for identical points."""
    p1, p2 = np.deg2rad(lat1), np.deg2rad(lat2)
    dp, dl = p2 - p1, np.deg2rad(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_KM * np.arctan2(np.sqrt(h), np.sqrt(np.clip(1 - h, 0.0, 1.0)))


def straight_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray, crs: str | None
) -> np.ndarray:
    """Great-circle km, or straight-line km in a projected CRS (pyproj directly, not geo)."""
    if crs is None:
        return gc_km(lat1, lon1, lat2, lon2)
    from pyproj import CRS, Transformer

    target = CRS.from_user_input(crs)
    to_crs = Transformer.from_crs("EPSG:4326", target, always_xy=True)
    x1, y1 = to_crs.transform(lon1, lat1)
    x2, y2 = to_crs.transform(lon2, lat2)
    metres = np.sqrt((np.asarray(x1) - x2) ** 2 + (np.asarray(y1) - y2) ** 2)
    return metres * target.axis_info[0].unit_conversion_factor / 1000.0


def lane_lookup(
    lanes: pd.DataFrame, frm: pd.Series, to: pd.Series, mode: pd.Series
) -> pd.DataFrame:
    """For each (from, to, mode) the effective lane row: mode-specific first, then blank-mode."""
    keys = pd.DataFrame(
        {"from_id": frm.to_numpy(), "to_id": to.to_numpy(), "mode_id": mode.to_numpy()}
    )
    specific = lanes[lanes["mode_id"] != ""]
    generic = lanes[lanes["mode_id"] == ""].drop(columns="mode_id")
    a = keys.merge(specific, on=["from_id", "to_id", "mode_id"], how="left")
    b = keys.merge(generic, on=["from_id", "to_id"], how="left")
    out = pd.DataFrame(index=keys.index)
    out["named"] = a["allowed"].notna().to_numpy()
    for col in ("allowed", "distance_km", "transit_hours", "cost_per_unit"):
        out[col] = a[col].where(a["allowed"].notna(), b[col]).to_numpy()
    out["allowed"] = out["allowed"].astype(object).where(out["allowed"].notna(), True).astype(bool)
    return out


def recompute_legs(
    scenario: Scenario,
    rows: pd.DataFrame,
    frm: tuple[str, str],
    to: tuple[str, str],
    leg: str,
) -> pd.DataFrame:
    """Distance, transit, unit transport cost and CO2 of every shipment row, plus the arc
    rules it breaks (:data:`ARC_RULES`).

    ``rows`` has ``from, to, mode_id, product_id``; ``frm`` and ``to`` name the table and
    id column of each end (e.g. ``("hubs", "hub_id")``); ``leg`` is ``inbound`` or
    ``outbound``. Units: km, hours, money per unit, t CO2 per unit.
    """
    t = scenario.tables
    f = getattr(t, frm[0]).set_index(frm[1]).reindex(rows["from"])
    d = getattr(t, to[0]).set_index(to[1]).reindex(rows["to"])
    m = t.modes.set_index("mode_id").reindex(rows["mode_id"])
    dist = scenario.config.policy.circuity * straight_km(
        f["lat"].to_numpy(float),
        f["lon"].to_numpy(float),
        d["lat"].to_numpy(float),
        d["lon"].to_numpy(float),
        scenario.config.crs,
    )
    lane = lane_lookup(t.lanes, rows["from"], rows["to"], rows["mode_id"])
    named = lane["named"].to_numpy(bool)
    dist = np.where(lane["distance_km"].notna(), lane["distance_km"].to_numpy(float), dist)
    transit = np.where(
        lane["transit_hours"].notna(),
        lane["transit_hours"].to_numpy(float),
        dist / m["speed_kmh"].to_numpy(float) + m["handling_hours"].to_numpy(float),
    )
    weight = t.products.set_index("product_id").reindex(rows["product_id"])["unit_weight_kg"]
    kg = weight.to_numpy(float)
    per_unit = (
        m["cost_per_kg"].to_numpy(float) * kg + m["cost_per_kg_km"].to_numpy(float) * kg * dist
    )
    per_unit = np.where(
        lane["cost_per_unit"].notna(), lane["cost_per_unit"].to_numpy(float), per_unit
    )
    allowed = lane["allowed"].to_numpy(bool)
    return pd.DataFrame(
        {
            "distance_km": dist,
            "transit_hours": transit,
            "unit_cost": per_unit,
            "co2_t_per_unit": kg / 1000.0 * dist * m["co2_g_per_tkm"].to_numpy(float) / 1e6,
            "bad_leg": ~m["leg"].isin([leg, "both"]).to_numpy(),
            "forbidden": ~allowed,
            "needs_lane": m["requires_lane"].fillna(False).to_numpy(bool) & ~(named & allowed),
            "too_far": (dist > m["max_distance_km"].to_numpy(float) + 1e-6) & ~named,
        },
        index=rows.index,
    )
