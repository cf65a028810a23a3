"""One global gradient-boosted model (LightGBM) across all series, M5-style.

Features per (series, period): week or month of the year, region, group (province) and
product as categories, the campaign flag of the period and of the same period a year
before, and lags of one season (``y[t-s]``, its neighbours, ``y[t-2s]``). Targets and
lags are divided by the series' mean over the last season before the origin, so one
model serves large and small series alike. The target is the change against the anchor
``mean(y[t-s-1], y[t-s], y[t-s+1])`` (same weeks last year): trees cannot extrapolate
levels above those seen in training, but year-on-year changes stay in range, so growth
carries on. The prediction is anchor + change, scaled back. Because every
lag is at least one season old, the horizon may be up to one season without recursion.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

FEATURES = (
    "period_of_year",
    "region",
    "group",
    "product",
    "campaign",
    "campaign_last_year",
    "lag_season",
    "lag_season_prev",
    "lag_season_next",
    "lag_two_seasons",
    "season_mean_last_year",
)
CATEGORICAL = ("region", "group", "product")


@dataclass(frozen=True)
class GbmSettings:
    """LightGBM settings (defaults are sized for ~1,500 series x 3 years in seconds).

    One thread by default: on shared machines OpenMP threads that wait for a busy core
    slow training down more than a second thread speeds it up.
    """

    n_estimators: int = 150
    learning_rate: float = 0.08
    num_leaves: int = 31
    min_child_samples: int = 20
    n_jobs: int = 1
    seed: int = 0


def _features(
    values: np.ndarray,
    campaign: np.ndarray,
    period_of_year: np.ndarray,
    codes: dict[str, np.ndarray],
    scale: np.ndarray,
    periods: np.ndarray,
    season: int,
) -> pd.DataFrame:
    """Feature rows for every series at the given period positions (lags from ``values``)."""
    n_series = values.shape[0]
    ss, tt = np.meshgrid(np.arange(n_series), periods, indexing="ij")
    ss, tt = ss.ravel(), tt.ravel()

    def lag(k: int) -> np.ndarray:
        pos = tt - k
        ok = (pos >= 0) & (pos < values.shape[1])
        out = np.full(len(tt), np.nan)
        out[ok] = values[ss[ok], pos[ok]] / scale[ss[ok]]
        return out

    def flag(k: int) -> np.ndarray:
        pos = tt - k
        ok = (pos >= 0) & (pos < campaign.shape[1])
        out = np.zeros(len(tt))
        out[ok] = campaign[ss[ok], pos[ok]] != ""
        return out

    window = np.stack([lag(season + d) for d in range(-2, 3)])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: mean is NaN
        mean_last_year = np.nanmean(np.stack([lag(season + d) for d in range(0, season, 4)]), 0)
        anchor = np.nanmean(window[1:4], axis=0)
    return pd.DataFrame(
        {
            "series": ss,
            "t": tt,
            "period_of_year": period_of_year[tt],
            "region": pd.Categorical(
                codes["region"][ss], categories=range(codes["region"].max() + 1)
            ),
            "group": pd.Categorical(codes["group"][ss], categories=range(codes["group"].max() + 1)),
            "product": pd.Categorical(
                codes["product"][ss], categories=range(codes["product"].max() + 1)
            ),
            "campaign": flag(0),
            "campaign_last_year": flag(season),
            "lag_season": window[2],
            "lag_season_prev": window[3],
            "lag_season_next": window[1],
            "lag_two_seasons": lag(2 * season),
            "season_mean_last_year": mean_last_year,
            "anchor": anchor,
        }
    )


def gbm_forecast(
    values: np.ndarray,
    campaign: np.ndarray,
    period_of_year: np.ndarray,
    series: pd.DataFrame,
    horizon: int,
    season: int,
    rows: np.ndarray,
    settings: GbmSettings,
) -> np.ndarray:
    """Train on every series' history up to the origin, forecast ``horizon`` periods.

    ``values`` and ``campaign`` are cut at the origin; ``period_of_year`` covers the
    history and the horizon. Returns ``(n_series, horizon)``, NaN outside ``rows``.
    """
    import lightgbm as lgb

    n_series, origin = values.shape
    out = np.full((n_series, horizon), np.nan)
    if origin <= season or len(rows) == 0:
        return out
    recent = values[:, origin - season :]
    with np.errstate(all="ignore"):
        scale = np.nanmean(recent, axis=1)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    codes = {
        name: pd.factorize(series[column])[0]
        for name, column in (("region", "region_id"), ("group", "group"), ("product", "product_id"))
    }
    train = _features(
        values, campaign, period_of_year, codes, scale, np.arange(season, origin), season
    )
    level = values[train["series"].to_numpy(), train["t"].to_numpy()] / scale[train["series"]]
    target = level - train["anchor"].to_numpy()
    keep = np.isfinite(target)
    train, target = train[keep], target[keep]
    if len(train) < 50:
        return out
    params = {
        "objective": "regression",
        "learning_rate": settings.learning_rate,
        "num_leaves": settings.num_leaves,
        "min_data_in_leaf": settings.min_child_samples,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "feature_fraction": 0.9,
        "num_threads": settings.n_jobs,
        "seed": settings.seed,
        "deterministic": True,
        "verbose": -1,
    }
    dataset = lgb.Dataset(
        train[list(FEATURES)], target, categorical_feature=list(CATEGORICAL), free_raw_data=True
    )
    model = lgb.train(params, dataset, num_boost_round=settings.n_estimators)
    future_campaign = np.concatenate(
        [campaign, np.full((n_series, horizon), "", dtype=object)], axis=1
    )
    padded = np.concatenate([values, np.full((n_series, horizon), np.nan)], axis=1)
    test = _features(
        padded,
        future_campaign,
        period_of_year,
        codes,
        scale,
        np.arange(origin, origin + horizon),
        season,
    )
    predicted = np.asarray(model.predict(test[list(FEATURES)])).reshape(n_series, horizon)
    anchor = test["anchor"].to_numpy().reshape(n_series, horizon)
    predicted = np.clip(np.nan_to_num(anchor) + predicted, 0.0, None) * scale[:, None]
    out[rows] = predicted[rows]
    return out
