"""Campaign uplift from history, against a baseline forecast, with a bootstrap interval.

For each past campaign (in date order), product and region group, the baseline of a
flagged period is the same period a year earlier scaled by the group's level ratio over
the ``pre`` periods before the campaign (a sixth of a year, fewer if the history
is short) versus the same periods a year earlier (a
seasonal-naive forecast from an origin just before the campaign, level-adjusted). The
uplift is actual units / baseline units over the campaign's flagged cells. Its 90 %
interval is a percentile bootstrap over the group's series (over its flagged periods
when the group has fewer than 5 series). Flagged cells are then divided by the uplift,
so later campaigns and the forecast models see baseline demand. Rows with group
``(all)`` pool every group of a campaign and product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hubopt.forecast.panel import Panel

UPLIFT_COLUMNS = [
    "campaign_id",
    "product_id",
    "group",
    "first_period_start",
    "last_period_start",
    "n_series",
    "n_periods",
    "actual_units",
    "baseline_units",
    "uplift",
    "uplift_lo",
    "uplift_hi",
]
ALL_GROUPS = "(all)"  # the row pooling every group of a campaign and product
BOOTSTRAP = 300
MIN_SERIES_FOR_SERIES_BOOTSTRAP = 5


@dataclass(frozen=True)
class UpliftResult:
    """Uplift estimates and the history with campaign uplift divided out."""

    table: pd.DataFrame
    baseline_values: np.ndarray
    skipped: tuple[str, ...] = ()  # campaigns without a year of history before them


def estimate_uplift(panel: Panel, seed: int = 0) -> UpliftResult:
    """Estimate every flagged campaign's uplift per product and group; clean the history."""
    work = panel.values.copy()
    flags = panel.campaign
    season = panel.season
    longest_pre = max(2, season // 6)
    rng = np.random.default_rng(seed)
    ids = [c for c in pd.unique(flags[flags != ""].ravel())]
    first_seen = {c: int(np.argwhere(flags == c)[:, 1].min()) for c in ids}
    rows = []
    pending: list[tuple[np.ndarray, np.ndarray, float]] = []
    skipped: list[str] = []
    for c in sorted(ids, key=lambda c: (first_seen[c], c)):
        cells = flags == c
        start = first_seen[c]
        pre = min(longest_pre, start - season)
        if pre < 1:
            skipped.append(c)  # no year-earlier baseline in the history
            continue
        window = slice(start - pre, start)
        window_ly = slice(start - pre - season, start - season)
        lagged = np.full_like(work, np.nan)
        lagged[:, season:] = work[:, :-season]
        by_group = panel.series.groupby(["group", "product_id"]).groups
        by_product = panel.series.groupby("product_id").groups
        scopes = [(g, p, m, True) for (g, p), m in by_group.items()]
        scopes += [(ALL_GROUPS, p, m, False) for p, m in by_product.items()]
        for group, product, members, clean in scopes:
            s = np.asarray(members)
            s = s[cells[s].any(axis=1)]
            if len(s) == 0:
                continue
            mask = cells[s]
            a = np.where(mask, np.nan_to_num(work[s]), 0.0)
            b = np.where(mask, np.nan_to_num(lagged[s]), 0.0)
            pre_now = np.nansum(work[s, window], axis=1)
            pre_ly = np.nansum(work[s, window_ly], axis=1)
            uplift, lo, hi = _estimate(a, b, pre_now, pre_ly, rng)
            periods = np.flatnonzero(mask.any(axis=0))
            rows.append(
                {
                    "campaign_id": c,
                    "product_id": product,
                    "group": group,
                    "first_period_start": panel.starts[periods.min()].date(),
                    "last_period_start": panel.starts[periods.max()].date(),
                    "n_series": len(s),
                    "n_periods": len(periods),
                    "actual_units": float(a.sum()),
                    "baseline_units": float(a.sum() / uplift) if uplift > 0 else np.nan,
                    "uplift": uplift,
                    "uplift_lo": lo,
                    "uplift_hi": hi,
                }
            )
            if clean and np.isfinite(uplift) and uplift > 0:
                pending.append((s, mask, uplift))
        for s, mask, uplift in pending:  # after all estimates: the "all" rows saw raw cells
            block = work[s]
            block[mask] = block[mask] / uplift
            work[s] = block
        pending.clear()
    table = pd.DataFrame(rows, columns=UPLIFT_COLUMNS)
    return UpliftResult(table, work, tuple(skipped))


def _estimate(
    a: np.ndarray, b: np.ndarray, pre_now: np.ndarray, pre_ly: np.ndarray, rng: np.random.Generator
) -> tuple[float, float, float]:
    """Point estimate and 90 % bootstrap interval of sum(a) / (sum(b) * level ratio)."""

    def ratio(wa: np.ndarray, wb: np.ndarray, wn: np.ndarray, wl: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return wa / (wb * (wn / wl))

    point = float(ratio(a.sum(), b.sum(), pre_now.sum(), pre_ly.sum()))
    if not np.isfinite(point):
        return np.nan, np.nan, np.nan
    n = len(a)
    if n >= MIN_SERIES_FOR_SERIES_BOOTSTRAP:
        weights = rng.multinomial(n, np.full(n, 1 / n), size=BOOTSTRAP)
        draws = ratio(weights @ a.sum(1), weights @ b.sum(1), weights @ pre_now, weights @ pre_ly)
    else:  # few series: resample the campaign periods, level ratio as estimated
        cols = np.flatnonzero((a + b).any(axis=0))
        pa, pb = a[:, cols].sum(0), b[:, cols].sum(0)
        weights = rng.multinomial(len(cols), np.full(len(cols), 1 / len(cols)), size=BOOTSTRAP)
        draws = ratio(weights @ pa, weights @ pb, pre_now.sum(), pre_ly.sum())
    draws = draws[np.isfinite(draws)]
    if len(draws) == 0:
        return point, np.nan, np.nan
    lo, hi = np.percentile(draws, [5, 95])
    return point, float(lo), float(hi)
