"""Restricted solves: each stream's cheapest arcs and the arcs column generation prices in
(:func:`restrict`), what the search then holds (:func:`search_model`: also every arc to its
start's hubs), the plan re-solved on every arc to its open hubs (:func:`widened_output`),
and the output saying so (:func:`restricted_output`). :func:`hubopt.api.solve` runs them
when ``solver.arcs_per_stream`` restricts the model (docs/solvers.md).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hubopt.data.problem import ProblemData
from hubopt.data.spill import SpilledArcs
from hubopt.guard import whole_model_stays, widening_fits
from hubopt.heuristic.search import start_matrices
from hubopt.heuristic.widen import on_open_hubs, widen_plan
from hubopt.model.build import build_model
from hubopt.model.matrix import MatrixModel
from hubopt.solvers import SolverOutput, SolveStatus
from hubopt.solvers.base import on_thread
from hubopt.solvers.fixing import LpPoint, plan_output
from hubopt.solvers.lagrangian import Climb, HubLagrangian, HubPrices, climb
from hubopt.solvers.pricing import PricedLp, price_columns

log = logging.getLogger(__name__)


def restrict(
    model: MatrixModel,
    keep: np.ndarray,
    per_stream: int,
    seconds: float,
    streams: int,
    on_duals: Callable[[np.ndarray], None] = lambda duals: None,
    whole_lps_only: bool = False,
) -> tuple[MatrixModel, PricedLp]:
    """The model with the arcs ``keep`` (each stream's ``per_stream`` cheapest,
    :func:`hubopt.data.problem.cheapest_arcs`) and the arcs column generation on the
    whole model's LP adds within ``seconds`` (:func:`hubopt.solvers.pricing.price_columns`,
    whose bound holds for the whole model), and that column generation; ``priced.kept``
    are the arcs to keep in the problem (:func:`hubopt.data.problem.restrict_arcs`).
    ``on_duals`` hears each round's better duals (:meth:`ClimbBeside.offer`);
    ``whole_lps_only``: no LP started that the time left cannot finish (for when the climb
    gives the bound, :func:`hubopt.solvers.pricing.price_columns`)."""
    block = model.var_blocks["ship"]
    arcs, columns = block.stop - block.start, model.n_vars
    priced = price_columns(
        model,
        "ship",
        keep,
        seconds,
        max(streams // 4, 1000),
        on_duals=on_duals,
        whole_lps_only=whole_lps_only,
    )
    part = model.keep_columns("ship", priced.kept)
    whole_of_part = model.kept_columns("ship", priced.kept)  # part's columns in the whole
    if priced.x is not None:  # the LP's point in the restricted model: the search's starts
        priced = dataclasses.replace(priced, x=priced.x[whole_of_part])
    log.info(
        "searching the %d cheapest arcs per stream and %d priced in: %d of %d arcs, "
        "%d of %d columns; %s",
        per_stream,
        priced.added,
        len(priced.kept),
        arcs,
        part.n_vars,
        columns,
        priced.text(),
    )
    return part, priced


def whole_bound(model: MatrixModel, problem: ProblemData) -> HubLagrangian | None:
    """The whole model's Lagrangian bound with each hub's opening plan kept
    (:mod:`hubopt.solvers.lagrangian`), when holding the whole model beside the search
    fits in memory and the model has that bound's structure; else None."""
    if not whole_model_stays(model.n_vars, model.nbytes):
        log.info("no Lagrangian bound beside the search: the whole model would not fit")
        return None
    return HubLagrangian.of(model, problem.n_hubs, problem.periods)


CLIMB_SHARE = 0.5
"""Share of a restricted solve's search time the Lagrangian climb runs beside it (it
takes a core from the search's two LP copies)."""


