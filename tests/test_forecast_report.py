"""`hubopt forecast` end to end (issue 11): demand CSV in the scenario contract, the
backtest report (WAPE/bias per product and group vs seasonal naive), uplift, suggested
campaigns and the actual-vs-forecast PNG; --json payload."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import synthetic_history

from hubopt.data.read import coerce_table, read_raw_table
from hubopt.data.tables import TABLES

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Run `hubopt forecast --json` once on a synthetic history file."""
    folder = tmp_path_factory.mktemp("forecast-cli")
    history, regions, _ = synthetic_history(n_regions=4, seed=5)
    history.to_csv(folder / "history.csv", index=False)
    regions.to_csv(folder / "regions.csv", index=False)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "hubopt.cli",
            "forecast",
            str(folder / "history.csv"),
            "--horizon",
            "6",
            "--start",
            "2025-12-29",
            "--regions",
            str(folder / "regions.csv"),
            "--group",
            "province",
            "--out",
            str(folder / "demand.csv"),
            "--report",
            str(folder / "report"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    return folder, json.loads(run.stdout)


def test_demand_file_passes_the_scenario_demand_contract(cli_run) -> None:
    """demand.csv has the contract's columns, coerces without problems, periods 1..6."""
    folder, payload = cli_run
    raw, problems = read_raw_table(folder / "demand.csv", "demand.csv", "demand")
    assert raw is not None and not problems
    frame, problems = coerce_table(raw, TABLES["demand"])
    assert not problems
    assert list(raw.frame.columns) == [
        "region_id",
        "product_id",
        "period",
        "quantity",
        "std",
        "channel",
    ]
    assert sorted(frame["period"].unique()) == [1, 2, 3, 4, 5, 6]
    assert payload["rows"] == len(frame)
    assert payload["periods"][0]["start"].startswith("2025-12-29")


def test_report_files_and_plot(cli_run) -> None:
    """The report folder holds the accuracy tables (WAPE and bias vs seasonal naive per
    product and group), uplift, a parseable campaigns.yaml and a non-trivial PNG."""
    folder, payload = cli_run
    report = folder / "report"
    accuracy = pd.read_csv(report / "accuracy.csv")
    assert {"product_id", "group", "wape", "wape_naive", "bias", "bias_naive"} <= set(
        accuracy.columns
    )
    assert set(accuracy["group"]) == {"North", "South"}
    by_product = pd.read_csv(report / "accuracy_by_product.csv")
    assert set(by_product["product_id"]) == {"COAT", "SCARF"}
    uplift = pd.read_csv(report / "uplift.csv")
    assert set(uplift["campaign_id"]) == {"promo"}
    assert yaml.safe_load((report / "campaigns.yaml").read_text())["campaigns"]
    png = (report / "actual_vs_forecast.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 20_000
    assert payload["wape"] < payload["wape_naive"]
    assert sum(payload["models"].values()) == 8  # 4 regions x 2 products
