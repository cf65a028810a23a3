"""Forecast benchmark: the Korea order history (250 regions x 6 products x 3 years).

Times ``forecast_demand`` end to end (read, validate, uplift, 3-fold rolling-origin
backtest of seasonal naive, ETS, LightGBM and the pooled model, final fit, std) against
a baseline measured in the same run: reading and aggregating the same history and
forecasting it by seasonal naive alone. Prints both and the ratio, and the backtest WAPE
against seasonal naive; writes ``bench-results/forecast-<timestamp>.json``. Nothing is
asserted (issue 11 asks for under a minute on 2 cores).

    .venv/bin/python benchmarks/forecast.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hubopt.forecast import ForecastWarning, forecast_demand, read_history  # noqa: E402
from hubopt.forecast.history import read_regions  # noqa: E402
from hubopt.forecast.models import seasonal_naive  # noqa: E402
from hubopt.forecast.panel import build_panel  # noqa: E402

KOREA = ROOT / "scenarios" / "korea"
HISTORY = KOREA / "history" / "orders.csv.gz"
REGIONS = KOREA / "data" / "regions.geojson"
HORIZON = 10


def naive_only() -> int:
    """Baseline: read + validate + aggregate the history, seasonal naive for every series."""
    regions = read_regions(REGIONS)
    history = read_history(HISTORY, regions=regions["region_id"])
    panel = build_panel(history, "W-MON")
    return int(seasonal_naive(panel.values, HORIZON, panel.season).shape[0])


def bench_forecast() -> list[dict[str, Any]]:
    """One row: forecast_demand on the Korea history vs the seasonal-naive-only baseline."""
    start = time.perf_counter()
    n_series = naive_only()
    t_base = time.perf_counter() - start
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastWarning)
        forecast = forecast_demand(HISTORY, HORIZON, start="2026-11-02", regions=REGIONS)
    t_full = time.perf_counter() - start
    return [
        {
            "case": "forecast/korea-250x6x3y",
            "hubopt_s": t_full,
            "baseline_s": t_base,
            "ratio_full_over_naive": t_full / t_base,
            "series": n_series,
            "cores": os.cpu_count(),
            "backtest_wape": forecast.wape,
            "backtest_wape_naive": forecast.wape_naive,
            "models": forecast.models["model"].value_counts().to_dict(),
        }
    ]


def main() -> None:
    """Run, print, write the results file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    args = parser.parse_args()
    row = bench_forecast()[0]
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.out / f"forecast-{stamp}.json"
    path.write_text(json.dumps({"when": stamp, "rows": [row]}, indent=2, default=str))
    print(
        f"{row['case']}: {row['hubopt_s']:.1f} s full forecast ({row['series']} series, "
        f"{row['cores']} cores) vs {row['baseline_s']:.1f} s seasonal naive alone "
        f"= {row['ratio_full_over_naive']:.1f}x; backtest WAPE {row['backtest_wape']:.1%} "
        f"vs seasonal naive {row['backtest_wape_naive']:.1%}"
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
