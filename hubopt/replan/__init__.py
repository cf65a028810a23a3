"""Mid-campaign re-plan (``hubopt replan``): keep what happened before period T,
re-optimise T onwards (:mod:`hubopt.replan.plan`), and what changed
(:mod:`hubopt.replan.changes`)."""

from hubopt.replan.changes import CHANGE_COLUMNS, hub_periods, replan_changes, replan_summary
from hubopt.replan.plan import (
    Replan,
    check_sales,
    check_stock,
    demand_ratios,
    replan,
    splice,
    tail_scenario,
)

__all__ = [
    "CHANGE_COLUMNS",
    "Replan",
    "check_sales",
    "check_stock",
    "demand_ratios",
    "hub_periods",
    "replan",
    "replan_changes",
    "replan_summary",
    "splice",
    "tail_scenario",
]
