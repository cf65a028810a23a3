"""Routes for a solved plan: plan them, verify them independently, or raise (a bug)."""

from __future__ import annotations

import pandas as pd

from hubopt.data.problem import ProblemData
from hubopt.errors import VerificationError
from hubopt.routing.plan import RoutePlan, plan_routes
from hubopt.routing.verify import RouteVerification, verify_routes
from hubopt.scenario.scenario import Scenario
from hubopt.scenario.schema import RoutingSettings


def routes_for_plan(
    scenario: Scenario,
    problem: ProblemData,
    flows: pd.DataFrame,
    settings: RoutingSettings | None = None,
) -> tuple[RoutePlan, RouteVerification]:
    """Route the plan whose outbound flows are ``flows`` and verify the routes.

    ``settings`` defaults to the scenario's ``routing:`` block (or its defaults).

    Raises
    ------
    hubopt.errors.VerificationError
        If the routes fail the independent route verifier (a bug, never a result).
    """
    settings = settings or scenario.config.routing or RoutingSettings()
    plan = plan_routes(problem, flows, scenario.tables.vehicles, settings)
    return plan, checked(scenario, flows, plan, settings)


def checked(
    scenario: Scenario, flows: pd.DataFrame, plan: RoutePlan, settings: RoutingSettings
) -> RouteVerification:
    """Verify ``plan``; raise :class:`VerificationError` if a route is wrong."""
    verification = verify_routes(scenario, flows, plan, settings)
    if not verification.ok:
        raise VerificationError([f"routes: {v}" for v in verification.violations])
    return verification
