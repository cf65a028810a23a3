"""Generate the Korea demo order history: 3 years of weekly orders, 250 regions x 6 products.

Reads ``../data/regions.geojson`` (ids, province, population), ``../data/products.csv`` and
``../data/demand.csv`` (the 2026/27 season's base demand per region and product, which
anchors each series' level and express share) and writes ``orders.csv.gz``: one row per
region, product, week (dated on its Monday) and channel, ``campaign_id`` on the rows of
two past campaigns. Weeks run from Mon 30 Oct 2023 to Mon 26 Oct 2026, so the forecast's
period 1 is the week of Mon 2 Nov 2026, period 1 of ``korea.yaml``.

What is in it (the forecast should find these):

- yearly seasonality per product (raised-cosine peaks in the coldest weeks; the knit
  set at Christmas, the heater in January), summer troughs near zero for heaters;
- regional seasonality: Gangwon's ski season (Dec-Feb, x1.35 on jackets, thermal inner
  and boots) and Jeju's tourism peaks (spring x1.25, July-August x1.4, not heaters);
- growth per province: Sejong +15 %/year, Gyeonggi-do +8 %, others +4 %;
- ``winter-sale-2024`` (weeks of 25 Nov - 9 Dec 2024, all regions, regular products,
  uplift 1.7) and ``winter-sale-2025`` (weeks of 24 Nov - 15 Dec 2025, uplift 1.9 in
  Seoul, Incheon and Gyeonggi-do, 1.6 elsewhere);
- the limited-edition sneaker: sold only in Seoul and Busan, in past 2-week drops
  (Dec 2024, May 2025, Dec 2025) and a trickle of restocks: an intermittent series;
- noise: gamma-Poisson (8 % multiplicative), 10 % express in the metro areas.

All randomness comes from ``numpy.random.default_rng(2026)``; the gzip header carries
no timestamp, so two runs give byte-identical files. Run::

    .venv/bin/python scenarios/korea/history/generate_history.py
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
OUT = HERE / "orders.csv.gz"
FIRST_WEEK = "2023-10-30"
LAST_WEEK = "2026-10-26"
SEASON_START = pd.Timestamp("2026-11-02")  # period 1 of korea.yaml
CAPITAL = ["Seoul", "Incheon", "Gyeonggi-do"]
# product: (floor, peak week of year, sharpness)
SHAPE = {
    "PADDED-JACKET": (0.08, 50, 2.0),
    "THERMAL-INNER": (0.15, 51, 1.5),
    "WINTER-BOOTS": (0.10, 50, 2.0),
    "KNIT-SET": (0.30, 51, 1.0),
    "HEATER-MINI": (0.03, 1, 3.0),
}
GROWTH = {"Sejong": 0.15, "Gyeonggi-do": 0.08}
CAMPAIGNS = [
    ("winter-sale-2024", ["2024-11-25", "2024-12-02", "2024-12-09"], {}, 1.7),
    (
        "winter-sale-2025",
        ["2025-11-24", "2025-12-01", "2025-12-08", "2025-12-15"],
        dict.fromkeys(CAPITAL, 1.9),
        1.6,
    ),
]
SNEAKER_DROPS = ["2024-12-09", "2024-12-16", "2025-05-12", "2025-05-19", "2025-12-08", "2025-12-15"]


def season_index(product: str, week_of_year: np.ndarray) -> np.ndarray:
    """Yearly shape: floor + (1 - floor) * raised cosine around the peak week."""
    floor, peak, power = SHAPE[product]
    wave = (1 + np.cos(2 * np.pi * (week_of_year - peak) / 52)) / 2
    return floor + (1 - floor) * wave**power


def regional_index(province: str, product: str, week_of_year: np.ndarray) -> np.ndarray:
    """Gangwon's ski season and Jeju's tourism peaks."""
    out = np.ones(len(week_of_year))
    if province == "Gangwon-do" and product in {"PADDED-JACKET", "THERMAL-INNER", "WINTER-BOOTS"}:
        ski = (week_of_year >= 48.5) | (week_of_year < 9.5)
        out[ski] *= 1.35
    if province == "Jeju-do" and product != "HEATER-MINI":
        out[(week_of_year >= 13.5) & (week_of_year < 20.5)] *= 1.25
        out[(week_of_year >= 28.5) & (week_of_year < 34.5)] *= 1.4
    return out


def main() -> None:
    """Write orders.csv.gz (or ``--out FILE``) and print a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="file to write")
    out = parser.parse_args().out
    rng = np.random.default_rng(2026)
    features = json.loads((DATA / "regions.geojson").read_text(encoding="utf-8"))["features"]
    regions = pd.DataFrame([f["properties"] for f in features])[["region_id", "province"]]
    regions["region_id"] = regions["region_id"].astype(str)
    demand = pd.read_csv(DATA / "demand.csv", dtype={"region_id": str})
    products = sorted(pd.read_csv(DATA / "products.csv")["product_id"])
    weeks = pd.date_range(FIRST_WEEK, LAST_WEEK, freq="W-MON")
    # week of year as a continuous number (mid-week), so a 52-week lag is the same season
    woy = (weeks.day_of_year.to_numpy() + 2.5) / 7
    years_to_season = (weeks - SEASON_START).days.to_numpy() / 365.25
    season_weeks = pd.date_range(SEASON_START, periods=10, freq="W-MON")
    season_woy = (season_weeks.day_of_year.to_numpy() + 2.5) / 7
    totals = demand.groupby(["region_id", "product_id"])["quantity"].sum()
    express = (
        demand[demand["channel"] == "express"]
        .groupby(["region_id", "product_id"])["quantity"]
        .sum()
    )
    frames = []
    for region, province in regions.itertuples(index=False):
        growth = (1 + GROWTH.get(province, 0.04)) ** years_to_season
        for product in products:
            total = float(totals.get((region, product), 0.0))
            if total <= 0:
                continue
            share_express = float(express.get((region, product), 0.0)) / total
            if product == "LTD-SNEAKER":
                mean = np.full(len(weeks), 0.002 * total / 2)
                mean[weeks.isin(pd.DatetimeIndex(SNEAKER_DROPS))] = 0.6 * total / 2
            else:
                level = (total / 10) / season_index(product, season_woy).mean()
                mean = level * season_index(product, woy) * regional_index(province, product, woy)
            mean = mean * growth
            campaign = np.full(len(weeks), "", dtype=object)
            if product != "LTD-SNEAKER":
                for name, dates, by_sido, default in CAMPAIGNS:
                    on = weeks.isin(pd.DatetimeIndex(dates))
                    mean[on] *= by_sido.get(province, default)
                    campaign[on] = name
            noisy = rng.poisson(mean * rng.gamma(1 / 0.08**2, 0.08**2, len(weeks)))
            fast = rng.binomial(noisy, share_express)
            for channel, qty in (("parcel", noisy - fast), ("express", fast)):
                keep = qty > 0
                frames.append(
                    pd.DataFrame(
                        {
                            "region_id": region,
                            "product_id": product,
                            "date": weeks[keep].strftime("%Y-%m-%d"),
                            "quantity": qty[keep],
                            "campaign_id": campaign[keep],
                            "channel": channel,
                        }
                    )
                )
    history = (
        pd.concat(frames, ignore_index=True)
        .sort_values(["date", "region_id", "product_id", "channel"])
        .reset_index(drop=True)
    )
    buffer = io.StringIO()
    history.to_csv(buffer, index=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as fh:
        fh.write(buffer.getvalue().encode("utf-8"))
    weekly = history.groupby("date")["quantity"].sum()
    print(
        f"{out.name}: {len(history):,} rows, {history['region_id'].nunique()} regions, "
        f"{history['product_id'].nunique()} products, {len(weeks)} weeks "
        f"({weeks[0]:%Y-%m-%d} .. {weeks[-1]:%Y-%m-%d}), {out.stat().st_size / 1e6:.1f} MB"
    )
    print(
        f"units/week: min {weekly.min():,.0f}, median {weekly.median():,.0f}, max {weekly.max():,.0f}"
    )


if __name__ == "__main__":
    main()
