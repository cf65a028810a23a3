"""Demand from order history: validation, models, backtests, uplift, report (DESIGN §1 job 6)."""

from hubopt.errors import ForecastWarning
from hubopt.forecast.forecast import Forecast, forecast_demand
from hubopt.forecast.gbm import GbmSettings
from hubopt.forecast.history import read_history
from hubopt.forecast.report import write_demand, write_forecast_report

__all__ = [
    "Forecast",
    "ForecastWarning",
    "GbmSettings",
    "forecast_demand",
    "read_history",
    "write_demand",
    "write_forecast_report",
]
