"""Explain an infeasible scenario in the planner's terms.

Two layers:

1. quick structural checks on :class:`ProblemData` (demand above every allowed hub's
   capacity; demand no allowed lane reaches in time);
2. an **elastic re-solve**: the same model, rebuilt with the arcs beyond the delivery
   windows (flagged late), every forced hub status relaxed, and a penalised nonnegative
   slack column on each row of the relaxable families. Minimising the weighted slack
   finds the smallest relaxation that makes the scenario feasible; each nonzero slack
   is reported as a sentence naming the campaign, region, hub, source or period.

Weights (per unit of relative relaxation, e.g. "10 % of a hub's capacity"), cheapest
first: a delivery window (1) < a campaign service level (2) < the carbon cap (3) <
throughput, storage or supply capacity (4) < hub-count limits and the budget (5) <
forced hub statuses (6) < unmet demand (10). So a late delivery is preferred to
inventing capacity, and inventing capacity to dropping demand.

Where HiGHS is installed, its irreducible infeasible subset (IIS) of the LP relaxation
is computed as a cross-check and its row families are listed.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from hubopt.data.problem import ProblemData, build_problem
from hubopt.model.matrix import MatrixModel
from hubopt.model.network import stock_bound
from hubopt.model.variables import open_bounds
from hubopt.scenario.scenario import Scenario
from hubopt.scenario.schema import SolverSettings

log = logging.getLogger(__name__)

WEIGHTS = {
    "window": 1.0,
    "service": 2.0,
    "carbon_cap": 3.0,
    "throughput": 4.0,
    "storage": 4.0,
    "supply": 4.0,
    "hub_count": 5.0,
    "budget": 5.0,
    "forced": 6.0,
    "demand": 10.0,
}
# Objective units per unit of weight: HiGHS solves the elastic model several times faster
# when the slack costs are not tiny (measured on korea-small: 13 s -> 3 s).
COST_UNIT = 1000.0
MAX_LINES_PER_FAMILY = 8
UNITS = {
    "window": "units",
    "service": "units",
    "carbon_cap": "t CO2",
    "throughput": "m³",
    "storage": "m³",
    "supply": "units",
    "hub_count": "hubs",
    "budget": "money",
    "forced": "hub-periods",
    "demand": "units",
}
IIS_MAX_ROWS = 200_000


@dataclass(frozen=True)
class Relaxation:
    """One relaxation the elastic re-solve needed: family, amount (natural unit), sentence."""

    family: str
    amount: float
    message: str


def diagnose_infeasibility(
    problem: ProblemData,
    scenario: Scenario | None = None,
    model: MatrixModel | None = None,
    settings: SolverSettings | None = None,
) -> list[str]:
    """Reasons the scenario cannot be planned, as sentences naming ids and numbers.

    With ``scenario`` the elastic re-solve runs (see the module docstring); with
    ``model`` the IIS cross-check runs too. Without them only the structural checks run.
    """
    reasons = _capacity_shortfall(problem)
    relaxations: list[Relaxation] | None = None
    if scenario is not None:
        try:
            relaxations = elastic_relaxations(problem, scenario, settings)
        except Exception as err:  # the diagnosis must never hide the infeasible status
            log.warning("elastic re-solve failed: %s", err)
    if relaxations:
        reasons.append(
            "Smallest relaxation that makes the scenario feasible "
            "(windows are relaxed before service levels, capacities, hub limits, and demand):"
        )
        reasons += [r.message for r in relaxations]
    elif relaxations is not None:
        reasons.append(
            "The elastic re-solve found a plan that needs no relaxation: the infeasibility is "
            "numerical or comes from a rule not relaxed here (single sourcing, linking); "
            "try a looser mip_gap or another backend."
        )
    else:
        reasons += _unreachable_streams(problem)
    if model is not None:
        reasons += _iis_cross_check(model)
    if not reasons:
        reasons.append(
            "No single structural cause was found: the combination of capacities, supply, hub limits, "
            "service levels and windows is infeasible together. Relax one at a time (what-if) to locate it."
        )
    return reasons


# ---- formatting -----------------------------------------------------------------------


def _n(value: float) -> str:
    """1240.4 -> '1 240' (thin grouping as in the planners' reports)."""
    whole = abs(value - round(value)) < 1e-6 * max(1.0, abs(value))
    digits = 0 if whole or abs(value) >= 100 else (1 if abs(value) >= 1 else 3)
    return f"{value:,.{digits}f}".replace(",", " ")


def _region(problem: ProblemData, region_idx: int) -> str:
    row = problem.regions.iloc[region_idx]
    name = str(row.get("name", "") or "")
    return (
        f"{row['region_id']} ({name})"
        if name and name != row["region_id"]
        else str(row["region_id"])
    )


def _fastest_lane(problem: ProblemData, region_idx: int, period: int) -> str:
    """'the fastest lane is H-BUSAN by SEA at 31 h' (allowed hubs only), or why none."""
    pairs = problem.out_pairs
    open_from = problem.hubs["open_from_period"].to_numpy()
    sel = pairs[
        (pairs["region_idx"].to_numpy() == region_idx)
        & (open_from[pairs["hub_idx"].to_numpy()] <= period)
    ]
    if not len(sel):
        return "no lane from any allowed hub reaches it (lanes, max_distance_km, nearest_hubs)"
    best = sel.iloc[int(np.argmin(sel["transit_hours"].to_numpy()))]
    hub = problem.hubs["hub_id"].iloc[int(best["hub_idx"])]
    mode = problem.modes["mode_id"].iloc[int(best["mode_idx"])]
    return f"the fastest lane is {hub} by {mode} at {best['transit_hours']:.1f} h"


# ---- structural checks ----------------------------------------------------------------


def _unreachable_streams(problem: ProblemData) -> list[str]:
    streams = problem.streams
    served = np.zeros(len(streams), dtype=bool)
    served[problem.out_arcs["stream_idx"].to_numpy()] = True
    must = ~np.isfinite(streams["lost_sale_penalty"].to_numpy(float))
    stuck = np.flatnonzero(~served & must)
    out = []
    for k in stuck[:10]:
        row = streams.iloc[k]
        window = row["window_hours"]
        within = f"within {window:g} h" if np.isfinite(window) else "at all"
        campaign = f"campaign `{row['campaign_id']}`: " if row["campaign_id"] else ""
        lane = _fastest_lane(problem, int(row["region_idx"]), int(row["period"]))
        out.append(
            f"{campaign}{_n(row['quantity'])} units of {row['product_id']} in region "
            f"{_region(problem, int(row['region_idx']))} (period {row['period']}, channel "
            f"{row['channel']}) cannot arrive {within} from any allowed hub; {lane}; the product "
            "has no lost_sale_penalty and policy.late_penalty_per_unit is not set."
        )
    if len(stuck) > 10:
        out.append(f"... and {len(stuck) - 10} more demand streams with no allowed delivery arc.")
    return out


def _capacity_shortfall(problem: ProblemData) -> list[str]:
    vol = problem.products["unit_volume"].to_numpy(float)
    streams = problem.streams
    must = ~np.isfinite(streams["lost_sale_penalty"].to_numpy(float))
    need = np.bincount(
        streams["period"].to_numpy()[must] - 1,
        weights=(streams["quantity"].to_numpy(float) * vol[streams["product_idx"].to_numpy()])[
            must
        ],
        minlength=problem.periods,
    )
    hubs = problem.hubs
    cap = hubs["throughput_capacity"].to_numpy(float)
    usable = hubs["status"].to_numpy() != "forced_closed"
    out = []
    for t in range(1, problem.periods + 1):
        allowed = usable & (hubs["open_from_period"].to_numpy() <= t)
        caps = np.sort(cap[allowed])[::-1]
        limit = problem.policy.max_open_hubs
        total = caps[:limit].sum() if limit is not None else caps.sum()
        if need[t - 1] > total + 1e-9:
            which = (
                f"the {limit} largest hubs allowed to open"
                if limit is not None
                else "all hubs allowed to open"
            )
            out.append(
                f"period {t}: demand that must be met is {_n(need[t - 1])} m³, above the "
                f"throughput capacity of {which} ({_n(total)} m³)."
            )
    return out


# ---- the elastic re-solve -------------------------------------------------------------


@dataclass(frozen=True)
class _Slack:
    family: str  # WEIGHTS key
    block: str  # row block of the model
    rows: np.ndarray  # local row positions inside the block
    sign: float  # +1 raises A x, -1 lowers it
    scale: np.ndarray  # natural size of each row (the slack is weighted relative to it)


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


def _slacks(elastic: ProblemData, model: MatrixModel) -> list[_Slack]:
    blocks = model.row_blocks
    out: list[_Slack] = []

    def rows(name: str) -> np.ndarray:
        sl = blocks[name]
        return np.arange(sl.stop - sl.start)

    if "demand" in blocks:
        qty = elastic.streams["quantity"].to_numpy(float)
        out.append(_Slack("demand", "demand", rows("demand"), 1.0, qty))
    if "service" in blocks:
        sl = blocks["service"]
        out.append(_Slack("service", "service", rows("service"), 1.0, model.row_lo[sl]))
    if "throughput" in blocks:
        cap = elastic.hubs["throughput_capacity"].to_numpy(float)
        keep = np.flatnonzero(np.repeat(np.isfinite(cap), elastic.periods))
        scale = np.repeat(cap, elastic.periods)[keep]
        out.append(_Slack("throughput", "throughput", rows("throughput"), -1.0, scale))
    if "storage" in blocks:
        scale = np.repeat(stock_bound(elastic), elastic.periods)
        out.append(_Slack("storage", "storage", rows("storage"), -1.0, scale))
    if "supply" in blocks:
        cap = elastic.supply["capacity"].to_numpy(float)
        out.append(_Slack("supply", "supply", rows("supply"), -1.0, cap[np.isfinite(cap)]))
    if "hub_count" in blocks:
        ones = np.ones(elastic.periods)
        out.append(_Slack("hub_count", "hub_count", rows("hub_count"), 1.0, ones))
        out.append(_Slack("hub_count", "hub_count", rows("hub_count"), -1.0, ones))
    if "carbon_cap" in blocks:
        cap = float(elastic.policy.carbon.cap_t or 0.0)
        out.append(_Slack("carbon_cap", "carbon_cap", np.zeros(1, int), -1.0, np.array([cap])))
    if "budget" in blocks:
        budget = float(elastic.policy.fixed_cost_budget or 0.0)
        out.append(_Slack("budget", "budget", np.zeros(1, int), -1.0, np.array([budget])))
    return out


def elastic_relaxations(
    problem: ProblemData, scenario: Scenario, settings: SolverSettings | None = None
) -> list[Relaxation]:
    """Solve the elastic model; return the relaxations it needed, largest families first."""
    from hubopt.model.build import build_model
    from hubopt.solvers import get_backend

    elastic = elastic_problem(problem, scenario)
    model = build_model(elastic)
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
    found += _window_relaxations(problem, elastic, model, x)
    for index, slack in enumerate(slacks):
        values = x[blocks[f"slack{index}"]]
        tol = 1e-6 * np.maximum(np.nan_to_num(slack.scale, posinf=1.0), 1.0)
        hit = np.flatnonzero(values > tol)
        if len(hit):
            found += _describe(problem, elastic, slack, hit, values[hit])
    found += _forced_relaxations(problem, x[open_sl], orig_lb, orig_ub)
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
                    f"({_n(rest)} {UNITS[family]} in all).",
                )
            )
    return out


