"""Campaign footprint (family 14): the footprint decisions, and the spend and incremental
margin they put in the objective, recomputed from the config."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hubopt.verify.plan import Plan, campaign_scope


def footprint_candidates(plan: Plan) -> pd.DataFrame:
    """The candidates recomputed from the config: the regions in a ``footprint: optimize``
    campaign's scope with demand in it, one row per (campaign, region, period) with the
    incremental ``units`` = base x (uplift - 1) and their ``margin`` (x unit_margin)."""
    t, config = plan.scenario.tables, plan.scenario.config
    margin_of = t.products.set_index("product_id")["unit_margin"]
    claimed = pd.Series(False, index=t.demand.index)
    parts = []
    for c in config.campaigns:
        rows = campaign_scope(plan.scenario, c) & ~claimed
        claimed |= rows
        if c.footprint != "optimize":
            continue
        scoped = t.demand[rows & (t.demand["quantity"] > 0)]
        units = scoped["quantity"].to_numpy(float) * (c.uplift - 1.0)
        parts.append(
            pd.DataFrame(
                {
                    "campaign_id": c.id,
                    "region_id": scoped["region_id"].astype(str).to_numpy(),
                    "period": scoped["period"].to_numpy(int),
                    "units": units,
                    "margin": units * margin_of.reindex(scoped["product_id"]).to_numpy(float),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["campaign_id", "region_id", "period", "units", "margin"])
    return pd.concat(parts, ignore_index=True)


def _included(plan: Plan) -> set[tuple[str, str]]:
    table = plan.solution.footprint
    if not len(table):
        return set()
    chosen = table[table["included"].astype(float) == 1]
    return set(zip(chosen["campaign_id"], chosen["region_id"].astype(str), strict=True))


def check_footprint(plan: Plan) -> list[str]:
    """The footprint table lists exactly the candidates; decisions are 0/1; each
    campaign's included regions are within ``min_regions`` / ``max_regions``."""
    found: list[str] = []
    expected = set(
        zip(
            footprint_candidates(plan)["campaign_id"],
            footprint_candidates(plan)["region_id"],
            strict=True,
        )
    )
    table = plan.solution.footprint
    listed = (
        set(zip(table["campaign_id"], table["region_id"].astype(str), strict=True))
        if len(table)
        else set()
    )
    for c_id, r_id in sorted(expected - listed)[:10]:
        found.append(f"footprint: candidate region {r_id} of campaign {c_id} has no decision")
    for c_id, r_id in sorted(listed - expected)[:10]:
        found.append(f"footprint: region {r_id} is not a candidate of campaign {c_id}")
    if not len(table):
        return found
    decision = table["included"].to_numpy(float)
    for i in np.flatnonzero((decision != 0) & (decision != 1))[:10]:
        found.append(f"footprint: included must be 0 or 1, found {decision[i]} at row {i}")
    chosen = table[decision == 1]
    for c in plan.scenario.config.campaigns:
        if c.footprint != "optimize":
            continue
        n = int((chosen["campaign_id"] == c.id).sum())
        lo, hi = c.min_regions, c.max_regions
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            found.append(
                f"footprint: campaign {c.id} runs in {n} regions outside [{lo}, {hi}] "
                "(min_regions, max_regions)"
            )
    return found


def footprint_costs(plan: Plan) -> tuple[pd.Series, pd.Series]:
    """(campaign spend, incremental margin) by period of the included candidates:
    ``spend_per_region`` per included region in the first period of the campaign's
    incremental demand; the margin of the included units in their period (positive)."""
    candidates = footprint_candidates(plan)
    if not len(candidates):
        return pd.Series(dtype=float), pd.Series(dtype=float)
    included = _included(plan)
    chosen = candidates[
        [
            (c, r) in included
            for c, r in zip(candidates["campaign_id"], candidates["region_id"], strict=True)
        ]
    ]
    margin = chosen.groupby("period")["margin"].sum()
    first = candidates[candidates["units"] > 0].groupby("campaign_id")["period"].min()
    spend_per = {c.id: c.spend_per_region for c in plan.scenario.config.campaigns}
    pairs = chosen[["campaign_id", "region_id"]].drop_duplicates()
    spend = (
        pd.Series([spend_per[c] for c in pairs["campaign_id"]], dtype=float)
        .groupby(pairs["campaign_id"].map(first).to_numpy())
        .sum()
    )
    return spend, margin
