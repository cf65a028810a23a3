"""The descent (:func:`improve`), the searches on one model (:class:`Searcher`,
:func:`local_search`) and the search beside HiGHS (:func:`improve_beside`)."""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from hubopt.data.problem import ProblemData
from hubopt.heuristic.elastic import FEASIBLE, elastic_copy
from hubopt.heuristic.moves import ArcCosts, HubSpace, neighbourhoods, retimings
from hubopt.heuristic.rins import sub_mip, worth_a_sub_mip
from hubopt.heuristic.start import greedy_open
from hubopt.heuristic.widen import arcs_to_open_hubs
from hubopt.model.matrix import MatrixModel
from hubopt.solvers.base import SolutionFeed, SolverOutput, SolveStatus
from hubopt.solvers.crash import crash_highs
from hubopt.solvers.fixing import FixedLp, LpPoint

log = logging.getLogger(__name__)

START_SHARES = (0.0, 0.3, 0.6)  # LP-rounded starts: open once y reaches this share of its peak
START_LEVELS = (0.1, 0.2)  # and: open where y reaches this level (this share of the hub)
NEAR_HUBS = 6  # a hub and its nearest: an improvement there makes their failed moves fresh
IMPROVEMENT = 1e-7  # relative cost decrease a move must bring to be taken
GUIDED_BATCH = 2000  # with a Lagrangian floor, moves are scored by it in batches this long


def to_beat(cost: float) -> float:
    """The cost a plan must come below to improve on a plan of ``cost`` (by
    ``IMPROVEMENT``): a move's acceptance and its LP's cutoff."""
    return cost - IMPROVEMENT * max(abs(cost), 1.0)


@dataclass(frozen=True)
class SearchOutcome:
    """What :func:`improve` reached: the best ``open`` matrix and its LP point."""

    y: np.ndarray
    point: LpPoint
    evaluations: int
    improvements: int
    ranked: list[tuple[float, bytes]]  # cheapest LP-scored matrices seen (cost, y bytes)
    skipped: int = 0  # moves not scored: a bound showed they could not improve
    local_optimum: bool = False  # no move improves (not stopped by time, moves or ``stop``)


