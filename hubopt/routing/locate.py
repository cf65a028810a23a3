"""Integrated location-routing: locate -> route -> re-estimate delivery cost -> re-locate.

The location model prices delivery per unit on each hub -> region lane. In the
integrated mode those prices come from routes instead of per-kg transport rates:

1. start from a radial estimate: a full van's trip there and back plus its fixed cost,
   shared over its capacity, ``(2 d c_km + F) / Q`` per m3;
2. solve the location model with those prices (lanes ``cost_per_unit``), route every
   open hub (:func:`hubopt.routing.plan.plan_routes`) and price the plan for real:
   the model's cost without its delivery estimate, plus the routes' cost;
3. re-estimate from the routes: a served region's share of its route's cost (the route
   cost split in proportion to each stop's removal saving), the cheapest insertion into
   another open hub's routes, and for closed hubs the radial estimate scaled by how far
   the radial estimates of the current plan were from its routes;
4. re-locate with the new prices, and repeat; a hub set seen before triggers a move
   (the costliest open hub per routed m3 is closed, else the most promising closed hub
   is opened), so the search keeps exploring. The cheapest routed plan is kept.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from hubopt.data.problem import ProblemData
from hubopt.geo import distance_matrix_km
from hubopt.routing.fleet import hub_fleet
from hubopt.routing.instance import (
    RoutingInstance,
    build_instances,
    combine_instances,
    route_loads,
)
from hubopt.routing.plan import RoutePlan, decode_plan, plan_routes, solve_all
from hubopt.scenario.scenario import Scenario
from hubopt.scenario.schema import RoutingSettings
from hubopt.solution import Solution

log = logging.getLogger(__name__)


class Planned(Protocol):
    """What the location solve returns (``hubopt.api.Result`` fits)."""

    @property
    def problem(self) -> ProblemData: ...

    @property
    def solution(self) -> Solution | None: ...


@dataclass(frozen=True)
class LocationRouting:
    """The best routed plan of the integrated search and how it was found.

    Attributes
    ----------
    planned:
        The location solve of the best round (its scenario carries the delivery
        estimates as lane costs).
    routes:
        Its routes.
    total_cost:
        The plan's cost with routes: model cost without its delivery estimate + route cost.
    history:
        One row per round: ``round, open_hubs, plan_cost, route_cost, total_cost, best``.
    """

    planned: Planned
    routes: RoutePlan
    total_cost: float
    history: pd.DataFrame


def locate_and_route(
    scenario: Scenario,
    solve_plan: Callable[[Scenario], Planned],
    settings: RoutingSettings,
) -> LocationRouting | None:
    """Run the integrated search; None when the first location solve finds no plan."""
    vehicles = scenario.tables.vehicles
    nodes = NodeDistances.of(scenario)
    estimates = radial_estimates(scenario, nodes)
    best: tuple[float, RoutePlan, frozenset[str], Planned] | None = None
    seen: set[frozenset[str]] = set()
    routed: dict[tuple[object, ...], RoutePlan] = {}
    rows: list[tuple[object, ...]] = []
    forced: dict[str, str] = {}
    started = time.monotonic()
    for _ in range(settings.max_iterations):
        if (
            settings.search_time_limit_s is not None
            and rows
            and time.monotonic() - started > settings.search_time_limit_s
        ):
            break
        planned = solve_plan(with_delivery_costs(scenario, estimates, forced))
        solution = planned.solution
        if solution is None:
            if not forced:
                break  # the free location model has no plan: nothing more to explore
            forced = {}  # that neighbour hub set cannot serve the demand; locate freely
            continue
        allocation = _allocation_key(solution)
        if allocation not in routed:  # a repeated plan is not routed again
            routed[allocation] = joint_routes(planned.problem, solution, vehicles, settings)
        routes = routed[allocation]
        plan_cost = solution.objective - solution.costs["outbound_transport"]
        total = plan_cost + routes.cost if not len(routes.unrouted) else np.inf
        open_hubs = frozenset(solution.hubs.loc[solution.hubs["open"] > 0.5, "hub_id"])
        if best is None or total < best[0] - 1e-9:
            best = (total, routes, open_hubs, planned)
        rows.append(("locate", " ".join(sorted(open_hubs)), plan_cost, routes.cost, total))
        log.info(
            "location-routing round %d: hubs %s, total %.6g", len(rows), sorted(open_hubs), total
        )
        repeated = open_hubs in seen
        seen.add(open_hubs)
        estimates = route_estimates(scenario, nodes, routes, estimates)
        # a free round that lands on a hub set seen before has converged: force a neighbour
        forced = (
            next_move(scenario, routes, open_hubs, seen, estimates)
            if repeated and not forced
            else {}
        )
    if best is None:
        return None
    _, joint, hub_set, planned = best
    # Final round: the best hub set with the allocation its joint routes chose.
    final = solve_plan(allocation_scenario(scenario, nodes, joint, hub_set))
    if final.solution is not None:
        routes = plan_routes(final.problem, final.solution.flows, vehicles, settings)
        plan_cost = final.solution.objective - final.solution.costs["outbound_transport"]
        rows.append(
            ("allocate", " ".join(sorted(hub_set)), plan_cost, routes.cost, plan_cost + routes.cost)
        )
        if not len(routes.unrouted):
            return LocationRouting(final, routes, plan_cost + routes.cost, _history(rows))
    routes = plan_routes(planned.problem, planned.solution.flows, vehicles, settings)  # type: ignore[union-attr]
    plan_cost = planned.solution.objective - planned.solution.costs["outbound_transport"]  # type: ignore[union-attr]
    rows.append(
        ("route", " ".join(sorted(hub_set)), plan_cost, routes.cost, plan_cost + routes.cost)
    )
    return LocationRouting(planned, routes, plan_cost + routes.cost, _history(rows))


def _allocation_key(solution: Solution) -> tuple[object, ...]:
    """Which hubs serve which regions in which periods, and how much (rounded)."""
    flows = solution.flows
    key = flows.groupby(["hub_id", "region_id", "period"])["quantity"].sum().round(6)
    return tuple(key.items())


def _history(rows: Sequence[tuple[object, ...]]) -> pd.DataFrame:
    table = pd.DataFrame(
        rows, columns=["step", "open_hubs", "plan_cost", "route_cost", "total_cost"]
    )
    table.insert(0, "round", range(1, len(table) + 1))
    return table


def joint_routes(
    problem: ProblemData, solution: Solution, vehicles: pd.DataFrame, settings: RoutingSettings
) -> RoutePlan:
    """Route each routed period's loads from all its open hubs at once (multi-depot VRP).

    The search starts from the location model's own allocation routed hub by hub, and
    may then move visits between open hubs as long as each hub's routes stay within its
    throughput capacity (less the flows that are not routed). The cheaper of the two
    plans is returned.
    """
    loads = route_loads(problem, solution.flows, settings)
    own_instances = build_instances(problem, solution.flows, vehicles, settings)
    own_answers = solve_all(own_instances, settings)
    own = decode_plan(loads, own_instances, own_answers)
    hubs = problem.hubs.set_index("hub_id")
    volume = problem.products.set_index("product_id")["unit_volume"].astype(float)
    flows = solution.flows
    out_m3 = (
        (flows["quantity"] * volume.reindex(flows["product_id"]).to_numpy())
        .groupby([flows["hub_id"], flows["period"]])
        .sum()
    )
    routed_m3 = loads.groupby(["hub_id", "period"])["load_m3"].sum()
    open_rows = solution.hubs[solution.hubs["open"] > 0.5]
    instances, seeds = [], []
    for period in sorted(set(loads["period"])):
        hub_ids = sorted(open_rows.loc[open_rows["period"] == period, "hub_id"])
        limits = [
            float(hubs.at[h, "throughput_capacity"])
            - float(out_m3.get((h, period), 0.0))
            + float(routed_m3.get((h, period), 0.0))
            for h in hub_ids
        ]
        picked = [i for i, part in enumerate(own_instances) if part.period == period]
        parts = [own_instances[i] for i in picked]
        combined, visit_at, van_at = combine_instances(problem, parts, hub_ids, vehicles, limits)
        seed: dict[int, list[int]] = {}
        for i, visit_offset, van_offset in zip(picked, visit_at, van_at, strict=True):
            for van, nodes in own_answers[i].sequences.items():
                seed[van_offset + van] = [
                    combined.n_hubs + visit_offset + node - own_instances[i].n_hubs
                    for node in nodes
                ]
        instances.append(combined)
        seeds.append(seed)
    longest = max((i.n_hubs for i in instances), default=1)
    scaled = settings.model_copy(update={"time_limit_s": settings.time_limit_s * longest})
    joint = decode_plan(loads, instances, solve_all(instances, scaled, seeds))
    if joint.unrouted.empty and within_hub_capacity(joint, instances) and joint.cost <= own.cost:
        return joint
    return own


def within_hub_capacity(plan: RoutePlan, instances: list[RoutingInstance]) -> bool:
    """Whether every hub's routes carry no more than the volume it can send out."""
    carried = plan.stops.groupby(["hub_id", "period"])["load_m3"].sum()
    for instance in instances:
        for hub, limit in zip(instance.hub_ids, instance.hub_capacity_m3, strict=True):
            if carried.get((hub, instance.period), 0.0) > limit * (1 + 1e-9) + 1e-9:
                return False
    return True


