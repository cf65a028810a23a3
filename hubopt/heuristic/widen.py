"""A restricted solve's arcs widened to every arc of the hubs a plan opens.

A restricted solve (:func:`hubopt.restricted.restrict`) searches each stream's few cheapest arcs
and the arcs its column generation priced in. A plan that closes a stream's cheapest hubs
leaves that stream only its arcs to closed hubs there: its demand goes unmet at the
lost-sale penalty although an open hub within its window could serve it. Measured on the
1000x60x10x12 ladder rung (docs/solvers.md): a searched plan of 1.04663e12 lost 162 457
units (2.29e10 of its cost); 874 of its 1 636 short streams had an arc to one of its open
hubs outside the restriction. Re-solved with its hub decisions fixed on every arc to its
open hubs (471 146 of 1 007 538 arcs; arcs to closed hubs carry nothing), the same plan
costs 1.03330e12, 1.3 % less, one cold LP of 23 s.

:func:`on_open_hubs` gives the search those arcs for the hubs of its start
(:func:`hubopt.restricted.search_model`); :func:`widen_plan` re-solves a plan that opened other
hubs on every arc to its own.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

import numpy as np

from hubopt.data.problem import ProblemData
from hubopt.data.spill import SpilledArcs, read_arcs
from hubopt.model.build import build_model
from hubopt.model.matrix import MatrixModel
from hubopt.solvers.crash import crash_highs
from hubopt.solvers.fixing import FixedLp, LpPoint


@dataclass(frozen=True)
class Widened:
    """The plan re-solved on the arcs to its open hubs (:func:`widen_plan`)."""

    problem: ProblemData
    model: MatrixModel
    point: LpPoint  # its LP point in ``model``: optimal, or why not
    arcs: int  # outbound arcs of ``problem``
    seconds: float

    def text(self, before: float) -> str:
        """One line for the run's log: the arcs and what the plan gained (``before``:
        its cost on the restricted arcs)."""
        if not self.point.optimal:
            return (
                f"not re-solved on the {self.arcs:,} arcs to its open hubs: stopped after "
                f"{self.seconds:.1f} s ({self.point.status}); the restricted plan stands"
            )
        return (
            f"re-solved on the {self.arcs:,} arcs to its open hubs in {self.seconds:.1f} s: "
            f"{before:.6g} -> {self.point.objective:.6g}"
        )


def arcs_to_open_hubs(
    problem: ProblemData, arcs_hub: np.ndarray, arcs_stream: np.ndarray, open_ht: np.ndarray
) -> np.ndarray:
    """Positions (ascending) of the arcs whose hub is open (``open_ht`` hubs x periods,
    0/1) in their stream's period."""
    period = problem.streams["period"].to_numpy()[arcs_stream]
    return np.flatnonzero(open_ht[arcs_hub, period - 1] > 0.5)


def on_open_hubs(
    problem: ProblemData, spilled: SpilledArcs, open_ht: np.ndarray, also: np.ndarray | None = None
) -> ProblemData:
    """``problem`` with the spilled arcs whose hub is open in ``open_ht`` in their
    stream's period, and those at positions ``also`` (ascending); the file stays."""
    arcs = read_arcs(spilled)
    keep = arcs_to_open_hubs(
        problem, arcs["hub_idx"].to_numpy(), arcs["stream_idx"].to_numpy(), open_ht
    )
    if also is not None:
        keep = np.union1d(keep, also)
    return dataclasses.replace(problem, out_arcs=arcs.iloc[keep].reset_index(drop=True))


def widen_plan(
    problem: ProblemData, spilled: SpilledArcs, open_ht: np.ndarray, time_limit_s: float
) -> Widened:
    """The plan whose hubs are ``open_ht`` re-solved on every spilled arc to those hubs
    (its other integers, if any, by a small MIP: :meth:`FixedLp.complete`), within
    ``time_limit_s`` (check :func:`hubopt.guard.widening_fits` first).

    ``problem`` is the restricted problem (its arcs are replaced); ``spilled`` keeps its
    file (the caller discards it)."""
    start = time.perf_counter()
    wide = on_open_hubs(problem, spilled, open_ht)
    model = build_model(wide, reach=False)
    opens = model.var_blocks["open"]
    lp = FixedLp(model, np.arange(opens.start, opens.stop))
    # every arc of the model goes to an open hub: the crash picks each stream's cheapest
    basis = crash_highs(model)
    left = time_limit_s - (time.perf_counter() - start)
    point = (
        lp.complete(open_ht.ravel().astype(float), left, basis)
        if left > 0
        else LpPoint(False, math.inf, None, "no time left")
    )
    lp.close()
    return Widened(wide, model, point, len(wide.out_arcs), time.perf_counter() - start)