def improve(
    y: np.ndarray,
    point: LpPoint,
    space: HubSpace,
    lps: Sequence[FixedLp],
    costs: ArcCosts,
    fixed: np.ndarray,
    deadline: float,
    max_moves: int,
    stop: Callable[[float], bool] = lambda best: False,
    floor: Callable[[np.ndarray], float] = lambda z: -math.inf,
) -> SearchOutcome:
    """Variable-neighbourhood descent from ``y`` (LP point ``point``); never worse.

    The first improving move of the first neighbourhood (:func:`neighbourhoods`) that has
    one is taken, and the descent starts again from the first neighbourhood; it ends when
    none improves (a local optimum over all of them), after ``max_moves`` LPs, at
    ``deadline`` or when ``stop`` says so (asked with the best LP cost so far before each
    LP). A move whose LP the best point's reduced costs show cannot come below it (the
    LP's cost is convex in the fixed values: ``f(z) >= f(y) + reduced @ (z - y)``), or
    whose ``floor`` (a lower bound on every plan with that ``open`` matrix: the Lagrangian
    bound's, :meth:`HubPrices.floor`) is not below it, is skipped without an LP.

    Don't-look memory: a change (the cells a move sets, with their values) that failed
    from one plan is scored from the next ones only after every fresh change of their
    round, until an improvement changes one of its hubs' :data:`NEAR_HUBS` nearest hubs.
    A local optimum is still one over every move. On the 1000x60x10x12 ladder rung (300 s)
    the harness gap was 1.35-1.56 % (mean 1.45 %, 4 runs) with it, 1.53-1.60 % (3 runs)
    without it; on the Korea demo the same plan came in 415 moves instead of 536
    (docs/solvers.md).

    Ahead of the neighbourhoods, each round scores the retimings (:func:`retimings`: a
    hub's opening moved by one period) whose saving the plan's flows predict
    (:meth:`ArcCosts.loss`) is at least what the neighbourhoods' last improvement saved
    per LP of its round: early on that is large (closings, swaps) and the neighbourhoods
    go first; once they yield little, the predicted retimings do (docs/solvers.md).

    The moves are scored on every LP in ``lps`` (copies of one model) at once, in the
    same order, each LP (on a thread of its own: HiGHS runs without Python's lock) taking
    the next move when it is free; the first improvement ends the round once the moves
    already started are scored, and the cheapest plan among them is taken. With one LP
    that is a plain first-improvement descent.
    """
    assert point.optimal and point.x is not None
    seen: set[bytes] = {y.tobytes()}
    ranked: list[tuple[float, bytes]] = [(point.objective, y.tobytes())]
    evaluations = improvements = hopeless = deferred = 0
    # changes (cells and values) whose move did not improve, with the hubs they touch: from
    # the next plan on they are tried last, unless that plan changed a hub near them
    failed: dict[bytes, frozenset[int]] = {}
    best_y, best = y, point
    # what the neighbourhoods' last improvement saved per LP its round scored on them
    pace = math.inf
    ahead_keys: set[bytes] = set()  # the retimings put ahead in this round
    round_cost, searched = point.objective, 0  # this round's plan's cost; its other LPs
    # changes that improved on their round's plan but less than the move taken (two LP
    # copies): made on top of it first in the next round
    also: list[bytes] = []
    pool = ThreadPoolExecutor(len(lps))

    def out_of_moves() -> bool:
        return evaluations >= max_moves or time.perf_counter() >= deadline or stop(best.objective)

    def fresh(
        ahead: Iterator[np.ndarray], moves: Iterator[np.ndarray], base: np.ndarray
    ) -> Iterator[np.ndarray]:
        nonlocal deferred
        for z in ahead:  # in their own order, never batched; a failed change waits its turn
            key, change = z.tobytes(), change_of(z, base)
            if key in seen or not space.allows(z) or change in failed:
                continue
            if worth(z, base, change, floor(z)):
                seen.add(key)
                ahead_keys.add(key)
                yield z
        later: list[bytes] = []
        guided = math.isfinite(floor(base))
        batch: dict[bytes, tuple[float, int, np.ndarray]] = {}  # the next GUIDED_BATCH
        for z in moves:
            key = z.tobytes()
            if key in seen or key in batch or not space.allows(z):
                continue
            change = change_of(z, base)
            if change in failed:
                seen.add(key)
                later.append(change)
                deferred += 1
                continue
            lowest = floor(z)
            if not worth(z, base, change, lowest):
                seen.add(key)
            elif not guided:
                seen.add(key)
                yield z
            else:  # the moves of a batch lowest floor first (the likeliest to pay most)
                batch[key] = (lowest, len(batch), z)
                if len(batch) >= GUIDED_BATCH:
                    yield from by_floor(batch)
        yield from by_floor(batch)
        for change in later:
            z = apply(change, base)
            if worth(z, base, change, floor(z)):
                yield z

    def by_floor(batch: dict[bytes, tuple[float, int, np.ndarray]]) -> Iterator[np.ndarray]:
        """The moves of ``batch`` by their floor, lowest first (emptying it); each marked
        seen only when taken (a round may end before the rest are scored)."""
        order = sorted(batch.items(), key=lambda item: item[1][:2])
        batch.clear()
        for key, (_, _, z) in order:
            seen.add(key)
            yield z

    def worth(z: np.ndarray, base: np.ndarray, change: bytes, lowest: float) -> bool:
        """Whether move ``z`` may improve on ``base`` (the best plan): not if the LP cannot
        come below it (see ``rise``, and ``lowest``, its ``floor``; then the change failed
        without an LP)."""
        nonlocal hopeless
        cutoff = to_beat(best.objective)
        if lowest < cutoff and (best.reduced is None or rise(z) < best.objective - cutoff):
            return True
        hopeless += 1
        failed[change] = touched(z, base)
        return False

    def change_of(z: np.ndarray, base: np.ndarray) -> bytes:
        """The cells a move sets and their values, whatever the rest of the plan."""
        cells = np.flatnonzero(z.ravel() != base.ravel())
        return cells.astype(np.int64).tobytes() + z.ravel()[cells].astype(float).tobytes()

    def touched(z: np.ndarray, base: np.ndarray) -> frozenset[int]:
        """The hubs (rows) where ``z`` differs from ``base``."""
        return frozenset(np.flatnonzero((z != base).any(axis=1)).tolist())

    def apply(change: bytes, base: np.ndarray) -> np.ndarray:
        """``base`` with ``change`` (:func:`change_of`) made."""
        n = len(change) // 16
        cells = np.frombuffer(change[: 8 * n], dtype=np.int64)
        z = base.copy()
        z.ravel()[cells] = np.frombuffer(change[8 * n :], dtype=float)
        return z

    def rise(z: np.ndarray) -> float:
        """A lower bound on how much dearer ``z``'s LP is than the best plan's: the LP's
        cost is convex in the fixed values, and the best point's reduced costs are a
        subgradient of it there."""
        assert best.reduced is not None
        return float(best.reduced @ (z - best_y).ravel())

    def score(lp: FixedLp, z: np.ndarray, basis: Any, cutoff: float) -> tuple[np.ndarray, LpPoint]:
        # from the current plan's basis (a move changes a few columns of it), stopped once
        # the dual simplex shows the move cannot improve on the plan
        return z, lp.evaluate(z.ravel(), deadline - time.perf_counter(), basis, cutoff)

    def take(z: np.ndarray, trial: LpPoint, base: np.ndarray) -> bool:
        """Record a scored move (made from plan ``base``); make it the best if it improves
        on the best."""
        nonlocal best_y, best, improvements, pace
        if trial.optimal:
            ranked.append((trial.objective, z.tobytes()))
        if not trial.optimal or trial.objective >= to_beat(best.objective):
            if trial.optimal and trial.objective < to_beat(round_cost):
                also.append(change_of(z, base))  # it improved on its plan: not a failure
            else:
                failed[change_of(z, base)] = touched(z, base)
            return False
        # a change that failed may pay near the hubs this move changed
        changed = np.flatnonzero((z != best_y).any(axis=1))
        near = set(costs.nearest[changed, :NEAR_HUBS].ravel().tolist())
        for change in [c for c, hubs in failed.items() if not hubs.isdisjoint(near)]:
            del failed[change]
        retimed = z.tobytes() in ahead_keys
        if not retimed:
            pace = (round_cost - trial.objective) / max(searched, 1)
        best_y, best = z, trial
        improvements += 1
        log.debug(
            "move %d improves to %.6g (%s; %d hub-periods open, %.1f s before the deadline)",
            evaluations,
            trial.objective,
            "a retiming put ahead" if retimed else "in the neighbourhoods",
            int(z.sum()),
            deadline - time.perf_counter(),
        )
        return True

    try:
        improved = True
        while improved and not out_of_moves():
            improved = False
            assert best.x is not None
            usage = costs.usage(lps[0].model, best.x, len(best_y))
            saving = costs.saving(lps[0].model, best.x, best_y)
            loss = costs.loss(lps[0].model, best.x, best_y)
            # ahead of the rest: the retimings predicted to save at least what the
            # neighbourhoods last saved per LP
            ahead_keys.clear()
            round_cost, searched = best.objective, 0
            predicted = retimings(best_y, space, loss, saving, fixed, least=pace)
            on_top = [apply(change, best_y) for change in also]
            also.clear()
            moves = fresh(
                chain(on_top, (z for _, z in predicted)),
                chain.from_iterable(
                    neighbourhoods(best_y, space, usage, saving, fixed, costs.nearest)
                ),
                best_y,
            )
            free = list(lps)
            running: dict[Future[tuple[np.ndarray, LpPoint]], tuple[FixedLp, np.ndarray]] = {}
            exhausted = False
            while True:
                while free and not improved and not exhausted and not out_of_moves():
                    move = next(moves, None)
                    if move is None:
                        exhausted = True
                        break
                    evaluations += 1
                    searched += move.tobytes() not in ahead_keys
                    lp = free.pop()
                    task = pool.submit(score, lp, move, best.basis, to_beat(best.objective))
                    running[task] = (lp, best_y)
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    lp, base = running.pop(future)
                    free.append(lp)
                    improved = take(*future.result(), base) or improved
    finally:
        pool.shutdown(wait=True)
    ranked.sort(key=lambda item: item[0])
    log.debug("descent: %d moves put last (their change had failed near there)", deferred)
    stalled = not improved and not out_of_moves()
    return SearchOutcome(best_y, best, evaluations, improvements, ranked[:5], hopeless, stalled)