def allocation_scenario(
    scenario: Scenario, nodes: NodeDistances, routes: RoutePlan, hub_set: frozenset[str]
) -> Scenario:
    """The scenario with exactly ``hub_set`` open and each routed region priced at its
    share of its route's cost from the hub(s) that routed it, every other hub barred."""
    served = routes.stops.groupby(["hub_id", "region_id"])["load_m3"].sum()
    estimates = route_estimates(scenario, nodes, routes, radial_estimates(scenario, nodes))
    routed_regions = set(routes.stops["region_id"])
    allowed = pd.DataFrame(False, index=estimates.index, columns=estimates.columns)
    for hub, region in served.index:
        allowed.at[hub, region] = True
    for region in set(estimates.columns) - routed_regions:
        allowed[region] = True
    barred = estimates.where(allowed, np.inf)
    movable = scenario.tables.hubs.loc[scenario.tables.hubs["status"] == "candidate", "hub_id"]
    forced = {h: ("forced_open" if h in hub_set else "forced_closed") for h in movable}
    return with_delivery_costs(scenario, barred, forced, bar_missing=True)


@dataclass(frozen=True)
class NodeDistances:
    """Road km between every hub and region (ids in ``index``), as one square matrix."""

    index: dict[str, int]
    km: np.ndarray
    hubs: list[str]
    regions: list[str]

    @classmethod
    def of(cls, scenario: Scenario) -> NodeDistances:
        """Distances of the scenario's hubs and regions (CRS and circuity as configured)."""
        hubs, regions = scenario.tables.hubs, scenario.tables.regions
        lat = np.concatenate([hubs["lat"].to_numpy(float), regions["lat"].to_numpy(float)])
        lon = np.concatenate([hubs["lon"].to_numpy(float), regions["lon"].to_numpy(float)])
        km = distance_matrix_km(
            lat, lon, lat, lon, scenario.config.policy.circuity, scenario.config.crs
        )
        ids = [*hubs["hub_id"], *regions["region_id"]]
        return cls(
            {k: i for i, k in enumerate(ids)}, km, list(hubs["hub_id"]), list(regions["region_id"])
        )

    def rows(self, ids: list[str]) -> np.ndarray:
        """Positions of ``ids``."""
        return np.array([self.index[i] for i in ids], dtype=int)


