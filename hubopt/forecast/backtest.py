"""Rolling-origin backtest, model choice per series, error std per series and horizon.

Folds: origins at ``n - k * horizon`` for k = folds..1, so the test windows tile the
end of the history without overlap. Every model is refitted at every origin on the
history before it. Errors are ``forecast - actual`` on the campaign-cleaned history.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

MODELS = ("seasonal_naive", "ets", "gbm", "pooled")
# preference on ties: the simpler model first
Forecaster = Callable[[int, int], dict[str, np.ndarray]]


@dataclass(frozen=True)
class Backtest:
    """Per-fold forecasts of every model against the actuals.

    ``forecasts[model]`` and ``actuals`` are ``(n_series, n_folds, horizon)``;
    ``origins`` are the period positions where each fold's forecast starts.
    """

    origins: tuple[int, ...]
    forecasts: dict[str, np.ndarray]
    actuals: np.ndarray


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence numpy's warnings for all-NaN slices (series without backtest cells)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def fold_origins(n_periods: int, horizon: int, folds: int, min_origin: int) -> list[int]:
    """Origins ``n - k*horizon`` (k = folds..1) that leave ``min_origin`` periods to train on."""
    return [
        n_periods - k * horizon
        for k in range(folds, 0, -1)
        if n_periods - k * horizon >= min_origin
    ]


def run_backtest(
    values: np.ndarray, horizon: int, origins: list[int], forecast_at: Forecaster
) -> Backtest:
    """Call ``forecast_at(origin, horizon)`` at every origin and collect errors."""
    n = values.shape[0]
    forecasts = {m: np.full((n, len(origins), horizon), np.nan) for m in MODELS}
    actuals = np.full((n, len(origins), horizon), np.nan)
    for f, origin in enumerate(origins):
        actuals[:, f] = values[:, origin : origin + horizon]
        for model, fc in forecast_at(origin, horizon).items():
            forecasts[model][:, f] = fc
    return Backtest(tuple(origins), forecasts, actuals)


def wape(
    errors: np.ndarray, actuals: np.ndarray, axis: int | tuple[int, ...] | None = None
) -> np.ndarray:
    """Weighted absolute percentage error: sum |forecast - actual| / sum actual."""
    with _quiet():
        return np.nansum(np.abs(errors), axis=axis) / np.nansum(actuals, axis=axis)


def choose_models(backtest: Backtest, candidates: np.ndarray) -> np.ndarray:
    """Per series, the model with the lowest backtest WAPE (``candidates``: series x model)."""
    n = backtest.actuals.shape[0]
    scores = np.full((n, len(MODELS)), np.inf)
    complete = ~np.isnan(backtest.actuals)
    for m, model in enumerate(MODELS):
        complete &= ~np.isnan(backtest.forecasts[model]) | ~candidates[:, m][:, None, None]
    for m, model in enumerate(MODELS):
        err = np.where(complete, backtest.forecasts[model] - backtest.actuals, np.nan)
        act = np.where(complete, backtest.actuals, np.nan)
        score = wape(err, act, axis=(1, 2))
        score = np.where(np.isfinite(score), score, np.inf)
        scores[:, m] = np.where(candidates[:, m], score, np.inf)
    chosen = np.argmin(scores, axis=1)
    # no usable backtest at all: the pooled model (always defined)
    chosen[~np.isfinite(scores.min(axis=1))] = MODELS.index("pooled")
    return np.array(MODELS, dtype=object)[chosen]


def chosen_errors(backtest: Backtest, chosen: np.ndarray) -> np.ndarray:
    """``(n_series, n_folds, horizon)`` errors of each series' chosen model."""
    errors = np.full(backtest.actuals.shape, np.nan)
    for model in MODELS:
        rows = chosen == model
        errors[rows] = backtest.forecasts[model][rows] - backtest.actuals[rows]
    return errors


