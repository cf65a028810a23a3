"""The OR-Tools routing model of one :class:`~hubopt.routing.instance.RoutingInstance`.

Model (integers: money x ``money_scale``, load x ``load_scale``, time in seconds):

* arc cost of van v on (i, j) = cost_per_km[v] x km[i, j]; fixed cost per van used;
* capacity: the load of a route <= the van's capacity (loads rounded up, capacities down,
  so the integer model is never looser than the real one);
* time: drive km / speed[v] plus service hours at every stop; a route lasts at most
  ``max_route_hours[v]`` (hard); arriving at a stop after its window costs
  ``late_penalty_per_hour`` per hour (soft, so a late stop is reported, not hidden);
* a visit may be left out only at a prohibitive penalty (when the fleet is too small),
  and is then reported as unrouted;
* with several hubs (integrated location-routing), each van starts and ends at its hub
  and the loads of a hub's routes together stay within its ``hub_capacity_m3``.

Search: the configured first-solution strategy, then guided local search until the
time limit, or (``stall_s``) until the search has gone ``stall_s`` seconds, and at least
as long as it took to find its best plan, without a cheaper one: guided local search
never ends by itself, and most hub-periods find their best routes in milliseconds.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from hubopt.routing.instance import RoutingInstance
from hubopt.scenario.schema import FirstSolution, RoutingSettings

SECONDS = 3600.0
COST_RANGE = 1e7  # the dearest single arc or fixed cost maps to about this many units
LOAD_RANGE = 1e6  # the largest van capacity maps to about this many units
DROP_PENALTY = 10**15


@dataclass(frozen=True)
class VanRoutes:
    """The search's answer: visit nodes (``>= n_hubs``) in order per van, and left-out visits."""

    sequences: dict[int, list[int]]
    dropped: list[int]
    found: bool


def late_penalty(instance: RoutingInstance, settings: RoutingSettings) -> float:
    """Money per hour late: the setting, or the dearest possible route (fixed cost plus the
    longest arc driven once per node) per hour."""
    if settings.late_penalty_per_hour is not None:
        return settings.late_penalty_per_hour
    vans = instance.vans
    longest = float(np.max(instance.distance_km)) * max(2, len(instance.visits) + 1)
    dearest = float(np.max(vans["fixed_cost"] + vans["cost_per_km"] * longest))
    return max(dearest, 1.0)


