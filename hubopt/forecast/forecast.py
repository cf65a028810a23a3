"""``forecast_demand``: order history -> demand table (quantity + std) for a scenario."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hubopt.errors import DataValidationError, ForecastWarning, Problem
from hubopt.forecast.backtest import (
    MODELS,
    Backtest,
    accuracy_table,
    choose_models,
    chosen_errors,
    error_std,
    fold_origins,
    model_table,
    run_backtest,
    wape,
)
from hubopt.forecast.campaigns import suggest_campaigns
from hubopt.forecast.gbm import GbmSettings, gbm_forecast
from hubopt.forecast.history import read_history, read_regions
from hubopt.forecast.models import (
    estimate_ets_params,
    ets_all,
    group_totals,
    pooled_share,
    seasonal_naive,
)
from hubopt.forecast.panel import Panel, build_panel, period_start, season_length
from hubopt.forecast.uplift import estimate_uplift

DEMAND_COLUMNS = ["region_id", "product_id", "period", "quantity", "std", "channel"]
MAX_NAMED = 20
# progress(stage, units done since the last call, total units)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Forecast:
    """Result of :func:`forecast_demand`.

    Attributes
    ----------
    demand:
        The scenario demand table: ``region_id, product_id, period, quantity, std,
        channel``; periods 1..horizon from the start; baseline demand (campaign uplift is
        applied by the scenario's ``campaigns:``).
    periods:
        ``period, start``: the start date of each forecast period.
    models:
        Per series: ``region_id, product_id, group, model, reason, backtest_wape``.
    accuracy:
        Backtest WAPE and bias of the chosen models vs seasonal naive per product and
        group; ``accuracy_by_product``, ``accuracy_by_group`` and ``accuracy_total`` are
        the same at coarser levels.
    model_scores:
        Each model's own backtest WAPE and bias, and how many series chose it.
    uplift:
        Past campaigns' uplift per product and group with 90 % intervals.
    campaigns_yaml:
        A suggested ``campaigns:`` block for the forecast periods.
    warnings:
        Messages about fallbacks (also issued as :class:`ForecastWarning`).
    largest:
        The largest series (region_id, product_id) and ``plot``: its history, backtest
        forecasts and forecast, for the report's plot.
    """

    demand: pd.DataFrame
    periods: pd.DataFrame
    models: pd.DataFrame
    accuracy: pd.DataFrame
    accuracy_by_product: pd.DataFrame
    accuracy_by_group: pd.DataFrame
    accuracy_total: pd.DataFrame
    model_scores: pd.DataFrame
    uplift: pd.DataFrame
    campaigns_yaml: str
    warnings: tuple[str, ...]
    largest: tuple[str, str]
    plot: pd.DataFrame = field(repr=False)

    @property
    def wape(self) -> float:
        """Overall backtest WAPE of the chosen models."""
        return float(self.accuracy_total["wape"].iloc[0])

    @property
    def wape_naive(self) -> float:
        """Overall backtest WAPE of seasonal naive on the same cells."""
        return float(self.accuracy_total["wape_naive"].iloc[0])


def forecast_demand(
    history: str | Path | pd.DataFrame,
    horizon: int,
    freq: str = "W-MON",
    start: str | pd.Timestamp | None = None,
    regions: str | Path | pd.DataFrame | Collection[str] | None = None,
    group_column: str = "province",
    folds: int = 3,
    intermittent_share: float = 0.5,
    gbm: GbmSettings | None = None,
    progress: Progress | None = None,
    seed: int = 0,
) -> Forecast:
    """Forecast demand per region, product, period and channel from order history.

    Parameters
    ----------
    history:
        Path or DataFrame: ``region_id, product_id, date, quantity`` (optional
        ``campaign_id``, ``channel``); see :func:`hubopt.forecast.read_history`.
    horizon:
        Number of periods to forecast (period 1 = ``start``).
    freq:
        Period frequency: ``W-MON`` (weeks starting Monday; any weekday anchor, e.g. ``W-SUN``) or ``MS``.
    start:
        Start date of period 1 (a period start); default the period after the history.
        Periods between the history and ``start`` are forecast and dropped.
    regions:
        The scenario's regions table (a file, or a DataFrame with ``region_id`` and
        ``group_column``) or region ids;
        history rows of other regions are errors. Groups (provinces) drive the pooled
        model and the report; without them every region is in group ``all``.
    group_column:
        The regions column that groups regions (``province`` in the Korea demo: the 17 sido).
    folds:
        Rolling-origin backtest folds (each ``horizon`` periods long).
    intermittent_share:
        Series with more than this share of zero periods in the last year use the pooled
        model.
    gbm:
        LightGBM settings (trees, threads, seed).
    progress:
        Called as ``progress(stage, advance, total)`` while models are fitted.
    seed:
        Seed of the bootstrap and the gradient-boosted model.

    Returns
    -------
    Forecast

    Raises
    ------
    DataValidationError
        Bad history (rows named), unknown regions, or a horizon/start the history cannot
        support.
    """
    season = season_length(freq)
    ids, groups = _regions(regions, group_column)
    frame = read_history(history, regions=ids)
    panel = build_panel(frame, freq, groups)
    gap = _gap(panel, start)
    steps = gap + horizon
    if horizon < 1 or steps > season:
        raise DataValidationError(
            [
                Problem(
                    "--horizon",
                    f"1 to {season - gap} periods (start gap + horizon <= one year of {freq})",
                    f"horizon {horizon} with {gap} period(s) between history and start",
                )
            ]
        )
    settings = gbm or GbmSettings(seed=seed)
    cleaned = estimate_uplift(panel, seed=seed)
    values = cleaned.baseline_values
    eligible, reasons, messages = _eligibility(panel, values, steps, intermittent_share)
    messages += [
        f"campaign {c}: no year of history before it, so its uplift is not estimated and "
        "its periods stay in the history as sold"
        for c in cleaned.skipped
    ]
    keys = panel.series["group"] + "\x1f" + panel.series["product_id"]
    # ETS needs two years before an origin; the other models one (ETS is then NaN there)
    origins = fold_origins(panel.n_periods, steps, folds, min_origin=season + 1)
    # smoothing parameters from the history before the first backtest origin (no
    # look-ahead), unless that is under two years: then from all of it
    first_origin = origins[0] if origins and origins[0] >= 2 * season else panel.n_periods
    products = panel.series["product_id"]
    product_totals, product_of = group_totals(values[:, :first_origin], products)
    tick = _ticker(progress, len(product_totals) + 3 * (len(origins) + 1))
    product_params = []
    for total in product_totals:  # maximum likelihood on the national total per product
        product_params.append(estimate_ets_params(total, season))
        tick("estimating smoothing parameters", 1)
    series_params = [product_params[k] for k in product_of]
    key_of, _ = pd.factorize(keys)
    key_params = [
        product_params[product_of[np.argmax(key_of == k)]] for k in range(key_of.max() + 1)
    ]
    period_of_year = _period_of_year(panel, steps)
    rows = np.flatnonzero(eligible)

    def forecast_at(origin: int, h: int) -> dict[str, np.ndarray]:
        stage = "final fit" if origin == panel.n_periods else f"backtest origin {origin}"
        cut = values[:, :origin]
        out = {
            # every series: it is also the yardstick of the backtest report
            "seasonal_naive": seasonal_naive(cut, h, season),
            "ets": ets_all(cut, h, season, series_params, rows),
        }
        tick(stage + " (ETS)", 1)
        out["gbm"] = gbm_forecast(
            cut,
            panel.campaign[:, :origin],
            period_of_year,
            panel.series,
            h,
            season,
            rows,
            settings,
        )
        tick(stage + " (LightGBM)", 1)
        out["pooled"] = pooled_share(cut, h, season, keys, key_params)
        tick(stage + " (pooled)", 1)
        return out

    backtest = run_backtest(values, steps, origins, forecast_at)
    candidates = np.zeros((len(panel.series), len(MODELS)), dtype=bool)
    candidates[eligible] = True
    candidates[:, MODELS.index("pooled")] = True
    chosen = choose_models(backtest, candidates)
    final = forecast_at(panel.n_periods, steps)
    point = np.full((len(panel.series), steps), np.nan)
    for model in MODELS:
        point[chosen == model] = final[model][chosen == model]
    fallback = np.isnan(point).any(axis=1)  # e.g. the chosen model cannot forecast now
    point[fallback] = final["pooled"][fallback]
    point = np.clip(np.nan_to_num(point), 0.0, None)
    errors = chosen_errors(backtest, chosen)
    std = error_std(errors, backtest.actuals, point, panel.series["product_id"].to_numpy())
    if not origins:
        messages.append(
            f"history of {panel.n_periods} periods is too short for a backtest "
            f"(needs {season + 1 + steps}); std is the Poisson approximation sqrt(quantity)"
        )
    for message in messages:
        warnings.warn(message, ForecastWarning, stacklevel=2)
    by = ["product_id", "group"]
    series = panel.series
    models = series.assign(
        model=chosen,
        reason=reasons,
        backtest_wape=wape(
            errors, np.where(np.isnan(errors), np.nan, backtest.actuals), axis=(1, 2)
        )
        if origins
        else np.nan,
    )
    largest = int(np.nanargmax(np.nansum(panel.values, axis=1)))
    return Forecast(
        demand=_demand_table(panel, point[:, gap:], std[:, gap:]),
        periods=pd.DataFrame(
            {"period": np.arange(1, horizon + 1), "start": panel.future_starts(steps)[gap:].date}
        ),
        models=models,
        accuracy=accuracy_table(backtest, chosen, series, by),
        accuracy_by_product=accuracy_table(backtest, chosen, series, ["product_id"]),
        accuracy_by_group=accuracy_table(backtest, chosen, series, ["group"]),
        accuracy_total=accuracy_table(backtest, chosen, series, []),
        model_scores=model_table(backtest, chosen),
        uplift=cleaned.table,
        campaigns_yaml=suggest_campaigns(cleaned.table, panel, gap, horizon, group_column),
        warnings=tuple(messages),
        largest=(str(series.at[largest, "region_id"]), str(series.at[largest, "product_id"])),
        plot=_plot_frame(panel, largest, backtest, chosen[largest], point[largest], std[largest]),
    )


def _regions(
    regions: str | Path | pd.DataFrame | Collection[str] | None, group_column: str
) -> tuple[list[str] | None, pd.Series | None]:
    if regions is None:
        return None, None
    table = read_regions(Path(regions)) if isinstance(regions, str | Path) else regions
    if isinstance(table, pd.DataFrame):
        ids = table["region_id"].astype(str).str.strip()
        if group_column in table.columns:
            return ids.tolist(), pd.Series(table[group_column].astype(str).to_numpy(), index=ids)
        return ids.tolist(), None
    return [str(r) for r in table], None


def _gap(panel: Panel, start: str | pd.Timestamp | None) -> int:
    """Periods between the end of the history and ``start``."""
    following = panel.future_starts(1)[0]
    if start is None:
        return 0
    try:
        when = pd.Timestamp(start).normalize()
    except ValueError as err:
        raise DataValidationError([Problem("--start", "a date YYYY-MM-DD", repr(start))]) from err
    first = period_start(pd.DatetimeIndex([when]), panel.freq)[0]
    if first != when:
        raise DataValidationError(
            [
                Problem(
                    "--start",
                    f"the first day of a {panel.freq} period, e.g. {first:%Y-%m-%d}",
                    f"{when:%Y-%m-%d}",
                )
            ]
        )
    if when < following:
        raise DataValidationError(
            [
                Problem(
                    "--start",
                    f"a period after the history (from {following:%Y-%m-%d})",
                    f"{when:%Y-%m-%d}: the history already covers it",
                )
            ]
        )
    return len(pd.date_range(following, when, freq=panel.freq)) - 1


def _eligibility(
    panel: Panel, values: np.ndarray, steps: int, intermittent_share: float
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Which series get the per-series and global models; the rest use the pooled one."""
    season = panel.season
    observed = (~np.isnan(values)).sum(axis=1)
    recent = values[:, -season:]
    with np.errstate(all="ignore"):
        zero_share = np.sum(recent == 0, axis=1) / np.sum(~np.isnan(recent), axis=1)
    short = observed < 2 * season + steps
    sparse = ~short & (zero_share > intermittent_share)
    reasons = np.where(short, "short", np.where(sparse, "intermittent", "backtest"))
    messages = []
    names = panel.series["region_id"] + "/" + panel.series["product_id"]
    for mask, why in (
        (short, f"short history (< {2 * season + steps} periods)"),
        (sparse, f"intermittent (> {intermittent_share:.0%} zero periods in the last year)"),
    ):
        if mask.any():
            listed = ", ".join(names[mask].head(MAX_NAMED))
            more = f" and {int(mask.sum()) - MAX_NAMED} more" if mask.sum() > MAX_NAMED else ""
            messages.append(
                f"{int(mask.sum())} series fall back to the pooled model (share of the "
                f"group total), {why}: {listed}{more}"
            )
    return ~(short | sparse), reasons, messages


