"""The independent route verifier: recompute a route plan from the raw tables.

Like :mod:`hubopt.verify`, it shares no code with the routing model: loads are summed
again from the plan's flows and the products table, distances recomputed from the
hubs' and regions' coordinates, vans looked up in the vehicles table. It checks that
every load is delivered exactly once (or listed as unrouted), that no van carries more
than its capacity or drives longer than its limit, that no hub uses more vans than it
has, and that every late flag, arrival time, km and cost is what the route implies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hubopt.routing.plan import RoutePlan
from hubopt.scenario.scenario import Scenario
from hubopt.scenario.schema import RoutingSettings

EARTH_KM = 6371.0
TOL = 1e-6


@dataclass(frozen=True)
class RouteVerification:
    """Outcome of :func:`verify_routes`."""

    ok: bool
    violations: list[str]
    checks: int

    def as_dict(self) -> dict[str, object]:
        """For manifests and JSON."""
        return {"ok": self.ok, "violations": self.violations[:100], "checks": self.checks}


def _km(scenario: Scenario, a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    """Road km between rows of ``a`` and ``b`` (lat/lon), element-wise."""
    lat1, lon1 = a["lat"].to_numpy(float), a["lon"].to_numpy(float)
    lat2, lon2 = b["lat"].to_numpy(float), b["lon"].to_numpy(float)
    crs = scenario.config.crs
    if crs is None:
        p1, p2 = np.deg2rad(lat1), np.deg2rad(lat2)
        h = (
            np.sin((p2 - p1) / 2) ** 2
            + np.cos(p1) * np.cos(p2) * np.sin(np.deg2rad(lon2 - lon1) / 2) ** 2
        )
        straight = 2 * EARTH_KM * np.arctan2(np.sqrt(h), np.sqrt(np.clip(1 - h, 0, 1)))
    else:
        from pyproj import CRS, Transformer

        target = CRS.from_user_input(crs)
        forward = Transformer.from_crs("EPSG:4326", target, always_xy=True)
        x1, y1 = forward.transform(lon1, lat1)
        x2, y2 = forward.transform(lon2, lat2)
        factor = target.axis_info[0].unit_conversion_factor / 1000.0
        straight = np.hypot(np.asarray(x1) - x2, np.asarray(y1) - y2) * factor
    return scenario.config.policy.circuity * straight


def expected_loads(
    scenario: Scenario, flows: pd.DataFrame, settings: RoutingSettings
) -> pd.DataFrame:
    """Volume per hub, period and region the routes must deliver, with the tightest window."""
    config = scenario.config
    horizon = scenario.periods
    if isinstance(settings.periods, list):
        periods = set(settings.periods)
    elif settings.periods == "all":
        periods = set(range(1, horizon + 1))
    else:
        chosen = [
            c
            for c in config.campaigns
            if not isinstance(settings.campaigns, list) or c.id in settings.campaigns
        ]
        periods = set()
        for campaign in chosen:
            periods |= set(range(1, horizon + 1) if campaign.periods == "all" else campaign.periods)
        periods = periods or set(range(1, horizon + 1))
    keep = flows["period"].isin(periods)
    if isinstance(settings.campaigns, list):
        keep &= flows["campaign_id"].isin(settings.campaigns)
    if isinstance(settings.modes, list):
        keep &= flows["mode_id"].isin(settings.modes)
    rows = flows[keep].merge(
        scenario.tables.products[["product_id", "unit_volume"]], on="product_id", how="left"
    )
    rows["volume"] = rows["quantity"] * rows["unit_volume"]
    return rows.groupby(["hub_id", "period", "region_id"], as_index=False).agg(
        load_m3=("volume", "sum"), window_hours=("window_hours", "min")
    )


def verify_routes(
    scenario: Scenario, flows: pd.DataFrame, plan: RoutePlan, settings: RoutingSettings
) -> RouteVerification:
    """Recompute every route of ``plan`` for the plan whose outbound flows are ``flows``."""
    errors: list[str] = []
    checks = 0
    stops, routes, unrouted = plan.stops, plan.routes, plan.unrouted
    keys = ["hub_id", "period", "region_id"]

    # 1. every load delivered exactly once (stops + unrouted = loads; each part once)
    want = expected_loads(scenario, flows, settings).set_index(keys)["load_m3"]
    parts = pd.concat(
        [stops[[*keys, "part", "parts", "load_m3"]], unrouted[[*keys, "part", "parts", "load_m3"]]]
    )
    got = parts.groupby(keys)["load_m3"].sum()
    both = pd.concat([want.rename("want"), got.rename("got")], axis=1).astype(float).fillna(0.0)
    for key, row in both[~np.isclose(both["want"], both["got"], rtol=1e-9, atol=TOL)].iterrows():
        errors.append(
            f"load at {key}: plan ships {row['want']:.6g} m3, routes carry {row['got']:.6g}"
        )
    dup = parts.duplicated([*keys, "part"])
    for _, row in parts[dup].head(5).iterrows():
        errors.append(f"{tuple(row[keys])} part {row['part']} is delivered more than once")
    counts = parts.groupby(keys).agg(n=("part", "size"), parts=("parts", "max"))
    for key in counts.index[counts["n"] != counts["parts"]][:5]:
        errors.append(
            f"{key}: {counts.at[key, 'n']} visits for a load split in {counts.at[key, 'parts']}"
        )
    checks += len(both) + len(parts)

    # 2. vans: known type at the hub, within capacity, count and route hours
    vehicles = scenario.tables.vehicles
    fleet = _fleet_of_routes(vehicles, routes)
    checks += len(routes)
    for route, van in zip(routes.itertuples(), fleet.itertuples(), strict=True):
        where = f"route {route.hub_id}/{route.period}/{route.vehicle}"
        if np.isnan(van.capacity):
            errors.append(f"{where}: vehicle type {route.vehicle_type!r} is not at this hub")
            continue
        if route.load_m3 > van.capacity * (1 + 1e-9) + TOL:
            errors.append(f"{where}: load {route.load_m3:.6g} m3 > capacity {van.capacity:.6g}")
    used = routes.groupby(["hub_id", "period", "vehicle_type"]).size()
    for (hub, period, kind), n in used.items():
        own = vehicles[(vehicles["vehicle_type"] == kind) & (vehicles["hub_id"] == hub)]
        have = (
            own
            if len(own)
            else vehicles[(vehicles["vehicle_type"] == kind) & (vehicles["hub_id"] == "")]
        )
        if n > int(have["count"].sum()):
            errors.append(
                f"hub {hub} period {period}: {n} {kind} routes, only {int(have['count'].sum())} vans"
            )
    if routes.duplicated(["hub_id", "period", "vehicle"]).any():
        errors.append("a van drives two routes in one period")

    # 3. km, arrival times, windows, route hours and costs, route by route
    hubs = scenario.tables.hubs.set_index("hub_id")
    regions = scenario.tables.regions.set_index("region_id")
    window = expected_loads(scenario, flows, settings).set_index(keys)["window_hours"]
    by_route = {
        key: rows.sort_values("stop")
        for key, rows in stops.groupby(["hub_id", "period", "vehicle"])
    }
    for key in set(by_route) - set(
        zip(routes["hub_id"], routes["period"], routes["vehicle"], strict=True)
    ):
        errors.append(f"stops of {key} belong to no route")
    for route, van in zip(routes.itertuples(), fleet.itertuples(), strict=True):
        key = (route.hub_id, route.period, route.vehicle)
        rows = by_route.get(key)
        if rows is None or np.isnan(van.capacity):
            errors.append(f"route {key} has no stops") if rows is None else None
            continue
        checks += len(rows)
        if list(rows["stop"]) != list(range(1, len(rows) + 1)):
            errors.append(f"route {key}: stops numbered {list(rows['stop'])}")
        points = pd.concat(
            [
                hubs.loc[[route.hub_id], ["lat", "lon"]],
                regions.reindex(rows["region_id"])[["lat", "lon"]],
                hubs.loc[[route.hub_id], ["lat", "lon"]],
            ]
        ).reset_index(drop=True)
        legs = _km(
            scenario,
            points.iloc[:-1].reset_index(drop=True),
            points.iloc[1:].reset_index(drop=True),
        )
        arrival = np.cumsum(legs / van.speed_kmh)[:-1] + van.service_hours_per_stop * np.arange(
            len(rows)
        )
        hours = float(legs.sum() / van.speed_kmh + van.service_hours_per_stop * len(rows))
        late = arrival > window.reindex(pd.MultiIndex.from_frame(rows[keys])).to_numpy(float) + 1e-6
        for name, mine, theirs in (
            ("leg km", legs[:-1], rows["leg_km"].to_numpy(float)),
            ("arrival hours", arrival, rows["arrival_hours"].to_numpy(float)),
        ):
            for i in np.flatnonzero(~np.isclose(mine, theirs, rtol=1e-6, atol=1e-6))[:3]:
                errors.append(
                    f"route {key} stop {i + 1}: {name} {theirs[i]:.6g}, recomputed {mine[i]:.6g}"
                )
        if (late != rows["late"].to_numpy(bool)).any():
            errors.append(
                f"route {key}: late flags {rows['late'].tolist()}, recomputed {late.tolist()}"
            )
        cost = van.fixed_cost + van.cost_per_km * float(legs.sum())
        for name, theirs, mine in (
            ("km", route.km, float(legs.sum())),
            ("hours", route.hours, hours),
            ("cost", route.cost, cost),
            ("load_m3", route.load_m3, float(rows["load_m3"].sum())),
            ("late_stops", route.late_stops, int(late.sum())),
        ):
            if not np.isclose(theirs, mine, rtol=1e-6, atol=1e-6):
                errors.append(f"route {key}: {name} {theirs:.6g}, recomputed {mine:.6g}")
        if hours > van.max_route_hours + 1e-6:
            errors.append(f"route {key}: {hours:.4g} h > max_route_hours {van.max_route_hours:g}")
    return RouteVerification(not errors, errors, checks)


def _fleet_of_routes(vehicles: pd.DataFrame, routes: pd.DataFrame) -> pd.DataFrame:
    """The vehicles row of each route's van type: the hub's own row, else the blank-hub row."""
    columns = [
        "capacity",
        "fixed_cost",
        "cost_per_km",
        "speed_kmh",
        "max_route_hours",
        "service_hours_per_stop",
    ]
    keys = routes[["hub_id", "vehicle_type"]].reset_index(drop=True)
    own = keys.merge(vehicles, on=["hub_id", "vehicle_type"], how="left")[columns]
    every = vehicles[vehicles["hub_id"] == ""].drop(columns="hub_id")
    blank = keys[["vehicle_type"]].merge(every, on="vehicle_type", how="left")[columns]
    return own.where(own["capacity"].notna(), blank, axis=0).astype(float)
