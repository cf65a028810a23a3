"""The elastic re-solve: the same model with penalised slack on the relaxable families."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import scipy.sparse as sp

from hubopt.data.problem import ProblemData, build_problem
from hubopt.diagnose.relaxations import describe_slack, forced_relaxations, window_relaxations
from hubopt.diagnose.text import (
    COST_UNIT,
    MAX_LINES_PER_FAMILY,
    UNITS,
    WEIGHTS,
    Relaxation,
    Slack,
    count_text,
)
from hubopt.model.build import build_model
from hubopt.model.matrix import MatrixModel
from hubopt.model.network import stock_bound
from hubopt.model.variables import open_bounds
from hubopt.scenario.scenario import Scenario
from hubopt.scenario.schema import SolverSettings
from hubopt.solvers import get_backend

log = logging.getLogger(__name__)


def elastic_problem(problem: ProblemData, scenario: Scenario) -> ProblemData:
    """The scenario rebuilt with late arcs and every hub allowed in every period.

    Streams keep their positions (they do not depend on windows or hub statuses).
    """
    policy = scenario.config.policy
    late = policy.late_penalty_per_unit if policy.late_penalty_per_unit is not None else 0.0
    config = scenario.config.model_copy(
        update={"policy": policy.model_copy(update={"late_penalty_per_unit": late})}
    )
    hubs = scenario.tables.hubs.copy()
    hubs.loc[hubs["status"] == "forced_closed", "status"] = "candidate"
    hubs.loc[hubs["status"] != "existing", "open_from_period"] = 1
    relaxed = dataclasses.replace(
        scenario, config=config, tables=scenario.tables.replace(hubs=hubs)
    )
    return build_problem(relaxed)


def _slacks(elastic: ProblemData, model: MatrixModel) -> list[Slack]:
    blocks = model.row_blocks
    out: list[Slack] = []

    def rows(name: str) -> np.ndarray:
        sl = blocks[name]
        return np.arange(sl.stop - sl.start)

    if "demand" in blocks:
        qty = elastic.streams["quantity"].to_numpy(float)
        out.append(Slack("demand", "demand", rows("demand"), 1.0, qty))
    if "service" in blocks:
        sl = blocks["service"]
        out.append(Slack("service", "service", rows("service"), 1.0, model.row_lo[sl]))
    if "throughput" in blocks:
        cap = (elastic.throughput_ht + elastic.peak_ht).ravel()
        keep = np.flatnonzero(np.isfinite(cap))
        scale = np.maximum(cap[keep], 1e-9)
        out.append(Slack("throughput", "throughput", rows("throughput"), -1.0, scale))
    if "storage" in blocks:
        scale = np.repeat(stock_bound(elastic), elastic.periods)
        out.append(Slack("storage", "storage", rows("storage"), -1.0, scale))
    if "supply" in blocks:
        cap = elastic.supply["capacity"].to_numpy(float)
        out.append(Slack("supply", "supply", rows("supply"), -1.0, cap[np.isfinite(cap)]))
    if "pickup" in blocks:
        sl = blocks["pickup"]
        size = -model.A[sl.start : sl.stop].min(axis=1).toarray().ravel()  # min(cap, D)
        out.append(Slack("pickup", "pickup", rows("pickup"), -1.0, size))
    if "hub_count" in blocks:
        ones = np.ones(elastic.periods)
        out.append(Slack("hub_count", "hub_count", rows("hub_count"), 1.0, ones))
        out.append(Slack("hub_count", "hub_count", rows("hub_count"), -1.0, ones))
    if "carbon_cap" in blocks:
        cap = float(elastic.policy.carbon.cap_t or 0.0)
        out.append(Slack("carbon_cap", "carbon_cap", np.zeros(1, int), -1.0, np.array([cap])))
    if "budget" in blocks:
        budget = float(elastic.policy.fixed_cost_budget or 0.0)
        out.append(Slack("budget", "budget", np.zeros(1, int), -1.0, np.array([budget])))
    return out


def elastic_relaxations(
    problem: ProblemData, scenario: Scenario, settings: SolverSettings | None = None
) -> list[Relaxation]:
    """Solve the elastic model; return the relaxations it needed, largest families first."""

    elastic = elastic_problem(problem, scenario)
    model = build_model(elastic, strengthen=False)  # its slacks relax what those imply
    slacks = _slacks(elastic, model)
    c = np.zeros(model.n_vars)
    lb, ub = model.lb.copy(), model.ub.copy()
    # forced statuses: open is free in [0, 1]; deviating from the stated bound costs WEIGHTS["forced"]
    open_sl = model.var_blocks["open"]
    orig_lb, orig_ub = open_bounds(problem)
    lb[open_sl], ub[open_sl] = 0.0, 1.0
    c[open_sl] = WEIGHTS["forced"] * (np.where(orig_ub == 0, 1.0, 0.0) - orig_lb)
    offset = WEIGHTS["forced"] * float(orig_lb.sum())
    # windows: a late arc the scenario does not allow costs WEIGHTS["window"] per share of its stream
    arcs = elastic.out_arcs
    ship_sl = model.var_blocks["ship"]
    qty = elastic.streams["quantity"].to_numpy(float)[arcs["stream_idx"].to_numpy()]
    if problem.policy.late_penalty_per_unit is None:
        late = arcs["late"].to_numpy(dtype=bool)
        c[ship_sl] = np.where(late, WEIGHTS["window"] / np.maximum(qty, 1.0), 0.0)
    # slack columns
    cols: list[sp.coo_matrix] = []
    costs, blocks = [], {}
    n = model.n_vars
    for index, slack in enumerate(slacks):
        start = model.row_blocks[slack.block].start
        m = len(slack.rows)
        cols.append(
            sp.coo_matrix(
                (np.full(m, slack.sign), (start + slack.rows, np.arange(m))),
                shape=(model.n_rows, m),
            )
        )
        costs.append(
            WEIGHTS[slack.family] / np.maximum(np.nan_to_num(slack.scale, posinf=1.0), 1.0)
        )
        blocks[f"slack{index}"] = slice(n, n + m)
        n += m
    A = sp.hstack([model.A, *cols], format="csr") if cols else model.A
    extra = n - model.n_vars
    elastic_model = MatrixModel(
        c=np.concatenate([c, *costs]) if costs else c,
        lb=np.concatenate([lb, np.zeros(extra)]),
        ub=np.concatenate([ub, np.full(extra, np.inf)]),
        integer=np.concatenate([model.integer, np.zeros(extra, dtype=bool)]),
        A=A,
        row_lo=model.row_lo,
        row_hi=model.row_hi,
        var_blocks={**model.var_blocks, **blocks},
        row_blocks=model.row_blocks,
        offset=offset,
    )
    elastic_model = dataclasses.replace(
        elastic_model, c=elastic_model.c * COST_UNIT, offset=offset * COST_UNIT
    )
    base = settings or scenario.config.solver
    run = base.model_copy(
        # The penalties dominate the objective, so a loose gap still finds the smallest
        # relaxation; the diagnosis must not take longer than the solve it explains.
        update={"mip_gap": 0.02, "time_limit_s": min(base.time_limit_s, 30.0), "options": {}}
    )
    backend = get_backend("highs" if get_backend("auto").name == "highs" else "auto")
    output = backend.solve(elastic_model, run)
    if not output.status.has_solution or output.x is None:
        raise RuntimeError(f"elastic re-solve ended {output.status}: {output.message}")
    x = output.x
    found: list[Relaxation] = []
    found += window_relaxations(problem, elastic, model, x)
    for index, slack in enumerate(slacks):
        values = x[blocks[f"slack{index}"]]
        tol = 1e-6 * np.maximum(np.nan_to_num(slack.scale, posinf=1.0), 1.0)
        hit = np.flatnonzero(values > tol)
        if len(hit):
            found += describe_slack(problem, elastic, slack, hit, values[hit])
    found += forced_relaxations(problem, x[open_sl], orig_lb, orig_ub)
    order = list(WEIGHTS)
    found.sort(key=lambda r: order.index(r.family))
    return _trim(found)


def _trim(found: list[Relaxation]) -> list[Relaxation]:
    out: list[Relaxation] = []
    for family in dict.fromkeys(r.family for r in found):
        items = [r for r in found if r.family == family]
        items.sort(key=lambda r: -r.amount)
        out += items[:MAX_LINES_PER_FAMILY]
        if len(items) > MAX_LINES_PER_FAMILY:
            rest = sum(r.amount for r in items[MAX_LINES_PER_FAMILY:])
            out.append(
                Relaxation(
                    family,
                    rest,
                    f"... and {len(items) - MAX_LINES_PER_FAMILY} more like these "
                    f"({count_text(rest)} {UNITS[family]} in all).",
                )
            )
    return out
