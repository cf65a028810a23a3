"""Marginal campaign economics: what each campaign really costs the network.

For every campaign the scenario is solved once more without it (in parallel worker
processes), and the two plans are compared on the same terms:

- network cost = the objective without purchase (``supply``), lost-sale penalties,
  campaign spend and incremental margin, i.e. fixed, opening, closing, transport,
  handling, returns, holding, late and carbon cost;
- marginal logistics cost = network cost with the campaign - network cost without it;
- incremental units = units delivered with - units delivered without; incremental
  margin = those units x each product's ``unit_margin``;
- spend = ``spend`` + ``spend_per_region`` x included regions (footprint campaigns);
- ROI = (incremental margin - spend - marginal logistics cost) / (spend + marginal
  logistics cost);
- each solve stops within its MIP gap, so a difference of two objectives is only known
  to within the sum of their absolute gaps (objective - bound); a marginal cost smaller
  than that is flagged ``significant = False``.

The volume-share figure of :func:`hubopt.kpis_campaigns.compute_campaign_kpis` is reported next to
it as ``allocated_logistics_cost`` (an allocation of shared cost, not a marginal cost).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import pandas as pd

from hubopt.api import solve
from hubopt.result import Result
from hubopt.scenario.scenario import Scenario

log = logging.getLogger(__name__)

NOT_NETWORK = ("supply", "lost_sales", "campaign_spend", "incremental_margin")
ECONOMICS_COLUMNS = [
    "campaign_id",
    "name",
    "network_cost_with",
    "network_cost_without",
    "marginal_logistics_cost",
    "marginal_supply_cost",
    "marginal_lost_sales",
    "incremental_units",
    "incremental_margin",
    "spend",
    "roi",
    "gap_with",
    "gap_without",
    "uncertainty",
    "significant",
    "allocated_logistics_cost",
    "status_without",
]


@dataclass(frozen=True)
class PlanTerms:
    """What the comparison needs from one solve (small, so it crosses processes cheaply)."""

    status: str
    costs: dict[str, float]
    delivered_by_product: dict[str, float]
    gap: float
    absolute_gap: float

    @property
    def network_cost(self) -> float:
        """Objective without purchase, lost sales, spend and margin (money)."""
        return float(sum(v for k, v in self.costs.items() if k not in NOT_NETWORK))


def plan_terms(result: Result) -> PlanTerms:
    """Reduce a result to :class:`PlanTerms` (NaN costs when it has no plan)."""
    if result.solution is None:
        return PlanTerms(str(result.status), {}, {}, math.nan, math.inf)
    flows = result.solution.flows
    delivered = flows.groupby("product_id")["quantity"].sum()
    return PlanTerms(
        status=str(result.status),
        costs=dict(result.solution.costs),
        delivered_by_product={str(k): float(v) for k, v in delivered.items()},
        gap=float(result.gap),
        absolute_gap=absolute_gap(result.objective, result.bound, result.gap),
    )


def absolute_gap(objective: float, bound: float, gap: float) -> float:
    """|objective - bound| in money; from the relative gap if the bound is unknown."""
    if math.isfinite(objective) and math.isfinite(bound):
        return abs(objective - bound)
    if math.isfinite(objective) and math.isfinite(gap):
        return abs(objective) * gap
    return math.inf


def without_campaign(scenario: Scenario, campaign_id: str) -> Scenario:
    """The scenario with one campaign removed (its demand reverts to the base demand)."""
    config = scenario.config
    campaigns = [c for c in config.campaigns if c.id != campaign_id]
    return dataclasses.replace(scenario, config=config.model_copy(update={"campaigns": campaigns}))


def _solve_without(scenario: Scenario, campaign_id: str, options: dict[str, Any]) -> PlanTerms:
    """Worker: solve without one campaign (top level so it pickles)."""
    return plan_terms(solve(without_campaign(scenario, campaign_id), **options))


def campaign_economics(
    result: Result, workers: int | None = None, **solve_options: Any
) -> pd.DataFrame:
    """Per campaign of ``result``'s scenario: marginal cost, margin, ROI and significance.

    Parameters
    ----------
    result:
        A solved plan with every campaign in place.
    workers:
        Worker processes (default: one per campaign, at most the CPU count). With one
        worker the re-solves run in this process.
    solve_options:
        Passed to :func:`hubopt.api.solve` (backend, time limit, gap ...); default: the
        scenario's own solver settings, as for ``result``.
    """
    scenario = result.scenario
    campaigns = scenario.config.campaigns
    if not campaigns or result.solution is None:
        return pd.DataFrame(columns=ECONOMICS_COLUMNS)
    workers = workers or min(len(campaigns), os.cpu_count() or 1)
    ids = [c.id for c in campaigns]
    if workers <= 1:
        without = [_solve_without(scenario, c, solve_options) for c in ids]
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(workers, len(ids)), mp_context=context) as pool:
            futures = [pool.submit(_solve_without, scenario, c, solve_options) for c in ids]
            without = [f.result() for f in futures]
    return economics_table(result, dict(zip(ids, without, strict=True)))


def economics_table(result: Result, without: dict[str, PlanTerms]) -> pd.DataFrame:
    """Compare the plan with each campaign-less plan (see the module docstring)."""
    assert result.solution is not None  # checked by the caller
    with_terms = plan_terms(result)
    margin_of = result.problem.products.set_index("product_id")["unit_margin"].astype(float)
    allocated = result.kpis.campaigns.set_index("campaign_id")["logistics_cost"]
    footprint = result.solution.footprint
    rows = []
    for c in result.scenario.config.campaigns:
        other = without[c.id]
        products = set(with_terms.delivered_by_product) | set(other.delivered_by_product)
        delta = {
            p: with_terms.delivered_by_product.get(p, 0.0) - other.delivered_by_product.get(p, 0.0)
            for p in products
        }
        margin = float(sum(q * float(margin_of.get(p, 0.0)) for p, q in delta.items()))
        included = (
            int(footprint.loc[footprint["campaign_id"] == c.id, "included"].sum())
            if len(footprint)
            else 0
        )
        spend = c.spend + c.spend_per_region * included
        marginal = with_terms.network_cost - other.network_cost if other.costs else math.nan
        uncertainty = with_terms.absolute_gap + other.absolute_gap
        outlay = spend + marginal
        rows.append(
            {
                "campaign_id": c.id,
                "name": c.name or c.id,
                "network_cost_with": with_terms.network_cost,
                "network_cost_without": other.network_cost if other.costs else math.nan,
                "marginal_logistics_cost": marginal,
                "marginal_supply_cost": _delta(with_terms, other, "supply"),
                "marginal_lost_sales": _delta(with_terms, other, "lost_sales"),
                "incremental_units": float(sum(delta.values())),
                "incremental_margin": margin,
                "spend": spend,
                "roi": (margin - outlay) / outlay if outlay > 0 else math.nan,
                "gap_with": with_terms.gap,
                "gap_without": other.gap,
                "uncertainty": uncertainty,
                "significant": bool(abs(marginal) >= uncertainty)
                if math.isfinite(marginal)
                else False,
                "allocated_logistics_cost": float(allocated.get(c.id, math.nan)),
                "status_without": other.status,
            }
        )
    return pd.DataFrame(rows, columns=ECONOMICS_COLUMNS)


def _delta(with_terms: PlanTerms, other: PlanTerms, component: str) -> float:
    if not other.costs:
        return math.nan
    return with_terms.costs.get(component, 0.0) - other.costs.get(component, 0.0)