@dataclass(frozen=True)
class LocalSearchResult:
    """A local search: its complete plan (None if it found none) and the LP bound."""

    x: np.ndarray | None
    objective: float
    start_objective: float
    lp_bound: float  # the LP relaxation's optimum; -inf when not solved in time
    lp_status: str
    evaluations: int
    improvements: int
    seconds: float
    reached: tuple[np.ndarray, LpPoint] | None = None  # where the search stopped (to go on)
    bound_note: str = ""  # how ``lp_bound`` was found when not by the search's own LP
    cut_off: int = 0  # of ``evaluations``: moves whose LP stopped at their cutoff
    skipped: int = 0  # moves a bound showed could not improve (no LP)
    notes: tuple[str, ...] = ()  # what the sub-MIPs around its local optima did

    def summary(self) -> str:
        """One line for the run's log."""
        if self.x is None:
            return (
                f"local search: no plan in {self.seconds:.1f} s (LP relaxation "
                f"{self.lp_status}; best start {self.start_objective:.6g})"
            )
        return (
            f"local search: start {self.start_objective:.6g} -> {self.objective:.6g} "
            f"({self.improvements} improving of {self.evaluations} LP-scored moves, "
            f"{self.cut_off} of them cut off, {self.skipped} more skipped by their reduced "
            f"costs or a Lagrangian bound, {self.seconds:.1f} s); LP relaxation bound "
            f"{self.lp_bound:.6g}"
            + (f" ({self.bound_note})" if self.bound_note else "")
            + "".join(f"; {note}" for note in self.notes)
        )


