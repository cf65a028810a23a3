"""Turn estimated past uplift into a suggested ``campaigns:`` YAML block for the horizon.

Each past campaign is moved forward by whole years onto the forecast periods (the same
weeks of the year). Groups (provinces) whose uplift rounds to the same 0.1 step form one
entry, and products with the same groups and step share it; the entry's uplift is the
units-weighted estimate over its members. When two past campaigns land on the same
periods, the more recent one is suggested and the older one listed as a comment. The
block is a starting point: planners add windows, service levels and spend, and edit it.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from hubopt.forecast.panel import Panel
from hubopt.forecast.uplift import ALL_GROUPS

STEP = 0.1  # groups whose uplift rounds to the same step share an entry


def suggest_campaigns(
    uplift: pd.DataFrame, panel: Panel, gap: int, horizon: int, group_column: str
) -> str:
    """The suggested ``campaigns:`` block (YAML text with comments).

    ``gap`` is the number of periods between the end of the history and period 1.
    """
    header = [
        "# Suggested by `hubopt forecast` from past campaigns in the history.",
        "# Add delivery_window_hours, service_level and spend; edit uplifts as marketing plans.",
    ]
    estimated = pd.to_numeric(uplift["uplift"], errors="coerce").notna()
    groups_rows = uplift[(uplift["group"] != ALL_GROUPS) & estimated]
    if groups_rows.empty:
        return "# No campaigns flagged in the history (campaign_id column).\ncampaigns: []\n"
    lines: list[str] = []
    notes: list[str] = []
    taken: set[tuple[str, int]] = set()  # (product, period) already suggested
    all_groups = set(panel.series["group"])
    order = groups_rows.groupby("campaign_id")["first_period_start"].min()
    for campaign in order.sort_values(ascending=False).index:
        rows = groups_rows[groups_rows["campaign_id"] == campaign]
        periods = _future_periods(rows, panel, gap, horizon)
        if not periods:
            notes.append(f"# {campaign}: its weeks fall outside the forecast periods")
            continue
        clash = sorted({p for p in rows["product_id"] if any((p, t) in taken for t in periods)})
        if clash:
            notes.append(
                f"# {campaign} ({', '.join(clash)}): superseded on periods "
                f"{periods[0]}-{periods[-1]} by a more recent campaign; see uplift.csv"
            )
            rows = rows[~rows["product_id"].isin(clash)]
        taken |= {(p, t) for p in rows["product_id"] for t in periods}
        for number, (products, groups, members) in enumerate(_entries(rows), start=1):
            value = members["actual_units"].sum() / members["baseline_units"].sum()
            regions = (
                "all" if set(groups) == all_groups else f"{{{group_column}: [{', '.join(groups)}]}}"
            )
            lines += [
                f"  - id: {_slug(campaign)}-{number}",
                f"    name: {campaign}, uplift {value:.2f} (from history)",
                f"    regions: {regions}",
                f"    products: [{', '.join(products)}]",
                f"    periods: [{', '.join(map(str, periods))}]",
                f"    uplift: {value:.2f}    # group estimates {members['uplift'].min():.2f}"
                f"-{members['uplift'].max():.2f}, 90 % intervals within "
                f"{members['uplift_lo'].min():.2f}-{members['uplift_hi'].max():.2f}",
            ]
    body = ["campaigns:", *lines] if lines else ["campaigns: []"]
    return "\n".join(header + body + notes) + "\n"


def _entries(rows: pd.DataFrame) -> list[tuple[list[str], list[str], pd.DataFrame]]:
    """(products, groups, member rows): groups binned by rounded uplift, products merged."""
    step = np.round(rows["uplift"] / STEP).astype(int)
    per_product: dict[tuple[int, tuple[str, ...]], list[str]] = defaultdict(list)
    for (product, level), block in rows.groupby([rows["product_id"], step], sort=True):
        per_product[(level, tuple(sorted(block["group"])))].append(str(product))
    entries = []
    for (level, groups), products in sorted(per_product.items(), key=lambda kv: -kv[0][0]):
        members = rows[
            rows["product_id"].isin(products) & rows["group"].isin(groups) & (step == level)
        ]
        entries.append((products, list(groups), members))
    return entries


def _future_periods(block: pd.DataFrame, panel: Panel, gap: int, horizon: int) -> list[int]:
    """Forecast period numbers (1..horizon) of the campaign's weeks moved forward by years."""
    starts = pd.DatetimeIndex(panel.starts)
    first = starts.get_loc(pd.Timestamp(block["first_period_start"].min()))
    last = starts.get_loc(pd.Timestamp(block["last_period_start"].max()))
    positions = np.arange(first, last + 1)
    for years in range(1, 6):
        numbers = positions + years * panel.season - panel.n_periods - gap + 1
        inside = [int(p) for p in numbers if 1 <= p <= horizon]
        if inside:
            return inside
        if numbers.min() > horizon:
            break
    return []


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in str(text).lower()).strip("-")