def _window_relaxations(
    problem: ProblemData, elastic: ProblemData, model: MatrixModel, x: np.ndarray
) -> list[Relaxation]:
    """Units the relaxed plan delivers beyond their window, per campaign and region."""
    if problem.policy.late_penalty_per_unit is not None:
        return []
    arcs = elastic.out_arcs
    ship = model.block(x, "ship")
    late = arcs["late"].to_numpy(dtype=bool) & (ship > 1e-6)
    if not late.any():
        return []
    streams = elastic.streams
    frame = pd.DataFrame(
        {
            "stream_idx": arcs["stream_idx"].to_numpy()[late],
            "units": ship[late],
        }
    )
    frame = frame.join(
        streams[["campaign_id", "region_idx", "period", "window_hours"]], on="stream_idx"
    )
    out = []
    for (campaign, region_idx, window), group in frame.groupby(
        ["campaign_id", "region_idx", "window_hours"], sort=False
    ):
        units = float(group["units"].sum())
        period = int(group["period"].min())
        who = f"campaign `{campaign}`: " if campaign else ""
        out.append(
            Relaxation(
                "window",
                units,
                f"{who}{_n(units)} units in region {_region(problem, int(region_idx))} cannot arrive "
                f"within {window:g} h from any allowed hub; "
                f"{_fastest_lane(problem, int(region_idx), period)}. Widen the window, set "
                "policy.late_penalty_per_unit, or give the product a lost_sale_penalty.",
            )
        )
    return out


