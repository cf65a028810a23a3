"""Mid-campaign re-plan: keep what happened before period T, re-optimise T onwards.

Given a finished plan, the actual stock on hand at the start of period T and (optionally)
what actually sold before T, :func:`replan`

1. rescales the remaining demand (periods >= T) of each region and product by the
   observed / planned ratio of the periods before T, shrunk toward 1 for small volumes:
   ``ratio = (observed + k) / (planned + k)`` with ``k = shrink_units`` (default 20
   units; a credibility weight: with 20 planned units the raw ratio counts half).
   Pairs absent from the sales table keep ratio 1 (no observation);
2. builds the *tail* scenario of periods T..N, renumbered 1..N-T+1: the actual stock
   (plus the returns of T-1's deliveries that re-enter stock in T) is the starting
   inventory; per-period ``hub_capacity`` rows are renumbered with it; hubs open at T-1 become ``existing`` (they stay open unless
   closing is allowed, and pay no opening cost); a ``footprint: optimize`` campaign
   keeps the regions it was running in (``fixed`` over them); campaign service levels
   apply to the campaign's remaining units (when no tail plan holds them, within the
   time limit or at all, the tail is re-solved without them and the summary's
   ``service_levels_relaxed`` gives each level, how the solve holding them ended and the
   on-time rate the re-plan reaches on the remaining units and on the whole campaign);
   the fixed-cost budget and carbon cap are
   reduced by what the frozen periods used;
3. solves and verifies the tail like any plan (the original plan's hub decisions of
   periods T.. are the MIP start), then splices it behind the frozen
   periods (hub statuses, flows, inflows and stock before T, unchanged) into one plan
   over every period whose stock at T-1 is the actual stock, checks the splice with
   :func:`hubopt.verify.check_replan` and verifies the whole spliced plan from scratch
   against the combined scenario (every family; T-1's stock balance is the actual count). With ``routing:`` the tail is solved unrouted
   and the spliced plan is routed (every period) and its routes verified, as a solve
   would; the location-routing search (``mode: integrated``) is not re-run.

The difference between the planned and the actual stock at T-1 is what happened (sales
and receipts that differed from the plan); it shows in ``replan_changes``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hubopt.api import solve
from hubopt.data.problem import ProblemData, build_problem
from hubopt.errors import DataValidationError, Problem
from hubopt.replan.changes import CHANGE_COLUMNS, replan_changes, replan_summary
from hubopt.result import Result
from hubopt.routing.run import routes_for_plan
from hubopt.scenario.scenario import Scenario
from hubopt.scenario.schema import Campaign
from hubopt.solution import Solution, realised_streams, solution_from_tables
from hubopt.verify import Verification, check_replan, verify_solution

log = logging.getLogger(__name__)

SHRINK_UNITS = 20.0
# The cost components a fixed-cost budget bounds.
HUB_COMPONENTS = ("fixed", "opening", "closing")


@dataclass(frozen=True)
class Replan:
    """A re-plan: the spliced plan over every period, the tail solve and what changed.

    Attributes
    ----------
    result:
        The plan over every period (frozen periods + re-optimised tail), verified.
    tail:
        The solve of periods T..N (renumbered from 1), verified by the standard verifier.
    changes:
        ``replan_changes`` table: ``kind, period, hub_id, region_id, product_id, before,
        after, change`` for hubs opened/closed, stock re-balanced, units delivered, on
        time, late and lost, per period from T (kinds ``hub_open``, ``stock``,
        ``delivered``, ``late``, ``lost``, ``cost``).
    ratios:
        Demand ratio per region and product: ``region_id, product_id, planned, observed,
        raw_ratio, ratio``.
    summary:
        Headline figures (cost of periods >= T before and after, hubs opened and closed,
        units now late or lost).
    """

    result: Result
    tail: Result
    changes: pd.DataFrame
    ratios: pd.DataFrame
    summary: dict[str, Any]


def check_stock(stock: pd.DataFrame, scenario: Scenario, label: str) -> pd.DataFrame:
    """Validate ``hub_id, product_id, quantity`` rows; raise naming every bad row."""
    problems = _check_columns(stock, ("hub_id", "product_id", "quantity"), label)
    if problems:
        raise DataValidationError(problems, "Invalid actual stock")
    stock = stock.assign(
        hub_id=stock["hub_id"].astype(str), product_id=stock["product_id"].astype(str)
    )
    hubs = set(scenario.tables.hubs["hub_id"])
    products = set(scenario.tables.products["product_id"])
    qty = pd.to_numeric(stock["quantity"], errors="coerce")
    for i, row in enumerate(stock.itertuples(index=False)):
        where = f"{label} row {i + 2}"
        if row.hub_id not in hubs:
            problems.append(Problem(where, "a hub_id from the hubs table", repr(row.hub_id)))
        if row.product_id not in products:
            problems.append(
                Problem(where, "a product_id from the products table", repr(row.product_id))
            )
        if not (qty.iloc[i] >= 0):
            problems.append(Problem(where, "quantity >= 0", repr(row.quantity)))
    dupes = stock.duplicated(["hub_id", "product_id"], keep="first").to_numpy()
    for i in np.flatnonzero(dupes)[:10]:
        problems.append(
            Problem(f"{label} row {i + 2}", "one row per hub and product", "a repeated pair")
        )
    if problems:
        raise DataValidationError(problems, "Invalid actual stock")
    return stock.assign(quantity=qty.astype(float))


def check_sales(
    sales: pd.DataFrame, scenario: Scenario, from_period: int, label: str
) -> pd.DataFrame:
    """Validate ``region_id, product_id, period, quantity`` rows with period < T."""
    problems = _check_columns(sales, ("region_id", "product_id", "period", "quantity"), label)
    if problems:
        raise DataValidationError(problems, "Invalid actual sales")
    sales = sales.assign(
        region_id=sales["region_id"].astype(str), product_id=sales["product_id"].astype(str)
    )
    regions = set(scenario.tables.regions["region_id"])
    products = set(scenario.tables.products["product_id"])
    qty = pd.to_numeric(sales["quantity"], errors="coerce")
    period = pd.to_numeric(sales["period"], errors="coerce")
    for i, row in enumerate(sales.itertuples(index=False)):
        where = f"{label} row {i + 2}"
        if row.region_id not in regions:
            problems.append(
                Problem(where, "a region_id from the regions table", repr(row.region_id))
            )
        if row.product_id not in products:
            problems.append(
                Problem(where, "a product_id from the products table", repr(row.product_id))
            )
        if not (qty.iloc[i] >= 0):
            problems.append(Problem(where, "quantity >= 0", repr(row.quantity)))
        p = period.iloc[i]
        if not (p >= 1 and p < from_period and float(p).is_integer()):
            problems.append(
                Problem(
                    where,
                    f"a whole period 1..{from_period - 1} (before --from-period)",
                    repr(row.period),
                )
            )
    if problems:
        raise DataValidationError(problems, "Invalid actual sales")
    return sales.assign(quantity=qty.astype(float), period=period.astype(int))


def _check_columns(frame: pd.DataFrame, columns: tuple[str, ...], label: str) -> list[Problem]:
    missing = [c for c in columns if c not in frame.columns]
    if not missing:
        return []
    return [Problem(label, f"columns {', '.join(columns)}", f"missing {', '.join(missing)}")]


def demand_ratios(
    run: Result, sales: pd.DataFrame | None, from_period: int, shrink_units: float = SHRINK_UNITS
) -> pd.DataFrame:
    """Observed / planned demand before T per region and product, shrunk toward 1."""
    assert run.solution is not None
    streams = realised_streams(run.problem, run.solution)
    before = streams[streams["period"] < from_period]
    planned = before.groupby(["region_id", "product_id"])["quantity"].sum().rename("planned")
    if sales is None or not len(sales):
        return pd.DataFrame(
            columns=["region_id", "product_id", "planned", "observed", "raw_ratio", "ratio"]
        )
    observed = sales.groupby(["region_id", "product_id"])["quantity"].sum().rename("observed")
    table = pd.concat([planned, observed], axis=1).reindex(observed.index).fillna({"planned": 0.0})
    table["raw_ratio"] = table["observed"] / table["planned"].replace(0.0, np.nan)
    table["ratio"] = (table["observed"] + shrink_units) / (table["planned"] + shrink_units)
    return table.reset_index()


def tail_scenario(
    run: Result, stock: pd.DataFrame, from_period: int, ratios: pd.DataFrame
) -> Scenario:
    """The scenario of periods T..N renumbered from 1 (see the module docstring)."""
    assert run.solution is not None
    scenario, solution = run.scenario, run.solution
    tables, config = scenario.tables, scenario.config
    shift = from_period - 1
    demand = _rescaled_demand(tables.demand, ratios, from_period)
    demand = demand[demand["period"] >= from_period].assign(period=lambda d: d["period"] - shift)
    supply = tables.supply
    if len(supply):
        keep = supply["period"].isna() | (supply["period"] >= from_period)
        supply = supply[keep].assign(period=supply.loc[keep, "period"] - shift)
    hubs = tables.hubs.copy()
    last = solution.hubs[solution.hubs["period"] == shift].set_index("hub_id")["open"]
    open_before = hubs["hub_id"].map(last).fillna(0).to_numpy() > 0.5
    status = hubs["status"].to_numpy(dtype=object)
    hubs["status"] = np.where(
        open_before & (status != "forced_open"),
        "existing",
        np.where(~open_before & (status == "existing"), "candidate", status),
    )
    hubs["open_from_period"] = np.maximum(1, hubs["open_from_period"].to_numpy() - shift)
    inventory = _opening_stock(stock, solution.flows, shift)
    capacity = tables.hub_capacity
    if len(capacity):
        capacity = capacity[capacity["period"] >= from_period]
        capacity = capacity.assign(period=capacity["period"] - shift).reset_index(drop=True)
    new_tables = tables.replace(
        demand=demand, supply=supply, hubs=hubs, inventory=inventory, hub_capacity=capacity
    )
    policy = config.policy
    costs = solution.period_costs
    frozen = costs[costs["period"] < from_period]
    updates: dict[str, Any] = {"periods": scenario.periods - shift}
    if policy.fixed_cost_budget is not None:
        used = float(frozen.loc[frozen["component"].isin(HUB_COMPONENTS), "cost"].sum())
        updates["fixed_cost_budget"] = max(0.0, policy.fixed_cost_budget - used)
    if policy.carbon.cap_t is not None:
        flows, inflows = solution.flows, solution.inflows
        used_t = float(
            flows.loc[flows["period"] < from_period, "co2_t"].sum()
            + inflows.loc[inflows["period"] < from_period, "co2_t"].sum()
        )
        updates["carbon"] = policy.carbon.model_copy(
            update={"cap_t": max(0.0, policy.carbon.cap_t - used_t)}
        )
    campaigns = _tail_campaigns(config.campaigns, solution, from_period)
    new_config = config.model_copy(
        update={
            "policy": policy.model_copy(update=updates),
            "campaigns": campaigns,
            "whatif": [],
            "routing": None,
        }
    )
    return dataclasses.replace(scenario, config=new_config, tables=new_tables)


def _without_service_levels(scenario: Scenario, relaxed: dict[str, float]) -> Scenario:
    """``scenario`` with the service level of the campaigns in ``relaxed`` set to 0."""
    campaigns = [
        c.model_copy(update={"service_level": 0.0}) if c.id in relaxed else c
        for c in scenario.config.campaigns
    ]
    config = scenario.config.model_copy(update={"campaigns": campaigns})
    return dataclasses.replace(scenario, config=config)


def _original_open(run: Result, tail: Scenario, from_period: int) -> np.ndarray:
    """The original plan's open flags of periods T.. (hubs x tail periods): the tail's MIP
    start, which the solver completes around the actual stock and new demand."""
    assert run.solution is not None
    hubs = run.solution.hubs
    periods = range(from_period, run.scenario.periods + 1)
    grid = (
        hubs.pivot_table(index="hub_id", columns="period", values="open", aggfunc="max")
        .reindex(index=tail.tables.hubs["hub_id"], columns=periods)
        .fillna(0.0)
    )
    return grid.to_numpy(float).round()


def _opening_stock(stock: pd.DataFrame, flows: pd.DataFrame, last_frozen: int) -> pd.DataFrame:
    """The tail's starting inventory: the actual stock at the end of period T-1 plus the
    returns of T-1's deliveries that re-enter stock in period T (``restocked_units`` of the
    frozen plan; returns restock in the next period)."""
    actual = stock[["hub_id", "product_id", "quantity"]]
    if "restocked_units" not in flows or not len(flows):
        return actual.reset_index(drop=True)
    back = flows[flows["period"] == last_frozen]
    back = back.groupby(["hub_id", "product_id"], as_index=False)["restocked_units"].sum()
    back = back[back["restocked_units"] > 0].rename(columns={"restocked_units": "quantity"})
    both = pd.concat([actual, back], ignore_index=True)
    return both.groupby(["hub_id", "product_id"], as_index=False, sort=True)["quantity"].sum()


def _rescaled_demand(demand: pd.DataFrame, ratios: pd.DataFrame, from_period: int) -> pd.DataFrame:
    """Demand with quantity and std of periods >= T multiplied by each pair's ratio."""
    if not len(ratios):
        return demand
    factor = pd.MultiIndex.from_frame(demand[["region_id", "product_id"]]).map(
        ratios.set_index(["region_id", "product_id"])["ratio"].to_dict().get
    )
    factor = np.where(
        (demand["period"].to_numpy() >= from_period) & pd.notna(np.asarray(factor, dtype=float)),
        np.asarray(factor, dtype=float),
        1.0,
    )
    return demand.assign(quantity=demand["quantity"] * factor, std=demand["std"] * factor)


