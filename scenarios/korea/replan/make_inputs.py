"""Make the week-5 re-plan example inputs from a solved Korea run folder.

    python scenarios/korea/replan/make_inputs.py out/korea-winter-2026

Story: the winter sale starts in week 4 and outsells the plan by 35 % in the south-east
(Busan, Ulsan, Gyeongsangnam-do); everywhere else, and before the sale, sales were as
planned. ``sales.csv`` holds the actual sales of weeks 1-4 per region and product;
``stock.csv`` the stock on hand at the start of week 5: the plan's end-of-week-4 stock,
less the extra units sold in the south-east, taken from the hubs that served them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from hubopt.runs import load_run
from hubopt.solution import realised_streams

FROM_PERIOD = 5
SALE_WEEK = 4
SOUTH_EAST = ("Busan", "Ulsan", "Gyeongsangnam-do")
OUTSOLD = 0.35


def main(run_dir: str) -> None:
    """Write ``sales.csv`` and ``stock.csv`` next to this script."""
    run = load_run(run_dir)
    assert run.solution is not None, "the run has no plan"
    here = Path(__file__).parent
    regions = run.problem.regions.set_index("region_id")["province"]
    streams = realised_streams(run.problem, run.solution)
    before = streams[streams["period"] < FROM_PERIOD]
    sales = before.groupby(["region_id", "product_id", "period"], as_index=False)["quantity"].sum()
    south_east = sales["region_id"].map(regions).isin(SOUTH_EAST).to_numpy()
    hot = south_east & (sales["period"].to_numpy() == SALE_WEEK)
    extra = np.where(hot, sales["quantity"].to_numpy() * OUTSOLD, 0.0)
    sales["quantity"] = np.round(sales["quantity"].to_numpy() + extra).astype(int)
    sales.to_csv(here / "sales.csv", index=False)

    flows = run.solution.flows
    week = flows[flows["period"] == SALE_WEEK]
    week = week[week["region_id"].map(regions).isin(SOUTH_EAST)]
    share = week["quantity"] / week.groupby(["region_id", "product_id"])["quantity"].transform(
        "sum"
    )
    extra_by_pair = pd.Series(
        extra[hot], index=pd.MultiIndex.from_frame(sales.loc[hot, ["region_id", "product_id"]])
    )
    taken = (
        share
        * extra_by_pair.reindex(
            pd.MultiIndex.from_frame(week[["region_id", "product_id"]])
        ).to_numpy()
    )
    taken_by_hub = taken.groupby([week["hub_id"], week["product_id"]]).sum()
    stock = run.solution.stock
    stock = (
        stock[stock["period"] == FROM_PERIOD - 1]
        .groupby(["hub_id", "product_id"])["quantity"]
        .sum()
    )
    actual = (stock - taken_by_hub.reindex(stock.index, fill_value=0.0)).clip(lower=0.0).round()
    actual.astype(int).rename("quantity").reset_index().to_csv(here / "stock.csv", index=False)


if __name__ == "__main__":
    main(sys.argv[1])