def _describe(
    problem: ProblemData,
    elastic: ProblemData,
    slack: _Slack,
    hit: np.ndarray,
    values: np.ndarray,
) -> list[Relaxation]:
    family = slack.family
    out: list[Relaxation] = []
    hubs = elastic.hubs
    if family == "demand":
        streams = elastic.streams
        reached = np.zeros(len(streams), dtype=bool)
        reached[elastic.out_arcs["stream_idx"].to_numpy()] = True
        for k, v in zip(hit, values, strict=True):
            row = streams.iloc[int(k)]
            who = f"campaign `{row['campaign_id']}`: " if row["campaign_id"] else ""
            why = (
                "the hubs that reach it cannot be supplied in time"
                if reached[k]
                else "no lane from any hub reaches the region (lanes, max_distance_km, nearest_hubs)"
            )
            out.append(
                Relaxation(
                    family,
                    float(v),
                    f"{who}{_n(v)} of {_n(row['quantity'])} units of {row['product_id']} in region "
                    f"{_region(problem, int(row['region_idx']))} in period {row['period']} cannot be "
                    f"delivered: {why}; the product has no lost_sale_penalty.",
                )
            )
    elif family == "service":
        active = np.flatnonzero(problem.campaigns["service_level"].to_numpy(float) > 0)
        for r, v in zip(hit, values, strict=True):
            c = int(active[r])
            camp = problem.campaigns.iloc[c]
            required = float(slack.scale[r])
            streams = problem.streams[problem.streams["campaign_idx"] == c]
            units = float(streams["quantity"].sum())
            window = camp["delivery_window_hours"]
            window = (
                float(streams["window_hours"].min()) if not np.isfinite(window) else float(window)
            )
            out.append(
                Relaxation(
                    family,
                    float(v),
                    f"campaign `{camp['campaign_id']}`: service level {camp['service_level']:.0%} "
                    f"needs {_n(required)} of its {_n(units)} units on time (within {window:g} h), "
                    f"but at most {_n(required - v)} can be; {_late_regions(problem, streams)}",
                )
            )
    elif family in {"throughput", "storage"}:
        if family == "throughput":
            cap = hubs["throughput_capacity"].to_numpy(float)
            hp = np.flatnonzero(np.repeat(np.isfinite(cap), elastic.periods))[hit]
        else:
            cap = hubs["storage_capacity"].to_numpy(float)
            hp = hit
        what = "throughput capacity" if family == "throughput" else "storage capacity"
        for pos, v in zip(hp, values, strict=True):
            h, t = divmod(int(pos), elastic.periods)
            out.append(
                Relaxation(
                    family,
                    float(v),
                    f"period {t + 1}: hub {hubs['hub_id'].iloc[h]} needs {_n(v)} m³ more {what} "
                    f"(it has {_n(cap[h])} m³).",
                )
            )
    elif family == "supply":
        rows = elastic.supply[np.isfinite(elastic.supply["capacity"].to_numpy(float))]
        for r, v in zip(hit, values, strict=True):
            row = rows.iloc[int(r)]
            source = elastic.sources["source_id"].iloc[int(row["source_idx"])]
            product = elastic.products["product_id"].iloc[int(row["product_idx"])]
            out.append(
                Relaxation(
                    family,
                    float(v),
                    f"period {int(row['period'])}: source {source} is short of {_n(v)} units of "
                    f"{product} (supply capacity {_n(row['capacity'])}).",
                )
            )
    elif family == "hub_count":
        policy = elastic.policy
        for t, v in zip(hit, values, strict=True):
            if slack.sign > 0:
                text = (
                    f"period {t + 1}: policy.min_open_hubs is {policy.min_open_hubs} but only "
                    f"{policy.min_open_hubs - round(v)} hubs can be open."
                )
            else:
                text = (
                    f"period {t + 1}: policy.max_open_hubs is {policy.max_open_hubs} but the "
                    f"plan needs {policy.max_open_hubs + round(v)} open hubs."
                )
            out.append(Relaxation(family, float(v), text))
    elif family == "carbon_cap":
        cap = elastic.policy.carbon.cap_t or 0.0
        out.append(
            Relaxation(
                family,
                float(values[0]),
                f"policy.carbon.cap_t is {_n(cap)} t CO2 but the lowest-emission plan emits "
                f"{_n(cap + values[0])} t.",
            )
        )
    elif family == "budget":
        budget = elastic.policy.fixed_cost_budget or 0.0
        out.append(
            Relaxation(
                family,
                float(values[0]),
                f"policy.fixed_cost_budget is {_n(budget)} but the hubs the plan needs cost "
                f"{_n(budget + values[0])}.",
            )
        )
    return out