def _van(vehicles: pd.DataFrame, hub: str) -> pd.Series | None:
    """The hub's largest van (None without vans)."""
    vans = hub_fleet(vehicles, hub)
    return None if not len(vans) else vans.loc[vans["capacity"].astype(float).idxmax()]


def radial_estimates(scenario: Scenario, nodes: NodeDistances) -> pd.DataFrame:
    """Delivery cost per m3, hub x region: ``(2 d c_km + F) / Q`` with the hub's largest van."""
    km = nodes.km[np.ix_(nodes.rows(nodes.hubs), nodes.rows(nodes.regions))]
    per_m3 = np.full_like(km, np.inf)
    for i, hub in enumerate(nodes.hubs):
        van = _van(scenario.tables.vehicles, hub)
        if van is not None:
            per_m3[i] = (2 * km[i] * van["cost_per_km"] + van["fixed_cost"]) / van["capacity"]
    return pd.DataFrame(per_m3, index=nodes.hubs, columns=nodes.regions)


def route_estimates(
    scenario: Scenario, nodes: NodeDistances, routes: RoutePlan, previous: pd.DataFrame
) -> pd.DataFrame:
    """New delivery cost per m3 (hub x region) from a routed plan (see the module doc)."""
    stops = routes.stops
    if not len(stops):
        return previous
    radial = radial_estimates(scenario, nodes)
    estimates = previous.copy()
    loads = stops.groupby("region_id")["load_m3"].sum()
    share = pd.Series(0.0, index=loads.index)
    served: dict[str, str] = {}
    route_cost = routes.routes.set_index(["hub_id", "period", "vehicle"])["cost"]
    for key, rows in stops.groupby(["hub_id", "period", "vehicle"]):
        path = nodes.rows([key[0], *rows.sort_values("stop")["region_id"], key[0]])
        km = nodes.km
        saving = km[path[:-2], path[1:-1]] + km[path[1:-1], path[2:]] - km[path[:-2], path[2:]]
        saving = np.maximum(saving, 1e-9)
        parts = route_cost[key] * saving / saving.sum()
        for region, cost in zip(rows.sort_values("stop")["region_id"], parts, strict=True):
            share[region] += cost
            served[region] = key[0]
    radial_served = sum(radial.at[h, r] * loads[r] for r, h in served.items())
    scale = routes.cost / radial_served if radial_served > 0 else 1.0
    open_hubs = sorted(set(routes.routes["hub_id"]))
    for hub in estimates.index:
        if hub not in open_hubs:
            estimates.loc[hub] = scale * radial.loc[hub]
    vehicles = scenario.tables.vehicles
    for hub in open_hubs:
        insertion = insertion_costs(nodes, routes, hub, _van(vehicles, hub), loads)
        estimates.loc[hub, loads.index] = insertion / loads.to_numpy()
    for region, hub in served.items():
        estimates.at[hub, region] = share[region] / loads[region]
    return estimates


