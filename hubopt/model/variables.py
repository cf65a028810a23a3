"""Variable families and their objective coefficients (DESIGN §3 decisions and objective).

=========  ===================  ==========================================================
block      index                meaning (unit), cost per unit of the variable
=========  ===================  ==========================================================
open       hub, period          1 if the hub is open (binary); fixed_cost per period
opened     hub, period          opening event in [0, 1]; opening_cost
closed     hub, period          closing event in [0, 1] (only if closing allowed); closing_cost
ship       outbound arc         units hub -> stream by mode; transport + handling + returns
                                + late penalty + carbon price x CO2
inflow     inbound arc          units source -> hub by mode (or free per hub-product-period
                                without sources); supply + transport + carbon price x CO2
stock      hub, product, period end-of-period units; holding_cost
unmet      stream with penalty  units not delivered; lost_sale_penalty
assign     hub, region          1 if the region is served by the hub (single sourcing)
peak       hub, period          m3 of throughput above the base capacity (only where a
                                peak capacity exists); peak_cost_per_m3
pickup_    pickup point, period 1 if the pickup point is open (binary); fixed_cost per period
open
include    campaign, region     1 if a ``footprint: optimize`` campaign runs in the region
                                (binary); spend_per_region - incremental margin
=========  ===================  ==========================================================
"""

from __future__ import annotations

import numpy as np

from hubopt.data.problem import ProblemData, arc_unit_cost
from hubopt.model.index import layout_of
from hubopt.model.matrix import ModelAssembler


def open_bounds(problem: ProblemData) -> tuple[np.ndarray, np.ndarray]:
    """(lb, ub) of ``open[h,t]``, flattened hub-major: status and ``open_from_period``.

    forced_closed -> 0; t < open_from_period -> 0; forced_open -> 1 from open_from_period;
    existing with closing not allowed -> 1.
    """
    hubs = problem.hubs
    t = np.arange(1, problem.periods + 1)
    status = hubs["status"].to_numpy()[:, None]
    open_from = hubs["open_from_period"].to_numpy()[:, None]
    ub = np.where((status == "forced_closed") | (t[None, :] < open_from), 0.0, 1.0)
    must = (status == "forced_open") | ((status == "existing") & (not problem.policy.allow_closing))
    lb = np.where(must & (t[None, :] >= open_from), 1.0, 0.0)
    return lb.ravel(), ub.ravel()


def define_open(m: ModelAssembler, problem: ProblemData) -> None:
    """``open[h,t]`` binary, fixed cost per open period; bounds from :func:`open_bounds`."""
    lb, ub = open_bounds(problem)
    cost = np.repeat(problem.hubs["fixed_cost"].to_numpy(float), problem.periods)
    m.add_variables("open", cost, lb, ub, integer=True)


def define_events(m: ModelAssembler, problem: ProblemData) -> None:
    """``opened[h,t]`` (and ``closed[h,t]`` when closing is allowed), continuous in [0, 1]."""
    hubs = problem.hubs
    m.add_variables(
        "opened", np.repeat(hubs["opening_cost"].to_numpy(float), problem.periods), 0.0, 1.0
    )
    if problem.policy.allow_closing:
        m.add_variables(
            "closed", np.repeat(hubs["closing_cost"].to_numpy(float), problem.periods), 0.0, 1.0
        )


def define_ship(m: ModelAssembler, problem: ProblemData) -> None:
    """``ship[a]`` >= 0 on every outbound arc, at most the stream's quantity."""
    arcs = problem.out_arcs
    ub = problem.streams["quantity"].to_numpy(float)[arcs["stream_idx"].to_numpy()]
    m.add_variables("ship", arc_unit_cost(problem), 0.0, ub)


def define_inflow(m: ModelAssembler, problem: ProblemData) -> None:
    """``inflow`` >= 0 per inbound arc, or free per (hub, product, period) without sources."""
    if problem.free_replenishment:
        m.add_variables("inflow", np.zeros(layout_of(problem).n_hub_product_periods))
        return
    arcs = problem.in_arcs
    carbon = problem.policy.carbon.price_per_t
    cost = (
        arcs["supply_cost"].to_numpy(float)
        + arcs["transport_cost"].to_numpy(float)
        + carbon * arcs["co2_t"].to_numpy(float)
    )
    m.add_variables("inflow", cost)


