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

Every name below is imported on first use (PEP 562), so ``hubopt --help`` and a refused
scenario do not pay for the solvers, maps and Dask: ``import hubopt`` alone imports nothing
heavy.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# public name -> the module that defines it
_HOME = {
    "solve": "hubopt.api",
    "run_batch": "hubopt.batch",
    "compare": "hubopt.compare",
    "compare_runs": "hubopt.compare",
    "campaign_economics": "hubopt.economics",
    "DataValidationError": "hubopt.errors",
    "HubOptError": "hubopt.errors",
    "InputError": "hubopt.errors",
    "ScenarioError": "hubopt.errors",
    "VerificationError": "hubopt.errors",
    "Forecast": "hubopt.forecast",
    "forecast_demand": "hubopt.forecast",
    "compare_map": "hubopt.present.maps",
    "plan_map": "hubopt.present.maps",
    "Replan": "hubopt.replan",
    "replan": "hubopt.replan",
    "Result": "hubopt.result",
    "load_run": "hubopt.runs",
    "write_run": "hubopt.runs",
    "Scenario": "hubopt.scenario.scenario",
    "load_scenario": "hubopt.scenario.scenario",
    "scenario_from_dict": "hubopt.scenario.scenario",
    "SolveStatus": "hubopt.solvers",
    "available_backends": "hubopt.solvers",
    "__version__": "hubopt.version",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name here."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'hubopt' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    setattr(sys.modules[__name__], name, value)
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """`hubopt.compare` and `hubopt.replan` name both a submodule and the function the
    package exports. Python binds a submodule on its package when it is first imported;
    here the function wins, whenever the submodule is imported (as it did when this file
    imported everything eagerly)."""

    def __setattr__(self, name: str, value: object) -> None:
        if isinstance(value, types.ModuleType) and name in ("compare", "replan"):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

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
