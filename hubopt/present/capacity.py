"""Report sections for capacity realism (issue 13): peak staffing, returns through the
network, pooled vs summed safety stock per hub, pickup points. Each section is a dict of
formatted strings for ``templates/report.html.j2``; an empty section is left out."""

from __future__ import annotations

from typing import Any

import pandas as pd

from hubopt.present.format import fmt_money, fmt_num, fmt_pct, periods_text
from hubopt.result import Result


def capacity_sections(result: Result, currency: str) -> dict[str, Any]:
    """The four sections (``staffing``, ``returns``, ``safety``, ``pickup``) and ``any``."""
    kpis = result.kpis
    names = dict(zip(result.problem.hubs["hub_id"], result.problem.hubs["name"], strict=True))
    unit = "weeks" if result.problem.policy.period_days == 7 else "periods"
    sections = {
        "staffing": _staffing(kpis.staffing, names, unit, currency),
        "returns": _returns(kpis.returns, kpis.headline, names, currency),
        "safety": _safety(kpis.safety_stock, names, result.problem.policy.safety_stock.pooling),
        "pickup": _pickup(kpis.pickup_points, kpis.headline),
    }
    return {**sections, "any": any(sections.values())}


def _hub_name(names: dict[str, str], hub_id: str) -> str:
    return str(names.get(hub_id) or hub_id)


def _staffing(
    staffing: pd.DataFrame, names: dict[str, str], unit: str, currency: str
) -> dict[str, Any]:
    if not len(staffing):
        return {}
    lines, rows = [], []
    for hub_id, group in staffing.groupby("hub_id", sort=False):
        periods = sorted(int(p) for p in group["period"])
        lines.append(
            f"Extra shifts needed at {_hub_name(names, str(hub_id))} in {unit} "
            f"{periods_text(periods)}: {fmt_num(group['peak_m3'].sum())} m³ above the base "
            f"capacity, {fmt_money(group['peak_cost'].sum(), currency)}."
        )
    for r in staffing.itertuples():
        rows.append(
            {
                "hub": _hub_name(names, str(r.hub_id)),
                "period": int(r.period),
                "throughput": fmt_num(r.throughput_m3),
                "base": fmt_num(r.throughput_capacity_m3),
                "peak": fmt_num(r.peak_m3),
                "share": fmt_pct(r.peak_share),
                "cost": fmt_money(r.peak_cost, currency),
            }
        )
    return {"lines": lines, "rows": rows}


def _returns(
    returns: pd.DataFrame, headline: dict[str, Any], names: dict[str, str], currency: str
) -> dict[str, Any]:
    if not len(returns) or float(returns["returned_units"].sum()) <= 0:
        return {}
    summary = (
        f"{fmt_num(headline.get('returned_units'))} units come back through the hubs that "
        f"delivered them, {fmt_pct(headline.get('returns_share_of_throughput'))} of their "
        f"throughput; trips back and processing cost "
        f"{fmt_money(headline.get('return_cost'), currency)}."
    )
    rows = [
        {
            "hub": _hub_name(names, str(r.hub_id)),
            "delivered": fmt_num(r.delivered_units),
            "returned": fmt_num(r.returned_units),
            "restocked": fmt_num(r.restocked_units),
            "share": fmt_pct(r.returns_share_of_throughput),
            "cost": fmt_money(r.return_cost, currency),
        }
        for r in returns.sort_values("returned_units", ascending=False).itertuples()
        if r.returned_units > 0
    ]
    return {"summary": summary, "rows": rows}


def _safety(safety: pd.DataFrame, names: dict[str, str], pooling: bool) -> dict[str, Any]:
    if not len(safety) or float(safety["safety_stock_unpooled_units"].sum()) <= 0:
        return {}
    pooled = float(safety["safety_stock_pooled_units"].sum())
    summed = float(safety["safety_stock_unpooled_units"].sum())
    held = "held (pooling on)" if pooling else "what pooling would need (the plan holds the sum)"
    summary = (
        f"Pooled safety stock {fmt_num(pooled)} units per period, against {fmt_num(summed)} "
        f"summed per region: {fmt_num(summed - pooled)} units "
        f"({fmt_pct((summed - pooled) / summed)}) less; pooled is {held}."
    )
    rows = [
        {
            "hub": _hub_name(names, str(r.hub_id)),
            "pooled": fmt_num(r.safety_stock_pooled_units),
            "summed": fmt_num(r.safety_stock_unpooled_units),
            "saved": fmt_num(r.saved_units),
            "share": fmt_pct(r.saved_share),
        }
        for r in safety.sort_values("safety_stock_unpooled_units", ascending=False).itertuples()
    ]
    return {"summary": summary, "rows": rows}


def _pickup(points: pd.DataFrame, headline: dict[str, Any]) -> dict[str, Any]:
    if not len(points):
        return {}
    used = points[points["periods_open"] > 0]
    summary = (
        f"{len(used)} of {len(points)} pickup points open; "
        f"{fmt_pct(headline.get('pickup_share'))} of delivered units are picked up, customers "
        f"travel {fmt_num(headline.get('pickup_customer_km_mean'), 1)} km on average."
    )
    rows = [
        {
            "point": str(r.name or r.pickup_id),
            "id": str(r.pickup_id),
            "periods": fmt_num(r.periods_open),
            "units": fmt_num(r.units),
            "utilisation": fmt_pct(r.utilisation),
            "km": fmt_num(r.customer_km_mean, 1),
            "regions": str(r.served_regions).replace(";", ", "),
        }
        for r in used.sort_values("units", ascending=False).itertuples()
    ]
    return {"summary": summary, "rows": rows}