def insertion_costs(
    nodes: NodeDistances, routes: RoutePlan, hub: str, van: pd.Series | None, loads: pd.Series
) -> np.ndarray:
    """Cheapest cost of adding each region of ``loads`` to one of ``hub``'s routes.

    The cheapest insertion between two consecutive nodes of a route with room for the
    load, or a new route (the van's fixed cost and the trip there and back).
    """
    if van is None:
        return np.full(len(loads), np.inf)
    region_rows = nodes.rows(list(loads.index))
    load = loads.to_numpy(float)
    h = nodes.index[hub]
    best = van["fixed_cost"] + 2 * van["cost_per_km"] * nodes.km[h, region_rows]
    stops = routes.stops[routes.stops["hub_id"] == hub]
    for key, rows in stops.groupby(["period", "vehicle"]):
        route = routes.routes[
            (routes.routes["hub_id"] == hub)
            & (routes.routes["period"] == key[0])
            & (routes.routes["vehicle"] == key[1])
        ].iloc[0]
        room = route["capacity_m3"] - route["load_m3"] + 1e-9
        path = nodes.rows([hub, *rows.sort_values("stop")["region_id"], hub])
        km = nodes.km
        delta = (
            km[path[:-1]][:, region_rows]
            + km[path[1:]][:, region_rows]
            - km[path[:-1], path[1:]][:, None]
        ).min(axis=0)
        cost = np.where(load <= room, van["cost_per_km"] * delta, np.inf)
        best = np.minimum(best, cost)
    return best


