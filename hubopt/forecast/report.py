"""Write a forecast's demand table and its backtest report (CSV, YAML, PNG)."""

from __future__ import annotations

import os
from pathlib import Path

from hubopt.forecast.forecast import Forecast
from hubopt.forecast.plot import plot_series

PLOT_FILE = "actual_vs_forecast.png"


def write_demand(forecast: Forecast, path: str | Path) -> Path:
    """Write the demand table as CSV (atomically: temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        forecast.demand.to_csv(tmp, index=False, float_format="%.6g")
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def write_forecast_report(forecast: Forecast, folder: str | Path) -> Path:
    """Write the backtest report into ``folder``; return the folder.

    Files: ``accuracy.csv`` (product x group), ``accuracy_by_product.csv``,
    ``accuracy_by_group.csv``, ``model_scores.csv``, ``models.csv`` (chosen model per
    series), ``uplift.csv``, ``campaigns.yaml`` (suggested block), ``periods.csv``,
    ``warnings.txt`` and ``actual_vs_forecast.png`` (the largest series).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "accuracy.csv": forecast.accuracy,
        "accuracy_by_product.csv": forecast.accuracy_by_product,
        "accuracy_by_group.csv": forecast.accuracy_by_group,
        "model_scores.csv": forecast.model_scores,
        "models.csv": forecast.models,
        "uplift.csv": forecast.uplift,
        "periods.csv": forecast.periods,
    }
    for name, table in tables.items():
        table.to_csv(folder / name, index=False, float_format="%.6g")
    (folder / "campaigns.yaml").write_text(forecast.campaigns_yaml, encoding="utf-8")
    (folder / "warnings.txt").write_text(
        "".join(f"{w}\n" for w in forecast.warnings), encoding="utf-8"
    )
    region, product = forecast.largest
    fig, ax = plt.subplots(figsize=(11, 4.5), dpi=110)
    try:
        plot_series(ax, forecast.plot, f"Largest series: region {region}, {product}")
        fig.autofmt_xdate()
        fig.tight_layout()
        fig.savefig(folder / PLOT_FILE)
    finally:
        plt.close(fig)
    return folder
