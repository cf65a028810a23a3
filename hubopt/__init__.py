"""hubopt: regional distribution-hub network optimisation for campaign planning.

The public API for scripts and notebooks::

    from hubopt import load_scenario, solve
    result = solve(load_scenario("scenarios/korea/korea.yaml"))
    result.kpis.headline, result.flows, result.map(), result.write("out/run")

    table = run_batch(["scenarios/korea/sweep-window-uplift.yaml"], out="out/sweep", workers=2)
    table, dual_map = compare(["out/sweep/RUN_A", "out/sweep/RUN_B"])
"""

from hubopt.api import Result, solve
from hubopt.batch import load_run, run_batch
from hubopt.compare import compare
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
    "compare",
    "load_run",
    "load_scenario",
    "run_batch",
    "scenario_from_dict",
    "solve",
]