def start_matrices(problem: ProblemData, model: MatrixModel, relaxed: LpPoint) -> list[np.ndarray]:
    """Start matrices, each repaired into the space and each once: the LP
    relaxation's hubs (opened where their LP value reaches 0.1 or 0.2, or from where it
    reaches 0, 30 % or 60 % of its peak), the greedy one, all hubs (last: the one
    :meth:`Searcher.drop_until_feasible` starts from). The likeliest best come first, so
    that the others can be cut off at its cost (:meth:`Searcher.score_all`).

    The levels matter where the LP spreads small shares of many hubs (aggregated
    linking rows): on the 1000x60x10x12 ladder rung the shares of the peak open 41 of
    the 60 hubs and the best costs 1.0881e12; level 0.1 opens 28 and costs 1.0507e12,
    level 0.2 26 hubs and 1.0525e12 (0.35: 1.137e12; docs/solvers.md)."""
    shape = (problem.n_hubs, problem.periods)
    space = HubSpace.of(problem, model)
    block = model.var_blocks["open"]
    starts: list[np.ndarray] = []
    score = -problem.hubs["fixed_cost"].to_numpy(float)
    if relaxed.x is not None:
        y_lp = relaxed.x[block].reshape(shape)
        score = y_lp.sum(axis=1)
        peak = y_lp.max(axis=1, keepdims=True)
        starts.extend((y_lp >= level).astype(float) for level in START_LEVELS)
        for share in START_SHARES:  # open from where the LP's value reaches a share
            starts.append(((y_lp > 1e-6) & (y_lp >= share * peak)).astype(float))
    starts.append(greedy_open(problem).reshape(shape))
    everything = space.repair(space.ub.copy(), score)
    repaired = [space.repair(y, score) for y in starts]
    distinct = {everything.tobytes(): everything}
    for y in repaired:  # each once, in order (a dict keeps its insertion order)
        distinct.setdefault(y.tobytes(), y)
    return [*list(distinct.values())[1:], everything]


