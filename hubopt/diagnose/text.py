"""Weights, units, the Relaxation record and the sentence helpers of the diagnosis."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from hubopt.data.problem import ProblemData

log = logging.getLogger(__name__)


WEIGHTS = {
    "window": 1.0,
    "service": 2.0,
    "carbon_cap": 3.0,
    "throughput": 4.0,
    "storage": 4.0,
    "supply": 4.0,
    "pickup": 4.0,
    "hub_count": 5.0,
    "budget": 5.0,
    "forced": 6.0,
    "demand": 10.0,
}
# Objective units per unit of weight: HiGHS solves the elastic model several times faster
# when the slack costs are not tiny (measured on korea-small: 13 s -> 3 s).
COST_UNIT = 1000.0
MAX_LINES_PER_FAMILY = 8
UNITS = {
    "window": "units",
    "service": "units",
    "carbon_cap": "t CO2",
    "throughput": "m³",
    "storage": "m³",
    "supply": "units",
    "pickup": "units",
    "hub_count": "hubs",
    "budget": "money",
    "forced": "hub-periods",
    "demand": "units",
}
IIS_MAX_ROWS = 200_000


@dataclass(frozen=True)
class Slack:
    """Slack columns added to one row family of the elastic model."""

    family: str  # WEIGHTS key
    block: str  # row block of the model
    rows: np.ndarray  # local row positions inside the block
    sign: float  # +1 raises A x, -1 lowers it
    scale: np.ndarray  # natural size of each row (the slack is weighted relative to it)


@dataclass(frozen=True)
class Relaxation:
    """One relaxation the elastic re-solve needed: family, amount (natural unit), sentence."""

    family: str
    amount: float
    message: str


def count_text(value: float) -> str:
    """1240.4 -> '1 240' (thin grouping as in the planners' reports)."""
    whole = abs(value - round(value)) < 1e-6 * max(1.0, abs(value))
    digits = 0 if whole or abs(value) >= 100 else (1 if abs(value) >= 1 else 3)
    return f"{value:,.{digits}f}".replace(",", " ")


def region_label(problem: ProblemData, region_idx: int) -> str:
    row = problem.regions.iloc[region_idx]
    name = str(row.get("name", "") or "")
    return (
        f"{row['region_id']} ({name})"
        if name and name != row["region_id"]
        else str(row["region_id"])
    )


def fastest_lane_text(problem: ProblemData, region_idx: int, period: int) -> str:
    """'the fastest lane is H-BUSAN by SEA at 31 h' (allowed hubs only), or why none."""
    pairs = problem.out_pairs
    open_from = problem.hubs["open_from_period"].to_numpy()
    sel = pairs[
        (pairs["region_idx"].to_numpy() == region_idx)
        & (open_from[pairs["hub_idx"].to_numpy()] <= period)
    ]
    if not len(sel):
        return "no lane from any allowed hub reaches it (lanes, max_distance_km, nearest_hubs)"
    best = sel.iloc[int(np.argmin(sel["transit_hours"].to_numpy()))]
    hub = problem.hubs["hub_id"].iloc[int(best["hub_idx"])]
    mode = problem.modes["mode_id"].iloc[int(best["mode_idx"])]
    return f"the fastest lane is {hub} by {mode} at {best['transit_hours']:.1f} h"
