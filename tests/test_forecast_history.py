"""Order-history validation (issue 11): every defect is a DataValidationError naming the
file, the rows and what was found; the CLI exits 2 with the same message."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hubopt.errors import DataValidationError
from hubopt.forecast import read_history

BAD = Path(__file__).parent / "fixtures" / "bad_history"
REGIONS = ["R01", "R02"]
# defect file -> fragments the message must contain (rows are 1-based data rows)
EXPECTED = {
    "unknown_region": ["unknown_region.csv, row 3, column 'region_id'", "'R99'"],
    "negative_quantity": ["negative_quantity.csv, row 2, column 'quantity'", ">= 0", "'-3'"],
    "unparseable_date": [
        "unparseable_date.csv, rows 2, 4, column 'date'",
        "'13/01/2025'",
        "'2025-02-30'",
    ],
    "duplicate_rows": ["duplicate_rows.csv, rows 1, 4", "R01 / COAT / 2025-01-06 / parcel"],
    "missing_quantity_column": ["no column 'quantity'", "qty"],
    "non_numeric_quantity": ["non_numeric_quantity.csv, row 1, column 'quantity'", "'ten'"],
    "blank_product_id": ["blank_product_id.csv, row 2, column 'product_id'", "a blank"],
}


def test_every_fixture_has_an_expectation() -> None:
    """Each file in fixtures/bad_history is covered by the parametrised test below."""
    assert sorted(p.stem for p in BAD.glob("*.csv")) == sorted(EXPECTED)


@pytest.mark.parametrize("defect", sorted(EXPECTED))
def test_bad_history_names_the_rows(defect: str) -> None:
    """A history file with one defect raises DataValidationError naming file, rows, value."""
    with pytest.raises(DataValidationError) as info:
        read_history(BAD / f"{defect}.csv", regions=REGIONS)
    message = str(info.value)
    for fragment in EXPECTED[defect]:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


def test_several_defects_are_reported_together() -> None:
    """Problems are collected, not raised one at a time: three defects, three problems."""
    frame = pd.DataFrame(
        {
            "region_id": ["R01", "R77", "R02"],
            "product_id": ["COAT", "COAT", "COAT"],
            "date": ["2025-01-06", "2025-01-06", "someday"],
            "quantity": ["5", "-1", "2"],
        }
    )
    with pytest.raises(DataValidationError) as info:
        read_history(frame, regions=REGIONS)
    assert len(info.value.problems) == 3


def test_valid_history_with_optional_columns(tmp_path: Path) -> None:
    """A gzip CSV with campaign_id and channel reads; blank channel means parcel, blank
    campaign_id means none, and the same date on two channels is not a duplicate."""
    path = tmp_path / "orders.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(
            "region_id,product_id,date,quantity,campaign_id,channel\n"
            "R01,COAT,2025-01-06,10,,\n"
            "R01,COAT,2025-01-06,3,,express\n"
            "R02,COAT,2025-01-07,4,promo,parcel\n"
        )
    history = read_history(path, regions=REGIONS)
    assert history["channel"].tolist() == ["parcel", "express", "parcel"]
    assert history["campaign_id"].tolist() == ["", "", "promo"]
    assert history["quantity"].sum() == 17


def test_cli_exits_2_naming_the_rows(tmp_path: Path) -> None:
    """`hubopt forecast` on a history with an unknown region (regions file given) exits 2
    and its JSON lists the problem with the row."""
    regions = tmp_path / "regions.csv"
    regions.write_text("region_id,lat,lon\nR01,36.0,127.0\nR02,36.1,127.1\n")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "hubopt.cli",
            "forecast",
            str(BAD / "unknown_region.csv"),
            "--horizon",
            "4",
            "--regions",
            str(regions),
            "--out",
            str(tmp_path / "demand.csv"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 2, run.stderr
    payload = json.loads(run.stdout)
    assert payload["status"] == "invalid_input"
    assert any("row 3" in p and "R99" in p for p in payload["problems"])
    assert not (tmp_path / "demand.csv").exists()