def _tail_campaigns(
    campaigns: list[Campaign], solution: Solution, from_period: int
) -> list[Campaign]:
    """Campaigns renumbered to the tail; footprints fixed to the regions chosen."""
    shift = from_period - 1
    out = []
    fp = solution.footprint
    for c in campaigns:
        update: dict[str, Any] = {}
        if c.periods != "all":
            periods = [p - shift for p in c.periods if p >= from_period]
            if not periods:
                continue
            update["periods"] = periods
        if c.footprint == "optimize":
            chosen = fp.loc[(fp["campaign_id"] == c.id) & (fp["included"] == 1), "region_id"]
            if not len(chosen):
                continue
            update |= {
                "footprint": "fixed",
                "regions": sorted(map(str, chosen)),
                "spend_per_region": 0.0,
                "min_regions": None,
                "max_regions": None,
            }
        out.append(Campaign.model_validate(c.model_dump() | update))
    return out


def replan(
    run: Result,
    stock: pd.DataFrame,
    from_period: int,
    sales: pd.DataFrame | None = None,
    shrink_units: float = SHRINK_UNITS,
    stock_label: str = "stock",
    sales_label: str = "sales",
    **solve_options: Any,
) -> Replan:
    """Re-plan periods ``from_period``.. of ``run`` from the actual stock (and sales).

    Raises
    ------
    hubopt.errors.DataValidationError
        Bad stock or sales rows (unknown hub, region or product, negative quantity, a
        sales period >= T), or T outside 2..N.
    """
    if run.solution is None:
        raise DataValidationError(
            Problem("run", "a run with a plan", f"status {run.status}"), "Cannot re-plan"
        )
    periods = run.scenario.periods
    if not 2 <= from_period <= periods:
        raise DataValidationError(
            Problem("--from-period", f"a period 2..{periods}", str(from_period)), "Cannot re-plan"
        )
    stock = check_stock(stock, run.scenario, stock_label)
    if sales is not None:
        sales = check_sales(sales, run.scenario, from_period, sales_label)
    ratios = demand_ratios(run, sales, from_period, shrink_units)
    scenario = tail_scenario(run, stock, from_period, ratios)
    solve_options.setdefault("start_open", _original_open(run, scenario, from_period))
    tail = solve(scenario, **solve_options)
    relaxed: dict[str, float] = {}
    if tail.solution is None and any(c.service_level > 0 for c in scenario.config.campaigns):
        # what happened may have put a running campaign's service level out of reach: re-plan
        # without it and say so (the achieved on-time rate is in the KPIs)
        relaxed = {c.id: c.service_level for c in scenario.config.campaigns if c.service_level}
        log.warning(
            "re-plan: no plan holding the campaigns' service levels %s (%s); re-planning "
            "without them",
            relaxed,
            tail.status,
        )
        held_status = str(tail.status)
        tail = solve(_without_service_levels(scenario, relaxed), **solve_options)
    combined = _combined_scenario(run, ratios, from_period)
    if relaxed:
        combined = _without_service_levels(combined, relaxed)
    if tail.solution is None:
        result = dataclasses.replace(
            tail, scenario=combined, problem=build_problem(combined), solution=None
        )
        return Replan(result, tail, pd.DataFrame(columns=CHANGE_COLUMNS), ratios, {})
    problem = build_problem(combined)
    solution = splice(run, tail, stock, from_period, problem)
    violations = check_replan(
        run.solution, solution, stock, from_period, run.scenario.config.policy.allow_closing
    )
    assert tail.verification is not None
    whole = verify_solution(combined, solution, solution.objective, from_period - 1)
    verification = Verification(
        ok=tail.verification.ok and whole.ok and not violations,
        violations=tail.verification.violations + whole.violations + violations,
        objective=whole.objective,
        checks=whole.checks | {"replan_frozen_periods": from_period - 1},
        by_family=whole.by_family | ({"replan": violations} if violations else {}),
    )
    frozen_cost = solution.objective - tail.solution.objective
    routes = route_verification = None
    if combined.config.routing is not None:
        routes, route_verification = routes_for_plan(combined, problem, solution.flows)
    result = dataclasses.replace(
        tail,
        scenario=combined,
        problem=problem,
        objective=solution.objective,
        bound=frozen_cost + tail.bound if math.isfinite(tail.bound) else tail.bound,
        solution=solution,
        verification=verification,
        routes=routes,
        route_verification=route_verification,
        location_routing=None,
    )
    changes = replan_changes(run, result, from_period)
    summary = replan_summary(run, result, changes, from_period)
    if relaxed:
        remaining = tail.kpis.campaigns.set_index("campaign_id")["on_time_rate"]
        whole = result.kpis.campaigns.set_index("campaign_id")["on_time_rate"]
        summary["service_levels_relaxed"] = {
            c: {
                "level": level,
                "held_solve_status": held_status,
                "on_time_rate_remaining": float(remaining.get(c, math.nan)),
                "on_time_rate": float(whole.get(c, math.nan)),
            }
            for c, level in relaxed.items()
        }
    result = dataclasses.replace(result, replan_changes=changes, replan_summary=summary)
    return Replan(result, tail, changes, ratios, summary)


