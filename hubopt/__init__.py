"""hubopt: regional distribution-hub network optimisation for campaign planning.

The public API for scripts and notebooks::

    from hubopt import load_scenario, plan_map, solve, write_run
    result = solve(load_scenario("scenarios/korea/korea.yaml"))
    result.kpis.headline, result.flows, plan_map(result), write_run(result, "out/run")

    table = run_batch(["scenarios/korea/sweep-window-uplift.yaml"], out="out/sweep", workers=2)
    table, dual_map = compare(["out/sweep/RUN_A", "out/sweep/RUN_B"])

    forecast = forecast_demand("orders.csv.gz", horizon=10, regions="regions.geojson")
    forecast.demand, forecast.accuracy_by_product, forecast.uplift, forecast.campaigns_yaml
    economics = campaign_economics(result)  # marginal cost and ROI per campaign
    outcome = replan(load_run("out/run"), stock, from_period=5, sales=sales)  # DataFrames
"""

from hubopt.api import solve
from hubopt.batch import run_batch
from hubopt.compare import compare, compare_runs
from hubopt.economics import campaign_economics
from hubopt.errors import (
    DataValidationError,
    HubOptError,
    InputError,
    ScenarioError,
    VerificationError,
)
from hubopt.forecast import Forecast, forecast_demand
from hubopt.present.maps import compare_map, plan_map
from hubopt.replan import Replan, replan
from hubopt.result import Result
from hubopt.runs import load_run, write_run
from hubopt.scenario.scenario import Scenario, load_scenario, scenario_from_dict
from hubopt.solvers import SolveStatus, available_backends
from hubopt.version import __version__

__all__ = [
    "DataValidationError",
    "Forecast",
    "HubOptError",
    "InputError",
    "Replan",
    "Result",
    "Scenario",
    "ScenarioError",
    "SolveStatus",
    "VerificationError",
    "__version__",
    "available_backends",
    "campaign_economics",
    "compare",
    "compare_map",
    "compare_runs",
    "forecast_demand",
    "load_run",
    "load_scenario",
    "plan_map",
    "replan",
    "run_batch",
    "scenario_from_dict",
    "solve",
    "write_run",
]
