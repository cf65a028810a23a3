"""Route KPIs: vans used, km, hours, cost and on-time stops per hub and period (DESIGN §4)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from hubopt.routing.plan import RoutePlan

ROUTE_KPI_COLUMNS = (
    "hub_id",
    "period",
    "vans_used",
    "stops",
    "on_time_stops",
    "late_stops",
    "on_time_rate",
    "km",
    "hours",
    "load_m3",
    "fixed_cost",
    "km_cost",
    "cost",
    "unrouted_visits",
)


def compute_route_kpis(plan: RoutePlan) -> pd.DataFrame:
    """One row per hub and period (columns :data:`ROUTE_KPI_COLUMNS`).

    ``vans_used`` counts routes (a van drives at most one route per period), ``stops``
    counts visits (a region split over two vans is two stops), ``on_time_rate`` =
    on-time stops / stops, ``cost`` = fixed cost per route + cost per km, ``hours`` is
    the sum of route durations (van-hours).
    """
    keys = ["hub_id", "period"]
    routes = plan.routes
    per_route = routes.groupby(keys, as_index=False).agg(
        vans_used=("vehicle", "size"),
        stops=("stops", "sum"),
        late_stops=("late_stops", "sum"),
        km=("km", "sum"),
        hours=("hours", "sum"),
        load_m3=("load_m3", "sum"),
        fixed_cost=("fixed_cost", "sum"),
        km_cost=("km_cost", "sum"),
        cost=("cost", "sum"),
    )
    dropped = plan.unrouted.groupby(keys).size().rename("unrouted_visits").reset_index()
    table = per_route.merge(dropped, on=keys, how="outer").fillna(0)
    for column in ("vans_used", "stops", "late_stops", "unrouted_visits"):
        table[column] = table[column].astype(int)
    table["on_time_stops"] = table["stops"] - table["late_stops"]
    table["on_time_rate"] = (
        table["on_time_stops"] / table["stops"].where(table["stops"] > 0)
    ).fillna(1.0)
    table["period"] = table["period"].astype(int)
    return table[list(ROUTE_KPI_COLUMNS)].sort_values(keys, ignore_index=True)


def route_totals(plan: RoutePlan) -> dict[str, Any]:
    """Headline route KPIs over every hub and period."""
    table = compute_route_kpis(plan)
    stops = int(table["stops"].sum())
    on_time = int(table["on_time_stops"].sum())
    return {
        "hub_periods": len(table),
        "vans_used": int(table["vans_used"].sum()),
        "max_vans_per_hub_period": int(table["vans_used"].max()) if len(table) else 0,
        "stops": stops,
        "on_time_stops": on_time,
        "late_stops": stops - on_time,
        "on_time_rate": on_time / stops if stops else 1.0,
        "km": float(table["km"].sum()),
        "van_hours": float(table["hours"].sum()),
        "cost": float(table["cost"].sum()),
        "unrouted_visits": int(table["unrouted_visits"].sum()),
    }
