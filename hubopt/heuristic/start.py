"""Starting plans: the greedy proposal of which hubs to open, and the start vector."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hubopt.data.problem import ProblemData
from hubopt.model.index import layout_of
from hubopt.model.matrix import MatrixModel


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
