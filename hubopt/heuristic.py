"""Primal heuristics: a greedy start, and a local search on the hub-period decisions.

:func:`greedy_open` proposes which hubs to open from a cheapest-arc assignment.
:func:`local_search` improves a plan by moves on ``open[h,t]``, each scored by the LP
with the hub decisions fixed (:class:`hubopt.solvers.fixing.FixedLp`, one warm-started
HiGHS model), in a variable-neighbourhood descent (:func:`improve`): shift a hub's first
(or, with closing allowed, last) open period by one, two, ... periods; open a closed hub
(the one nearest the most expensive streams first); close a hub (least-used first); swap
an open hub for a closed one. The first improving move of the first neighbourhood that
has one is taken and the descent restarts from the shifts, which on multi-period models
are the cheapest LPs and the most productive moves. Moves that break a bound (forced
statuses, ``open_from_period``), the no-closing rule or ``min/max_open_hubs`` are skipped
without an LP; anything else the LP rejects (a budget, a capacity, a window). It stops
at a local optimum, after ``max_moves`` LPs or at its deadline, and never returns a plan
costlier than its start.

:func:`improve_beside` goes on searching while HiGHS runs, from where the search before
HiGHS stopped and then from each new HiGHS incumbent, and offers better plans back
through a :class:`~hubopt.solvers.base.SolutionFeed` (HiGHS's user-solution callback);
:func:`with_unused_plan` keeps an offered plan HiGHS never asked for when it is cheaper
than HiGHS's own.
"""

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
import pandas as pd

from hubopt.data.problem import ProblemData
from hubopt.geo import distance_matrix_km
from hubopt.model.index import layout_of
from hubopt.model.matrix import MatrixModel
from hubopt.solvers.base import SolutionFeed, SolverOutput, SolveStatus
from hubopt.solvers.fixing import FixedLp, LpPoint

log = logging.getLogger(__name__)

START_SHARES = (0.0, 0.3, 0.6)  # LP-rounded starts: open once y reaches this share of its peak
IMPROVEMENT = 1e-7  # relative cost decrease a move must bring to be taken


def greedy_open(problem: ProblemData) -> np.ndarray:
    """(hubs x periods) 0/1: hubs used when every stream takes its cheapest on-time arc,
    trimmed to ``max_open_hubs`` by served volume, respecting forced statuses."""
    arcs = problem.out_arcs
    layout = layout_of(problem)
    chosen = np.zeros((problem.n_hubs, problem.periods))
    if len(arcs):
        unit = (
            arcs["transport_cost"].to_numpy(float)
            + arcs["handling_cost"].to_numpy(float)
            + arcs["late_cost"].to_numpy(float)
        )
        order = np.lexsort((unit, arcs["stream_idx"].to_numpy()))
        first = order[np.r_[True, np.diff(arcs["stream_idx"].to_numpy()[order]) != 0]]
        streams = problem.streams
        k = arcs["stream_idx"].to_numpy()[first]
        h = arcs["hub_idx"].to_numpy()[first]
        volume = (
            streams["quantity"].to_numpy(float)[k]
            * problem.products["unit_volume"].to_numpy(float)[streams["product_idx"].to_numpy()[k]]
        )
        np.add.at(chosen, (h, streams["period"].to_numpy()[k] - 1), volume)
    status = problem.hubs["status"].to_numpy()
    forced = np.isin(status, ["forced_open", "existing"])[:, None]
    score = chosen + forced * 1e18
    limit = problem.policy.max_open_hubs
    open_ = score > 0
    if limit is not None:
        rank = np.argsort(np.argsort(-score, axis=0), axis=0)
        open_ &= rank < limit
    if not problem.policy.allow_closing:
        open_ = np.maximum.accumulate(open_, axis=1)
    open_ &= (status != "forced_closed")[:, None]
    t = np.arange(1, problem.periods + 1)[None, :]
    open_ &= t >= problem.hubs["open_from_period"].to_numpy()[:, None]
    return open_.astype(float).reshape(layout.n_hub_periods)


