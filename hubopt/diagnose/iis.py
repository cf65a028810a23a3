"""Cross-check against HiGHS's irreducible infeasible subset of the LP relaxation."""

from __future__ import annotations

import logging

from hubopt.diagnose.text import IIS_MAX_ROWS
from hubopt.model.matrix import MatrixModel
from hubopt.solvers.highs import lp_iis_rows

log = logging.getLogger(__name__)


def iis_row_families(model: MatrixModel, time_limit_s: float = 20.0) -> list[str] | None:
    """Row families in HiGHS's IIS of the LP relaxation; [] if the LP is feasible; None if
    HiGHS (or its IIS) is unavailable or the model is too large to bother."""
    if model.n_rows > IIS_MAX_ROWS:
        return None

    rows = lp_iis_rows(model, time_limit_s)
    if rows is None:
        return None
    return [
        name
        for name, sl in model.row_blocks.items()
        if ((rows >= sl.start) & (rows < sl.stop)).any()
    ]


def iis_cross_check(model: MatrixModel) -> list[str]:
    try:
        families = iis_row_families(model)
    except Exception as err:  # a cross-check only
        log.warning("IIS cross-check failed: %s", err)
        return []
    if families is None:
        return []
    if not families:
        return [
            "Cross-check (HiGHS IIS): the LP relaxation is feasible, so the conflict involves "
            "whole-hub open/closed decisions (hub limits, forced statuses, budget)."
        ]
    return [
        "Cross-check (HiGHS irreducible infeasible subset of the LP relaxation): rows of the "
        f"families {', '.join(families)}."
    ]