class Searcher:
    """The LP, move space and costs of one model, shared by the searches on it.

    ``lps`` HiGHS copies of the LP score the moves of a search at once (:func:`improve`);
    the first, ``lp``, does everything else (starts, completion)."""

    def __init__(self, problem: ProblemData, model: MatrixModel, lps: int = 1) -> None:
        self.problem = problem
        self.model = model
        self.space = HubSpace.of(problem, model)
        self.costs = ArcCosts.of(problem, model)
        block = model.var_blocks["open"]
        columns = np.arange(block.start, block.stop)
        self.lp = FixedLp(model, columns)
        self.lps = [self.lp, *(FixedLp(model, columns, self.lp) for _ in range(lps - 1))]
        self.shape = (problem.n_hubs, problem.periods)
        self.fixed = np.repeat(
            problem.hubs["fixed_cost"].to_numpy(float)[:, None], problem.periods, axis=1
        )
        self.lock = threading.Lock()
        # the longest LP of the starts scored last (:meth:`score_all`): about what one
        # plan's LP takes on this model from its crash
        self.start_seconds = 0.0
        # a lower bound on every plan with a given open matrix (set by a restricted
        # solve's Lagrangian climb); the descent skips the moves it shows cannot improve
        self.floor: Callable[[np.ndarray], float] = lambda y: -math.inf

    def crashed(self, y: np.ndarray) -> Any:
        """A starting basis for the LP of plan ``y`` when none is at hand: in each stream's
        demand row its cheapest arc to a hub-period ``y`` opens (or its lost sale) basic
        (:func:`hubopt.solvers.crash.crash_highs`); None when the model has nothing to
        crash. On the 2000x150x10x12 ladder rung's search model the first start's LP took
        8.0 s from it, 19.7 s from the crash that may pick arcs to closed hubs, 39.1 s
        from the slack basis (the same optimum; docs/solvers.md)."""
        if "ship" not in self.model.var_blocks:
            return None
        ship = self.model.var_blocks["ship"]
        barred = np.zeros(self.model.n_vars, dtype=bool)
        barred[ship] = True
        costs = self.costs
        barred[ship.start + arcs_to_open_hubs(self.problem, costs.hub, costs.stream, y)] = False
        return crash_highs(self.model, barred)

    def starts(self, relaxed: LpPoint) -> list[np.ndarray]:
        """:func:`start_matrices` of this model."""
        return start_matrices(self.problem, self.model, relaxed)

    def drop_until_feasible(
        self, y: np.ndarray, relaxed: LpPoint, deadline: float
    ) -> tuple[np.ndarray, LpPoint] | None:
        """Close hubs of ``y`` one by one, least LP-used first, until the LP is feasible
        (a budget or carbon cap too tight for every start); None if none is."""
        block = self.model.var_blocks["open"]
        score = (
            relaxed.x[block].reshape(self.shape).sum(axis=1)
            if relaxed.x is not None
            else -self.fixed.sum(axis=1)
        )
        y = y.copy()
        for h in np.argsort(score, kind="stable"):
            if time.perf_counter() >= deadline or not (y[h] > self.space.lb[h]).any():
                continue
            y[h] = self.space.lb[h]
            if not self.space.allows(y):
                continue
            point = self.lp.evaluate(y.ravel(), deadline - time.perf_counter())
            if point.optimal:
                return y, point
        return None

    def search(
        self,
        y: np.ndarray,
        point: LpPoint,
        deadline: float,
        max_moves: int,
        stop: Callable[[float], bool] = lambda best: False,
    ) -> SearchOutcome:
        """:func:`improve` from ``y`` on every copy of this model's LP."""
        with self.lock:
            return improve(
                y,
                point,
                self.space,
                self.lps,
                self.costs,
                self.fixed,
                deadline,
                max_moves,
                stop,
                self.floor,
            )

    def score_all(
        self, ys: list[np.ndarray], deadline: float, basis: Any, prune: bool = False
    ) -> list[LpPoint]:
        """The LP point of each matrix of ``ys`` from ``basis`` (None: from its own crash,
        :meth:`crashed`), in order, each LP copy (one thread each) taking the next matrix
        when it is free; those left at ``deadline`` are not scored. ``prune``: each LP is
        cut off at the cheapest cost scored so far on any copy (:meth:`FixedLp.evaluate`),
        so only the cheapest matrix is sure to be scored to its end (the starts of a
        search: the rest are never used). Sets :attr:`start_seconds`.

        Taken from one queue, not dealt out in turn: on the 2000x150x10x12 ladder rung the
        first start's LP takes ~38 s and the other six ~32 s together; dealt out, one copy
        also had three of them (54 s) while the other waited after 16 s."""
        cheapest = [math.inf]  # shared by the copies' threads; a stale value only prunes less
        longest = [0.0]
        points: list[LpPoint | None] = [None] * len(ys)
        queue = iter(range(len(ys)))  # next() on it is atomic under Python's lock

        def score(lp: FixedLp) -> None:
            for i in queue:
                cutoff = cheapest[0] if prune else math.inf
                late = time.perf_counter() >= deadline
                start = basis if basis is not None or late else self.crashed(ys[i])
                began = time.perf_counter()
                left = deadline - began
                point = (
                    lp.evaluate(ys[i].ravel(), left, start, cutoff)
                    if left > 0
                    else LpPoint(False, math.inf, None, "not scored: deadline")
                )
                longest[0] = max(longest[0], time.perf_counter() - began)
                if point.optimal:
                    cheapest[0] = min(cheapest[0], point.objective)
                points[i] = point

        if len(self.lps) == 1:
            score(self.lp)
        else:
            with ThreadPoolExecutor(len(self.lps)) as pool:
                list(pool.map(score, self.lps))
        self.start_seconds = longest[0]
        return [point for point in points if point is not None]

    @property
    def evaluations(self) -> int:
        """LPs scored so far, on every copy."""
        return sum(lp.evaluations for lp in self.lps)

    @property
    def cut_off(self) -> int:
        """LPs stopped at their cutoff so far, on every copy."""
        return sum(lp.cut_off for lp in self.lps)

    def cancel_when(self, cancelled: Callable[[], bool]) -> None:
        """End a running LP (on every copy) once ``cancelled()`` is true."""
        for lp in self.lps:
            lp.cancelled = cancelled

    def close(self) -> None:
        """Free HiGHS's copies of the LP (the searcher scores nothing afterwards)."""
        for lp in self.lps:
            lp.close()

    def complete(self, outcome: SearchOutcome, deadline: float) -> LpPoint | None:
        """The cheapest complete plan among the best matrices found; None if none
        completes in time. When ``open`` holds the model's only integers the best LP
        point is that plan; otherwise each of the best matrices, cheapest first, gets a
        small MIP over the other integers (single sourcing, pickup points)."""
        others = self.model.integer.copy()
        others[self.lp.columns] = False
        if not others.any():
            return outcome.point
        with self.lock:
            for cost, key in outcome.ranked:
                y = np.frombuffer(key, dtype=float)
                point = self.lp.complete(y, max(deadline - time.perf_counter(), 1.0))
                if point.optimal:
                    return point
                log.info("local search: LP cost %.6g not completed (%s)", cost, point.status)
                if time.perf_counter() >= deadline:
                    break
        return None