def greedy_include(problem: ProblemData) -> np.ndarray:
    """0/1 per footprint candidate: 1 when its incremental margin exceeds its spend plus its
    units at their cheapest arcs (fixed costs and capacities ignored), within max_regions
    (best first) and topped up to min_regions."""
    fp = problem.footprint
    if not len(fp):
        return np.zeros(0)
    arcs = problem.out_arcs
    streams = problem.streams
    unit = (
        arcs["transport_cost"].to_numpy(float)
        + arcs["handling_cost"].to_numpy(float)
        + arcs["late_cost"].to_numpy(float)
    )
    cheapest = np.full(len(streams), np.inf)
    np.minimum.at(cheapest, arcs["stream_idx"].to_numpy(), unit)
    f = streams["footprint_idx"].to_numpy()
    mine = f >= 0
    cost = np.bincount(
        f[mine], weights=(cheapest * streams["quantity"].to_numpy(float))[mine], minlength=len(fp)
    )
    profit = fp["incremental_margin"].to_numpy(float) - fp["spend"].to_numpy(float) - cost
    include = np.zeros(len(fp))
    campaigns = problem.campaigns
    for c in np.unique(fp["campaign_idx"].to_numpy()):
        idx = np.flatnonzero(fp["campaign_idx"].to_numpy() == c)
        order = idx[np.argsort(-profit[idx], kind="stable")]
        n = int((profit[idx] > 0).sum())
        low, high = campaigns["min_regions"].iloc[c], campaigns["max_regions"].iloc[c]
        n = max(n, int(low) if pd.notna(low) else 0)
        n = min(n, int(high) if pd.notna(high) else n)
        include[order[:n]] = 1.0
    return include


def warm_start_vector(
    problem: ProblemData, model: MatrixModel, open_: np.ndarray | None = None
) -> np.ndarray:
    """A full-length start vector: ``open`` (``open_``, hubs x periods 0/1, when given, else
    the greedy proposal) and footprint ``include`` values, NaN (unknown) elsewhere."""
    x = np.full(model.n_vars, np.nan)
    x[model.var_blocks["open"]] = (greedy_open(problem) if open_ is None else open_).ravel()
    x[model.var_blocks["include"]] = greedy_include(problem)
    return x


@dataclass(frozen=True)
class HubSpace:
    """Which (hubs x periods) 0/1 ``open`` matrices the model allows, before any LP."""

    lb: np.ndarray
    ub: np.ndarray
    allow_closing: bool
    min_open: int
    max_open: int | None

    @classmethod
    def of(cls, problem: ProblemData, model: MatrixModel) -> HubSpace:
        """The space of ``model``'s ``open`` block (bounds as built, policy's hub rules)."""
        shape = (problem.n_hubs, problem.periods)
        block = model.var_blocks["open"]
        policy = problem.policy
        return cls(
            lb=model.lb[block].reshape(shape).copy(),
            ub=model.ub[block].reshape(shape).copy(),
            allow_closing=policy.allow_closing,
            min_open=policy.min_open_hubs,
            max_open=policy.max_open_hubs,
        )

    def allows(self, y: np.ndarray) -> bool:
        """Whether ``y`` keeps the bounds, the no-closing rule and the hub counts."""
        if (y < self.lb).any() or (y > self.ub).any():
            return False
        if not self.allow_closing and (np.diff(y, axis=1) < 0).any():
            return False
        count = y.sum(axis=0)
        if (count < self.min_open).any():
            return False
        return self.max_open is None or bool((count <= self.max_open).all())

    def repair(self, y: np.ndarray, score: np.ndarray) -> np.ndarray:
        """``y`` moved into the space: bounds, no closing, then whole hubs dropped (lowest
        ``score`` first) or added (highest first) until the hub counts hold."""
        y = np.clip(np.round(y), self.lb, self.ub)
        if not self.allow_closing:
            y = np.maximum.accumulate(y, axis=1)
        for _ in range(len(y)):
            count = y.sum(axis=0)
            if self.max_open is not None and (count > self.max_open).any():
                droppable = np.flatnonzero((y > self.lb).any(axis=1))
                if not len(droppable):
                    break
                h = droppable[np.argmin(score[droppable])]
                y[h] = self.lb[h]
            elif (count < self.min_open).any():
                addable = np.flatnonzero((y < self.ub).any(axis=1))
                if not len(addable):
                    break
                h = addable[np.argmax(score[addable])]
                y[h] = self.ub[h]
            else:
                break
        return y


