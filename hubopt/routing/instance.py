"""One routing problem per open hub and routed period, built from a plan's flows.

A stop is a region the hub ships to in that period: its load is the volume shipped
(m3), its window the tightest delivery window of the streams delivered there, counted
from dispatch at hour 0. A load larger than the hub's largest van is split into equal
visits that each fit (a van can carry any whole unit: the data checks guarantee it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hubopt.data.problem import ProblemData
from hubopt.geo import distance_matrix_km
from hubopt.routing.fleet import hub_fleet, largest_capacity
from hubopt.scenario.schema import RoutingSettings

LOAD_COLUMNS = ("hub_id", "period", "region_id", "load_m3", "window_hours")
VISIT_COLUMNS = ("region_id", "load_m3", "window_hours", "part", "parts")


@dataclass(frozen=True)
class RoutingInstance:
    """A capacitated VRP with time windows for one period, from one hub (or several).

    Attributes
    ----------
    hub_ids:
        The hubs the vans leave from (dispatch = hour 0); nodes ``0 .. H-1``.
    period:
        The period routed.
    visits:
        One row per visit: ``region_id, load_m3, window_hours, part, parts`` (a region
        split over ``parts`` visits has one row per part). Node ``H + i`` is row ``i``.
    distance_km:
        Road km between nodes.
    vans:
        The vans, one row each (see :func:`hubopt.routing.fleet.hub_fleet`), with
        ``hub``: the position of their hub in ``hub_ids``.
    hub_capacity_m3:
        Volume each hub can send out on all its routes (inf = no limit); only binding
        when several hubs share the visits (integrated location-routing).
    """

    hub_ids: tuple[str, ...]
    period: int
    visits: pd.DataFrame
    distance_km: np.ndarray
    vans: pd.DataFrame
    hub_capacity_m3: tuple[float, ...] = ()

    @property
    def n_hubs(self) -> int:
        """Number of hubs (the first nodes)."""
        return len(self.hub_ids)


def routed_periods(problem: ProblemData, settings: RoutingSettings) -> list[int]:
    """The periods to route: listed, all, or those of the (selected) campaigns."""
    if isinstance(settings.periods, list):
        return sorted(set(settings.periods))
    every = list(range(1, problem.periods + 1))
    if settings.periods == "all":
        return every
    streams = problem.streams
    chosen = streams["campaign_id"] != ""
    if isinstance(settings.campaigns, list):
        chosen &= streams["campaign_id"].isin(settings.campaigns)
    periods = sorted(set(streams.loc[chosen, "period"].astype(int)))
    return periods or every


def route_loads(
    problem: ProblemData, flows: pd.DataFrame, settings: RoutingSettings
) -> pd.DataFrame:
    """Volume to deliver per hub, period and region (the routing demand), with its window."""
    periods = routed_periods(problem, settings)
    chosen = flows["period"].isin(periods) & (flows["quantity"] > 0)
    if isinstance(settings.campaigns, list):
        chosen &= flows["campaign_id"].isin(settings.campaigns)
    if isinstance(settings.modes, list):
        chosen &= flows["mode_id"].isin(settings.modes)
    rows = flows[chosen]
    volume = problem.products.set_index("product_id")["unit_volume"].astype(float)
    rows = rows.assign(
        load_m3=rows["quantity"].to_numpy(float) * volume.reindex(rows["product_id"]).to_numpy()
    )
    loads = rows.groupby(["hub_id", "period", "region_id"], as_index=False).agg(
        load_m3=("load_m3", "sum"), window_hours=("window_hours", "min")
    )
    return loads[list(LOAD_COLUMNS)].sort_values(
        ["hub_id", "period", "region_id"], ignore_index=True
    )


def split_visits(loads: pd.DataFrame, capacity: float) -> pd.DataFrame:
    """One row per visit: a load above ``capacity`` becomes ``ceil(load / capacity)`` equal parts."""
    parts = np.maximum(1, np.ceil(loads["load_m3"].to_numpy(float) / capacity - 1e-9)).astype(int)
    visits = loads.loc[loads.index.repeat(parts)].reset_index(drop=True)
    visits["parts"] = np.repeat(parts, parts)
    visits["part"] = visits.groupby(["region_id"]).cumcount().to_numpy() + 1
    visits["load_m3"] = visits["load_m3"].to_numpy(float) / visits["parts"].to_numpy()
    return visits[list(VISIT_COLUMNS)]


def build_instances(
    problem: ProblemData,
    flows: pd.DataFrame,
    vehicles: pd.DataFrame,
    settings: RoutingSettings,
) -> list[RoutingInstance]:
    """One :class:`RoutingInstance` per (hub, period) with something to deliver."""
    loads = route_loads(problem, flows, settings)
    return [
        joint_instance(problem, [str(hub_id)], int(period), group, vehicles)
        for (hub_id, period), group in loads.groupby(["hub_id", "period"], sort=True)
    ]


def joint_instance(
    problem: ProblemData,
    hub_ids: list[str],
    period: int,
    loads: pd.DataFrame,
    vehicles: pd.DataFrame,
    hub_capacity_m3: list[float] | None = None,
) -> RoutingInstance:
    """The routing problem of ``loads`` (``region_id, load_m3, window_hours``) from ``hub_ids``."""
    fleets = [hub_fleet(vehicles, hub).assign(hub=i) for i, hub in enumerate(hub_ids)]
    vans = pd.concat(fleets, ignore_index=True) if fleets else pd.DataFrame()
    capacity = largest_capacity(vans)
    per_region = loads.groupby("region_id", as_index=False, sort=True).agg(
        load_m3=("load_m3", "sum"), window_hours=("window_hours", "min")
    )
    visits = (
        split_visits(per_region, capacity)
        if capacity > 0
        else per_region.assign(part=1, parts=1)[list(VISIT_COLUMNS)]
    )
    hubs = problem.hubs.set_index("hub_id")
    regions = problem.regions.set_index("region_id")
    lat = np.concatenate(
        [
            hubs["lat"].reindex(hub_ids).to_numpy(),
            regions["lat"].reindex(visits["region_id"]).to_numpy(),
        ]
    ).astype(float)
    lon = np.concatenate(
        [
            hubs["lon"].reindex(hub_ids).to_numpy(),
            regions["lon"].reindex(visits["region_id"]).to_numpy(),
        ]
    ).astype(float)
    distance = distance_matrix_km(lat, lon, lat, lon, problem.policy.circuity, problem.crs)
    limits = tuple(hub_capacity_m3) if hub_capacity_m3 is not None else (np.inf,) * len(hub_ids)
    return RoutingInstance(tuple(hub_ids), period, visits, distance, vans, limits)


def combine_instances(
    problem: ProblemData,
    parts: list[RoutingInstance],
    hub_ids: list[str],
    vehicles: pd.DataFrame,
    hub_capacity_m3: list[float],
) -> tuple[RoutingInstance, list[int], list[int]]:
    """One multi-hub instance holding the visits of single-hub ``parts`` of one period.

    Every hub of ``hub_ids`` brings its whole fleet. Returns the instance and, per part,
    the offset of its visits (in the combined visit rows) and of its vans (in the combined
    vans), so that a part's routes can seed the combined search.
    """
    position = {hub: i for i, hub in enumerate(hub_ids)}
    fleets = [hub_fleet(vehicles, hub).assign(hub=i) for i, hub in enumerate(hub_ids)]
    fleet_start = np.cumsum([0] + [len(f) for f in fleets])
    visits = pd.concat([part.visits for part in parts], ignore_index=True)
    visit_offsets = list(np.cumsum([0] + [len(part.visits) for part in parts])[:-1])
    van_offsets = [int(fleet_start[position[part.hub_ids[0]]]) for part in parts]
    hubs = problem.hubs.set_index("hub_id")
    regions = problem.regions.set_index("region_id")
    lat = np.concatenate(
        [
            hubs["lat"].reindex(hub_ids).to_numpy(),
            regions["lat"].reindex(visits["region_id"]).to_numpy(),
        ]
    ).astype(float)
    lon = np.concatenate(
        [
            hubs["lon"].reindex(hub_ids).to_numpy(),
            regions["lon"].reindex(visits["region_id"]).to_numpy(),
        ]
    ).astype(float)
    distance = distance_matrix_km(lat, lon, lat, lon, problem.policy.circuity, problem.crs)
    period = parts[0].period if parts else 0
    combined = RoutingInstance(
        tuple(hub_ids),
        period,
        visits,
        distance,
        pd.concat(fleets, ignore_index=True),
        tuple(hub_capacity_m3),
    )
    return combined, [int(v) for v in visit_offsets], van_offsets