def _first_plan_by_elastic(
    searcher: Searcher,
    starts: list[np.ndarray],
    deadline: float,
    max_moves: int,
) -> tuple[np.ndarray, LpPoint] | None:
    """The descent on the elastic copy of the model (:mod:`hubopt.heuristic.elastic`) from
    the one of ``starts`` with the least slack, until no slack is left; that ``open``
    matrix scored on the model itself. None if the model has no elastic rows or the
    descent ends (a local optimum, or ``deadline``) with slack left."""
    elastic = elastic_copy(searcher.model)
    if elastic is None or time.perf_counter() >= deadline:
        return None
    phase = Searcher(searcher.problem, elastic, len(searcher.lps))
    try:
        allowed = [y for y in starts if phase.space.allows(y)]
        points = phase.score_all(allowed, deadline, None)
        scored = [(p.objective, i) for i, p in enumerate(points) if p.optimal]
        if not scored:
            return None
        _, i = min(scored)
        outcome = phase.search(
            allowed[i], points[i], deadline, max_moves, lambda left: left <= FEASIBLE
        )
    finally:
        phase.close()
    found = outcome.point.objective <= FEASIBLE
    point = (
        searcher.lp.evaluate(outcome.y.ravel(), max(deadline - time.perf_counter(), 1.0))
        if found
        else LpPoint(False, math.inf, None, "slack left")
    )
    log.info(
        "local search: no start feasible; slack %.6g -> %.6g on the elastic model (%d "
        "improving of %d LP-scored moves): %s",
        points[i].objective, outcome.point.objective, outcome.improvements,
        outcome.evaluations, f"a plan of {point.objective:.6g}" if point.optimal else "no plan",
    )  # fmt: skip
    return (outcome.y, point) if point.optimal else None


