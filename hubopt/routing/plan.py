"""Route every open hub in the routed periods (in parallel) and decode the vans' routes."""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hubopt.data.problem import ProblemData
from hubopt.routing.instance import RoutingInstance, build_instances, route_loads
from hubopt.routing.vrp import VanRoutes, solve_instance
from hubopt.scenario.schema import RoutingSettings

log = logging.getLogger(__name__)

ROUTE_COLUMNS = (
    "hub_id",
    "period",
    "vehicle",
    "vehicle_type",
    "stops",
    "sequence",
    "km",
    "hours",
    "load_m3",
    "capacity_m3",
    "fixed_cost",
    "km_cost",
    "cost",
    "late_stops",
)
STOP_COLUMNS = (
    "hub_id",
    "period",
    "vehicle",
    "stop",
    "region_id",
    "part",
    "parts",
    "load_m3",
    "leg_km",
    "arrival_hours",
    "window_hours",
    "late",
)
UNROUTED_COLUMNS = ("hub_id", "period", "region_id", "part", "parts", "load_m3", "reason")


@dataclass(frozen=True)
class RoutePlan:
    """Vans' routes from the open hubs.

    Attributes
    ----------
    loads:
        The routing demand: ``hub_id, period, region_id, load_m3, window_hours``.
    routes:
        One row per route driven (columns :data:`ROUTE_COLUMNS`); ``sequence`` lists the
        stops' region ids in order, ``hours`` is the time back at the hub, ``cost`` =
        ``fixed_cost + km_cost``.
    stops:
        One row per stop (columns :data:`STOP_COLUMNS`): ``stop`` is its position on the
        route (1 = first), ``arrival_hours`` the hours after dispatch, ``late`` whether
        that is after ``window_hours``.
    unrouted:
        Visits no van could take (a fleet too small for the load), with the reason.
    """

    loads: pd.DataFrame
    routes: pd.DataFrame
    stops: pd.DataFrame
    unrouted: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """Tables by file stem, for the run folder's ``solution/``."""
        return {"routes": self.routes, "route_stops": self.stops, "unrouted": self.unrouted}

    @property
    def cost(self) -> float:
        """Total route cost (fixed per route + per km)."""
        return float(self.routes["cost"].sum()) if len(self.routes) else 0.0


def plan_routes(
    problem: ProblemData,
    flows: pd.DataFrame,
    vehicles: pd.DataFrame,
    settings: RoutingSettings,
) -> RoutePlan:
    """Build and solve one routing problem per open hub and routed period; decode them."""
    instances = build_instances(problem, flows, vehicles, settings)
    answers = solve_all(instances, settings)
    return decode_plan(route_loads(problem, flows, settings), instances, answers)


def solve_all(
    instances: list[RoutingInstance],
    settings: RoutingSettings,
    seeds: list[dict[int, list[int]]] | None = None,
) -> list[VanRoutes]:
    """Solve the instances, in worker processes when there are several and CPUs to spare.

    ``seeds`` (one per instance, van -> visit nodes) start the searches from known plans.
    """
    starts = seeds if seeds is not None else [None] * len(instances)
    workers = min(settings.workers or os.cpu_count() or 1, len(instances))
    # a daemonic process (e.g. a Dask worker) may not start children: route in-process
    if workers <= 1 or multiprocessing.current_process().daemon:
        return [solve_instance(i, settings, s) for i, s in zip(instances, starts, strict=True)]
    log.info("routing %d hub-periods on %d processes", len(instances), workers)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(solve_instance, instances, [settings] * len(instances), starts))


def decode_plan(
    loads: pd.DataFrame, instances: list[RoutingInstance], answers: list[VanRoutes]
) -> RoutePlan:
    """Turn node sequences into route, stop and unrouted tables (user ids, real units)."""
    routes: list[tuple[object, ...]] = []
    stops: list[tuple[object, ...]] = []
    unrouted = []
    for instance, answer in zip(instances, answers, strict=True):
        r, s = _decode_instance(instance, answer)
        routes += r
        stops += s
        for node in answer.dropped:
            visit = instance.visits.iloc[node - instance.n_hubs]
            reason = "no vans at this hub" if not len(instance.vans) else "fleet too small"
            if answer.found is False and len(instance.vans):
                reason = "no route plan found within the time limit"
            unrouted.append(
                (
                    instance.hub_ids[0] if instance.n_hubs == 1 else "",
                    instance.period,
                    visit["region_id"],
                    int(visit["part"]),
                    int(visit["parts"]),
                    float(visit["load_m3"]),
                    reason,
                )
            )
    return RoutePlan(
        loads=loads,
        routes=pd.DataFrame(routes, columns=list(ROUTE_COLUMNS)),
        stops=pd.DataFrame(stops, columns=list(STOP_COLUMNS)),
        unrouted=pd.DataFrame(unrouted, columns=list(UNROUTED_COLUMNS)),
    )


def _decode_instance(
    instance: RoutingInstance, answer: VanRoutes
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    km, visits, vans = instance.distance_km, instance.visits, instance.vans
    routes: list[tuple[object, ...]] = []
    stops: list[tuple[object, ...]] = []
    for v, nodes in sorted(answer.sequences.items()):
        van = vans.iloc[v]
        hub = int(van["hub"])
        hub_id = instance.hub_ids[hub]
        path = [hub, *nodes, hub]
        legs = km[path[:-1], path[1:]]
        drive = legs / float(van["speed_kmh"])
        service = float(van["service_hours_per_stop"])
        # arrival at stop i = drive up to it + service at every earlier stop
        arrival = np.cumsum(drive)[:-1] + service * np.arange(len(nodes))
        rows = visits.iloc[np.array(nodes) - instance.n_hubs]
        window = rows["window_hours"].to_numpy(float)
        late = arrival > window + 1e-9
        for position, (node_row, hours, is_late, leg) in enumerate(
            zip(rows.itertuples(), arrival, late, legs[:-1], strict=True), start=1
        ):
            stops.append(
                (
                    hub_id,
                    instance.period,
                    van["vehicle"],
                    position,
                    node_row.region_id,
                    int(node_row.part),
                    int(node_row.parts),
                    float(node_row.load_m3),
                    float(leg),
                    float(hours),
                    float(node_row.window_hours),
                    bool(is_late),
                )
            )
        total_km = float(legs.sum())
        km_cost = total_km * float(van["cost_per_km"])
        routes.append(
            (
                hub_id,
                instance.period,
                van["vehicle"],
                van["vehicle_type"],
                len(nodes),
                " > ".join(str(r) for r in rows["region_id"]),
                total_km,
                float(drive.sum()) + service * len(nodes),
                float(rows["load_m3"].sum()),
                float(van["capacity"]),
                float(van["fixed_cost"]),
                km_cost,
                float(van["fixed_cost"]) + km_cost,
                int(late.sum()),
            )
        )
    return routes, stops