def hub_distances(problem: ProblemData) -> np.ndarray:
    """Great-circle km between every two hubs."""
    lat = problem.hubs["lat"].to_numpy(float)
    lon = problem.hubs["lon"].to_numpy(float)
    return distance_matrix_km(lat, lon, lat, lon)


@dataclass(frozen=True)
class ArcCosts:
    """Per outbound arc: hub, stream, unit cost and volume per unit; per stream: quantity
    and lost-sale penalty (for ranking moves by the current plan's costs); per hub, the
    hubs nearest it (for ranking swaps)."""

    hub: np.ndarray
    stream: np.ndarray
    period: np.ndarray
    cost: np.ndarray
    volume: np.ndarray
    quantity: np.ndarray
    unmet_cost: np.ndarray
    unmet_streams: np.ndarray
    nearest: np.ndarray  # per hub: every hub by distance from it, itself first

    @classmethod
    def of(cls, problem: ProblemData, model: MatrixModel) -> ArcCosts:
        """Read from ``model``'s objective and ``problem``'s arcs."""
        arcs, streams = problem.out_arcs, problem.streams
        k = arcs["stream_idx"].to_numpy()
        penalty = streams["lost_sale_penalty"].to_numpy(float)
        unmet = np.flatnonzero(np.isfinite(penalty))
        unit_volume = problem.products["unit_volume"].to_numpy(float)
        return cls(
            hub=arcs["hub_idx"].to_numpy(),
            stream=k,
            period=streams["period"].to_numpy()[k] - 1,
            cost=model.c[model.var_blocks["ship"]],
            volume=unit_volume[streams["product_idx"].to_numpy()[k]],
            quantity=streams["quantity"].to_numpy(float),
            unmet_cost=penalty[unmet],
            unmet_streams=unmet,
            nearest=np.argsort(hub_distances(problem), axis=1, kind="stable"),
        )

    def usage(self, model: MatrixModel, x: np.ndarray, n_hubs: int) -> np.ndarray:
        """Volume each hub ships over the horizon in plan ``x``."""
        ship = model.block(x, "ship")
        return np.bincount(self.hub, weights=ship * self.volume, minlength=n_hubs).astype(float)

    def saving(self, model: MatrixModel, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Per (hub, period) where the hub is closed: what its arcs would save on that
        period's streams against each stream's average unit cost in plan ``x`` (unmet
        units at their penalty). Zero where the hub is open."""
        ship = model.block(x, "ship")
        n_streams = len(self.quantity)
        # float even without arcs (bincount of nothing is an int array)
        paid = np.bincount(self.stream, weights=ship * self.cost, minlength=n_streams).astype(float)
        if len(self.unmet_streams):
            paid[self.unmet_streams] += model.block(x, "unmet") * self.unmet_cost
        unit_now = paid / np.maximum(self.quantity, 1e-12)
        gain = np.maximum(unit_now[self.stream] - self.cost, 0.0) * self.quantity[self.stream]
        closed = y[self.hub, self.period] < 0.5
        out = np.zeros(y.shape)
        np.add.at(out, (self.hub[closed], self.period[closed]), gain[closed])
        return out


@dataclass(frozen=True)
class SearchOutcome:
    """What :func:`improve` reached: the best ``open`` matrix and its LP point."""

    y: np.ndarray
    point: LpPoint
    evaluations: int
    improvements: int
    ranked: list[tuple[float, bytes]]  # cheapest LP-scored matrices seen (cost, y bytes)


def opening(h: int, y: np.ndarray, space: HubSpace, pays: np.ndarray) -> list[np.ndarray]:
    """Row patterns that open hub ``h``: only where it pays (from the first such period on,
    without closing), then in every allowed period."""
    patterns = []
    where = pays[h] & (space.ub[h] > 0)
    if where.any():
        if not space.allow_closing:
            where = np.maximum.accumulate(where)
        patterns.append(np.maximum(y[h], where.astype(float)))
    patterns.append(np.maximum(y[h], space.ub[h]))
    return patterns


def shifts(y: np.ndarray) -> Iterator[np.ndarray]:
    """Move a hub's first (and, with closing allowed, last) open period by one, two, ...
    up to the horizon: every opening period a hub could have, nearest first."""
    for step in range(1, y.shape[1]):
        for h in np.flatnonzero(y.any(axis=1)):
            periods = np.flatnonzero(y[h] > 0.5)
            first, last = periods[0], periods[-1]
            for lo, hi, value in (
                (first - step, first, 1.0),
                (first, first + step, 0.0),
                (last + 1, last + 1 + step, 1.0),
                (last + 1 - step, last + 1, 0.0),
            ):
                if lo >= 0 and hi <= y.shape[1] and (y[h, lo:hi] != value).any():
                    z = y.copy()
                    z[h, lo:hi] = value
                    yield z


def openings(
    y: np.ndarray, space: HubSpace, by_gain: np.ndarray, pays: np.ndarray
) -> Iterator[np.ndarray]:
    """Open a closed hub, the one nearest the most expensive streams first."""
    for h in by_gain:
        for row in opening(h, y, space, pays):
            z = y.copy()
            z[h] = row
            yield z


def closings(y: np.ndarray, space: HubSpace, by_use: np.ndarray) -> Iterator[np.ndarray]:
    """Close an open hub, the least-used first."""
    for h in by_use:
        z = y.copy()
        z[h] = space.lb[h]
        yield z


def swaps(
    y: np.ndarray,
    space: HubSpace,
    by_use: np.ndarray,
    closed: np.ndarray,
    nearest: np.ndarray,
    pays: np.ndarray,
) -> Iterator[np.ndarray]:
    """One hub for another: every open hub (least-used first) for its nearest closed hub,
    then for its second nearest, and so on (a hub's neighbours cover much the same
    regions, so they are the likeliest replacements); the new one open where it pays, or
    as the old one was. ``nearest[h]`` lists the hubs by distance from ``h``."""
    room = np.zeros(len(y), dtype=bool)
    room[closed] = True
    candidates = {out: [h for h in nearest[out] if room[h] and h != out] for out in by_use}
    for rank in range(len(y)):
        for out in by_use:
            if rank >= len(candidates[out]):
                continue
            into = candidates[out][rank]
            rows = [*opening(into, y, space, pays)[:1], np.maximum(y[into], y[out])]
            for row in rows:
                z = y.copy()
                z[into] = np.clip(row, space.lb[into], space.ub[into])
                z[out] = space.lb[out]
                yield z


def neighbourhoods(
    y: np.ndarray,
    space: HubSpace,
    usage: np.ndarray,
    saving: np.ndarray,
    fixed: np.ndarray,
    nearest: np.ndarray,
) -> list[Iterator[np.ndarray]]:
    """The neighbourhoods of ``y`` in the order :func:`improve` descends them: shifts of
    opening periods (cheap LPs, measured the most productive on the 10-period Korea
    demo), then opening, closing and swapping hubs. ``saving`` and ``fixed`` are per hub
    and period; ``nearest[h]`` the hubs by distance from ``h``."""
    movable_open = np.flatnonzero((y > space.lb).any(axis=1))
    closed_room = np.flatnonzero((y < space.ub).any(axis=1))
    by_use = movable_open[np.argsort(usage[movable_open], kind="stable")]
    pays = saving > fixed
    net = np.maximum(saving - fixed, 0.0).sum(axis=1)[closed_room]
    by_gain = closed_room[np.argsort(-net, kind="stable")]
    return [
        shifts(y),
        openings(y, space, by_gain, pays),
        closings(y, space, by_use),
        swaps(y, space, by_use, closed_room, nearest, pays),
    ]


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
) -> SearchOutcome:
    """Variable-neighbourhood descent from ``y`` (LP point ``point``); never worse.

    The first improving move of the first neighbourhood (:func:`neighbourhoods`) that has
    one is taken, and the descent starts again from the first neighbourhood; it ends when
    none improves (a local optimum over all of them), after ``max_moves`` LPs, at
    ``deadline`` or when ``stop`` says so (asked with the best LP cost so far before each
    LP).

    The moves are scored on every LP in ``lps`` (copies of one model) at once, in the
    same order, each LP (on a thread of its own: HiGHS runs without Python's lock) taking
    the next move when it is free; the first improvement ends the round once the moves
    already started are scored, and the cheapest plan among them is taken. With one LP
    that is a plain first-improvement descent.
    """
    assert point.optimal and point.x is not None
    seen: set[bytes] = {y.tobytes()}
    ranked: list[tuple[float, bytes]] = [(point.objective, y.tobytes())]
    evaluations = improvements = 0
    best_y, best = y, point
    pool = ThreadPoolExecutor(len(lps))

    def out_of_moves() -> bool:
        return evaluations >= max_moves or time.perf_counter() >= deadline or stop(best.objective)

    def fresh(moves: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        for z in moves:
            key = z.tobytes()
            if key in seen or not space.allows(z):
                continue
            seen.add(key)
            yield z

    def score(lp: FixedLp, z: np.ndarray, basis: Any) -> tuple[np.ndarray, LpPoint]:
        # from the current plan's basis: a move changes a few columns of it
        return z, lp.evaluate(z.ravel(), deadline - time.perf_counter(), basis)

    def take(z: np.ndarray, trial: LpPoint) -> bool:
        """Record a scored move; make it the best if it improves on the best."""
        nonlocal best_y, best, improvements
        if not trial.optimal:
            return False
        ranked.append((trial.objective, z.tobytes()))
        if trial.objective < best.objective - IMPROVEMENT * max(abs(best.objective), 1.0):
            best_y, best = z, trial
            improvements += 1
            return True
        return False

    try:
        improved = True
        while improved and not out_of_moves():
            improved = False
            assert best.x is not None
            usage = costs.usage(lps[0].model, best.x, len(best_y))
            saving = costs.saving(lps[0].model, best.x, best_y)
            moves = fresh(
                chain.from_iterable(
                    neighbourhoods(best_y, space, usage, saving, fixed, costs.nearest)
                )
            )
            free = list(lps)
            running: dict[Future[tuple[np.ndarray, LpPoint]], FixedLp] = {}
            exhausted = False
            while True:
                while free and not improved and not exhausted and not out_of_moves():
                    move = next(moves, None)
                    if move is None:
                        exhausted = True
                        break
                    evaluations += 1
                    lp = free.pop()
                    running[pool.submit(score, lp, move, best.basis)] = lp
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    free.append(running.pop(future))
                    improved = take(*future.result()) or improved
    finally:
        pool.shutdown(wait=True)
    ranked.sort(key=lambda item: item[0])
    return SearchOutcome(best_y, best, evaluations, improvements, ranked[:5])


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
            f"{self.seconds:.1f} s); LP relaxation bound {self.lp_bound:.6g}"
            + (f" ({self.bound_note})" if self.bound_note else "")
        )


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
        self.lps = [FixedLp(model, columns) for _ in range(max(lps, 1))]
        self.lp = self.lps[0]
        self.shape = (problem.n_hubs, problem.periods)
        self.fixed = np.repeat(
            problem.hubs["fixed_cost"].to_numpy(float)[:, None], problem.periods, axis=1
        )
        self.lock = threading.Lock()

    def starts(self, relaxed: LpPoint) -> list[np.ndarray]:
        """Start matrices: the greedy one, the LP relaxation's hubs (opened once their LP
        value reaches 0, 30 % or 60 % of its peak), all hubs; each repaired into the space."""
        block = self.model.var_blocks["open"]
        starts = [greedy_open(self.problem).reshape(self.shape)]
        score = -self.fixed.sum(axis=1)
        if relaxed.x is not None:
            y_lp = relaxed.x[block].reshape(self.shape)
            score = y_lp.sum(axis=1)
            peak = y_lp.max(axis=1, keepdims=True)
            for share in START_SHARES:  # open from where the LP's value reaches a share
                starts.append(((y_lp > 1e-6) & (y_lp >= share * peak)).astype(float))
        starts.append(self.space.ub.copy())
        return [self.space.repair(y, score) for y in starts]

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
        """:func:`improve` from ``y`` with this model's LP."""
        with self.lock:
            return improve(
                y, point, self.space, self.lps, self.costs, self.fixed, deadline, max_moves, stop
            )

    def score_all(self, ys: list[np.ndarray], deadline: float, basis: Any) -> list[LpPoint]:
        """The LP point of each matrix of ``ys`` from ``basis``, the matrices shared out
        over the LP copies (one thread each); those left at ``deadline`` are not scored."""

        def score(lp: FixedLp, share: list[np.ndarray]) -> list[LpPoint]:
            points = []
            for y in share:
                left = deadline - time.perf_counter()
                points.append(
                    lp.evaluate(y.ravel(), left, basis)
                    if left > 0
                    else LpPoint(False, math.inf, None, "not scored: deadline")
                )
            return points

        n = len(self.lps)
        if n == 1:
            return score(self.lp, ys)
        with ThreadPoolExecutor(n) as pool:
            shares = list(pool.map(score, self.lps, [ys[i::n] for i in range(n)]))
        return [shares[i % n][i // n] for i in range(len(ys))]

    @property
    def evaluations(self) -> int:
        """LPs scored so far, on every copy."""
        return sum(lp.evaluations for lp in self.lps)

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


def local_search(
    problem: ProblemData,
    model: MatrixModel,
    time_budget_s: float,
    max_moves: int,
    start: np.ndarray | None = None,
    searcher: Searcher | None = None,
    relax: bool | LpPoint = True,
    stop: Callable[[float], bool] = lambda best: False,
) -> LocalSearchResult:
    """The LP relaxation (unless ``relax`` is false, or is that relaxation already
    solved), then a local search from the best start (or from ``start``, an ``open``
    matrix of hubs x periods), within
    ``time_budget_s`` and ``max_moves`` LPs; ``stop`` (asked with the best LP cost so far)
    ends the search early.

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
    counted = searcher.evaluations
    allowed = [y for y in candidates if searcher.space.allows(y)]
    # each start from the LP relaxation's basis (near all of them), when there is one
    points = searcher.score_all(allowed, deadline, relaxed.basis)
    for y, point in zip(allowed, points, strict=True):
        if point.optimal and (best is None or point.objective < best[1].objective):
            best = (y, point)
    if best is None and start is None:
        best = searcher.drop_until_feasible(candidates[-1], relaxed, deadline)
    if best is None:
        seconds = time.perf_counter() - begin
        evaluations = searcher.evaluations - counted
        return LocalSearchResult(None, math.nan, math.nan, bound, status, evaluations, 0, seconds)
    outcome = searcher.search(best[0], best[1], deadline, max_moves, stop)
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
    )
    log.info(result.summary())
    return result


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
        if outcome.point.objective >= than - IMPROVEMENT * max(abs(than), 1.0):
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
