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

import logging

from hubopt.data.problem import ProblemData
from hubopt.diagnose.elastic import elastic_relaxations
from hubopt.diagnose.iis import iis_cross_check, iis_row_families
from hubopt.diagnose.structural import input_warnings
from hubopt.diagnose.text import Relaxation, count_text
from hubopt.model.matrix import MatrixModel
from hubopt.scenario.scenario import Scenario
from hubopt.scenario.schema import SolverSettings

log = logging.getLogger(__name__)


VOLUME_CODES = {"capacity_short", "supply_missing", "unit_volume_magnitude"}
VOLUME_FAMILIES = {"throughput", "storage", "supply", "demand"}


def consistent(relaxations: list[Relaxation], volume_cause: bool) -> list[Relaxation]:
    """Drop the window relaxations when the cause is volume or supply.

    The elastic re-solve relaxes a window (weight 1) before a capacity (weight 4), so when
    the hubs that reach a region in time are full, it ships late from farther hubs and
    reports "cannot arrive in time" next to the missing capacity. Those late units follow
    from the same shortfall; listing them as a second cause would be wrong (more capacity
    alone makes the windows hold). Windows that no hub can meet at all are found by the
    structural checks, which are independent of the slack.
    """
    families = {r.family for r in relaxations}
    if not (volume_cause or families & VOLUME_FAMILIES):
        return relaxations
    late = [r for r in relaxations if r.family == "window"]
    if not late:
        return relaxations
    units = sum(r.amount for r in late)
    kept = [r for r in relaxations if r.family != "window"]
    kept.append(
        Relaxation(
            "window",
            units,
            f"(The relaxed plan also delivers {count_text(units)} units late from farther hubs; "
            "that follows from the capacity or supply shortfall above, not from the windows.)",
        )
    )
    return kept


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
    proven = [w for w in input_warnings(problem, {}) if w.blocking]
    reasons = [f"{w.message} {w.fix}" for w in proven]
    relaxations: list[Relaxation] | None = None
    if scenario is not None:
        try:
            relaxations = elastic_relaxations(problem, scenario, settings)
        except Exception as err:  # the diagnosis must never hide the infeasible status
            log.warning("elastic re-solve failed: %s", err)
    if relaxations:
        relaxations = consistent(
            relaxations, volume_cause=any(w.code in VOLUME_CODES for w in proven)
        )
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
    if model is not None:
        reasons += iis_cross_check(model)
    if not reasons:
        reasons.append(
            "No single structural cause was found: the combination of capacities, supply, hub limits, "
            "service levels and windows is infeasible together. Relax one at a time (what-if) to locate it."
        )
    return reasons


__all__ = ["Relaxation", "diagnose_infeasibility", "iis_row_families"]