def local_search(
    problem: ProblemData,
    model: MatrixModel,
    time_budget_s: float,
    max_moves: int,
    start: np.ndarray | None = None,
    searcher: Searcher | None = None,
    relax: bool | LpPoint = True,
    stop: Callable[[float], bool] = lambda best: False,
    escape: bool = False,
    threads: Callable[[], int] = lambda: 1,
) -> LocalSearchResult:
    """The LP relaxation (unless ``relax`` is false, or is that relaxation already
    solved), then a local search from the best start (or from ``start``, an ``open``
    matrix of hubs x periods), within
    ``time_budget_s`` and ``max_moves`` LPs; ``stop`` (asked with the best LP cost so far)
    ends the search early. ``escape``: from a local optimum reached with time left, a
    sub-MIP around it (:func:`escape_local_optimum`, on ``threads()`` threads, asked as
    each starts) and the search again from its plan.

    Its plan is complete (every integer integral) and verified-feasible for the model
    as far as the LP solver's tolerances go; its cost is never above the start's.
    """
    begin = time.perf_counter()
    deadline = begin + time_budget_s
    searcher = searcher or Searcher(problem, model)
    if isinstance(relax, LpPoint):
        relaxed = relax
    elif relax:
        relaxed = searcher.lp.relaxation(time_budget_s)
    else:
        relaxed = LpPoint(False, -math.inf, None, "not solved")
    bound = relaxed.objective if relaxed.optimal else -math.inf
    status = relaxed.status
    if status == "Infeasible":
        return LocalSearchResult(None, math.nan, math.nan, math.inf, status, 0, 0, 0.0)
    candidates = [start.reshape(searcher.shape)] if start is not None else searcher.starts(relaxed)
    best: tuple[np.ndarray, LpPoint] | None = None
    counted, cut_before = searcher.evaluations, searcher.cut_off
    allowed = [y for y in candidates if searcher.space.allows(y)]
    # each start from the LP relaxation's basis (near all of them), when there is one
    points = searcher.score_all(allowed, deadline, relaxed.basis, prune=True)
    for y, point in zip(allowed, points, strict=True):
        if point.optimal and (best is None or point.objective < best[1].objective):
            best = (y, point)
    if best is None:
        best = _first_plan_by_elastic(searcher, candidates, deadline, max_moves)
    if best is None and start is None:
        best = searcher.drop_until_feasible(candidates[-1], relaxed, deadline)
    if best is None:
        seconds = time.perf_counter() - begin
        evaluations = searcher.evaluations - counted
        return LocalSearchResult(None, math.nan, math.nan, bound, status, evaluations, 0, seconds)
    outcome = searcher.search(best[0], best[1], deadline, max_moves, stop)
    notes: list[str] = []
    if escape:
        outcome = escape_local_optimum(
            searcher, outcome, relaxed, deadline, max_moves, stop, notes, threads
        )
    plan = searcher.complete(outcome, deadline + 0.2 * time_budget_s)
    seconds = time.perf_counter() - begin
    evaluations = searcher.evaluations - counted
    if plan is None or plan.x is None:
        return LocalSearchResult(
            None, math.nan, best[1].objective, bound, status, evaluations, 0, seconds
        )
    result = LocalSearchResult(
        plan.x,
        plan.objective,
        best[1].objective,
        bound,
        status,
        evaluations,
        outcome.improvements,
        seconds,
        (outcome.y, outcome.point),
        cut_off=searcher.cut_off - cut_before,
        skipped=outcome.skipped,
        notes=tuple(notes),
    )
    log.info(result.summary())
    return result


def escape_local_optimum(
    searcher: Searcher,
    outcome: SearchOutcome,
    relaxed: LpPoint,
    deadline: float,
    max_moves: int,
    stop: Callable[[float], bool],
    notes: list[str],
    threads: Callable[[], int] = lambda: 1,
) -> SearchOutcome:
    """While ``outcome`` is a local optimum and a sub-MIP may pay before ``deadline``
    (:func:`hubopt.heuristic.rins.worth_a_sub_mip`): the sub-MIP around it
    (:func:`hubopt.heuristic.rins.sub_mip`, the plan and the LP relaxation ``relaxed``
    agreeing, or the LP solved here when ``relaxed`` has no point; on ``threads()``
    threads) and, when it finds a cheaper plan, the descent again from there. Never worse
    than ``outcome``; what each sub-MIP did goes to ``notes``."""
    model = searcher.model
    block = model.var_blocks["open"]
    relaxed_open = relaxed.x[block] if relaxed.x is not None else None

    def left() -> float:
        return deadline - time.perf_counter()

    while (
        outcome.local_optimum
        and outcome.evaluations < max_moves
        and worth_a_sub_mip(model, left())
        and not stop(outcome.point.objective)
    ):
        if relaxed_open is None:
            with searcher.lock:
                lp = searcher.lp.relaxation(left())
            if lp.x is None:
                notes.append(f"no sub-MIP: the LP relaxation {lp.status}")
                break
            relaxed_open = lp.x[block]
        assert outcome.point.x is not None
        cost = outcome.point.objective
        found = sub_mip(
            model, outcome.point.x, relaxed_open, left(), stop, to_beat(cost), threads()
        )
        log.info(found.text())
        notes.append(found.text())
        if found.x is None:
            break
        y = np.round(found.x[block]).reshape(searcher.shape)
        with searcher.lock:
            point = searcher.lp.evaluate(y.ravel(), max(left(), 1.0))
        if not point.optimal or point.objective >= to_beat(cost):
            break
        more = searcher.search(y, point, deadline, max_moves - outcome.evaluations, stop)
        outcome = SearchOutcome(
            more.y,
            more.point,
            outcome.evaluations + 1 + more.evaluations,
            outcome.improvements + 1 + more.improvements,
            sorted(outcome.ranked + more.ranked, key=lambda item: item[0])[:5],
            outcome.skipped + more.skipped,
            more.local_optimum,
        )
    return outcome


