"""A sub-MIP around a local optimum (RINS: Danna, Rothberg & Le Pape, Math. Prog. 2005).

The hub-period decisions on which the plan and the LP relaxation agree (``open`` within
:data:`NEAR` of each other) are fixed to the plan's; HiGHS searches the rest, with every
other column free and the plan as its start. Such a neighbourhood changes many hubs at
once, where the local search's moves change one or two, so it can leave a local optimum
of the search.

Measured (docs/solvers.md): on the 250x25x6x8 ladder rung the search stops at a local
optimum 0.75 % above the proven optimum, and this sub-MIP (153 of 200 hub-periods fixed)
finds that optimum when left to run (interrupted once the bound proves its plan within the
default 0.5 % gap, it ends at 0.30 %). On the 1000x60x10x12 rung's restricted model (885 k
columns) it found nothing cheaper in 150 s (its root LP alone took 45 s):
:func:`worth_a_sub_mip` keeps it to models whose LP HiGHS re-solves in seconds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from hubopt.model.matrix import MatrixModel
from hubopt.solvers.highs import HighsModel

NEAR = 0.3
"""A hub-period is fixed to the plan's value when the LP relaxation's is this close to it."""

MAX_COLUMNS = 500_000
"""Largest model (columns) a sub-MIP is tried on: above it its root LP alone takes most of
a planner's time limit (the 1000x60x10x12 rung's restricted model, 885 k columns: 45 s,
after a 27 s presolve)."""

LEAST_SECONDS = 10.0
"""Least time left for a sub-MIP to be worth starting."""


def worth_a_sub_mip(model: MatrixModel, seconds: float) -> bool:
    """Whether a sub-MIP on ``model`` may pay within ``seconds``."""
    return model.n_vars <= MAX_COLUMNS and seconds >= LEAST_SECONDS


@dataclass(frozen=True)
class SubMip:
    """What one sub-MIP did; ``x`` is a plan cheaper than the one it started from, or None."""

    x: np.ndarray | None
    objective: float  # of ``x`` (the start's cost when None)
    start_objective: float
    fixed: int  # hub-periods fixed to the plan
    free: int  # hub-periods left to HiGHS
    status: str  # HiGHS's model status
    bound: float  # HiGHS's bound on the neighbourhood (-inf if none)
    seconds: float

    def text(self) -> str:
        """One line for the run's log."""
        found = (
            f"{self.start_objective:.6g} -> {self.objective:.6g}"
            if self.x is not None
            else f"nothing cheaper than {self.start_objective:.6g}"
        )
        return (
            f"sub-MIP around the local optimum ({self.fixed} hub-periods fixed where the plan "
            f"and the LP agree, {self.free} free): {found} ({self.status}, neighbourhood "
            f"bound {self.bound:.6g}, {self.seconds:.1f} s)"
        )


def sub_mip(
    model: MatrixModel,
    plan: np.ndarray,
    relaxed_open: np.ndarray,
    seconds: float,
    stop: Callable[[float], bool] = lambda cost: False,
    below: float | None = None,
    threads: int = 1,
    seed: int = 0,
) -> SubMip:
    """HiGHS on ``model`` for at most ``seconds`` with the ``open`` columns on which
    ``plan`` (a complete plan, all columns) and ``relaxed_open`` (the LP relaxation's
    ``open`` values) agree fixed to the plan's, from ``plan``, interrupted once ``stop``
    (asked with its best plan's cost whenever HiGHS checks its limits) says that is good
    enough. Its best plan when it costs less than ``below`` (default: ``plan``'s cost; the
    local search passes its own improvement threshold, :func:`~hubopt.heuristic.search.to_beat`),
    else none."""
    began = time.perf_counter()
    block = model.var_blocks["open"]
    columns = np.arange(block.start, block.stop)
    values = np.round(plan[columns])
    agree = np.abs(np.asarray(relaxed_open, dtype=float) - values) <= NEAR
    start_cost = float(model.c @ plan) + model.offset
    fixed, free = int(agree.sum()), int((~agree).sum())
    if not free:  # the neighbourhood is the plan alone
        seconds_taken = time.perf_counter() - began
        return SubMip(
            None, start_cost, start_cost, fixed, 0, "nothing free", -math.inf, seconds_taken
        )
    lb, ub = model.lb.copy(), model.ub.copy()
    lb[columns[agree]] = ub[columns[agree]] = values[agree]
    highs = HighsModel(
        model.c, lb, ub, model.A, model.row_lo, model.row_hi, model.integer, threads, seed
    )
    highs.set_option("time_limit", float(max(seconds, 0.01)))
    highs.set_option("mip_rel_gap", 1e-6)
    highs.set_start(plan)
    incumbent = [start_cost]  # the sub-MIP's best plan's cost so far

    def improving(event: Any) -> None:
        incumbent[0] = float(event.data_out.objective_function_value) + model.offset

    def interrupt(event: Any) -> None:
        if stop(incumbent[0]):
            event.interrupt(True)

    highs.h.cbMipImprovingSolution.subscribe(improving)
    highs.h.cbMipInterrupt.subscribe(interrupt)
    answer = highs.run()
    x = answer.x
    cost = float(model.c @ x) + model.offset if x is not None else math.inf
    cheaper = x is not None and cost < (start_cost if below is None else below)
    return SubMip(
        x if cheaper else None,
        cost if cheaper else start_cost,
        start_cost,
        fixed,
        free,
        answer.status,
        answer.bound + model.offset if math.isfinite(answer.bound) else -math.inf,
        time.perf_counter() - began,
    )
