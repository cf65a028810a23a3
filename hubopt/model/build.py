"""Build the MILP of DESIGN §3 from ProblemData: a flat sequence of define_* calls."""

from __future__ import annotations

import logging
import time

from hubopt.data.problem import ProblemData
from hubopt.model import flow, footprint, network, strong, variables
from hubopt.model.matrix import MatrixModel, ModelAssembler

log = logging.getLogger(__name__)

VARIABLE_FAMILIES = (
    variables.define_open,
    variables.define_events,
    variables.define_ship,
    variables.define_inflow,
    variables.define_stock,
    variables.define_unmet,
    variables.define_assign,
    variables.define_peak,
    variables.define_pickup_open,
    footprint.define_include,
)
CONSTRAINT_FAMILIES = (
    flow.define_demand,
    flow.define_balance,
    flow.define_safety_stock,
    network.define_throughput,
    network.define_storage,
    network.define_linking,
    flow.define_supply,
    flow.define_service,
    network.define_hub_count,
    network.define_events,
    network.define_budget,
    network.define_single_sourcing,
    network.define_carbon_cap,
    network.define_pickup,
    footprint.define_region_count,
)
STRENGTHENING_FAMILIES = (
    strong.define_flow_bounds,
    strong.define_assigned_streams,
    strong.define_cover,
    strong.define_reach,
)


def build_model(problem: ProblemData, strengthen: bool = True, reach: bool = True) -> MatrixModel:
    """Assemble every variable and constraint family into one matrix model.

    ``strengthen`` adds the valid inequalities of :mod:`hubopt.model.strong` (finite flow
    bounds, single-sourcing equalities, cover and reach rows); they are implied by the other
    families, so the plans are the same. Models that relax those families (the elastic
    model) are built without. ``reach: False`` leaves out the reach rows alone (a model
    whose solve keeps few arcs per stream: :func:`hubopt.api.solve`).
    """
    start = time.perf_counter()
    m = ModelAssembler()
    extra = tuple(
        define
        for define in (STRENGTHENING_FAMILIES if strengthen else ())
        if reach or define is not strong.define_reach
    )
    for define in (*VARIABLE_FAMILIES, *CONSTRAINT_FAMILIES, *extra):
        define(m, problem)
    model = m.build()
    log.info("built model %s in %.2f s", model.stats(), time.perf_counter() - start)
    return model
