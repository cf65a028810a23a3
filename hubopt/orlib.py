"""Readers for public benchmark formats, written out as hubopt scenario folders.

OR-Library capacitated facility location (Beasley 1988) is the special case of the model
with one period, one product, one channel, no sources, and lanes with
``cost_per_unit = c_ij / d_j`` (DESIGN §3). Holmberg's single-source instances are the same
with ``policy.single_sourcing: true``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml


@dataclass(frozen=True)
class FacilityInstance:
    """A capacitated facility-location instance: capacities, fixed costs, demands, costs.

    ``cost[i, j]`` is the cost of serving all of customer j's demand from facility i.
    """

    name: str
    capacity: np.ndarray
    fixed_cost: np.ndarray
    demand: np.ndarray
    cost: np.ndarray


def read_orlib_cap(path: str | Path, capacity: float | None = None) -> FacilityInstance:
    """Read an OR-Library ``capXX.txt`` file (capa/b/c: pass the capacity to use)."""
    tokens = Path(path).read_text().split()
    pos = 0

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    m, n = int(take()), int(take())
    cap, fixed = np.zeros(m), np.zeros(m)
    for i in range(m):
        word = take()
        cap[i] = capacity if capacity is not None else float(word)
        fixed[i] = float(take())
    demand, cost = np.zeros(n), np.zeros((m, n))
    for j in range(n):
        demand[j] = float(take())
        for i in range(m):
            cost[i, j] = float(take())
    return FacilityInstance(Path(path).stem, cap, fixed, demand, cost)


def read_holmberg(path: str | Path) -> FacilityInstance:
    """Read a Holmberg single-source CFLP file (``m n``, capacity+fixed per facility,
    demands, then an m x n cost matrix of serving each whole customer)."""
    values = np.array(
        Path(path).read_text(errors="replace").replace("\0", " ").split(), dtype=float
    )
    m, n = int(values[0]), int(values[1])
    body = values[2:]
    cap, fixed = body[0 : 2 * m : 2], body[1 : 2 * m : 2]
    demand = body[2 * m : 2 * m + n]
    cost = body[2 * m + n : 2 * m + n + m * n].reshape(m, n)
    return FacilityInstance(Path(path).stem, cap, fixed, demand, cost)


def write_facility_scenario(
    instance: FacilityInstance, folder: str | Path, single_sourcing: bool = False
) -> Path:
    """Write ``instance`` as a scenario folder (YAML + CSV tables); return the YAML path."""
    folder = Path(folder)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    m, n = instance.cost.shape
    hub_ids = [f"F{i + 1}" for i in range(m)]
    region_ids = [f"C{j + 1}" for j in range(n)]
    # Coordinates are irrelevant (every arc has a lane cost); place them on a small grid.
    pd.DataFrame(
        {
            "hub_id": hub_ids,
            "lat": np.linspace(35.0, 36.0, m),
            "lon": np.full(m, 127.0),
            "fixed_cost": instance.fixed_cost,
            "throughput_capacity": instance.capacity,
        }
    ).to_csv(folder / "data/hubs.csv", index=False)
    pd.DataFrame(
        {"region_id": region_ids, "lat": np.linspace(35.0, 36.0, n), "lon": np.full(n, 128.0)}
    ).to_csv(folder / "data/regions.csv", index=False)
    pd.DataFrame({"product_id": ["unit"], "unit_volume": [1.0], "unit_weight_kg": [1.0]}).to_csv(
        folder / "data/products.csv", index=False
    )
    pd.DataFrame(
        {"region_id": region_ids, "product_id": "unit", "period": 1, "quantity": instance.demand}
    ).to_csv(folder / "data/demand.csv", index=False)
    i, j = np.meshgrid(np.arange(m), np.arange(n), indexing="ij")
    with np.errstate(divide="ignore", invalid="ignore"):
        per_unit = np.where(instance.demand[j] > 0, instance.cost[i, j] / instance.demand[j], 0.0)
    pd.DataFrame(
        {
            "from_id": np.array(hub_ids)[i.ravel()],
            "to_id": np.array(region_ids)[j.ravel()],
            "cost_per_unit": per_unit.ravel(),
        }
    ).to_csv(folder / "data/lanes.csv", index=False, float_format="%.17g")
    doc = {
        "name": instance.name,
        "data": {t: f"data/{t}.csv" for t in ("hubs", "regions", "products", "demand", "lanes")},
        "policy": {"single_sourcing": single_sourcing},
        "solver": {"mip_gap": 0.0, "time_limit_s": 600},
        "output": {"map": False, "report": False},
    }
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def read_optima(path: str | Path) -> dict[str, float]:
    """Read a ``name value`` table of published optima (first line is a header)."""
    out: dict[str, float] = {}
    for line in Path(path).read_text().splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2:
            try:
                out[parts[0]] = float(parts[1])
            except ValueError:
                continue
    return out
