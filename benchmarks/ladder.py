"""Seeded synthetic scenarios for the scaling ladder (regions x hubs x products x periods).

    python benchmarks/ladder.py 250x25x6x8 OUT_FOLDER [--seed 0]

:func:`write_ladder_scenario` writes a hubopt scenario folder (YAML + CSV tables, the table
contract in docs/tables.md) that is a function of its size and seed only:

* regions scattered over a 350 km x 450 km box around clustered "cities" (lognormal
  populations), candidate hubs on a jittered grid, three sources (ports / plants);
* per-region demand = population share x product mix x a seasonal profile with a
  campaign peak in the middle periods (integer units, with a forecast std);
* hubs have fixed costs per open period, opening costs and throughput capacities sized so
  that the open hubs must cover the peak (capacity binds: it is a CFLP, not a p-median);
* a delivery window (hours, per channel: standard and express) prunes the hub-region
  arcs: a hub too slow for a stream's window cannot serve it (no late deliveries), so
  the number of arcs grows with the regions, not regions x hubs. Unserved demand is a
  lost sale at a penalty, so every instance is feasible.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

LAT0, LON0 = 35.2, 126.6  # south-west corner of the box (degrees)
BOX_KM = (450.0, 350.0)  # north-south, east-west extent
KM_PER_DEG_LAT = 111.0
REACH = 8.0  # hubs within a standard parcel's window, on average
OUT_SPEED_KMH, OUT_HANDLING_H, CIRCUITY = 30.0, 6.0, 1.25


@dataclass(frozen=True)
class LadderSize:
    """One rung of the ladder."""

    regions: int
    hubs: int
    products: int
    periods: int

    @property
    def label(self) -> str:
        """``RxHxPxT``, as on the command line and in result files."""
        return f"{self.regions}x{self.hubs}x{self.products}x{self.periods}"

    @classmethod
    def parse(cls, text: str) -> LadderSize:
        """Parse ``RxHxPxT`` (e.g. ``250x25x6x8``)."""
        parts = text.lower().split("x")
        if len(parts) != 4 or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise ValueError(f"ladder size must be RxHxPxT with positive integers, got {text!r}")
        r, h, p, t = (int(p) for p in parts)
        return cls(r, h, p, t)


LADDER = tuple(
    LadderSize.parse(s) for s in ("250x25x6x8", "1000x60x10x12", "2000x150x10x12", "5000x300x20x12")
)


def _points(rng: np.random.Generator, n: int, centres: np.ndarray, spread_km: float) -> np.ndarray:
    """``n`` points (km) around random ``centres``, clipped to the box."""
    which = rng.integers(0, len(centres), n)
    pts = centres[which] + rng.normal(0.0, spread_km, (n, 2))
    return np.clip(pts, 0.0, BOX_KM)


def _to_latlon(km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = LAT0 + km[:, 0] / KM_PER_DEG_LAT
    lon = LON0 + km[:, 1] / (KM_PER_DEG_LAT * np.cos(np.radians(lat)))
    return np.round(lat, 5), np.round(lon, 5)


def ladder_tables(size: LadderSize, seed: int = 0) -> dict[str, pd.DataFrame]:
    """The scenario's tables; a function of ``size`` and ``seed`` only."""
    rng = np.random.default_rng([seed, size.regions, size.hubs, size.products, size.periods])
    R, H, P, T = size.regions, size.hubs, size.products, size.periods
    cities = rng.uniform((20.0, 20.0), np.subtract(BOX_KM, 20.0), (max(4, R // 60), 2))
    region_km = _points(rng, R, cities, 25.0)
    population = np.round(rng.lognormal(11.0, 1.0, R))
    rlat, rlon = _to_latlon(region_km)
    region_ids = [f"R{i + 1:05d}" for i in range(R)]
    regions = pd.DataFrame(
        {
            "region_id": region_ids,
            "lat": rlat,
            "lon": rlon,
            "province": [f"P{int(c) + 1:02d}" for c in np.argmin(
                ((region_km[:, None, :] - cities[None, :, :]) ** 2).sum(-1), axis=1)],
            "population": population,
        }
    )  # fmt: skip
    # hubs: a jittered grid over the box, so every region has some hubs near it
    side = int(np.ceil(np.sqrt(H)))
    gx, gy = np.meshgrid(np.linspace(0.1, 0.9, side), np.linspace(0.1, 0.9, side), indexing="ij")
    grid = np.column_stack([gx.ravel(), gy.ravel()])[rng.permutation(side * side)[:H]]
    hub_km = np.clip(
        grid * BOX_KM + rng.normal(0.0, 0.25 * min(BOX_KM) / side, (H, 2)), 0.0, BOX_KM
    )
    hlat, hlon = _to_latlon(hub_km)
    hub_ids = [f"H{i + 1:04d}" for i in range(H)]
    # products: volume, weight, holding cost, lost-sale penalty, margin
    volume = np.round(rng.uniform(0.004, 0.06, P), 4)
    weight = np.round(volume * rng.uniform(80.0, 200.0, P), 2)
    value = np.round(rng.uniform(20_000.0, 120_000.0, P), -2)
    products = pd.DataFrame(
        {
            "product_id": [f"SKU{k + 1:03d}" for k in range(P)],
            "unit_volume": volume,
            "unit_weight_kg": weight,
            "holding_cost": np.round(0.004 * value, 0),
            "lost_sale_penalty": np.round(3.0 * value, 0),
            "unit_margin": np.round(0.3 * value, 0),
        }
    )
    # demand: population share x product mix x season (campaign peak mid-horizon)
    mix = rng.dirichlet(np.full(P, 2.0))
    season = 1.0 + 0.8 * np.exp(-0.5 * ((np.arange(T) - (T - 1) / 2) / max(T / 6, 1.0)) ** 2)
    weekly_units = 0.002 * population  # units per region and period at base season
    mean = weekly_units[:, None, None] * mix[None, :, None] * season[None, None, :] * P
    express_share = 0.25
    rows = []
    express_products = np.arange(P) < max(1, P // 3)  # express for a third of the range
    for channel, share in (("parcel", 1.0 - express_share), ("express", express_share)):
        scale = (
            np.where(express_products, share, 0.0)
            if channel == "express"
            else np.where(express_products, share, 1.0)
        )
        qty = rng.poisson(mean * scale[None, :, None])
        r, p, t = np.nonzero(qty)
        rows.append(
            pd.DataFrame(
                {
                    "region_id": np.array(region_ids)[r],
                    "product_id": products["product_id"].to_numpy()[p],
                    "period": t + 1,
                    "quantity": qty[r, p, t].astype(float),
                    "std": np.round(0.3 * np.sqrt(qty[r, p, t]) + 0.5, 2),
                    "channel": channel,
                }
            )
        )
    demand = pd.concat(rows, ignore_index=True)
    # hub capacity: the peak period's volume over ~40 % of the hubs, with spread
    peak_volume = float(
        (mean.sum(axis=(0,)) * volume[:, None]).sum(axis=0).max()
    )  # m3 in the busiest period
    capacity = np.round(peak_volume / (0.4 * H) * rng.uniform(0.6, 1.6, H), 1)
    fixed = np.round(capacity * rng.uniform(60_000.0, 110_000.0, H), -3)
    hubs = pd.DataFrame(
        {
            "hub_id": hub_ids,
            "lat": hlat,
            "lon": hlon,
            "fixed_cost": fixed,
            "opening_cost": np.round(2.0 * fixed, -3),
            "throughput_capacity": capacity,
            "storage_capacity": np.round(6.0 * capacity, 1),
            "handling_cost": np.round(rng.uniform(600.0, 1400.0, H), 0),
        }
    )
    src_km = np.array([[20.0, 320.0], [430.0, 60.0], [220.0, 170.0]])
    slat, slon = _to_latlon(src_km)
    sources = pd.DataFrame(
        {"source_id": ["S-NORTH", "S-SOUTH", "S-CENTRE"], "lat": slat, "lon": slon}
    )
    supply = pd.DataFrame(
        {
            "source_id": np.repeat(sources["source_id"].to_numpy(), P),
            "product_id": np.tile(products["product_id"].to_numpy(), 3),
            "unit_cost": np.round(np.tile(0.4 * value, 3) * rng.uniform(0.95, 1.05, 3 * P), 0),
        }
    )
    modes = pd.DataFrame(
        [
            {"mode_id": "LINEHAUL", "leg": "inbound", "cost_per_kg": 8.0, "cost_per_kg_km": 0.2,
             "speed_kmh": 60.0, "handling_hours": 4.0},
            {"mode_id": "PARCEL", "leg": "outbound", "cost_per_kg": 1200.0, "cost_per_kg_km": 2.0,
             "speed_kmh": OUT_SPEED_KMH, "handling_hours": OUT_HANDLING_H},
        ]
    )  # fmt: skip
    # windows: a standard parcel reaches ~REACH hubs, express about half as many
    reach_km = np.sqrt(REACH * BOX_KM[0] * BOX_KM[1] / (np.pi * H))
    hours = OUT_HANDLING_H + CIRCUITY * reach_km / OUT_SPEED_KMH
    express_hours = OUT_HANDLING_H + CIRCUITY * reach_km / np.sqrt(2.0) / OUT_SPEED_KMH
    channels = pd.DataFrame(
        [
            {"channel_id": "parcel", "delivery_window_hours": round(float(hours), 2)},
            {"channel_id": "express", "delivery_window_hours": round(float(express_hours), 2)},
        ]
    )
    return {
        "regions": regions,
        "hubs": hubs,
        "products": products,
        "demand": demand,
        "sources": sources,
        "supply": supply,
        "modes": modes,
        "channels": channels,
    }


def write_ladder_scenario(
    size: LadderSize | str,
    folder: str | Path,
    seed: int = 0,
    time_limit_s: float = 600.0,
    mip_gap: float = 0.01,
) -> Path:
    """Write the rung ``size`` as a scenario folder; return the YAML path."""
    size = LadderSize.parse(size) if isinstance(size, str) else size
    folder = Path(folder)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    data = {}
    for name, frame in ladder_tables(size, seed).items():
        frame.to_csv(folder / "data" / f"{name}.csv", index=False, float_format="%.10g")
        data[name] = f"data/{name}.csv"
    doc = {
        "name": f"ladder-{size.label}-s{seed}",
        "currency": "KRW",
        "description": f"Synthetic ladder rung {size.label} (regions x hubs x products x "
        f"periods), seed {seed}, made by benchmarks/ladder.py.",
        "data": data,
        "policy": {"circuity": CIRCUITY, "allow_closing": False},
        "solver": {"backend": "auto", "time_limit_s": time_limit_s, "mip_gap": mip_gap},
        "output": {"map": False, "report": False},
    }
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def main(argv: list[str] | None = None) -> None:
    """Write one rung to a folder."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", help="RxHxPxT, e.g. 250x25x6x8")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(write_ladder_scenario(args.size, args.folder, args.seed))


if __name__ == "__main__":
    main(sys.argv[1:])
