"""Lagrangian bound (demand rows relaxed) vs the Benders root bound on OR-Library capa/b/c.

    python benchmarks/lagrangian.py capb:5000 capa:8000 --iterations 400

Relaxing the demand rows with multipliers u leaves, per hub, the continuous knapsack of
:func:`hubopt.benders.knapsack_cut` and, over the hubs, a min-cost choice of hubs
subject to the capacity cover row. With equal capacities (capa/b/c) that choice is exact
by sorting: open every hub whose fixed cost + knapsack value is negative, and the
cheapest others until ceil(demand / capacity) are open. The multipliers follow Polyak
subgradient steps towards the published optimum. Prints the best bound, its gap to the
optimum and the seconds; the Benders root bound for comparison comes from
``benchmarks/benders.py`` / docs/solvers.md. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benders import OPTIMA, SHARED  # noqa: E402  (benchmarks/benders.py)

from hubopt.orlib import read_orlib_cap  # noqa: E402


def lagrangian_value(
    cost: np.ndarray, fixed: np.ndarray, cap: float, demand: np.ndarray, u: np.ndarray
) -> tuple[float, np.ndarray]:
    """L(u) (a valid lower bound) and its subgradient d - sum of the chosen flows."""
    reduced = cost - u[None, :]  # per unit
    order = np.argsort(reduced, axis=1, kind="stable")
    sorted_r = np.take_along_axis(reduced, order, axis=1)
    item = demand[order] * (sorted_r < 0)
    before = np.cumsum(item, axis=1) - item
    taken = np.clip(cap - before, 0.0, item)
    value = fixed + (sorted_r * taken).sum(axis=1)
    need = math.ceil(demand.sum() / cap - 1e-12)
    pick = value < 0
    if pick.sum() < need:
        rest = np.argsort(np.where(pick, np.inf, value))[: need - int(pick.sum())]
        pick[rest] = True
    flows = np.zeros_like(cost)
    np.put_along_axis(flows, order, taken, axis=1)
    served = flows[pick].sum(axis=0)
    return float(u @ demand + value[pick].sum()), demand - served


def main() -> None:
    """Run the subgradient on each case and print its bound."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="+")
    parser.add_argument("--iterations", type=int, default=400)
    args = parser.parse_args()
    for case in args.cases:
        name, capacity = case.split(":")
        inst = read_orlib_cap(SHARED / f"{name}.txt", capacity=float(capacity))
        cost = inst.cost / inst.demand[None, :]
        target = OPTIMA[(name, int(capacity))]
        start = time.perf_counter()
        u = cost.min(axis=0).copy()
        best, theta, stall = -math.inf, 2.0, 0
        for _ in range(args.iterations):
            value, g = lagrangian_value(cost, inst.fixed_cost, float(capacity), inst.demand, u)
            if value > best + 1e-9 * abs(value):
                best, stall = value, 0
            else:
                stall += 1
                if stall >= 20:
                    theta, stall = theta / 2, 0
            norm = float(g @ g)
            if norm < 1e-12:
                break
            u = u + theta * (target - value) / norm * g
        seconds = time.perf_counter() - start
        print(
            f"{case}: Lagrangian bound {best:.2f} ({(target - best) / target:.4%} below the "
            f"optimum {target}) in {seconds:.1f} s, {args.iterations} iterations"
        )


if __name__ == "__main__":
    main()