class ClimbBeside:
    """The whole model's Lagrangian bound (:mod:`hubopt.solvers.lagrangian`) raised on a
    thread of its own: beside the column generation, on the core its one-thread LPs leave
    idle, from the first LP's duals (going on afresh from a later LP's duals when their
    bound is higher, :meth:`offer`), then beside the search (:meth:`follow`) until
    :meth:`end_after` ends it or :meth:`end` is called.

    On the 2000x150x10x12 ladder rung (600 s) it rose from the first LP's duals, 2.4651e12,
    to 2.4912e12 in ~650 steps (0.35-0.65 s each beside the LPs), where from the last LP's
    duals beside the search it had reached 2.4871e12; moving the linking, storage, inflow
    and cover rows' multipliers too (:data:`hubopt.solvers.lagrangian.CLIMB_ROWS`), to
    2.4932e12 (docs/solvers.md)."""

    def __init__(self, whole: HubLagrangian) -> None:
        self.whole = whole
        self.prices: list[HubPrices] = []  # the hubs' prices at the best multipliers so far
        self._best = -math.inf
        self._target: list[float] = [math.inf]  # the best plan's cost known (the step's aim)
        self._bounds: list[list[float]] = []  # raised with every better bound (:meth:`follow`)
        self._offered: np.ndarray | None = None
        self._lock = threading.Lock()
        self._ready = threading.Event()  # multipliers offered, or the climb ended
        self._stop = threading.Event()
        self._timer: threading.Timer | None = None
        self._wait = on_thread(self._work, "hubopt-lagrangian")

    def offer(self, duals: np.ndarray) -> None:
        """Multipliers to climb from (the first) or to go on from if better (later)."""
        with self._lock:
            self._offered = duals
        self._ready.set()

    def follow(self, best_plan: list[float], bound: list[float]) -> None:
        """Aim the steps at ``best_plan[0]`` (the search's best cost, updated by it) and
        raise ``bound[0]`` with every better bound, the best so far at once (the search
        stops once that proves its plan)."""
        with self._lock:
            self._target = best_plan
            self._bounds.append(bound)
            bound[0] = max(bound[0], self._best)

    def end_after(self, seconds: float) -> None:
        """End the climb ``seconds`` from now (the search then has every core)."""
        self._timer = threading.Timer(seconds, self._stop.set)
        self._timer.daemon = True
        self._timer.start()

    def end(self) -> Climb | None:
        """End the climb and give its outcome (None if it never started or failed: the
        bound is a bonus, the search's plan must not be lost to it; the log says why)."""
        self._stop.set()
        self._ready.set()
        if self._timer is not None:
            self._timer.cancel()
        return self._wait()

    def _take(self) -> np.ndarray | None:
        with self._lock:
            duals, self._offered = self._offered, None
        return duals

    def _better(self, value: float, at: HubPrices) -> None:
        with self._lock:
            self._best = max(self._best, value)
            for bound in self._bounds:
                bound[0] = max(bound[0], value)
        self.prices[:] = [at]

    def _work(self) -> Climb | None:
        self._ready.wait()
        duals = self._take()
        if duals is None:  # ended before any LP's duals
            return None
        try:
            return climb(
                self.whole,
                duals,
                math.inf,
                lambda: self._target[0],
                self._stop,
                self._better,
                self._take,
            )
        except (ArithmeticError, MemoryError, ValueError) as err:
            log.warning("the Lagrangian bound beside the search failed: %r", err)
            return None


@dataclass(frozen=True)
class SearchSpace:
    """What a restricted solve searches (:func:`search_model`)."""

    problem: ProblemData
    model: MatrixModel
    priced: PricedLp  # without the LP point when ``model`` is not the restricted one
    start: np.ndarray | None  # the open matrix the search starts from (None: the LP's starts)
    covered: np.ndarray | None  # hubs x periods whose every arc ``problem`` holds
    note: str  # which arcs, for the log


def search_model(
    problem: ProblemData,
    model: MatrixModel,
    priced: PricedLp,
    spilled: SpilledArcs,
    start_open: np.ndarray | None,
) -> SearchSpace:
    """What a restricted solve searches: each stream's cheapest and priced-in arcs
    (``priced.kept``) and every arc to the hubs of its start (``start_open``, else the first
    of :func:`hubopt.heuristic.search.start_matrices` from the column generation's LP
    point), from that start.

    Searched on the priced arcs alone, closing a hub cost the lost sales of the streams
    whose only kept arcs go there, although an open hub could serve them: on the
    1000x60x10x12 ladder rung the same start cost 1.0507e12 instead of 1.0381e12, and the
    plan 3.84 % above the bound against 3.53 % (docs/solvers.md). Unchanged (and searched
    from the LP point's starts) when there is no LP point or the arcs would not fit in
    memory."""
    kept = f"({len(priced.kept):,} arcs)"
    unchanged = SearchSpace(problem, model, priced, start_open, None, kept)
    if priced.x is None and start_open is None:
        return unchanged
    relaxed = LpPoint(True, priced.objective, priced.x, "optimal")
    start = start_open if start_open is not None else start_matrices(problem, model, relaxed)[0]
    start = start.reshape(problem.n_hubs, problem.periods)
    if not widening_fits(problem, spilled, float(start.mean()), len(priced.kept)):
        note = f"{kept}; not every arc to its start's hubs: not enough memory"
        return dataclasses.replace(unchanged, note=note)
    wide = on_open_hubs(problem, spilled, start, priced.kept)
    hubs = int((start.sum(axis=1) > 0).sum())
    note = f"and every arc to the {hubs} hubs of its start ({len(wide.out_arcs):,} arcs)"
    # the LP point's columns are the restricted model's: the search starts from ``start``
    priced = dataclasses.replace(priced, x=None)
    return SearchSpace(wide, build_model(wide, reach=False), priced, start, start, note)


