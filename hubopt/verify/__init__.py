"""The independent verifier: every constraint family and the objective, recomputed from
the raw scenario tables and the solution's decisions with pandas, never from the model's
arrays or matrix nor the solution's cost table. A violation is a bug in hubopt, never a
result.

One ``check_<family>`` per constraint family, mirroring ``hubopt/model/``: ``flow.py``
(demand, stock balance, safety stock, supply, campaign service), ``network.py``
(throughput, storage, linking, hub counts, statuses, events and closing, budget, single
sourcing, carbon cap), ``pickup.py`` (pickup points), ``footprint.py`` (campaign
footprint), ``arcs.py`` (arcs and windows) and ``objective.py``; ``plan.py`` holds the
recomputed context and ``verification.py`` runs them all; ``replan.py`` checks a re-plan
against its original.
"""

from hubopt.verify.replan import check_replan
from hubopt.verify.verification import FAMILIES, Verification, verify_solution

__all__ = ["FAMILIES", "Verification", "check_replan", "verify_solution"]
