"""Campaign footprint (family 14): where a ``footprint: optimize`` campaign runs.

``include[f]`` is binary per candidate f = (campaign c, region r). It switches on the
incremental streams of (c, r) (see :class:`hubopt.data.problem.ProblemData`): their
demand rows read ``sum ship + unmet - q_k * include[f_k] = 0`` (:func:`optional_demand`)
and they count in the campaign's service row only when included
(:func:`hubopt.model.flow.define_service`). The objective pays ``spend_per_region`` and
earns the incremental margin ``sum_k unit_margin_p * q_k`` of each included candidate.
"""

from __future__ import annotations

import numpy as np

from hubopt.data.problem import ProblemData
from hubopt.model.matrix import ModelAssembler


def define_include(m: ModelAssembler, problem: ProblemData) -> None:
    """``include[f]`` binary per footprint candidate; cost spend - incremental margin."""
    fp = problem.footprint
    cost = fp["spend"].to_numpy(float) - fp["incremental_margin"].to_numpy(float)
    m.add_variables("include", cost, 0.0, 1.0, integer=True)


def optional_demand(problem: ProblemData) -> tuple[np.ndarray, np.ndarray]:
    """(stream positions, footprint candidates) of the incremental streams."""
    f = problem.streams["footprint_idx"].to_numpy()
    k = np.flatnonzero(f >= 0)
    return k, f[k]


def define_region_count(m: ModelAssembler, problem: ProblemData) -> None:
    """Per optimized campaign with bounds: min_regions <= sum_r include[c,r] <= max_regions."""
    fp = problem.footprint
    campaigns = problem.campaigns
    if not len(fp):
        return
    lo = campaigns["min_regions"].to_numpy(dtype=float, na_value=np.nan)
    hi = campaigns["max_regions"].to_numpy(dtype=float, na_value=np.nan)
    bounded = np.flatnonzero(~np.isnan(lo) | ~np.isnan(hi))
    if not len(bounded):
        return
    row_of = -np.ones(len(campaigns), dtype=np.int64)
    row_of[bounded] = np.arange(len(bounded))
    r = row_of[fp["campaign_idx"].to_numpy()]
    use = r >= 0
    m.add_rows(
        "region_count",
        len(bounded),
        r[use],
        m.column("include", np.flatnonzero(use)),
        np.ones(int(use.sum())),
        np.nan_to_num(lo[bounded], nan=0.0),
        np.nan_to_num(hi[bounded], nan=np.inf),
    )
