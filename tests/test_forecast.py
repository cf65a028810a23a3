"""Demand from order history (issue 11): known seasonality, trend and uplift recovered,
fallbacks for short and intermittent series, std per horizon, and a forecast that
validates and solves as a scenario's demand table."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import (
    BACKENDS,
    SYNTHETIC_UPLIFT,
    solve_verified,
    synthetic_history,
    synthetic_truth,
    write_scenario,
)

from hubopt.errors import DataValidationError
from hubopt.forecast import Forecast, ForecastWarning, GbmSettings, forecast_demand
from hubopt.forecast.backtest import error_std
from hubopt.forecast.models import DEFAULT_ETS, EtsParams, holt_winters, initial_states
from hubopt.scenario.schema import Campaign

HORIZON = 12
FAST_GBM = GbmSettings(n_estimators=40, n_jobs=1)


@pytest.fixture(scope="module")
def synthetic() -> tuple[Forecast, pd.DataFrame, pd.DataFrame, dict[tuple[str, str], float]]:
    """One forecast of the synthetic history (8 regions x 2 products x 3 years)."""
    history, regions, bases = synthetic_history()
    forecast = forecast_demand(
        history, HORIZON, regions=regions, group_column="province", gbm=FAST_GBM
    )
    return forecast, history, regions, bases


def _series_totals(forecast: Forecast) -> pd.DataFrame:
    """Forecast units per (region, product, period), channels summed."""
    return forecast.demand.groupby(["region_id", "product_id", "period"], as_index=False)[
        ["quantity"]
    ].sum()


def test_forecast_recovers_seasonality_and_trend(synthetic) -> None:
    """Truth: base x 1.10^(t/52) x (1 + 0.6 cos(2 pi (t - 6) / 52)), Poisson noise; the
    horizon t = 156..167 crosses the seasonal peak (t = 162). The forecast is within 8 %
    WAPE of the noiseless truth, its peak/first-week ratio within 10 % of the truth's,
    and its level vs the same weeks a year earlier shows the +10 %/year trend (±5 pts)."""
    forecast, _, _, bases = synthetic
    totals = _series_totals(forecast)
    t = 156 + totals["period"].to_numpy() - 1
    base = np.array(
        [bases[(r, p)] for r, p in zip(totals["region_id"], totals["product_id"], strict=True)]
    )
    truth = synthetic_truth(base, t)
    assert np.abs(totals["quantity"] - truth).sum() / truth.sum() < 0.08
    national = totals.assign(truth=truth).groupby("period")[["quantity", "truth"]].sum()
    shape_fc = national["quantity"].max() / national["quantity"].iloc[0]
    shape_true = national["truth"].max() / national["truth"].iloc[0]
    assert shape_fc == pytest.approx(shape_true, rel=0.10)
    last_year = synthetic_truth(base, t - 52).sum()
    assert totals["quantity"].sum() / last_year == pytest.approx(1.10, abs=0.05)


def test_forecast_beats_seasonal_naive_on_backtest_wape(synthetic) -> None:
    """Rolling-origin backtest: chosen models' WAPE < seasonal naive's, overall and per
    product (naive carries last year's noise and misses the trend)."""
    forecast, *_ = synthetic
    assert forecast.wape < forecast.wape_naive
    assert (forecast.accuracy_by_product["wape"] < forecast.accuracy_by_product["wape_naive"]).all()
    assert set(forecast.model_scores["model"]) == {"seasonal_naive", "ets", "gbm", "pooled"}
    assert forecast.model_scores["wape"].notna().all()


def test_uplift_recovered_per_group_with_interval(synthetic) -> None:
    """Campaign ``promo`` (weeks 108-111) had uplift 1.5 in North and 1.2 in South: each
    estimate is within 0.08 of the truth and inside its own 90 % interval."""
    forecast, *_ = synthetic
    rows = forecast.uplift[forecast.uplift["group"].isin(SYNTHETIC_UPLIFT)]
    assert len(rows) == 4  # 2 groups x 2 products
    for row in rows.itertuples():
        assert row.uplift == pytest.approx(SYNTHETIC_UPLIFT[row.group], abs=0.08), row
        assert row.uplift_lo <= row.uplift <= row.uplift_hi
        assert row.uplift_hi - row.uplift_lo < 0.3


def test_baseline_forecast_excludes_past_uplift(synthetic) -> None:
    """Periods 5-8 are the campaign weeks a year on; the forecast there is baseline demand
    (within 10 % of the truth without uplift), not last year's promoted sales."""
    forecast, _, _, bases = synthetic
    totals = _series_totals(forecast)
    window = totals[totals["period"].between(5, 8)]
    base = np.array(
        [bases[(r, p)] for r, p in zip(window["region_id"], window["product_id"], strict=True)]
    )
    truth = synthetic_truth(base, 156 + window["period"].to_numpy() - 1).sum()
    assert window["quantity"].sum() / truth == pytest.approx(1.0, abs=0.10)


def test_suggested_campaigns_block_is_valid_yaml_for_the_horizon(synthetic) -> None:
    """The suggested block parses, each entry is a valid Campaign on periods 5-8 (weeks
    108-111 moved a year on), and North's entry carries ~1.5, South's ~1.2."""
    forecast, *_ = synthetic
    entries = yaml.safe_load(forecast.campaigns_yaml)["campaigns"]
    assert entries
    by_group: dict[str, float] = {}
    for entry in entries:
        campaign = Campaign(**entry)
        assert campaign.periods == [5, 6, 7, 8]
        for group in entry["regions"]["province"]:
            by_group[group] = campaign.uplift
    assert by_group["North"] == pytest.approx(1.5, abs=0.1)
    assert by_group["South"] == pytest.approx(1.2, abs=0.1)


def test_std_per_series_and_horizon(synthetic) -> None:
    """std > 0 on every row, no NaN; per unit it is of the order of the Poisson noise plus
    model error (median std/quantity between 2 % and 20 %); it does not shrink with the
    horizon on average (last step >= first step)."""
    forecast, *_ = synthetic
    demand = forecast.demand
    assert demand["std"].notna().all() and (demand["std"] > 0).all()
    ratio = (demand["std"] / demand["quantity"]).median()
    assert 0.02 < ratio < 0.20
    by_step = (demand["std"] / demand["quantity"]).groupby(demand["period"]).median()
    assert by_step.iloc[-1] >= by_step.iloc[0] * 0.9


def test_short_and_intermittent_series_fall_back_to_pooled_with_a_warning() -> None:
    """A region that started 30 weeks ago and one selling in 1 week out of 4 do not crash:
    both use the pooled model, and the warning names them."""
    history, regions, _ = synthetic_history(n_regions=4, products=("COAT",), seed=1)
    dates = sorted(history["date"].unique())
    short = pd.DataFrame(
        {"region_id": "R01", "product_id": "NEWHAT", "date": dates[-30:], "quantity": 20}
    )
    sparse_dates = dates[::4]
    sparse = pd.DataFrame(
        {"region_id": "R02", "product_id": "NEWHAT", "date": sparse_dates, "quantity": 3}
    )
    steady = pd.DataFrame(
        {"region_id": "R03", "product_id": "NEWHAT", "date": dates, "quantity": 40}
    )
    history = pd.concat([history, short, sparse, steady], ignore_index=True)
    with pytest.warns(ForecastWarning) as caught:
        forecast = forecast_demand(
            history, 8, regions=regions, group_column="province", gbm=FAST_GBM
        )
    text = " ".join(str(w.message) for w in caught)
    assert "R01/NEWHAT" in text and "short history" in text
    assert "R02/NEWHAT" in text and "intermittent" in text
    models = forecast.models.set_index(["region_id", "product_id"])
    assert models.loc[("R01", "NEWHAT"), "model"] == "pooled"
    assert models.loc[("R02", "NEWHAT"), "reason"] == "intermittent"
    assert models.loc[("R01", "NEWHAT"), "reason"] == "short"
    assert any("R01/NEWHAT" in w for w in forecast.warnings)
    new = forecast.demand[forecast.demand["product_id"] == "NEWHAT"]
    assert np.isfinite(new["quantity"]).all() and np.isfinite(new["std"]).all()
    # the short region's share of the province total (20 of 20+40 units a week in R01's
    # province North? R01 and R03 are North): about 20 units a week
    r01 = new[new["region_id"] == "R01"]["quantity"]
    assert r01.mean() == pytest.approx(20, rel=0.2)


def test_holt_winters_matches_statsmodels() -> None:
    """The vectorised recursion equals statsmodels ExponentialSmoothing (damped additive
    trend, additive season) with the same parameters and initial states."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    rng = np.random.default_rng(3)
    t = np.arange(60)
    y = 100 + 0.5 * t + 20 * np.cos(2 * np.pi * t / 12) + rng.normal(0, 3, 60)
    params = EtsParams(level=0.3, trend=0.1, seasonal=0.2, damping=0.9)
    level, trend, seasonal = initial_states(y[None, :], 12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = (
            ExponentialSmoothing(
                y,
                trend="add",
                damped_trend=True,
                seasonal="add",
                seasonal_periods=12,
                initialization_method="known",
                initial_level=level[0],
                initial_trend=trend[0],
                initial_seasonal=seasonal[0],
            )
            .fit(
                smoothing_level=0.3,
                smoothing_trend=0.1,
                smoothing_seasonal=0.2,
                damping_trend=0.9,
                optimized=False,
            )
            .forecast(8)
        )
    got = holt_winters(np.vstack([y, y]), 8, 12, [params, DEFAULT_ETS])
    np.testing.assert_allclose(got[0], expected, rtol=1e-10)
    assert not np.allclose(got[1], expected)  # the second series used other parameters


def test_start_after_a_gap_numbers_periods_from_start() -> None:
    """--start two weeks after the history: period 1 is that Monday, the demand has
    periods 1..4 only, and the periods table gives their dates."""
    history, regions, _ = synthetic_history(n_regions=2, products=("COAT",), seed=2)
    forecast = forecast_demand(
        history, 4, start="2026-01-12", regions=regions, group_column="province", gbm=FAST_GBM
    )
    assert sorted(forecast.demand["period"].unique()) == [1, 2, 3, 4]
    assert str(forecast.periods["start"].iloc[0]) == "2026-01-12"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": "2026-01-14"}, "first day of a W-MON period"),
        ({"start": "2025-06-02"}, "the history already covers it"),
        ({"horizon": 60}, "1 to 52 periods"),
        ({"freq": "D"}, "weekly periods"),
    ],
    ids=["start-not-monday", "start-inside-history", "horizon-over-a-year", "daily-freq"],
)
def test_bad_horizon_start_or_freq_is_a_clear_error(kwargs: dict, message: str) -> None:
    """Start dates and horizons the history cannot support are input errors, not crashes."""
    history, regions, _ = synthetic_history(n_regions=2, products=("COAT",), seed=2)
    args = {"horizon": 4} | kwargs
    with pytest.raises(DataValidationError, match=message):
        forecast_demand(history, regions=regions, gbm=FAST_GBM, **args)


def test_forecast_demand_validates_and_solves_as_a_scenario(tmp_path: Path, synthetic) -> None:
    """The forecast demand table (with std) plus the suggested campaigns is a valid
    scenario: it solves to a verified optimum on every backend, with z = 1.65 safety stock,
    and every forecast unit (times the campaign uplift) is delivered."""
    forecast, _, regions, _ = synthetic
    entries = yaml.safe_load(forecast.campaigns_yaml)["campaigns"]
    path = write_scenario(
        tmp_path,
        {
            "hubs": [
                {"hub_id": "H-N", "lat": 36.1, "lon": 127.1, "fixed_cost": 1000},
                {"hub_id": "H-S", "lat": 36.6, "lon": 127.6, "fixed_cost": 1200},
            ],
            "regions": regions,
            "products": [
                {"product_id": "COAT", "unit_volume": 0.02, "holding_cost": 1},
                {"product_id": "SCARF", "unit_volume": 0.005, "holding_cost": 0.5},
            ],
            "demand": forecast.demand,
        },
        campaigns=entries,
        policy={"safety_stock": {"z": 1.65}},
    )
    for backend in BACKENDS:
        result = solve_verified(path, backend)
        assert result.solution is not None
        uplift = {
            (p, g): e["uplift"]
            for e in entries
            for p in e["products"]
            for g in e["regions"]["province"]
        }
        province = regions.set_index("region_id")["province"]
        demand = forecast.demand.assign(group=forecast.demand["region_id"].map(province))
        factor = [
            uplift.get((p, g), 1.0) if 5 <= t <= 8 else 1.0
            for p, g, t in zip(demand["product_id"], demand["group"], demand["period"], strict=True)
        ]
        expected = float((demand["quantity"] * np.array(factor)).sum())
        assert result.solution.flows["quantity"].sum() == pytest.approx(expected, rel=1e-6)


def test_monthly_periods_aggregate_weekly_history() -> None:
    """--freq MS sums the weekly rows into calendar months (36 of them): period 1 starts
    on the first of the month after the history, and the forecast of a month is about 4.3
    weeks of demand (within 15 % of the truth's monthly sum)."""
    history, regions, bases = synthetic_history(n_regions=2, products=("COAT",), seed=4)
    forecast = forecast_demand(
        history, 2, freq="MS", regions=regions, group_column="province", gbm=FAST_GBM
    )
    assert str(forecast.periods["start"].iloc[0]) == "2026-01-01"
    january = forecast.demand[forecast.demand["period"] == 1]["quantity"].sum()
    weeks = pd.date_range("2026-01-01", "2026-01-31")
    t = ((weeks - pd.Timestamp("2023-01-02")).days.to_numpy()) / 7
    truth = sum(synthetic_truth(base, t).sum() / 7 for base in bases.values())
    assert january == pytest.approx(truth, rel=0.15)


def test_campaign_without_a_year_before_it_is_warned() -> None:
    """A campaign in the first year has no year-earlier baseline: no estimate, a warning
    saying so, and no crash."""
    history, regions, _ = synthetic_history(n_regions=2, products=("COAT",), seed=6)
    early = history["date"] < "2023-03-01"
    history.loc[early, "campaign_id"] = "launch-2023"
    with pytest.warns(ForecastWarning, match="campaign launch-2023: no year of history"):
        forecast = forecast_demand(
            history, 4, regions=regions, group_column="province", gbm=FAST_GBM
        )
    assert "launch-2023" not in set(forecast.uplift["campaign_id"])


def test_std_scales_with_the_forecast_level() -> None:
    """Backtest errors of ±10 on actuals of 100 (10 %) give a peak forecast of 1,000 a std of
    100, not 10: the error is relative to the level, so a December forecast is not given
    the small absolute errors of quiet backtest weeks. A forecast at the backtest's level
    keeps the absolute error (10)."""
    errors = np.array([[[10.0, -10.0], [-10.0, 10.0]]])  # 1 series, 2 folds, 2 steps
    actuals = np.full_like(errors, 100.0)
    std = error_std(errors, actuals, np.array([[1000.0, 100.0]]), np.array(["P"]))
    assert std[0, 0] == pytest.approx(100.0) and std[0, 1] == pytest.approx(10.0)