def with_unused_plan(output: SolverOutput, feed: SolutionFeed, mip_gap: float) -> SolverOutput:
    """``output`` with the plan offered to ``feed`` but never taken by the solver, when
    that plan is cheaper than the solver's (or the solver has none); the bound stays the
    solver's. The status is ``optimal`` only when that bound proves it within ``mip_gap``."""
    unused = feed.unused()
    if unused is None:
        return output
    x, objective = unused
    if output.status.has_solution and output.objective <= objective:
        return output
    if not (output.status.has_solution or output.status == SolveStatus.TIME_LIMIT):
        return output  # infeasible, unbounded or an error: the solver's word stands
    bound = min(output.bound, objective) if math.isfinite(output.bound) else output.bound
    proven = math.isfinite(bound) and objective - bound <= mip_gap * max(abs(objective), 1e-9)
    status = SolveStatus.OPTIMAL if proven else SolveStatus.FEASIBLE
    note = f"the local search's plan {objective:.6g} (offered, not taken by the solver) is kept"
    log.info(note)
    return dataclasses.replace(
        output,
        status=status,
        x=x,
        objective=objective,
        bound=bound,
        log=f"{output.log}\n{note}",
    )


def improve_beside(
    searcher: Searcher,
    feed: SolutionFeed,
    deadline: float,
    max_moves: int,
    reached: tuple[np.ndarray, LpPoint] | None = None,
) -> Callable[[], None]:
    """Start a thread that searches while the solver runs and offers better plans to
    ``feed``: first on from ``reached`` (where the search before the solver stopped),
    then from each new incumbent the solver reports. Returns the function that waits for
    the thread (call it after closing the feed; a running LP is cancelled)."""
    block = searcher.model.var_blocks["open"]

    def stop(best: float = math.nan) -> bool:
        return feed.closed

    def offer(outcome: SearchOutcome, than: float, source: str) -> None:
        if outcome.point.objective >= to_beat(than):
            return
        plan = searcher.complete(outcome, deadline)
        if plan is not None and plan.x is not None and feed.offer(plan.x, plan.objective):
            log.info("local search offers %.6g (%s %.6g)", plan.objective, source, than)

    def run() -> None:
        searcher.cancel_when(stop)  # a running LP ends when the solver has finished
        if reached is not None:
            y, point = reached
            offer(searcher.search(y, point, deadline, max_moves, stop), point.objective, "from")
        seen, tried = 0, set()
        while not feed.closed and time.perf_counter() < deadline:
            got = feed.wait_incumbent(seen, timeout=0.5)
            if got is None:
                continue
            seen, x, objective = got
            y = np.clip(np.round(x[block]), 0.0, 1.0).reshape(searcher.shape)
            if y.tobytes() in tried or not searcher.space.allows(y):
                continue
            tried.add(y.tobytes())
            point = searcher.lp.evaluate(y.ravel(), deadline - time.perf_counter())
            if not point.optimal or feed.closed:
                continue
            outcome = searcher.search(y, point, deadline, max_moves, stop)
            offer(outcome, objective, "HiGHS had")

    thread = threading.Thread(target=run, name="hubopt-local-search", daemon=True)
    thread.start()
    return thread.join
