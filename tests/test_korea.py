"""The built-in Korea scenario (issue 3): reproducible data, every variant valid, the small
variant solves to a verified plan with the campaign targets met."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hubopt.api import solve
from hubopt.data.problem import build_problem
from hubopt.replan import check_sales, check_stock
from hubopt.scenario.scenario import load_scenario
from hubopt.scenario.whatif import set_campaign
from hubopt.solvers import SolveStatus

KOREA = Path(__file__).resolve().parents[1] / "scenarios" / "korea"
VARIANTS = sorted(p for p in KOREA.glob("*.yaml") if not p.name.startswith("sweep"))


def test_generator_reproduces_the_committed_tables(tmp_path: Path) -> None:
    """generate.py (seeded) rewrites data/ and data-small/ byte for byte."""
    subprocess.run(
        [sys.executable, str(KOREA / "generate.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for folder in ("data", "data-small"):
        committed = sorted(p.name for p in (KOREA / folder).iterdir())
        assert committed == sorted(p.name for p in (tmp_path / folder).iterdir())
        for name in committed:
            assert (tmp_path / folder / name).read_bytes() == (
                KOREA / folder / name
            ).read_bytes(), f"{folder}/{name}"


@pytest.mark.parametrize("path", VARIANTS, ids=[p.stem for p in VARIANTS])
def test_every_variant_validates(path: Path) -> None:
    """korea.yaml, korea-small.yaml and each what-if variant load and build their arcs."""
    scenario = load_scenario(path)
    problem = build_problem(scenario)
    assert len(problem.regions) == 250
    assert len(problem.streams) > 0 and len(problem.out_arcs) > 0


def test_full_scenario_shape() -> None:
    """The demo: 250 regions, 27 hubs, 3 sources, 6 products, 10 weekly periods, 2 campaigns,
    Jeju (codes 39xxx) reachable only by sea or air."""
    scenario = load_scenario(KOREA / "korea.yaml")
    problem = build_problem(scenario)
    assert (
        len(problem.regions),
        problem.n_hubs,
        len(problem.sources),
        problem.n_products,
        problem.periods,
    ) == (250, 27, 3, 6, 10)
    assert [c.id for c in scenario.config.campaigns] == ["winter-sale", "ltd-launch"]
    pairs = problem.out_pairs
    region = problem.regions["region_id"].to_numpy()[pairs["region_idx"].to_numpy()]
    mode = problem.modes["mode_id"].to_numpy()[pairs["mode_idx"].to_numpy()]
    hub = problem.hubs["hub_id"].to_numpy()[pairs["hub_idx"].to_numpy()]
    jeju = np.char.startswith(region.astype(str), "39")
    by_road = jeju & ~np.isin(mode, ["SEA", "AIR"])
    assert jeju.any() and np.isin(mode[jeju], ["SEA", "AIR"]).any()
    assert set(hub[by_road]) <= {"H-JEJU"}  # road delivery to Jeju only from the island's hub


def test_small_variant_solves_verified_with_targets_met() -> None:
    """korea-small solves within its limit, the verifier passes, both campaigns meet their
    service level, the plan opens no more hubs than max_open_hubs, and the launch routes
    verify."""
    result = solve(KOREA / "korea-small.yaml")
    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    assert result.verification is not None and result.verification.ok
    campaigns = result.kpis.campaigns.set_index("campaign_id")
    for cid in ("winter-sale", "ltd-launch"):
        assert campaigns.at[cid, "on_time_rate"] >= campaigns.at[cid, "service_level_target"] - 1e-9
    assert result.kpis.headline["open_hubs_max"] <= result.scenario.config.policy.max_open_hubs
    # launch-day van routes (routing: in korea-small.yaml): verified, every launch load in
    # Seoul and Busan delivered by van in the launch periods
    assert result.routes is not None and result.route_verification is not None
    assert result.route_verification.ok, result.route_verification.violations
    stops = result.routes.stops
    assert set(stops["period"]) == {2, 3}
    regions = result.problem.regions.set_index("region_id")
    assert set(regions.loc[sorted(set(stops["region_id"])), "province"]) <= {"Seoul", "Busan"}
    assert result.routes.unrouted.empty
    assert (result.routes.routes["load_m3"] <= result.routes.routes["capacity_m3"] + 1e-9).all()


def test_history_generator_reproduces_the_committed_history(tmp_path: Path) -> None:
    """history/generate_history.py (seeded, gzip without timestamp) rewrites
    history/orders.csv.gz byte for byte."""
    out = tmp_path / "orders.csv.gz"
    subprocess.run(
        [sys.executable, str(KOREA / "history" / "generate_history.py"), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == (KOREA / "history" / "orders.csv.gz").read_bytes()


@pytest.mark.slow
def test_forecast_variant_demand_is_the_forecast_of_the_history(tmp_path: Path) -> None:
    """korea-forecast.yaml's forecast/demand.csv is exactly what `hubopt forecast` makes
    from history/orders.csv.gz (the command in the YAML's header)."""
    out = tmp_path / "demand.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "hubopt.cli",
            "forecast",
            str(KOREA / "history" / "orders.csv.gz"),
            "--horizon",
            "10",
            "--start",
            "2026-11-02",
            "--regions",
            str(KOREA / "data" / "regions.geojson"),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == (KOREA / "forecast" / "demand.csv").read_bytes()


@pytest.mark.slow
def test_forecast_variant_solves_verified() -> None:
    """korea-forecast.yaml (demand and std from the forecast) solves to a verified plan."""
    result = solve(KOREA / "korea-forecast.yaml")
    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    assert result.verification is not None and result.verification.ok


def test_footprint_variant_makes_every_region_a_candidate() -> None:
    """whatif-footprint.yaml turns the nationwide winter sale into footprint optimisation
    over all 250 si-gun-gu, 6 million KRW per included region."""
    problem = build_problem(load_scenario(KOREA / "whatif-footprint.yaml"))
    fp = problem.footprint
    assert len(fp) == 250 and set(fp["campaign_id"]) == {"winter-sale"}
    assert (fp["spend"] == 6_000_000).all() and (fp["incremental_margin"] > 0).all()


def test_replan_example_inputs_are_valid() -> None:
    """scenarios/korea/replan/: stock of known hubs and products, sales of weeks 1-4 only,
    and the south-east sold more than the rest relative to week 3."""
    scenario = load_scenario(KOREA / "korea.yaml")
    folder = KOREA / "replan"
    stock = check_stock(pd.read_csv(folder / "stock.csv", dtype={"hub_id": str}), scenario, "stock")
    sales = check_sales(
        pd.read_csv(folder / "sales.csv", dtype={"region_id": str}), scenario, 5, "sales"
    )
    assert len(stock) > 0 and set(sales["period"]) == {1, 2, 3, 4}
    province = scenario.tables.regions.set_index("region_id")["province"]
    weekly = sales.assign(
        se=sales["region_id"].map(province).isin(["Busan", "Ulsan", "Gyeongsangnam-do"])
    )
    growth = weekly.groupby(["se", "period"])["quantity"].sum().unstack("period")
    ratio = growth[4] / growth[3]
    assert ratio[True] > ratio[False] * 1.3


@pytest.mark.slow
def test_small_variant_with_footprint_solves_verified() -> None:
    """korea-small with footprint optimisation of the winter sale solves to a verified
    plan whose footprint table lists every candidate."""
    scenario = load_scenario(KOREA / "korea-small.yaml")
    config, tables = set_campaign(
        scenario.config,
        scenario.tables,
        {"id": "winter-sale", "footprint": "optimize", "spend_per_region": 6_000_000},
        "test",
    )
    result = solve(dataclasses.replace(scenario, config=config, tables=tables))
    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    assert result.verification is not None and result.verification.ok
    assert result.solution is not None and len(result.solution.footprint) == 250
