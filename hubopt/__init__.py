"""hubopt: regional distribution-hub network optimisation for campaign planning.

The public API for scripts and notebooks::

    from hubopt import load_scenario, solve
    result = solve(load_scenario("scenarios/korea/korea.yaml"))
    result.kpis.headline, result.flows, result.map(), result.write("out/run")
"""

from hubopt.api import Result, solve
from hubopt.errors import (
    DataValidationError,
    HubOptError,
    InputError,
    ScenarioError,
    VerificationError,
)
from hubopt.scenario.scenario import Scenario, load_scenario, scenario_from_dict
from hubopt.solvers import SolveStatus, available_backends

__version__ = "0.1.0"

__all__ = [
    "DataValidationError",
    "HubOptError",
    "InputError",
    "Result",
    "Scenario",
    "ScenarioError",
    "SolveStatus",
    "VerificationError",
    "__version__",
    "available_backends",
    "load_scenario",
    "scenario_from_dict",
    "solve",
]