def define_stock(m: ModelAssembler, problem: ProblemData) -> None:
    """``stock[h,p,t]`` >= 0, end-of-period units, holding cost per unit per period."""
    layout = layout_of(problem)
    _, p, _ = layout.grid()
    m.add_variables("stock", problem.products["holding_cost"].to_numpy(float)[p])


def unmet_streams(problem: ProblemData) -> np.ndarray:
    """Stream positions that may go unmet (their product has a lost-sale penalty)."""
    return np.flatnonzero(np.isfinite(problem.streams["lost_sale_penalty"].to_numpy(float)))


def define_unmet(m: ModelAssembler, problem: ProblemData) -> None:
    """``unmet[k]`` >= 0 for streams whose product has a lost-sale penalty."""
    k = unmet_streams(problem)
    streams = problem.streams
    m.add_variables(
        "unmet",
        streams["lost_sale_penalty"].to_numpy(float)[k],
        0.0,
        streams["quantity"].to_numpy(float)[k],
    )


def assign_pairs(problem: ProblemData) -> tuple[np.ndarray, np.ndarray]:
    """(hub, region) pairs that carry an assign variable under single sourcing."""
    arcs = problem.out_arcs
    region = problem.streams["region_idx"].to_numpy()[arcs["stream_idx"].to_numpy()]
    key = np.unique(arcs["hub_idx"].to_numpy() * len(problem.regions) + region)
    return key // len(problem.regions), key % len(problem.regions)


def define_assign(m: ModelAssembler, problem: ProblemData) -> None:
    """``assign[h,r]`` binary, only with single sourcing."""
    if problem.policy.single_sourcing:
        hubs, _ = assign_pairs(problem)
        m.add_variables("assign", np.zeros(len(hubs)), 0.0, 1.0, integer=True)


def peak_hub_periods(problem: ProblemData) -> np.ndarray:
    """Positions (hub-major, as ``open``) of the hub-periods with peak capacity."""
    return np.flatnonzero(problem.peak_ht.ravel() > 0)


def define_peak(m: ModelAssembler, problem: ProblemData) -> None:
    """``peak[h,t]`` in [0, peak capacity] (m3), ``peak_cost_per_m3`` each."""
    hp = peak_hub_periods(problem)
    if not len(hp):
        return
    cost = np.repeat(problem.hubs["peak_cost_per_m3"].to_numpy(float), problem.periods)[hp]
    m.add_variables("peak", cost, 0.0, problem.peak_ht.ravel()[hp])


def pickup_open_bounds(problem: ProblemData) -> tuple[np.ndarray, np.ndarray]:
    """(lb, ub) of ``pickup_open[q,t]``, flattened point-major: forced_closed -> 0;
    forced_open and existing -> 1 (existing ones may close only if closing is allowed)."""
    status = problem.pickups["status"].to_numpy()[:, None]
    shape = (len(problem.pickups), problem.periods)
    ub = np.broadcast_to(np.where(status == "forced_closed", 0.0, 1.0), shape)
    must = (status == "forced_open") | ((status == "existing") & (not problem.policy.allow_closing))
    lb = np.broadcast_to(np.where(must, 1.0, 0.0), shape)
    return lb.ravel().copy(), ub.ravel().copy()


def define_pickup_open(m: ModelAssembler, problem: ProblemData) -> None:
    """``pickup_open[q,t]`` binary per pickup point and period, fixed cost per open period.

    Pickup points (stores, lockers) open and close period by period: no opening costs.
    """
    if not len(problem.pickups):
        return
    lb, ub = pickup_open_bounds(problem)
    cost = np.repeat(problem.pickups["fixed_cost"].to_numpy(float), problem.periods)
    m.add_variables("pickup_open", cost, lb, ub, integer=True)