def error_std(
    errors: np.ndarray, actuals: np.ndarray, forecast: np.ndarray, products: np.ndarray
) -> np.ndarray:
    """Forecast-error std per series and horizon step, scaled to the forecast's level.

    ``std[s, h] = max(rmse_s, rel_s * forecast[s, h]) * profile_p[h]``: the series' root
    mean squared backtest error (all folds and steps) or, when larger, its relative error
    (rmse over the mean actual of the backtest folds) times the forecast — so a forecast
    for the peak season carries errors of peak size even when the backtest folds fell in
    a quiet season — times its product's horizon profile (the RMS of errors at step h
    relative to each series' RMSE, pooled over the product's series), so errors grow with
    the horizon as the backtest shows. Series without a backtest use their product's
    median relative error times the forecast, floored at sqrt(forecast) (Poisson noise).
    """
    n, _, horizon = errors.shape
    with _quiet():
        rmse = np.sqrt(np.nanmean(errors**2, axis=(1, 2)))
        relative = errors / rmse[:, None, None]
        level = np.nanmean(np.abs(np.where(np.isfinite(errors), actuals, np.nan)), axis=(1, 2))
        rel = np.where(level > 0, rmse / level, np.nan)
    scaled = np.fmax(rmse[:, None], np.nan_to_num(rel)[:, None] * np.clip(forecast, 0, None))
    std = np.full((n, horizon), np.nan)
    poisson = np.sqrt(np.clip(forecast, 0, None))
    for product in np.unique(products):
        rows = products == product
        with _quiet():
            profile = np.sqrt(np.nanmean(relative[rows] ** 2, axis=(0, 1)))
            profile = np.where(np.isfinite(profile), profile, 1.0)
            std[rows] = scaled[rows] * profile[None, :]
            cv = np.nanmedian(rel[rows])
        missing = rows & ~np.isfinite(std).all(axis=1)
        fallback = (cv if np.isfinite(cv) else 0.0) * forecast[missing]
        std[missing] = np.maximum(fallback, poisson[missing])
    return np.nan_to_num(std)


def accuracy_table(
    backtest: Backtest, chosen: np.ndarray, series: pd.DataFrame, by: list[str]
) -> pd.DataFrame:
    """WAPE and bias of the chosen models vs seasonal naive, per ``by`` (e.g. product, group).

    Both are measured on the same cells (where seasonal naive has a forecast), so the
    columns compare like with like. ``bias = sum(forecast - actual) / sum(actual)``.
    """
    errors = chosen_errors(backtest, chosen)
    naive = backtest.forecasts["seasonal_naive"] - backtest.actuals
    cells = ~np.isnan(errors) & ~np.isnan(naive)
    frame = series[by].copy()
    frame["actual"] = np.where(cells, backtest.actuals, 0).sum(axis=(1, 2))
    frame["abs_error"] = np.where(cells, np.abs(errors), 0).sum(axis=(1, 2))
    frame["error"] = np.where(cells, errors, 0).sum(axis=(1, 2))
    frame["naive_abs_error"] = np.where(cells, np.abs(naive), 0).sum(axis=(1, 2))
    frame["naive_error"] = np.where(cells, naive, 0).sum(axis=(1, 2))
    frame["n_series"] = 1
    sums = (
        frame.groupby(by, as_index=False).sum(numeric_only=True) if by else frame.sum().to_frame().T
    )
    return _ratios(sums, by)


def _ratios(sums: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    actual = sums["actual"].astype(float).where(sums["actual"] > 0)
    out = sums[by].copy() if by else pd.DataFrame(index=sums.index)
    out["n_series"] = sums["n_series"].astype(int)
    out["actual_units"] = sums["actual"].astype(float)
    out["wape"] = sums["abs_error"] / actual
    out["wape_naive"] = sums["naive_abs_error"] / actual
    out["bias"] = sums["error"] / actual
    out["bias_naive"] = sums["naive_error"] / actual
    out["wape_change"] = out["wape"] - out["wape_naive"]
    return out.reset_index(drop=True)


def model_table(backtest: Backtest, chosen: np.ndarray) -> pd.DataFrame:
    """Every model's own backtest WAPE and bias (on the cells all models forecast)."""
    cells = ~np.isnan(backtest.actuals)
    for model in MODELS:
        cells &= ~np.isnan(backtest.forecasts[model])
    rows = []
    actual = np.where(cells, backtest.actuals, 0).sum()
    for model in MODELS:
        err = np.where(cells, backtest.forecasts[model] - backtest.actuals, 0)
        rows.append(
            {
                "model": model,
                "chosen_for": int((chosen == model).sum()),
                "wape": float(np.abs(err).sum() / actual) if actual > 0 else np.nan,
                "bias": float(err.sum() / actual) if actual > 0 else np.nan,
            }
        )
    return pd.DataFrame(rows)
