"""Aggregate validated history to periods: a series x period matrix plus campaign flags.

A *series* is one (region, product). Periods start on the anchor dates of ``freq`` (a
pandas offset alias naming period starts: ``W-MON`` = weeks starting Monday, ``MS`` =
calendar months). A series starts at its first row; later periods without rows are
zero sales, earlier ones are NaN (not yet sold).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from hubopt.errors import DataValidationError, Problem

# periods per year, i.e. the length of the yearly season
SEASON_LENGTH = {"W": 52, "MS": 12, "M": 12, "ME": 12}


@dataclass(frozen=True)
class Panel:
    """History on a period grid.

    Attributes
    ----------
    series:
        One row per series: ``region_id, product_id, group`` (the region group, e.g. province).
    starts:
        The start date of each history period (length ``n_periods``).
    values:
        ``(n_series, n_periods)`` units per period; NaN before a series' first row.
    campaign:
        ``(n_series, n_periods)`` campaign id of the period ("" = none).
    channel_share:
        ``region_id, product_id, channel, share``: each series' channel mix over the last
        season of history (shares sum to 1 per series).
    freq:
        The period frequency alias.
    season:
        Periods per year.
    """

    series: pd.DataFrame
    starts: pd.DatetimeIndex
    values: np.ndarray
    campaign: np.ndarray
    channel_share: pd.DataFrame
    freq: str
    season: int

    @property
    def n_periods(self) -> int:
        """Number of history periods."""
        return len(self.starts)

    def future_starts(self, count: int) -> pd.DatetimeIndex:
        """Start dates of the ``count`` periods after the history."""
        return pd.date_range(self.starts[-1], periods=count + 1, freq=self.freq)[1:]


def season_length(freq: str) -> int:
    """Periods per year for ``freq``; raises DataValidationError for unsupported ones."""
    try:
        offset = to_offset(freq)
    except ValueError as err:
        raise DataValidationError(
            [Problem("--freq", "a pandas frequency such as W-MON or MS", repr(freq))]
        ) from err
    base = offset.rule_code.split("-")[0]
    if base not in SEASON_LENGTH or offset.n != 1:
        raise DataValidationError(
            [
                Problem(
                    "--freq",
                    "weekly periods (W-MON ... W-SUN: weeks starting that day) or months (MS)",
                    repr(freq),
                )
            ]
        )
    return SEASON_LENGTH[base]


def period_start(dates: pd.Series | pd.DatetimeIndex, freq: str) -> pd.DatetimeIndex:
    """The start of the period (per ``freq``) that each date falls in."""
    offset = to_offset(freq)
    index = pd.DatetimeIndex(dates).normalize()
    return pd.DatetimeIndex([offset.rollback(d) for d in index.unique()]).take(
        pd.Index(index.unique()).get_indexer(index)
    )


def build_panel(history: pd.DataFrame, freq: str, groups: pd.Series | None = None) -> Panel:
    """Aggregate validated history (see :func:`read_history`) to a :class:`Panel`.

    ``groups`` maps region_id to its group (e.g. province); regions missing from it, or all
    regions when it is None, fall in group ``"all"``.
    """
    season = season_length(freq)
    frame = history.assign(start=period_start(history["date"], freq))
    starts = pd.date_range(frame["start"].min(), frame["start"].max(), freq=freq)
    series = (
        frame[["region_id", "product_id"]]
        .drop_duplicates()
        .sort_values(["region_id", "product_id"])
        .reset_index(drop=True)
    )
    group_of = groups.to_dict() if groups is not None else {}
    series["group"] = [str(group_of.get(r, "all")) for r in series["region_id"]]
    s_idx = pd.MultiIndex.from_frame(series[["region_id", "product_id"]]).get_indexer(
        pd.MultiIndex.from_frame(frame[["region_id", "product_id"]])
    )
    t_idx = starts.get_indexer(frame["start"])
    values = np.zeros((len(series), len(starts)))
    np.add.at(values, (s_idx, t_idx), frame["quantity"].to_numpy())
    first = np.full(len(series), len(starts))
    np.minimum.at(first, s_idx, t_idx)
    values[np.arange(len(starts))[None, :] < first[:, None]] = np.nan
    campaign = np.full(values.shape, "", dtype=object)
    flagged = frame["campaign_id"].to_numpy() != ""
    campaign[s_idx[flagged], t_idx[flagged]] = frame["campaign_id"].to_numpy()[flagged]
    recent = frame[t_idx >= len(starts) - season]
    recent = recent if not recent.empty else frame
    mix = recent.groupby(["region_id", "product_id", "channel"], as_index=False)["quantity"].sum()
    total = mix.groupby(["region_id", "product_id"])["quantity"].transform("sum")
    mix["share"] = np.where(total > 0, mix["quantity"] / total.where(total > 0, 1), np.nan)
    # a series with no sales in the window: split like its rows (equal shares)
    count = mix.groupby(["region_id", "product_id"])["quantity"].transform("size")
    mix["share"] = mix["share"].fillna(1.0 / count)
    channel_share = mix[["region_id", "product_id", "channel", "share"]].reset_index(drop=True)
    return Panel(series, starts, values, campaign, channel_share, freq, season)