def next_move(
    scenario: Scenario,
    routes: RoutePlan,
    open_hubs: frozenset[str],
    seen: set[frozenset[str]],
    estimates: pd.DataFrame,
) -> dict[str, str]:
    """Statuses forcing the most promising unseen neighbour hub set (close one / open one).

    A neighbour's score is the change of fixed cost plus the change of estimated delivery
    cost when every routed region goes to its cheapest hub of the new set.
    """
    hubs = scenario.tables.hubs.set_index("hub_id")
    movable = set(hubs.index[hubs["status"] == "candidate"])
    loads = routes.stops.groupby("region_id")["load_m3"].sum()
    if not len(loads):
        return {}
    periods = max(1, routes.routes["period"].nunique())
    cost = estimates[loads.index]

    need_m3 = float(loads.sum()) / periods

    def score(hub_set: frozenset[str]) -> float:
        members = [h for h in hub_set if h in cost.index]
        if not members or float(hubs.loc[members, "throughput_capacity"].sum()) < need_m3:
            return np.inf
        delivery = float((cost.loc[members].min(axis=0) * loads).sum())
        return delivery + periods * float(hubs.loc[members, "fixed_cost"].sum())

    neighbours = [open_hubs - {h} for h in open_hubs & movable if len(open_hubs) > 1]
    neighbours += [open_hubs | {h} for h in movable - open_hubs]
    neighbours += [
        (open_hubs - {a}) | {b} for a in open_hubs & movable for b in movable - open_hubs
    ]
    scored = [(score(n), sorted(n)) for n in neighbours if n not in seen]
    scored = [(value, n) for value, n in scored if np.isfinite(value)]
    if not scored:
        return {}
    target = set(min(scored)[1])
    seen.add(frozenset(target))  # tried once, whatever the location model makes of it
    return {h: ("forced_open" if h in target else "forced_closed") for h in movable}


def with_delivery_costs(
    scenario: Scenario,
    estimates: pd.DataFrame,
    forced_status: dict[str, str] | None = None,
    bar_missing: bool = False,
) -> Scenario:
    """The scenario with hub -> region lane costs set to the delivery estimates.

    Estimates are per m3; a lane's ``cost_per_unit`` is per unit of product, so they are
    multiplied by the demand-weighted mean unit volume (exact with one product, or with
    products of one volume). Other lane fields (distance, transit, allowed) are kept.
    With ``bar_missing``, an infinite estimate bars the lane (``allowed: false``).
    """
    tables = scenario.tables
    volume = tables.products.set_index("product_id")["unit_volume"].astype(float)
    quantity = tables.demand.groupby("product_id")["quantity"].sum()
    weights = quantity.reindex(volume.index).fillna(0.0)
    unit_m3 = float((volume * weights).sum() / weights.sum()) if weights.sum() > 0 else 1.0
    long = estimates.stack().rename("estimate").reset_index()
    long.columns = ["from_id", "to_id", "estimate"]
    barred = ~np.isfinite(long["estimate"].to_numpy(float))
    long = long[~barred | bar_missing]
    lanes = tables.lanes
    generic = lanes[lanes["mode_id"] == ""]
    merged = long.merge(generic, on=["from_id", "to_id"], how="left")
    merged["mode_id"] = ""
    merged["allowed"] = merged["allowed"].astype(object).where(merged["allowed"].notna(), True)
    finite = np.isfinite(merged["estimate"].to_numpy(float))
    merged.loc[~finite, "allowed"] = False
    merged["cost_per_unit"] = np.where(finite, merged["estimate"] * unit_m3, np.nan)
    delivery = merged[list(lanes.columns)].astype(lanes.dtypes.to_dict())
    keep = lanes[
        ~lanes.set_index(["from_id", "to_id"]).index.isin(
            delivery.set_index(["from_id", "to_id"]).index
        )
        | (lanes["mode_id"] != "")
    ]
    specific = keep["mode_id"] != ""
    hit = keep.set_index(["from_id", "to_id"]).index.isin(
        delivery.set_index(["from_id", "to_id"]).index
    )
    keep = keep.copy()
    if (specific & hit).any():
        by_pair = delivery.set_index(["from_id", "to_id"])["cost_per_unit"]
        pairs = pd.MultiIndex.from_frame(keep.loc[specific & hit, ["from_id", "to_id"]])
        keep.loc[specific & hit, "cost_per_unit"] = by_pair.reindex(pairs).to_numpy()
    new_lanes = pd.concat([keep, delivery], ignore_index=True)
    hubs = tables.hubs
    if forced_status:
        hubs = hubs.assign(status=hubs["hub_id"].map(forced_status).fillna(hubs["status"]))
    return dataclasses.replace(scenario, tables=tables.replace(lanes=new_lanes, hubs=hubs))
