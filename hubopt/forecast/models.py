"""The per-series forecasting models: seasonal naive, exponential smoothing, pooled share.

Each takes the history matrix ``values`` (series x periods, NaN before a series starts,
already cleaned of campaign uplift) cut at a forecast origin and returns a
``(n_series, horizon)`` forecast, NaN where the model cannot forecast a series.
The global gradient-boosted model lives in :mod:`hubopt.forecast.gbm`.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)


def seasonal_naive(values: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Same period last year: ``f[t+h] = y[t+h-season]`` (horizon <= season)."""
    n = values.shape[1]
    if n < season:
        return np.full((values.shape[0], horizon), np.nan)
    return values[:, n - season : n - season + horizon].copy()


@dataclass(frozen=True)
class EtsParams:
    """Smoothing parameters of additive Holt-Winters with a damped additive trend."""

    level: float
    trend: float
    seasonal: float
    damping: float


DEFAULT_ETS = EtsParams(level=0.2, trend=0.02, seasonal=0.1, damping=0.95)


def estimate_ets_params(aggregate: np.ndarray, season: int) -> EtsParams:
    """Fit the smoothing parameters (maximum likelihood, statsmodels) on one aggregate series.

    Regional series are noisy; their province x product total carries the same seasonal
    shape with less noise, so parameters are estimated there and reused per series.
    Falls back to :data:`DEFAULT_ETS` when the series is too short or the fit fails.
    """
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    y = aggregate[~np.isnan(aggregate)]
    if len(y) < 2 * season or not np.any(y > 0):
        return DEFAULT_ETS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = ExponentialSmoothing(
                y,
                trend="add",
                damped_trend=True,
                seasonal="add",
                seasonal_periods=season,
                initialization_method="heuristic",
            ).fit()
    except (ValueError, np.linalg.LinAlgError) as err:
        log.debug("ETS parameter fit failed (%s); using defaults", err)
        return DEFAULT_ETS
    p = fit.params
    return EtsParams(
        level=float(np.clip(p["smoothing_level"], 0.01, 0.99)),
        trend=float(np.clip(p["smoothing_trend"], 0.0, 0.5)),
        seasonal=float(np.clip(p["smoothing_seasonal"], 0.0, 0.9)),
        damping=float(np.clip(p["damping_trend"], 0.8, 0.99)),
    )


def initial_states(y: np.ndarray, season: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Classical initial states from the first two seasons of each row of ``y``.

    Level = mean of season 1; trend = (mean of season 2 - mean of season 1) / season;
    seasonal = season 1 minus the level.
    """
    first, second = y[:, :season], y[:, season : 2 * season]
    level = first.mean(axis=1)
    trend = (second.mean(axis=1) - level) / season
    return level, trend, first - level[:, None]


def holt_winters(
    y: np.ndarray, horizon: int, season: int, params: EtsParams | list[EtsParams]
) -> np.ndarray:
    """Additive Holt-Winters, damped additive trend, for many series at once.

    ``y`` is ``(n, T)`` without NaN, ``T >= 2 * season``. The recursion is statsmodels'
    ``ExponentialSmoothing(trend="add", damped_trend=True, seasonal="add")`` with
    ``initialization_method="known"`` and the states of :func:`initial_states` (the
    tests check both agree), vectorised over series::

        l_t = a (y_t - s_{t-m}) + (1 - a)(l_{t-1} + phi b_{t-1})
        b_t = b (l_t - l_{t-1}) + (1 - b) phi b_{t-1}
        s_t = g (y_t - l_{t-1} - phi b_{t-1}) + (1 - g) s_{t-m}
        f_{T+h} = l_T + (phi + ... + phi^h) b_T + s_{T+h-m}      (h <= m)
    """
    n, length = y.shape
    plist = params if isinstance(params, list) else [params] * n
    a, b, g, phi = (
        np.array([getattr(p, k) for p in plist]) for k in ("level", "trend", "seasonal", "damping")
    )
    level, trend, seasonal0 = initial_states(y, season)
    seasonal = np.empty((n, length + season))
    seasonal[:, :season] = seasonal0
    for t in range(length):
        previous = level + phi * trend
        new_level = a * (y[:, t] - seasonal[:, t]) + (1 - a) * previous
        seasonal[:, t + season] = g * (y[:, t] - previous) + (1 - g) * seasonal[:, t]
        trend = b * (new_level - level) + (1 - b) * phi * trend
        level = new_level
    steps = np.arange(1, horizon + 1)
    damp = np.cumsum(phi[:, None] ** steps[None, :], axis=1)
    last_season = seasonal[:, length : length + season]
    return np.clip(level[:, None] + damp * trend[:, None] + last_season[:, :horizon], 0.0, None)


def ets_all(
    values: np.ndarray,
    horizon: int,
    season: int,
    params: list[EtsParams],
    rows: np.ndarray,
) -> np.ndarray:
    """ETS forecasts of the series in ``rows`` (``params[i]`` for series i); NaN elsewhere.

    Each series is smoothed from its first observed period; series with fewer than two
    seasons observed get NaN.
    """
    out = np.full((values.shape[0], horizon), np.nan)
    if len(rows) == 0:
        return out
    starts = np.argmax(~np.isnan(values[rows]), axis=1)
    starts[np.isnan(values[rows]).all(axis=1)] = values.shape[1]
    for start in np.unique(starts):
        members = rows[starts == start]
        if values.shape[1] - start < 2 * season:
            continue
        block = np.nan_to_num(values[members, start:])
        out[members] = holt_winters(block, horizon, season, [params[i] for i in members])
    return out


def group_totals(values: np.ndarray, keys: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Sum series by ``keys`` (e.g. group + product): (totals, index of each series' total).

    A period counts as NaN only when every series of the key is NaN there.
    """
    codes, _ = pd.factorize(keys)
    totals = np.zeros((codes.max() + 1, values.shape[1]))
    np.add.at(totals, codes, np.nan_to_num(values))
    seen = np.zeros_like(totals, dtype=bool)
    np.logical_or.at(seen, codes, ~np.isnan(values))
    totals[~seen] = np.nan
    return totals, codes


def pooled_share(
    values: np.ndarray,
    horizon: int,
    season: int,
    keys: pd.Series,
    params: list[EtsParams],
) -> np.ndarray:
    """Each series' share of its group x product total times the total's forecast.

        The total is forecast by ETS (``params[k]`` for key k), or by seasonal naive when it
        has less than two seasons, or by its recent mean when it has less than one. The share
        is the series' part of the total over the last season, counting only the periods
    since the series started.
    """
    totals, codes = group_totals(values, keys)
    total_fc = np.empty((len(totals), horizon))
    for k, total in enumerate(totals):
        observed = total[~np.isnan(total)]
        if len(observed) >= 2 * season:
            total_fc[k] = holt_winters(observed[None, :], horizon, season, params[k])[0]
        elif len(observed) >= season:
            total_fc[k] = seasonal_naive(total[None, :], horizon, season)[0]
        else:
            total_fc[k] = np.mean(observed[-season:]) if len(observed) else 0.0
    window = slice(max(0, values.shape[1] - season), values.shape[1])
    # share over the periods the series was selling, so a new series is not diluted
    active = ~np.isnan(values[:, window])
    own = np.nansum(values[:, window], axis=1)
    total_window = np.where(active, np.nan_to_num(totals[codes][:, window]), 0.0).sum(axis=1)
    share = np.divide(own, total_window, out=np.zeros_like(own), where=total_window > 0)
    return share[:, None] * np.nan_to_num(total_fc[codes])