def solve_instance(
    instance: RoutingInstance,
    settings: RoutingSettings,
    initial: dict[int, list[int]] | None = None,
) -> VanRoutes:
    """Route the vans of one hub and period with OR-Tools (first solution + GLS).

    ``initial`` (van -> visit nodes in order) starts the search from a known plan instead
    of the first-solution strategy.
    """
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    visits, vans = instance.visits, instance.vans
    n_hubs = instance.n_hubs
    n_nodes, n_vans = len(visits) + n_hubs, len(vans)
    if n_vans == 0 or len(visits) == 0:
        return VanRoutes({}, list(range(n_hubs, n_nodes)), n_vans > 0)
    km = instance.distance_km
    per_km = vans["cost_per_km"].to_numpy(float)
    fixed = vans["fixed_cost"].to_numpy(float)
    money_scale = COST_RANGE / max(
        float(np.max(km)) * float(per_km.max()), float(fixed.max()), 1e-9
    )
    capacity = vans["capacity"].to_numpy(float)
    load_scale = LOAD_RANGE / float(capacity.max())
    home = vans["hub"].astype(int).tolist()
    manager = pywrapcp.RoutingIndexManager(n_nodes, n_vans, home, home)
    routing = pywrapcp.RoutingModel(manager)

    # one cost and one time matrix per distinct (cost_per_km) / (speed, service) pair
    cost_ids: dict[float, int] = {}
    time_ids: dict[tuple[float, float], int] = {}
    service = np.zeros(n_nodes)
    for v, van in enumerate(vans.itertuples()):
        rate = float(van.cost_per_km)
        if rate not in cost_ids:
            matrix = np.rint(km * rate * money_scale).astype(np.int64)
            cost_ids[rate] = routing.RegisterTransitMatrix(matrix.tolist())
        routing.SetArcCostEvaluatorOfVehicle(cost_ids[rate], v)
        routing.SetFixedCostOfVehicle(round(float(van.fixed_cost) * money_scale), v)
        key = (float(van.speed_kmh), float(van.service_hours_per_stop))
        if key not in time_ids:
            service[:] = key[1]
            service[:n_hubs] = 0.0
            # time on arc (i, j) = service at i + drive i -> j
            seconds = np.rint((service[:, None] + km / key[0]) * SECONDS).astype(np.int64)
            time_ids[key] = routing.RegisterTransitMatrix(seconds.tolist())
    load = np.concatenate(
        [np.zeros(n_hubs), np.ceil(visits["load_m3"].to_numpy(float) * load_scale - 1e-6)]
    )
    load_id = routing.RegisterUnaryTransitVector(load.astype(np.int64).tolist())
    routing.AddDimensionWithVehicleCapacity(
        load_id, 0, np.floor(capacity * load_scale + 1e-6).astype(np.int64).tolist(), True, "load"
    )
    load_dim = routing.GetDimensionOrDie("load")
    for h, limit in enumerate(instance.hub_capacity_m3):
        ends = [load_dim.CumulVar(routing.End(v)) for v in range(n_vans) if home[v] == h]
        if n_hubs > 1 and math.isfinite(limit) and ends:
            cap = math.floor(limit * load_scale + 1e-6)
            routing.solver().Add(routing.solver().Sum(ends) <= cap)
    van_time = [
        time_ids[(float(s), float(h))]
        for s, h in zip(vans["speed_kmh"], vans["service_hours_per_stop"], strict=True)
    ]
    horizon = [round(h * SECONDS) for h in vans["max_route_hours"].to_numpy(float)]
    routing.AddDimensionWithVehicleTransitAndCapacity(van_time, 0, horizon, True, "time")
    time = routing.GetDimensionOrDie("time")
    per_second = late_penalty(instance, settings) * money_scale / SECONDS
    window = visits["window_hours"].to_numpy(float)
    for i in range(len(visits)):
        index = manager.NodeToIndex(n_hubs + i)
        if math.isfinite(window[i]):
            time.SetCumulVarSoftUpperBound(
                index, math.floor(window[i] * SECONDS), max(1, math.ceil(per_second))
            )
        routing.AddDisjunction([index], DROP_PENALTY)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = _strategy(settings.first_solution, routing_enums_pb2)
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(settings.time_limit_s * 1000))
    if settings.stall_s is not None:
        stall = Stall(settings.stall_s, routing)
        routing.AddAtSolutionCallback(stall.at_solution)
        routing.AddSearchMonitor(routing.solver().CustomLimit(stall.stalled))
    if initial:
        routing.CloseModelWithParameters(params)
        start = routing.ReadAssignmentFromRoutes([initial.get(v, []) for v in range(n_vans)], True)
        solution = (
            routing.SolveFromAssignmentWithParameters(start, params)
            if start is not None
            else routing.SolveWithParameters(params)
        )
    else:
        solution = routing.SolveWithParameters(params)
    if solution is None:
        return VanRoutes({}, list(range(n_hubs, n_nodes)), False)
    sequences: dict[int, list[int]] = {}
    served: set[int] = set()
    for v in range(n_vans):
        index = routing.Start(v)
        nodes = []
        while not routing.IsEnd(index):
            node = manager.IndexToNode(index)
            if node >= n_hubs:
                nodes.append(node)
            index = solution.Value(routing.NextVar(index))
        if nodes:
            sequences[v] = nodes
            served.update(nodes)
    dropped = [node for node in range(n_hubs, n_nodes) if node not in served]
    return VanRoutes(sequences, dropped, True)


class Stall:
    """The search's stall stop: ``stalled`` is true once the search has gone ``seconds``,
    and at least as long as it took to find its best plan, without a cheaper one."""

    def __init__(self, seconds: float, routing: object) -> None:
        self.seconds = seconds
        self.routing = routing  # its cost variable exists once the model is closed
        self.started = time.monotonic()
        self.best = math.inf
        self.best_at = 0.0

    def at_solution(self) -> None:
        """Record a cheaper plan's time (called by OR-Tools at every solution)."""
        value = self.routing.CostVar().Value()  # type: ignore[attr-defined]
        if value < self.best:
            self.best, self.best_at = value, time.monotonic() - self.started

    def stalled(self) -> bool:
        """Whether to stop (polled by OR-Tools' search limit)."""
        if self.best == math.inf:
            return False
        idle = time.monotonic() - self.started - self.best_at
        return idle > max(self.seconds, self.best_at)


def _strategy(choice: FirstSolution, enums: object) -> int:
    names = {
        FirstSolution.PATH_CHEAPEST_ARC: "PATH_CHEAPEST_ARC",
        FirstSolution.SAVINGS: "SAVINGS",
        FirstSolution.PARALLEL_CHEAPEST_INSERTION: "PARALLEL_CHEAPEST_INSERTION",
        FirstSolution.CHRISTOFIDES: "CHRISTOFIDES",
        FirstSolution.AUTOMATIC: "AUTOMATIC",
    }
    return int(getattr(enums.FirstSolutionStrategy, names[choice]))  # type: ignore[attr-defined]
