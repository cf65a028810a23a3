"""A Lagrangian bound that keeps each hub's opening plan and capacity whole.

The LP relaxation lets ``open[h,t]`` be the used share of hub h's capacity, so it pays a
fraction of a hub's fixed cost for a fraction of its throughput. This bound dualizes
every row except, per hub, its throughput rows (``sum volume * ship <= capacity *
open[h,t]``) and its opening-event rows (``opening``, and ``no_closing`` or ``closing``),
and keeps ``open``, ``opened`` and ``closed`` binary. For row multipliers ``y`` the inner
minimum splits by hub:

- per (h, t), the ship columns of its throughput row fill its capacity by increasing
  reduced cost per m3 (a continuous knapsack, only the columns with a negative reduced
  cost); that value plus ``open[h,t]``'s reduced cost is what an open period costs;
- per hub, the cheapest open/closed sequence over the periods (a two-state dynamic
  programme from its state before period 1; opening pays its ``opened`` event, closing
  its ``closed`` event or is barred);
- every other column at the end of its box that its reduced cost prefers
  (:meth:`MatrixModel.dual_bound`).

Every ``y`` gives a lower bound on the MILP (weak duality over a relaxation whose
feasible set contains every plan). At the LP's duals it is at least the LP bound; a
deflected subgradient ascent on the multipliers of the rows that couple the hubs and
price their opening (:data:`CLIMB_ROWS`, :func:`climb`) raises it towards the LP over the
convex hull of each hub's set (at least the LP with per-(hub, stream) linking rows).
Measured on the 1000x60x10x12 and 2000x150x10x12 ladder rungs (docs/solvers.md).

With ``open`` fixed to a matrix the inner minimum is a lower bound on every plan with
that matrix (:meth:`HubPrices.floor`): the local search skips the moves it shows cannot
improve.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hubopt.model.matrix import MatrixModel

CLIMB_ROWS = ("demand", "linking", "storage", "inflow_linking", "cover")
"""The row blocks whose multipliers :func:`climb` moves, where the model has them (the
others stay at the LP's duals): the demand rows couple the hubs; the linking, storage,
inflow-linking and cover rows price each hub's opening against the flows it carries.
Measured on the 2000x150x10x12 ladder rung's search model from its LP's duals, 120 s:
the demand rows alone 2.48140e12 -> 2.48923e12; with these four blocks 2.49413e12. Not
the stock balance rows: with them the inner minimum fell to about -1e36 within a few
steps (the stock and inflow columns' wide boxes; docs/solvers.md)."""


def climbed_rows(bound: HubLagrangian) -> np.ndarray:
    """The rows (positions) :func:`climb` moves: those of :data:`CLIMB_ROWS` that
    ``bound`` dualizes."""
    m = bound.model
    kept = {(part.start, part.stop) for part in bound.kept}
    parts = [m.row_blocks[name] for name in CLIMB_ROWS if name in m.row_blocks]
    return np.concatenate(
        [np.arange(p.start, p.stop) for p in parts if (p.start, p.stop) not in kept]
        or [np.zeros(0, dtype=np.int64)]
    )


STEP = 1.0
"""Polyak step's starting factor: ``STEP * (target - L) / |d|^2``. Measured on the
1000x60x10x12 ladder rung from the column generation's duals, after 600 plain subgradient
steps: 9.98519e11 with 1.0, 9.98305e11 with 0.5, 9.98078e11 with 0.25 (halving every 15
steps); with the deflection below 9.99350e11 (with 2.0, the first steps overshoot and no
better bound comes in 600 steps)."""

PATIENCE = 30
"""Steps without a better bound after which the step factor halves."""

DEFLECTION = 1.5
"""How much of the last direction a step keeps when the new subgradient turns against it
(Camerini, Fratta & Maffioli's ``gamma``, 1.5 their recommendation). On the 1000x60x10x12
rung, 600 steps from the column generation's duals: 9.98519e11 without deflection,
9.99265e11 with 1.0, 9.99350e11 with 1.5, 9.99434e11 with 2.0; going back to the best
multipliers when the factor halves lost most of the gain (9.98958e11 with 1.5)."""

_BIG = 1e300


@dataclass(frozen=True)
class Climb:
    """The outcome of :func:`climb`."""

    bound: float  # the best bound over the steps (never below the start's)
    start: float  # the bound at the starting multipliers
    steps: int
    seconds: float
    restarts: int = 0  # offered multipliers the climb went on from (their bound was higher)

    def text(self) -> str:
        """One line for the run's log."""
        again = f", {self.restarts} restart(s) from later LP duals" if self.restarts else ""
        return (
            f"Lagrangian bound with each hub's opening plan kept: {self.start:.8g} at the LP's "
            f"duals, {self.bound:.8g} after {self.steps} subgradient steps{again} "
            f"({self.seconds:.1f} s)"
        )


@dataclass(frozen=True)
class HubPrices:
    """What each hub's open/closed sequence costs at one multiplier vector: with them,
    :meth:`floor` bounds every plan with a given ``open`` matrix from below."""

    base: float  # the bound's part outside the hubs' sequences
    stay: np.ndarray  # hubs x periods: an open period (open's reduced cost and its knapsack)
    to_open: np.ndarray  # hubs x periods: an opening's cost there (_BIG: barred)
    to_close: np.ndarray  # hubs x periods: a closing's cost there (_BIG: barred)
    was_open: np.ndarray  # per hub: open before the first period
    lb: np.ndarray  # hubs x periods: open's bounds
    ub: np.ndarray

    def floor(self, y: np.ndarray) -> float:
        """A lower bound on the cost of every plan whose ``open`` matrix (hubs x periods,
        0/1) is ``y``: the inner minimum with ``open`` fixed to it (+inf when ``y`` breaks
        an opening or closing rule or a bound of ``open``)."""
        y = np.asarray(y, dtype=float).reshape(self.stay.shape) > 0.5
        before = np.concatenate([self.was_open[:, None], y[:, :-1]], axis=1)
        if (y & (self.ub < 0.5)).any() or (~y & (self.lb > 0.5)).any():
            return math.inf
        events = self.to_open[y & ~before].sum() + self.to_close[~y & before].sum()
        if events >= _BIG / 2:
            return math.inf
        return self.base + float(self.stay[y].sum() + events)


@dataclass(frozen=True)
class Inner:
    """The inner minimum at one multiplier vector (:meth:`HubLagrangian.inner`)."""

    bound: float  # -inf (x and prices None) when some hub has no feasible sequence
    x: np.ndarray | None  # a minimiser, its event columns aside
    prices: HubPrices | None


def _rows(model: MatrixModel, name: str) -> sp.csr_matrix:
    part = model.row_blocks[name]
    return model.A[part.start : part.stop]


def _same(a: sp.csr_matrix, b: sp.csr_matrix) -> bool:
    return a.shape == b.shape and abs(a - b).sum() == 0


class HubLagrangian:
    """The bound of this module for one model; :meth:`of` says whether the model has its
    structure (``None`` otherwise)."""

    def __init__(self, model: MatrixModel, hubs: int, periods: int) -> None:
        self.model = model
        self.hubs, self.periods = hubs, periods
        rows = model.row_blocks
        names = ("throughput", "opening", "closing", "no_closing")
        self.kept = [rows[n] for n in names if n in rows]
        self.open = model.var_blocks["open"]
        self.opened = model.var_blocks["opened"]
        self.closed = model.var_blocks.get("closed")
        inside = np.zeros(model.n_vars, dtype=bool)
        for block in (self.open, self.opened, self.closed):
            if block is not None:
                inside[block] = True
        ship = model.var_blocks["ship"]
        self.item_row = np.zeros(0, dtype=np.int64)  # per knapsack item: its (h, t)
        self.item_col = np.zeros(0, dtype=np.int64)
        self.item_volume = np.zeros(0)
        self.capacity = np.zeros(hubs * periods)  # per (h, t) with a throughput row
        if "throughput" in rows:
            t = _rows(model, "throughput").tocoo()
            is_open = (t.col >= self.open.start) & (t.col < self.open.stop)
            hp = t.col[is_open] - self.open.start
            hp_of_row = np.full(t.shape[0], -1, dtype=np.int64)
            hp_of_row[t.row[is_open]] = hp
            self.capacity[hp] = -t.data[is_open]
            items = ~is_open
            self.item_row = hp_of_row[t.row[items]]
            self.item_col = t.col[items].astype(np.int64)
            self.item_volume = t.data[items]
            inside[self.item_col] = True
            self._valid = bool(
                (hp_of_row >= 0).all()
                and np.bincount(t.row[is_open], minlength=t.shape[0]).max(initial=1) == 1
                and ((self.item_col >= ship.start) & (self.item_col < ship.stop)).all()
                and (self.item_volume > 0).all()
                and len(np.unique(self.item_col)) == len(self.item_col)
                and (model.lb[self.item_col] == 0).all()
                and (self.capacity[hp] > 0).all()
            )
        else:
            self._valid = True
        self.inside = inside
        self.item_ub = model.ub[self.item_col]
        small = np.int16 if hubs * periods < np.iinfo(np.int16).max else np.int64
        self.sort_row = self.item_row.astype(small)
        self.start = np.zeros(hubs)
        self._valid = self._valid and self._events_match()

    @classmethod
    def of(cls, model: MatrixModel, hubs: int, periods: int) -> HubLagrangian | None:
        """The bound for ``model`` (``hubs`` x ``periods`` hub-periods), or None when the
        model's kept rows are not of the form this module solves (then no bound)."""
        rows, blocks = model.row_blocks, model.var_blocks
        if not (
            {"open", "opened", "ship"} <= blocks.keys()
            and "opening" in rows
            and ("closing" in rows) == ("closed" in blocks)
            and hubs * periods == blocks["open"].stop - blocks["open"].start
        ):
            return None
        made = cls(model, hubs, periods)
        return made if made._valid else None

    def _events_match(self) -> bool:
        """The opening (and closing / no-closing) rows are exactly
        ``opened[h,t] - open[h,t] + open[h,t-1] >= -start_h[t=1]`` (closing:
        ``closed[h,t] + open[h,t] - open[h,t-1] >= start_h[t=1]``; no closing:
        ``open[h,t] - open[h,t-1] >= 0``), hub-major; sets the hubs' starting state."""
        m, n, periods = self.model, self.hubs * self.periods, self.periods
        own = np.arange(n)
        later = own % periods > 0
        prev = own[later] - 1
        cols = m.n_vars

        def rows_of(event: slice, sign: float) -> sp.csr_matrix:
            r = np.concatenate([own, own, np.flatnonzero(later)])
            c = np.concatenate([event.start + own, self.open.start + own, self.open.start + prev])
            v = np.concatenate([np.ones(n), -sign * np.ones(n), sign * np.ones(len(prev))])
            return sp.csr_matrix((v, (r, c)), shape=(n, cols))

        opening = m.row_blocks["opening"]
        if not _same(_rows(m, "opening"), rows_of(self.opened, 1.0)):
            return False
        lo = m.row_lo[opening]
        first = own % periods == 0
        self.start = -lo[first]
        if not (np.isin(self.start, (0.0, 1.0)).all() and (lo[~first] == 0).all()):
            return False
        if self.closed is not None:
            closing = m.row_blocks["closing"]
            ok = _same(_rows(m, "closing"), rows_of(self.closed, -1.0))
            return ok and bool((m.row_lo[closing][first] == self.start).all())
        if "no_closing" in m.row_blocks:
            r = np.concatenate([np.arange(len(prev)), np.arange(len(prev))])
            c = np.concatenate([self.open.start + own[later], self.open.start + prev])
            v = np.concatenate([np.ones(len(prev)), -np.ones(len(prev))])
            expected = sp.csr_matrix((v, (r, c)), shape=(len(prev), cols))
            part = m.row_blocks["no_closing"]
            return _same(_rows(m, "no_closing"), expected) and bool((m.row_lo[part] == 0).all())
        return True

    def value(self, duals: np.ndarray, want_point: bool = False) -> tuple[float, np.ndarray | None]:
        """The bound at row multipliers ``duals`` (those of the kept rows are ignored) and,
        with ``want_point``, a minimiser of the inner problem (its event columns aside)."""
        inner = self.inner(duals)
        return inner.bound, inner.x if want_point else None

    def inner(self, duals: np.ndarray) -> Inner:
        """The inner minimum at row multipliers ``duals`` (those of the kept rows are
        ignored): the bound, a minimiser (its event columns aside) and the hubs' prices."""
        m = self.model
        y = np.asarray(duals, dtype=float).copy()
        for part in self.kept:
            y[part] = 0.0
        total, reduced = m._lagrangian(y, ~self.inside)
        if not math.isfinite(total):
            return Inner(total, None, None)
        # per (h, t): its throughput row's continuous knapsack over improving items
        r_item = reduced[self.item_col]
        improving = np.flatnonzero(r_item < 0)
        per_m3 = r_item[improving] / self.item_volume[improving]
        # by reduced cost per m3 within each (h, t): a sort by the cost, then a stable one
        # (a radix sort on small integers) by the row: 4x faster than np.lexsort here
        order = improving[np.argsort(per_m3)]
        order = order[np.argsort(self.sort_row[order], kind="stable")]
        hp = self.item_row[order]
        full = self.item_volume[order] * self.item_ub[order]
        before = np.cumsum(full) - full
        if len(hp):
            starts = np.r_[0, np.flatnonzero(np.diff(hp)) + 1]
            before -= np.repeat(before[starts], np.diff(np.r_[starts, len(hp)]))
        room = np.clip(self.capacity[hp] - before, 0.0, full)
        take = np.divide(room, self.item_volume[order])
        n = self.hubs * self.periods
        knapsack = np.bincount(hp, weights=r_item[order] * take, minlength=n)
        # items of a hub-period without a throughput row are priced at their boxes
        staying = reduced[self.open.start : self.open.stop] + knapsack
        is_open, hub_total, prices = self._sequences(reduced, staying, total)
        if (hub_total >= _BIG / 2).any():  # a hub with no feasible sequence: no bound
            return Inner(-math.inf, None, None)
        bound = total + float(hub_total.sum())
        x = np.where(reduced > 0, m.lb, m.ub).astype(float)
        x[reduced == 0] = m.lb[reduced == 0]
        x[self.item_col] = 0.0
        x[self.item_col[order]] = take * is_open[hp]
        x[self.open.start : self.open.stop] = is_open
        return Inner(bound, x, prices)

    def _sequences(
        self, reduced: np.ndarray, staying: np.ndarray, total: float
    ) -> tuple[np.ndarray, np.ndarray, HubPrices]:
        """Per hub, the cheapest open/closed sequence: ``staying[h,t]`` per open period,
        the event columns at their cheapest values, forced to 1 where the sequence opens
        (closes); the open matrix (flattened), each hub's value and the prices (``total``:
        the bound's part outside the hubs)."""
        m, H, T = self.model, self.hubs, self.periods
        o_lb = m.lb[self.open].reshape(H, T)
        o_ub = m.ub[self.open].reshape(H, T)
        stay = staying.reshape(H, T)

        def event_costs(block: slice | None) -> tuple[np.ndarray, np.ndarray]:
            if block is None:
                return np.zeros(H), np.full((H, T), _BIG)
            r = reduced[block].reshape(H, T)
            lb, ub = m.lb[block].reshape(H, T), m.ub[block].reshape(H, T)
            free = np.where(r > 0, r * lb, r * ub)
            forced = np.where(ub >= 1, np.where(r > 0, r * np.maximum(lb, 1.0), r * ub), _BIG)
            return free.sum(axis=1), forced - free

        free_open, to_open = event_costs(self.opened)
        free_close, to_close = event_costs(self.closed)
        was_open = self.start > 0.5
        v_open = np.where(was_open, 0.0, _BIG)
        v_closed = np.where(was_open, _BIG, 0.0)
        open_from_open = np.zeros((H, T), dtype=bool)
        closed_from_open = np.zeros((H, T), dtype=bool)
        for t in range(T):
            reopen = v_closed + to_open[:, t]
            open_from_open[:, t] = v_open <= reopen
            into_open = stay[:, t] + np.minimum(v_open, reopen)
            close = v_open + to_close[:, t]
            closed_from_open[:, t] = close < v_closed
            into_closed = np.minimum(v_closed, close)
            v_open = np.where(o_ub[:, t] < 0.5, _BIG, np.minimum(into_open, _BIG))
            v_closed = np.where(o_lb[:, t] > 0.5, _BIG, np.minimum(into_closed, _BIG))
        state = v_open <= v_closed
        hub_total = np.minimum(v_open, v_closed) + free_open + free_close
        is_open = np.zeros((H, T))
        for t in range(T - 1, -1, -1):
            is_open[:, t] = state
            state = np.where(state, open_from_open[:, t], closed_from_open[:, t])
        base = total + float(free_open.sum() + free_close.sum())
        prices = HubPrices(base, stay, to_open, to_close, was_open, o_lb, o_ub)
        return is_open.ravel(), hub_total, prices


def climb(
    bound: HubLagrangian,
    duals: np.ndarray,
    seconds: float,
    target: Callable[[], float],
    stop: threading.Event | None = None,
    on_better: Callable[[float, HubPrices], None] | None = None,
    offered: Callable[[], np.ndarray | None] = lambda: None,
) -> Climb:
    """Subgradient ascent on the multipliers of the :data:`CLIMB_ROWS` rows from
    ``duals``, for at most ``seconds`` or until ``stop`` is set: Polyak steps towards
    ``target()`` (the best plan's cost known so far) along the subgradient deflected by the
    last direction (Camerini, Fratta & Maffioli: ``d = g + beta d'``, ``beta = DEFLECTION
    * max(0, -g.d' / |d'|^2)``), the step's factor halved after :data:`PATIENCE` steps
    without a better bound. ``on_better`` hears the start's bound and every better one,
    with the hubs' prices there. ``offered()``, asked before each step, gives other
    multipliers (a later LP's duals) or None: the climb goes on from them, afresh, when
    their bound is above its best."""
    began = time.perf_counter()
    m = bound.model
    y = np.asarray(duals, dtype=float).copy()
    first = bound.inner(y)
    start = first.bound
    part = climbed_rows(bound)
    if not len(part) or first.x is None:  # nothing to climb
        return Climb(start, start, 0, time.perf_counter() - began)
    rows = m.A[part]
    lo, hi = m.row_lo[part], m.row_hi[part]
    equal = lo == hi
    side = np.where(np.isfinite(lo), lo, hi)
    best, factor, stale, steps = start, STEP, 0, 0
    if on_better is not None and first.prices is not None:
        on_better(start, first.prices)
    here, direction, restarts = first, None, 0
    while time.perf_counter() - began < seconds and not (stop is not None and stop.is_set()):
        fresh = offered()
        if fresh is not None:
            there = bound.inner(fresh)
            if there.bound > best + 1e-9 * abs(best) and there.prices is not None:
                y = np.asarray(fresh, dtype=float).copy()
                here, direction, best, factor, stale = there, None, there.bound, STEP, 0
                restarts += 1
                if on_better is not None:
                    on_better(best, there.prices)
        x = here.x
        if x is None:
            break
        # the subgradient: each row's side minus its activity at the inner minimiser
        g = side - rows @ x
        mu = y[part]
        g = np.where(~equal & np.isfinite(lo) & (mu <= 0) & (g < 0), 0.0, g)
        g = np.where(~equal & np.isfinite(hi) & (mu >= 0) & (g > 0), 0.0, g)
        if direction is not None:
            along = float(direction @ direction)
            if along > 0.0:
                g = g + DEFLECTION * max(0.0, -float(g @ direction) / along) * direction
        direction = g
        norm = float(g @ g)
        goal = target()
        if not math.isfinite(goal) or goal <= best:
            goal = best + 0.01 * abs(best) + 1.0
        if norm == 0.0 or factor < 1e-4:
            break
        mu = mu + factor * (goal - here.bound) / norm * g
        mu = np.where(~equal & np.isfinite(lo), np.maximum(mu, 0.0), mu)
        y[part] = np.where(~equal & np.isfinite(hi), np.minimum(mu, 0.0), mu)
        here = bound.inner(y)
        steps += 1
        if here.bound > best + 1e-9 * abs(best) and here.prices is not None:
            best, stale = here.bound, 0
            if on_better is not None:
                on_better(best, here.prices)
        else:
            stale += 1
            if stale >= PATIENCE:
                factor, stale = factor / 2.0, 0
    return Climb(best, start, steps, time.perf_counter() - began, restarts)
