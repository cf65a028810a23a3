"""A search for a first plan when no start's LP is feasible: the same search on an elastic
copy of the model, whose rows that a choice of hubs can leave unmet (campaign service
levels, a budget, a carbon cap, must-serve demand) take a penalised slack.

The starts (:meth:`hubopt.heuristic.search.Searcher.starts`) open hubs by cost and by the
LP relaxation's shares; when a campaign's service level needs hubs near its regions, none
of them may meet it, and closing hubs (:meth:`Searcher.drop_until_feasible`) only moves
away from it. Measured on the Korea what-if ``whatif-uplift-2.2.yaml`` (the winter sale at
2.2x, 95 % on time, at most 10 hubs): no start was feasible and the search gave up after
14 s of its 90 s, while a plan with 96.8 % on time exists (found with the service level
lowered to 80 %). On the elastic copy every start is an LP point, and the descent lowers
the slack until none is left; the search on the model itself goes on from there.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from hubopt.model.matrix import MatrixModel

ELASTIC_ROWS = ("service", "budget", "carbon_cap", "demand")
"""Row families that a fixed choice of hubs can leave infeasible and that take a slack."""

FEASIBLE = 1e-6
"""Total scaled slack at or below which a point of the elastic copy is a plan."""


def elastic_copy(model: MatrixModel) -> MatrixModel | None:
    """The feasibility version of ``model``: every cost 0, and a slack column per row of
    :data:`ELASTIC_ROWS` (block ``elastic``, appended after every other column, so the
    other blocks keep their positions; ``+s`` on a row with a lower side, an equality too,
    ``-s`` on a row with only an upper side) costing 1 per unit of the row's largest
    coefficient. Its optimum for a choice of hubs is 0 exactly when the model's LP for
    that choice is feasible. None when the model has none of those rows.

    Costs 0 rather than a penalty on top of the model's costs: with the penalty at 10x the
    largest cost (~3e9 KRW per unit of service shortfall on Korea) HiGHS's dual simplex
    stopped with "ratio test failed due to excessive dual values", and a smaller one can
    make a shortfall cheaper than the hub that would remove it."""
    present = [model.row_blocks[name] for name in ELASTIC_ROWS if name in model.row_blocks]
    rows = np.concatenate(
        [np.arange(part.start, part.stop, dtype=np.int64) for part in present]
        or [np.zeros(0, dtype=np.int64)]
    )
    if not len(rows):
        return None
    sign = np.where(np.isfinite(model.row_lo[rows]), 1.0, -1.0)
    scale = abs(model.A[rows]).max(axis=1).toarray().ravel()
    n = len(rows)
    slack = sp.csr_matrix((sign, (rows, np.arange(n))), shape=(model.n_rows, n))
    blocks = dict(model.var_blocks)
    blocks["elastic"] = slice(model.n_vars, model.n_vars + n)
    return dataclasses.replace(
        model,
        c=np.concatenate([np.zeros(model.n_vars), 1.0 / np.maximum(scale, 1e-12)]),
        lb=np.concatenate([model.lb, np.zeros(n)]),
        ub=np.concatenate([model.ub, np.full(n, np.inf)]),
        integer=np.concatenate([model.integer, np.zeros(n, dtype=bool)]),
        A=sp.hstack([model.A, slack], format="csr"),
        var_blocks=blocks,
        offset=0.0,
    )
