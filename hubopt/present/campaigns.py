"""Report data for the campaign decisions: promise per campaign window, where to run the
campaign (footprint), marginal campaign economics and what a re-plan changed.

Each function returns plain data for ``templates/campaigns.html.j2`` (autoescaped).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from hubopt.kpis import has_provinces
from hubopt.present.charts import stacked_bar
from hubopt.present.format import fmt_hours, fmt_money, fmt_num, fmt_pct, tier_palette
from hubopt.result import Result
from hubopt.tiers import tier_labels

RANKED_BEST, RANKED_WORST = 15, 5


def campaign_sections(result: Result, currency: str) -> dict[str, Any]:
    """Every campaign-decision section the result has data for (absent ones are None)."""
    assert result.solution is not None
    kpis = result.kpis
    tiers = result.scenario.config.output.promise_tiers_hours
    return {
        "promise": campaign_promise(kpis.campaign_promise, tiers)
        if len(kpis.campaign_promise)
        else None,
        "footprint": footprint(result, currency) if len(result.solution.footprint) else None,
        "economics": economics(result.campaign_economics, currency)
        if result.campaign_economics is not None
        else None,
        "replan": replan(result.replan_changes, result.replan_summary, currency)
        if result.replan_changes is not None
        else None,
    }


def campaign_promise(promise: pd.DataFrame, tiers_hours: list[float]) -> dict[str, Any]:
    """Per campaign: units promised within its window, on-time rate, tier mix by units."""
    order = tier_labels(tiers_hours)
    colors = tier_palette(order)
    rows = []
    for campaign_id, group in promise.groupby("campaign_id", sort=False):
        units = float(group["demand_units"].sum())
        by_tier = group.groupby("tier")["demand_units"].sum().reindex(order, fill_value=0.0)
        within = float(group.loc[group["within_window"].astype(bool), "demand_units"].sum())
        rows.append(
            {
                "id": campaign_id,
                "window": fmt_hours(group["delivery_window_hours"].iloc[0]),
                "regions": fmt_num(len(group)),
                "within": fmt_pct(within / units if units else math.nan),
                "on_time": fmt_pct(group["on_time_units"].sum() / units if units else math.nan),
                "bar": stacked_bar(
                    by_tier.tolist(),
                    [colors[t] for t in order],
                    [f"{t}: {fmt_num(v)} units" for t, v in by_tier.items()],
                ),
            }
        )
    return {"rows": rows, "legend": [(t, colors[t]) for t in order]}


def footprint(result: Result, currency: str) -> dict[str, Any]:
    """Per footprint campaign: totals, included regions by province, candidates ranked by
    profit per unit (best and worst)."""
    assert result.solution is not None
    regions = result.problem.regions.set_index("region_id")
    provinces = has_provinces(result.problem.regions)
    campaigns = []
    for campaign_id, group in result.solution.footprint.groupby("campaign_id", sort=False):
        chosen = group[group["included"] == 1]
        by_province: list[dict[str, str]] = []
        if provinces:
            table = group.assign(
                province=group["region_id"].map(regions["province"]).fillna("–"),
                chosen_profit=group["profit"].where(group["included"] == 1, 0.0),
            )
            summary = (
                table.groupby("province")
                .agg(
                    candidates=("included", "size"),
                    included=("included", "sum"),
                    profit=("chosen_profit", "sum"),
                )
                .sort_values(["included", "candidates"], ascending=False)
            )
            by_province = [
                {
                    "province": str(name),
                    "included": fmt_num(r.included),
                    "candidates": fmt_num(r.candidates),
                    "profit": fmt_money(r.profit, currency),
                }
                for name, r in summary.iterrows()
            ]
        ranked = group.sort_values("profit_per_unit", ascending=False, na_position="last")
        shown = pd.concat([ranked.head(RANKED_BEST), ranked.tail(RANKED_WORST)])
        shown = shown.drop_duplicates("region_id")
        campaigns.append(
            {
                "id": campaign_id,
                "included": fmt_num(len(chosen)),
                "candidates": fmt_num(len(group)),
                "margin": fmt_money(chosen["incremental_margin"].sum(), currency),
                "spend": fmt_money(chosen["spend"].sum(), currency),
                "logistics": fmt_money(chosen["logistics_cost"].sum(), currency),
                "profit": fmt_money(chosen["profit"].sum(), currency),
                "by_province": by_province,
                "ranked": [
                    {
                        "region": str(r.region_id),
                        "name": str(regions["name"].get(r.region_id, "")),
                        "runs": bool(r.included),
                        "units": fmt_num(r.incremental_units),
                        "margin": fmt_money(r.incremental_margin, currency),
                        "logistics": fmt_money(r.logistics_cost, currency),
                        "basis": str(r.logistics_basis),
                        "per_unit": fmt_num(r.profit_per_unit),
                    }
                    for r in shown.itertuples()
                ],
            }
        )
    return {"campaigns": campaigns, "best": RANKED_BEST, "worst": RANKED_WORST}


def economics(table: pd.DataFrame, currency: str) -> list[dict[str, Any]]:
    """Rows of the marginal-economics table."""
    return [
        {
            "id": r.campaign_id,
            "marginal": fmt_money(r.marginal_logistics_cost, currency),
            "margin": fmt_money(r.incremental_margin, currency),
            "spend": fmt_money(r.spend, currency),
            "roi": fmt_pct(r.roi),
            "significant": bool(r.significant),
            "uncertainty": fmt_money(r.uncertainty, currency),
            "allocated": fmt_money(r.allocated_logistics_cost, currency),
        }
        for r in table.itertuples()
    ]


def replan(changes: pd.DataFrame, summary: dict[str, Any], currency: str) -> dict[str, Any]:
    """The re-plan's headline and the regions whose deliveries moved most."""
    delivered = changes[changes["kind"] == "delivered"]
    by_region = delivered.groupby("region_id")["change"].sum()
    top = by_region.reindex(by_region.abs().sort_values(ascending=False).index).head(10)
    hubs = changes[changes["kind"] == "hub_open"]
    moves = []
    for hub_id, rows in hubs.groupby("hub_id"):
        opened = rows.loc[rows["change"] > 0, "period"].astype(int).tolist()
        closed = rows.loc[rows["change"] < 0, "period"].astype(int).tolist()
        if opened:
            moves.append(f"{hub_id} now open in period(s) {', '.join(map(str, opened))}")
        if closed:
            moves.append(f"{hub_id} no longer open in period(s) {', '.join(map(str, closed))}")
    return {
        "from_period": summary.get("from_period"),
        "cost_before": fmt_money(summary.get("remaining_cost_original"), currency),
        "cost_after": fmt_money(summary.get("remaining_cost_replanned"), currency),
        "cost_change": fmt_money(summary.get("remaining_cost_change"), currency),
        "hub_moves": moves,
        "delivered": fmt_num(summary.get("delivered_units_change")),
        "late": fmt_num(summary.get("late_units_change")),
        "lost": fmt_num(summary.get("lost_units_change")),
        "rebalanced": fmt_num(summary.get("stock_rebalanced_units")),
        "regions": [{"region": str(r), "change": fmt_num(v)} for r, v in top.items()],
        "relaxed": [
            {
                "campaign": str(c),
                "level": fmt_pct(v["level"]),
                "status": str(v["held_solve_status"]),
                "remaining": fmt_pct(v["on_time_rate_remaining"]),
                "on_time": fmt_pct(v["on_time_rate"]),
            }
            for c, v in summary.get("service_levels_relaxed", {}).items()
        ],
    }