def restricted_output(
    output: SolverOutput, priced: PricedLp, per_stream: int | None, space: SearchSpace | None
) -> SolverOutput:
    """``output`` of a restricted solve, saying so, with the pricing's seconds; infeasible
    becomes an error (the restriction may be what is infeasible, not the scenario).
    ``space``: what it searched (:func:`search_model`)."""
    note = (
        f"searched each stream's {per_stream} cheapest arcs and {priced.added:,} priced in "
        f"{space.note if space else ''}; bound: the whole model's Lagrangian bound from the "
        f"restricted LP's duals ({priced.text()})"
    )
    seconds = output.solve_seconds + priced.seconds
    if output.status == SolveStatus.INFEASIBLE or (
        output.x is None and priced.status == "Infeasible"
    ):
        return dataclasses.replace(
            output,
            status=SolveStatus.ERROR,
            message=f"the {per_stream} cheapest arcs per stream admit no plan; raise "
            "solver.arcs_per_stream (or all) to search more of them",
            log=f"{note}\n{output.log}",
            solve_seconds=seconds,
        )
    message = f"{output.message}; {note}" if output.message else note
    return dataclasses.replace(
        output, message=message, log=f"{note}\n{output.log}", solve_seconds=seconds
    )


VERIFY_SHARE = 0.03
"""Share of a restricted solve's time limit kept for decoding and verifying its plan: the
re-solve on the arcs to its open hubs (:func:`widened_output`) stops before it."""


def widened_output(
    problem: ProblemData,
    model: MatrixModel,
    output: SolverOutput,
    spilled: SpilledArcs,
    seconds: float,
    mip_gap: float,
    covered: np.ndarray | None = None,
    least_seconds: float = 0.0,
) -> tuple[ProblemData, MatrixModel, SolverOutput]:
    """A restricted solve's plan re-solved within ``seconds`` on every arc to its open hubs
    (:func:`hubopt.heuristic.widen.widen_plan`) when that makes it cheaper: the problem
    and model on those arcs and the output with that plan (same bound). Otherwise the
    same three, the log saying why; also when the plan opens no hub-period outside
    ``covered`` (whose every arc the model holds already: :func:`search_model`), and when
    ``seconds`` is below ``least_seconds`` (what such a re-solve takes, about)."""
    if output.x is None or seconds <= 0:
        return problem, model, output

    def stands(note: str) -> tuple[ProblemData, MatrixModel, SolverOutput]:
        """The plan as it is, its log saying why it was not re-solved."""
        log.info(note)
        return problem, model, dataclasses.replace(output, log=f"{output.log}\n{note}")

    open_ht = model.block(output.x, "open").reshape(problem.n_hubs, problem.periods)
    if covered is not None and not (open_ht > covered + 0.5).any():
        return stands("not re-solved: the search held every arc to its open hubs")
    if seconds < least_seconds:
        return stands(
            f"not re-solved on the arcs to its open hubs: {seconds:.1f} s left, a re-solve "
            f"takes ~{least_seconds:.0f} s"
        )
    if not widening_fits(problem, spilled, float(open_ht.mean())):
        return stands("plan not re-solved on the arcs to its open hubs: not enough memory")
    wide = widen_plan(problem, spilled, open_ht, seconds)
    note = wide.text(output.objective)
    log.info(note)
    solve_seconds = output.solve_seconds + wide.seconds
    logged = dataclasses.replace(output, log=f"{output.log}\n{note}", solve_seconds=solve_seconds)
    point = wide.point
    if not point.optimal or point.x is None or point.objective >= output.objective:
        return problem, model, logged
    better = plan_output(logged, wide.model, point.x, output.bound, mip_gap, output.message)
    return wide.problem, wide.model, better
