"""Capacitated location-routing benchmark instances (Prodhon, Tuzun-Burke, Barreto).

All three sets use Prodhon's token format (see ``../shared/benchmarks/lrp/README.md``):
``n, m``, depot and customer coordinates, vehicle capacity, depot capacities, customer
demands, depot opening costs, the cost of a route, and a flag: 0 = arc cost
``ceil(100 d)`` (integer costs, every Prodhon file), 1 = arc cost ``d`` (real).

:func:`write_lrp_scenario` turns an instance into a hubopt scenario: depots are hubs
(opening cost as the fixed cost of the single period, depot capacity as throughput),
customers are regions with one product of volume 1, and an unlimited fleet of vans of
capacity Q. The planar coordinates are placed in the projected CRS EPSG:3857 (one
instance unit = 1 km, so straight-line km in the CRS are the instance's distances) and
stored as WGS84 lat/lon like every hubopt table; ``crs: EPSG:3857`` makes hubopt use
those planar distances. :func:`lrp_cost` prices a routed plan exactly as the literature
does, from the instance's own coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from hubopt.geo import unproject_km

LRP_CRS = "EPSG:3857"


@dataclass(frozen=True)
class LrpInstance:
    """One CLRP instance in Prodhon's format."""

    name: str
    depot_xy: np.ndarray  # (m, 2)
    customer_xy: np.ndarray  # (n, 2)
    vehicle_capacity: float
    depot_capacity: np.ndarray
    demand: np.ndarray
    opening_cost: np.ndarray
    route_cost: float
    integer_costs: bool  # flag 0: arc cost ceil(100 d)

    @property
    def cost_per_km(self) -> float:
        """Money per unit of distance: 100 with integer costs, else 1."""
        return 100.0 if self.integer_costs else 1.0

    def arc_cost(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The literature's cost of travelling between points a and b (rows of x, y)."""
        d = np.hypot(a[..., 0] - b[..., 0], a[..., 1] - b[..., 1])
        # the 1e-9 guards ceil against float noise on exact integers (e.g. d = 5 -> 500)
        return np.ceil(100.0 * d - 1e-9) if self.integer_costs else d


def read_lrp(path: str | Path) -> LrpInstance:
    """Read an instance file in Prodhon's format (Prodhon, Tuzun and Barreto sets)."""
    tokens = Path(path).read_text(encoding="utf-8", errors="replace").split()
    values = [float(t) for t in tokens]
    n, m = int(values[0]), int(values[1])
    at = 2
    depot = np.array(values[at : at + 2 * m]).reshape(m, 2)
    at += 2 * m
    customer = np.array(values[at : at + 2 * n]).reshape(n, 2)
    at += 2 * n
    q = values[at]
    at += 1
    depot_cap = np.array(values[at : at + m])
    at += m
    demand = np.array(values[at : at + n])
    at += n
    opening = np.array(values[at : at + m])
    at += m
    route_cost = values[at]
    flag = int(values[at + 1]) if len(values) > at + 1 else 0
    return LrpInstance(
        Path(path).stem, depot, customer, q, depot_cap, demand, opening, route_cost, flag == 0
    )


def depot_ids(instance: LrpInstance) -> list[str]:
    """Hub ids of the depots: D1..Dm."""
    return [f"D{i + 1}" for i in range(len(instance.depot_xy))]


def customer_ids(instance: LrpInstance) -> list[str]:
    """Region ids of the customers: C1..Cn."""
    return [f"C{j + 1}" for j in range(len(instance.customer_xy))]


def write_lrp_scenario(
    instance: LrpInstance,
    folder: str | Path,
    time_limit_s: float = 1.0,
    max_iterations: int = 6,
    mode: str = "integrated",
    search_time_limit_s: float | None = None,
) -> Path:
    """Write ``instance`` as a scenario folder (YAML + CSV tables); return the YAML path."""
    folder = Path(folder)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    d_lat, d_lon = unproject_km(instance.depot_xy[:, 0], instance.depot_xy[:, 1], LRP_CRS)
    c_lat, c_lon = unproject_km(instance.customer_xy[:, 0], instance.customer_xy[:, 1], LRP_CRS)
    regions = customer_ids(instance)
    tables = {
        "hubs": pd.DataFrame(
            {
                "hub_id": depot_ids(instance),
                "lat": d_lat,
                "lon": d_lon,
                "fixed_cost": instance.opening_cost,
                "throughput_capacity": instance.depot_capacity,
            }
        ),
        "regions": pd.DataFrame({"region_id": regions, "lat": c_lat, "lon": c_lon}),
        "products": pd.DataFrame({"product_id": ["unit"], "unit_volume": [1.0]}),
        "demand": pd.DataFrame(
            {"region_id": regions, "product_id": "unit", "period": 1, "quantity": instance.demand}
        ),
        "vehicles": pd.DataFrame(
            {
                "vehicle_type": ["VAN"],
                "capacity": [instance.vehicle_capacity],
                "count": [len(regions)],  # an unlimited fleet: at most one van per customer
                "fixed_cost": [instance.route_cost],
                "cost_per_km": [instance.cost_per_km],
                "speed_kmh": [1000.0],
                "max_route_hours": [1e6],
            }
        ),
    }
    for name, frame in tables.items():
        frame.to_csv(folder / "data" / f"{name}.csv", index=False, float_format="%.17g")
    doc = {
        "name": instance.name,
        "crs": LRP_CRS,
        "data": {name: f"data/{name}.csv" for name in tables},
        "policy": {"single_sourcing": True, "circuity": 1.0},
        "solver": {"mip_gap": 0.0, "time_limit_s": 60},
        "output": {"map": False, "report": False},
        "routing": {
            "periods": "all",
            "mode": mode,
            "time_limit_s": time_limit_s,
            "max_iterations": max_iterations,
            "first_solution": "savings",
            **({"search_time_limit_s": search_time_limit_s} if search_time_limit_s else {}),
        },
    }
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def lrp_cost(instance: LrpInstance, open_hubs: list[str], stops: pd.DataFrame) -> float:
    """The literature's cost of a routed plan: opening + route fixed costs + arc costs.

    ``stops`` is a route-stops table (``hub_id, period, vehicle, stop, region_id``).
    """
    depot_index = {d: i for i, d in enumerate(depot_ids(instance))}
    customer_index = {c: j for j, c in enumerate(customer_ids(instance))}
    total = float(sum(instance.opening_cost[depot_index[h]] for h in open_hubs))
    for (hub, _period, _van), rows in stops.groupby(["hub_id", "period", "vehicle"]):
        path = [instance.depot_xy[depot_index[hub]]]
        path += [
            instance.customer_xy[customer_index[r]] for r in rows.sort_values("stop")["region_id"]
        ]
        path.append(path[0])
        xy = np.array(path)
        total += instance.route_cost + float(instance.arc_cost(xy[:-1], xy[1:]).sum())
    return total


def read_solution_routes(path: str | Path, instance: LrpInstance) -> pd.DataFrame:
    """Routes of an inria-UFF ``.sol`` file as a route-stops table (for checking costs)."""
    rows = []
    n = len(instance.customer_xy)
    for number, line in enumerate(Path(path).read_text().splitlines()):
        parts = line.split()
        if not parts or parts[0] != "V":
            continue
        depot = int(parts[1])
        customers = [int(c) for c in parts[3:] if 0 < int(c) <= n]
        for stop, c in enumerate(customers, start=1):
            rows.append((f"D{depot}", 1, f"R{number}", stop, f"C{c}"))
    return pd.DataFrame(rows, columns=["hub_id", "period", "vehicle", "stop", "region_id"])


def gap_percent(ours: float, best_known: float) -> float:
    """Relative gap to the best-known value, in percent."""
    return 100.0 * (ours - best_known) / best_known if best_known else math.nan