def _period_of_year(panel: Panel, steps: int) -> np.ndarray:
    starts = panel.starts.append(panel.future_starts(steps))
    if panel.season == 12:
        return np.asarray(starts.month - 1)
    return np.minimum(np.asarray(starts.day_of_year - 1) // 7, panel.season - 1)


def _ticker(progress: Progress | None, total: int) -> Callable[[str, int], None]:
    def tick(stage: str, advance: int) -> None:
        if progress is not None:
            progress(stage, advance, total)

    return tick


def _demand_table(panel: Panel, quantity: np.ndarray, std: np.ndarray) -> pd.DataFrame:
    """Split each series' forecast over its channels; drop rows that round to zero."""
    n, horizon = quantity.shape
    base = pd.DataFrame(
        {
            "region_id": np.repeat(panel.series["region_id"].to_numpy(), horizon),
            "product_id": np.repeat(panel.series["product_id"].to_numpy(), horizon),
            "period": np.tile(np.arange(1, horizon + 1), n),
            "total": quantity.ravel(),
            "total_std": std.ravel(),
        }
    )
    mix = panel.channel_share
    table = base.merge(mix, on=["region_id", "product_id"], how="left")
    table["channel"] = table["channel"].fillna("parcel")
    table["share"] = table["share"].fillna(1.0)
    table["quantity"] = np.round(table["total"] * table["share"])
    # the channels' errors move together (one forecast split by a fixed mix)
    table["std"] = np.round(table["total_std"] * table["share"], 1)
    table = table[table["quantity"] > 0]
    return (
        table[DEMAND_COLUMNS]
        .sort_values(["region_id", "product_id", "period", "channel"])
        .reset_index(drop=True)
    )


def _plot_frame(
    panel: Panel,
    s: int,
    backtest: Backtest,
    model: str,
    point: np.ndarray,
    std: np.ndarray,
) -> pd.DataFrame:
    """History, backtest forecasts (chosen model) and the forecast of one series."""
    steps = len(point)
    starts = panel.starts.append(panel.future_starts(steps))
    actual = np.concatenate([panel.values[s], np.full(steps, np.nan)])
    backcast = np.full(len(starts), np.nan)
    for f, origin in enumerate(backtest.origins):
        backcast[origin : origin + steps] = backtest.forecasts[model][s, f]
    forecast = np.concatenate([np.full(panel.n_periods, np.nan), point])
    spread = np.concatenate([np.full(panel.n_periods, np.nan), std])
    return pd.DataFrame(
        {
            "start": starts,
            "actual": actual,
            "backtest": backcast,
            "forecast": forecast,
            "std": spread,
            "model": model,
        }
    )