def _late_regions(problem: ProblemData, streams: pd.DataFrame) -> str:
    """The campaign regions (by units) that no allowed hub reaches within the window."""
    arcs = problem.out_arcs
    on_time = np.zeros(len(problem.streams), dtype=bool)
    on_time[arcs.loc[~arcs["late"].to_numpy(dtype=bool), "stream_idx"].to_numpy()] = True
    stuck = streams[~on_time[streams.index.to_numpy()]]
    if not len(stuck):
        return "the capacity of the hubs that reach them in time is too small."
    units = stuck.groupby("region_idx")["quantity"].sum().sort_values(ascending=False)
    parts = []
    for region_idx, qty in units.head(3).items():
        period = int(stuck.loc[stuck["region_idx"] == region_idx, "period"].min())
        parts.append(
            f"region {_region(problem, int(region_idx))} ({_n(qty)} units): "
            f"{_fastest_lane(problem, int(region_idx), period)}"
        )
    more = f"; and {len(units) - 3} more regions" if len(units) > 3 else ""
    return (
        f"{_n(float(stuck['quantity'].sum()))} units in {len(units)} region(s) cannot arrive in "
        f"time from any allowed hub — {'; '.join(parts)}{more}."
    )


def _forced_relaxations(
    problem: ProblemData, open_: np.ndarray, orig_lb: np.ndarray, orig_ub: np.ndarray
) -> list[Relaxation]:
    out = []
    hubs = problem.hubs
    T = problem.periods
    opened_forbidden = (orig_ub == 0) & (open_ > 0.5)
    closed_forced = (orig_lb == 1) & (open_ < 0.5)
    for h in range(problem.n_hubs):
        sl = slice(h * T, (h + 1) * T)
        status = hubs["status"].iloc[h]
        periods = [t + 1 for t in np.flatnonzero(opened_forbidden[sl])]
        if periods:
            why = (
                "is forced_closed (status or a close_hubs what-if)"
                if status == "forced_closed"
                else f"may open only from period {hubs['open_from_period'].iloc[h]}"
            )
            out.append(
                Relaxation(
                    "forced",
                    float(len(periods)),
                    f"hub {hubs['hub_id'].iloc[h]} {why}, but the plan needs it open in "
                    f"period(s) {', '.join(map(str, periods))}.",
                )
            )
        periods = [t + 1 for t in np.flatnonzero(closed_forced[sl])]
        if periods:
            out.append(
                Relaxation(
                    "forced",
                    float(len(periods)),
                    f"hub {hubs['hub_id'].iloc[h]} is {status} (must stay open), but the plan "
                    f"needs it closed in period(s) {', '.join(map(str, periods))}.",
                )
            )
    return out


