"""The move space of the local search on ``open[h,t]``: which hubs may open or close
when, how far apart they are, what their arcs cost, and the neighbourhoods of a plan."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from hubopt.data.problem import ProblemData
from hubopt.geo import distance_matrix_km
from hubopt.model.matrix import MatrixModel


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
    by_stream: np.ndarray  # the arcs by stream, cheapest first within each
    penalty: np.ndarray  # per stream: its lost-sale penalty per unit (inf: must be served)

    @classmethod
    def of(cls, problem: ProblemData, model: MatrixModel) -> ArcCosts:
        """Read from ``model``'s objective and ``problem``'s arcs."""
        arcs, streams = problem.out_arcs, problem.streams
        k = arcs["stream_idx"].to_numpy()
        penalty = streams["lost_sale_penalty"].to_numpy(float)
        unmet = np.flatnonzero(np.isfinite(penalty))
        unit_volume = problem.products["unit_volume"].to_numpy(float)
        cost = model.c[model.var_blocks["ship"]]
        return cls(
            hub=arcs["hub_idx"].to_numpy(),
            stream=k,
            period=streams["period"].to_numpy()[k] - 1,
            cost=cost,
            volume=unit_volume[streams["product_idx"].to_numpy()[k]],
            quantity=streams["quantity"].to_numpy(float),
            unmet_cost=penalty[unmet],
            unmet_streams=unmet,
            nearest=np.argsort(hub_distances(problem), axis=1, kind="stable"),
            by_stream=np.lexsort((cost, k)),
            penalty=np.where(np.isfinite(penalty), penalty, np.inf),
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

    def loss(self, model: MatrixModel, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Per (hub, period) where the hub is open: what its flows of that period in plan
        ``x`` would cost more on each stream's cheapest arc to another hub open then (or
        unmet, at the lost-sale penalty; inf when a stream has neither). Capacities, stock
        and inbound costs are ignored: an estimate, not a bound. Zero where the hub is
        closed or ships nothing.

        On the 2000x150x10x12 rung's search model, for the 61 moves that put off a hub's
        opening by a period, ``fixed - loss`` ranks the LP's true saving with Spearman's
        rho 0.83 (the reduced costs' first-order change: -0.13; docs/solvers.md)."""
        n_streams = len(self.quantity)
        open_arc = y[self.hub, self.period] > 0.5
        order = self.by_stream[open_arc[self.by_stream]]
        first = self._cheapest(order)
        best_hub = np.full(n_streams, -1)
        best_hub[self.stream[order[first]]] = self.hub[order[first]]
        best = self._cost_per_stream(order[first])
        others = order[self.hub[order] != best_hub[self.stream[order]]]
        second = self._cost_per_stream(others[self._cheapest(others)])
        ship = model.block(x, "ship")
        used = np.flatnonzero((ship > 1e-9) & open_arc)
        k = self.stream[used]
        alternative = np.where(best_hub[k] == self.hub[used], second[k], best[k])
        alternative = np.minimum(alternative, self.penalty[k])
        extra = ship[used] * (alternative - self.cost[used])
        out = np.zeros(y.shape)
        np.add.at(out, (self.hub[used], self.period[used]), extra)
        return out

    def _cheapest(self, arcs: np.ndarray) -> np.ndarray:
        """Mask of ``arcs`` (sorted by stream, cheapest first) that are their stream's first."""
        streams = self.stream[arcs]
        return np.r_[True, streams[1:] != streams[:-1]] if len(arcs) else np.zeros(0, bool)

    def _cost_per_stream(self, arcs: np.ndarray) -> np.ndarray:
        """Per stream: the cost of its arc in ``arcs`` (one per stream at most), inf if none."""
        out = np.full(len(self.quantity), np.inf)
        out[self.stream[arcs]] = self.cost[arcs]
        return out


def retimings(
    y: np.ndarray,
    space: HubSpace,
    loss: np.ndarray,
    saving: np.ndarray,
    fixed: np.ndarray,
    least: float = 0.0,
) -> Iterator[tuple[float, np.ndarray]]:
    """A hub's first (and, with closing allowed, last) open period moved by one where the
    current plan's flows predict it pays, the largest predicted saving first: putting off
    an opening saves the period's fixed cost and loses ``loss`` (:meth:`ArcCosts.loss`);
    bringing one forward costs the fixed cost and gains ``saving``. Yields (predicted
    saving, move). Late in a search on the 2000x150x10x12 rung most improving moves are of
    this kind, each a period of one hub (docs/solvers.md). Only those predicted to save
    more than nothing and at least ``least``."""
    predicted: list[tuple[float, int, int, float]] = []
    for h in np.flatnonzero(y.any(axis=1)):
        periods = np.flatnonzero(y[h] > 0.5)
        first, last = int(periods[0]), int(periods[-1])
        inner, outer = {first}, {first - 1}
        if space.allow_closing:
            inner.add(last)
            outer.add(last + 1)
        for t in inner:
            if y[h, t] > space.lb[h, t]:
                predicted.append((float(loss[h, t] - fixed[h, t]), int(h), t, 0.0))
        for t in outer:
            if 0 <= t < y.shape[1] and y[h, t] < space.ub[h, t]:
                predicted.append((float(fixed[h, t] - saving[h, t]), int(h), t, 1.0))
    for change, hub, t, value in sorted(predicted):
        if change >= 0 or -change < least:
            break
        z = y.copy()
        z[hub, t] = value
        yield -change, z


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


def shifts(y: np.ndarray, steps: range | None = None) -> Iterator[np.ndarray]:
    """Move a hub's first (and, with closing allowed, last) open period by each of
    ``steps`` periods (default one, two, ... up to the horizon: every opening period a hub
    could have), nearest first."""
    for step in steps if steps is not None else range(1, y.shape[1]):
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
    """The neighbourhoods of ``y`` in the order :func:`improve` descends them: opening
    periods shifted by one (cheap LPs, measured the most productive on the 10-period
    Korea demo), opening, closing and swapping hubs, then the longer shifts (on Korea a
    pass of them took ~25 s and none of the early improvements was one: last, the search
    reached 18.837 bn in 90 s where it stopped at 18.912 bn, docs/solvers.md). ``saving``
    and ``fixed`` are per hub and period; ``nearest[h]`` the hubs by distance from ``h``."""
    movable_open = np.flatnonzero((y > space.lb).any(axis=1))
    closed_room = np.flatnonzero((y < space.ub).any(axis=1))
    by_use = movable_open[np.argsort(usage[movable_open], kind="stable")]
    pays = saving > fixed
    net = np.maximum(saving - fixed, 0.0).sum(axis=1)[closed_room]
    by_gain = closed_room[np.argsort(-net, kind="stable")]
    return [
        shifts(y, range(1, 2)),
        openings(y, space, by_gain, pays),
        closings(y, space, by_use),
        swaps(y, space, by_use, closed_room, nearest, pays),
        shifts(y, range(2, y.shape[1])),
    ]
