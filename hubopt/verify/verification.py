"""Run every check on a plan and collect the violations by family."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hubopt.scenario.scenario import Scenario
from hubopt.solution import Solution
from hubopt.verify.arcs import check_arcs
from hubopt.verify.flow import (
    check_balance,
    check_demand,
    check_safety_stock,
    check_service,
    check_supply,
)
from hubopt.verify.footprint import check_footprint
from hubopt.verify.network import (
    check_budget,
    check_carbon_cap,
    check_events,
    check_hub_count,
    check_linking,
    check_single_sourcing,
    check_status,
    check_storage,
    check_throughput,
)
from hubopt.verify.objective import check_objective, recompute_costs
from hubopt.verify.pickup import check_pickup
from hubopt.verify.plan import Plan, build_plan

# Every constraint family, in the order of docs/model.md, with its check.
FAMILIES: tuple[tuple[str, Callable[[Plan], list[str]]], ...] = (
    ("arcs", check_arcs),
    ("demand", check_demand),
    ("balance", check_balance),
    ("safety_stock", check_safety_stock),
    ("throughput", check_throughput),
    ("storage", check_storage),
    ("linking", check_linking),
    ("supply", check_supply),
    ("service", check_service),
    ("hub_count", check_hub_count),
    ("status", check_status),
    ("events", check_events),
    ("budget", check_budget),
    ("single_sourcing", check_single_sourcing),
    ("carbon_cap", check_carbon_cap),
    ("pickup", check_pickup),
    ("footprint", check_footprint),
)


@dataclass(frozen=True)
class Verification:
    """Outcome of :func:`verify_solution`.

    Attributes
    ----------
    ok:
        No violation.
    violations:
        Every violation message, family by family.
    objective:
        The objective recomputed from the raw tables (money).
    checks:
        How many rows were checked: outbound and inbound flows, demand streams, stock
        balance rows, hub-periods.
    by_family:
        The violations of each family that failed (names of :data:`FAMILIES`, plus
        ``objective`` for the cost table and the solver's objective).
    """

    ok: bool
    violations: list[str]
    objective: float
    checks: dict[str, int] = field(default_factory=dict)
    by_family: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """For manifests and JSON."""
        return {
            "ok": self.ok,
            "violations": self.violations[:100],
            "failed_families": list(self.by_family),
            "objective": self.objective,
            "checks": self.checks,
        }


def verify_solution(
    scenario: Scenario,
    solution: Solution,
    reported_objective: float | None = None,
    observed_stock_period: int | None = None,
) -> Verification:
    """Recompute every constraint family and the objective from the raw scenario tables and
    the solution's decisions; list every violation, by family.

    ``observed_stock_period`` (a re-plan's T-1) is the period whose end stock is the actual
    stock given, not the plan's: its stock-balance rows are not checked.

    The recomputation shares no code with the model (see ``hubopt/verify/legs.py``), so a
    violation is a bug in hubopt, never a result.
    """
    plan = build_plan(scenario, solution, observed_stock_period)
    by_family = {name: check(plan) for name, check in FAMILIES}
    costs = recompute_costs(plan)
    by_family["objective"] = check_objective(plan, costs, reported_objective)
    failed = {name: found for name, found in by_family.items() if found}
    violations = [v for found in failed.values() for v in found]
    checks = {
        "outbound_flows": len(plan.flows),
        "inflows": len(plan.inflows),
        "demand_streams": len(plan.streams),
        "balance_rows": len(plan.grid()),
        "hub_periods": plan.open.size,
        "footprint_candidates": len(plan.solution.footprint),
    }
    return Verification(
        ok=not violations,
        violations=violations,
        objective=float(costs.to_numpy().sum()),
        checks=checks,
        by_family=failed,
    )