# ---- IIS cross-check ------------------------------------------------------------------


def iis_row_families(model: MatrixModel, time_limit_s: float = 20.0) -> list[str] | None:
    """Row families in HiGHS's IIS of the LP relaxation; [] if the LP is feasible; None if
    HiGHS (or its IIS) is unavailable."""
    if model.n_rows > IIS_MAX_ROWS:
        return None
    try:
        import highspy
    except ImportError:
        return None
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    if h.setOptionValue("iis_strategy", 2) != highspy.HighsStatus.kOk:  # from the LP
        return None
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = model.n_vars, model.n_rows
    lp.col_cost_ = np.zeros(model.n_vars)
    lp.col_lower_, lp.col_upper_ = model.lb, model.ub
    lp.row_lower_, lp.row_upper_ = model.row_lo, model.row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = model.n_vars, model.n_rows
    lp.a_matrix_.start_ = model.A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = model.A.indices.astype(np.int32)
    lp.a_matrix_.value_ = model.A.data
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kInfeasible:
        return []
    status, iis = h.getIis()
    if status != highspy.HighsStatus.kOk or not iis.valid_:
        return None
    rows = np.asarray(iis.row_index_, dtype=np.int64)
    families = [
        name
        for name, sl in model.row_blocks.items()
        if ((rows >= sl.start) & (rows < sl.stop)).any()
    ]
    return families


def _iis_cross_check(model: MatrixModel) -> list[str]:
    try:
        families = iis_row_families(model)
    except Exception as err:  # a cross-check only
        log.warning("IIS cross-check failed: %s", err)
        return []
    if families is None:
        return []
    if not families:
        return [
            "Cross-check (HiGHS IIS): the LP relaxation is feasible, so the conflict involves "
            "whole-hub open/closed decisions (hub limits, forced statuses, budget)."
        ]
    return [
        "Cross-check (HiGHS irreducible infeasible subset of the LP relaxation): rows of the "
        f"families {', '.join(families)}."
    ]