def _combined_scenario(run: Result, ratios: pd.DataFrame, from_period: int) -> Scenario:
    """The original scenario with the remaining demand rescaled (for KPIs and maps)."""
    tables, config = run.scenario.tables, run.scenario.config
    demand = _rescaled_demand(tables.demand, ratios, from_period)
    name = f"{config.name}-replan-w{from_period}"
    return dataclasses.replace(
        run.scenario,
        config=config.model_copy(update={"name": name}),
        tables=tables.replace(demand=demand),
    )


def splice(
    run: Result, tail: Result, stock: pd.DataFrame, from_period: int, problem: ProblemData
) -> Solution:
    """Frozen periods of ``run`` + ``tail`` shifted back; stock at T-1 = the actual stock.

    The footprint decided when the campaign started stands (``run``'s footprint table);
    the cost table is recomputed from the spliced plan tables on ``problem`` (the
    combined scenario's, remaining demand rescaled) with
    :func:`hubopt.solution.solution_from_tables` (which calls ``compute_period_costs``): holding at T-1 is that of the actual
    stock, and the incremental margin after T that of the rescaled incremental units.
    """
    assert run.solution is not None and tail.solution is not None
    old, new = run.solution, tail.solution
    shift = from_period - 1

    def join(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
        before = before[before["period"] < from_period]
        after = after.assign(period=after["period"] + shift)
        return pd.concat([before, after], ignore_index=True)

    demand = _stream_shares(problem, old.footprint)
    new = dataclasses.replace(
        new,
        flows=_restream(new.flows.assign(period=new.flows["period"] + shift), demand).assign(
            period=lambda f: f["period"] - shift
        ),
        unmet=_restream(new.unmet.assign(period=new.unmet["period"] + shift), demand).assign(
            period=lambda f: f["period"] - shift
        ),
    )

    actual = stock.assign(period=shift)[["hub_id", "product_id", "period", "quantity"]]
    old_stock = old.stock[old.stock["period"] < shift]
    stock_table = pd.concat(
        [
            old_stock,
            actual[actual["quantity"] > 0],
            new.stock.assign(period=new.stock["period"] + shift),
        ],
        ignore_index=True,
    )
    hubs = join(old.hubs, new.hubs)
    status = old.hubs.drop_duplicates("hub_id").set_index("hub_id")["status"]
    hubs["status"] = hubs["hub_id"].map(status)
    plan = {
        "hubs": hubs.sort_values(["hub_id", "period"], ignore_index=True),
        "flows": join(old.flows, new.flows),
        "inflows": join(old.inflows, new.inflows),
        "stock": stock_table.sort_values(["hub_id", "product_id", "period"], ignore_index=True),
        "unmet": join(old.unmet, new.unmet),
        "pickup_points": join(old.pickup_points, new.pickup_points),
    }
    tables = {**plan, "assignments": new.assignments, "campaign_footprint": old.footprint}
    return solution_from_tables(problem, tables)


STREAM_COLUMNS = ["region_id", "product_id", "period", "channel"]
# Flow and unmet columns that are totals over a row's units (split with the units).
AMOUNTS = (
    "quantity",
    "returned_units",
    "restocked_units",
    "transport_cost",
    "handling_cost",
    "return_cost",
    "late_cost",
    "co2_t",
    "penalty_cost",
)


def _stream_shares(problem: ProblemData, footprint: pd.DataFrame) -> pd.DataFrame:
    """Per stream of the combined problem: its share of its (region, product, period,
    channel)'s units and its window. A footprint campaign's incremental stream counts only
    where the region is included (``footprint``); elsewhere it has no units."""
    streams = problem.streams
    units = streams["quantity"].to_numpy(float).copy()
    f = streams["footprint_idx"].to_numpy() if "footprint_idx" in streams else None
    if f is not None and len(problem.footprint):
        chosen = footprint.set_index(["campaign_id", "region_id"])["included"]
        keys = problem.footprint[["campaign_id", "region_id"]].itertuples(index=False, name=None)
        included = np.array([float(chosen.get(key, 0)) for key in keys])
        units[f >= 0] *= included[f[f >= 0]]
    out = streams[[*STREAM_COLUMNS, "campaign_id", "window_hours"]].assign(units=units)
    out = out[out["units"] > 0]
    total = out.groupby(STREAM_COLUMNS)["units"].transform("sum")
    return out.assign(share=out["units"] / total).drop(columns="units")


def _restream(frame: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """Tail rows re-attributed to the combined problem's streams.

    The tail runs a footprint campaign ``fixed`` over its chosen regions, so a region's
    demand there is one stream of the campaign; the combined problem splits it into the
    base stream (no campaign) and the incremental one. Such rows become one row per
    stream, their totals split by the streams' unit shares; window and on-time follow
    each stream (late cost only where the part is late)."""
    if not len(frame):
        return frame
    several = shares.groupby(STREAM_COLUMNS)["share"].transform("size") > 1
    split = shares[several]
    keys = pd.MultiIndex.from_frame(frame[STREAM_COLUMNS])
    mask = keys.isin(pd.MultiIndex.from_frame(split[STREAM_COLUMNS]))
    if not mask.any():
        return frame
    columns = list(frame.columns)
    parts = frame[mask].drop(columns=[c for c in ("campaign_id", "window_hours") if c in frame])
    parts = parts.merge(split, on=STREAM_COLUMNS, how="inner")
    for column in AMOUNTS:
        if column in parts:
            parts[column] = parts[column] * parts["share"]
    if "on_time" in parts:
        parts["on_time"] = parts["transit_hours"] <= parts["window_hours"] + 1e-6
        parts["late_cost"] = parts["late_cost"].where(~parts["on_time"], 0.0)
    out = pd.concat([frame[~mask], parts[columns]], ignore_index=True)
    return out.sort_values(["period", *STREAM_COLUMNS[:2]], ignore_index=True, kind="stable")
