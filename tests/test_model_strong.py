"""Valid inequalities of hubopt.model.strong: finite flow bounds, cover rows, reach rows,
strong rows.

Each is implied by the other families, so on any scenario the optimum with them equals
the optimum without them, and the optimal plan satisfies every candidate strong row.
"""

from __future__ import annotations

import copy
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from helpers import scenarios, write_scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubopt.api import solve
from hubopt.data.problem import ProblemData, build_problem
from hubopt.model.build import build_model
from hubopt.model.matrix import MatrixModel
from hubopt.model.strong import strong_rows
from hubopt.scenario.scenario import load_scenario
from hubopt.scenario.schema import SolverSettings
from hubopt.solvers import SolverOutput, SolveStatus, get_backend
from hubopt.solvers.fixing import FixedLp

EXACT = SolverSettings(mip_gap=0.0, time_limit_s=60, threads=1, warm_start=False)
HUB_LINKING = {"linking": "hub"}  # compact linking rows, as on large models


def hub(hub_id: str, fixed_cost: float = 0.0, **columns: Any) -> dict[str, Any]:
    """A hub row near Seoul."""
    return {"hub_id": hub_id, "lat": 37.5, "lon": 127.0, "fixed_cost": fixed_cost, **columns}


def region(region_id: str) -> dict[str, Any]:
    """A region row near Seoul."""
    return {"region_id": region_id, "lat": 37.6, "lon": 127.1}


def problem_of(path: Path) -> ProblemData:
    """The ProblemData of the scenario at ``path``."""
    return build_problem(load_scenario(path))


def solve_exact(model: MatrixModel) -> SolverOutput:
    """HiGHS on ``model`` to optimality, no root cuts, no warm start."""
    return get_backend("highs").solve(model, EXACT)


def three_hubs(tmp_path: Path, penalty: float | None = None, **blocks: Any) -> Path:
    """Hubs of 30, 50 and 70 m3 (unit volume 2, returns 10 %); 3 regions x 10 units each;
    ``blocks`` are YAML blocks (``policy=`` ...)."""
    product: dict[str, Any] = {"product_id": "P", "unit_volume": 2.0}
    if penalty is not None:
        product["lost_sale_penalty"] = penalty
    return write_scenario(
        tmp_path,
        {
            "hubs": [
                hub("HA", 10, throughput_capacity=30),
                hub("HB", 20, throughput_capacity=50),
                hub("HC", 30, throughput_capacity=70),
            ],
            "regions": [region("R1"), region("R2"), region("R3")],
            "products": [product],
            "demand": [
                {"region_id": r, "product_id": "P", "period": 1, "quantity": 10}
                for r in ("R1", "R2", "R3")
            ],
            "channels": [{"channel_id": "parcel", "return_rate": 0.1, "return_cost": 0.0}],
        },
        **blocks,
    )


def test_cover_row_of_must_serve_demand(tmp_path: Path) -> None:
    """30 units x 2 m3 x 1.1 (returns) = 66 m3 must pass: 30 open_A + 50 open_B + 70 open_C >= 66."""
    problem = problem_of(three_hubs(tmp_path))
    model = build_model(problem)
    row = model.row_blocks["cover"]
    assert row.stop - row.start == 1
    coefficients = model.A[row.start].toarray().ravel()
    opens = model.var_blocks["open"]
    assert np.allclose(coefficients[opens], [30, 50, 70])
    assert np.count_nonzero(coefficients) == 3
    assert math.isclose(model.row_lo[row.start], 66.0) and model.row_hi[row.start] == np.inf


def test_cover_row_counts_lost_sales(tmp_path: Path) -> None:
    """With a lost-sale penalty each unmet unit takes 2.2 m3 off the 66 m3 the hubs must carry."""
    problem = problem_of(three_hubs(tmp_path, penalty=100.0))
    model = build_model(problem)
    row = model.row_blocks["cover"]
    coefficients = model.A[row.start].toarray().ravel()
    assert np.allclose(coefficients[model.var_blocks["unmet"]], 2.2)
    assert math.isclose(model.row_lo[row.start], 66.0)


def test_no_cover_row_with_an_unlimited_hub(tmp_path: Path) -> None:
    """A hub without a capacity can carry any demand: no cover row."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("HA", 10, throughput_capacity=30), hub("HB", 20)],
            "regions": [region("R1")],
            "products": [{"product_id": "P"}],
            "demand": [{"region_id": "R1", "product_id": "P", "period": 1, "quantity": 50}],
        },
    )
    assert "cover" not in build_model(problem_of(path)).row_blocks


def test_reach_rows_of_streams_with_lost_sales(tmp_path: Path) -> None:
    """Each region's 10 units can go unmet or through any of the three hubs, each able to
    carry all 10 (30 / 2.2, 50 / 2.2 and 70 / 2.2 units): unmet + 10 open_A + 10 open_B
    + 10 open_C >= 10, one row per stream (linking rows per hub and period)."""
    problem = problem_of(three_hubs(tmp_path, penalty=100.0, policy=HUB_LINKING))
    model = build_model(problem)
    rows = model.row_blocks["reach"]
    assert rows.stop - rows.start == 3
    block = model.A[rows]
    assert np.allclose(block[:, model.var_blocks["open"]].toarray(), 10.0)
    assert np.allclose(block[:, model.var_blocks["unmet"]].toarray(), np.eye(3))
    assert np.allclose(model.row_lo[rows], 10.0) and np.all(model.row_hi[rows] == np.inf)


def test_reach_rows_of_must_serve_streams_are_kept_once(tmp_path: Path) -> None:
    """Without lost sales the three streams' rows are the same row (10 open_A + 10 open_B
    + 10 open_C >= 10): it is kept once. With the per-stream linking rows (the default
    for a model this small) there is no reach row: those rows imply it."""
    model = build_model(problem_of(three_hubs(tmp_path, policy=HUB_LINKING)))
    rows = model.row_blocks["reach"]
    assert rows.stop - rows.start == 1
    assert np.allclose(model.A[rows.start, model.var_blocks["open"]].toarray(), 10.0)
    assert math.isclose(model.row_lo[rows.start], 10.0)
    assert "reach" not in build_model(problem_of(three_hubs(tmp_path))).row_blocks


def test_no_reach_row_where_a_hub_within_reach_stays_open(tmp_path: Path) -> None:
    """HA is forced open and can carry R's 10 units: the row would cut nothing."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [
                hub("HA", 10, throughput_capacity=30, status="forced_open"),
                hub("HB", 20, throughput_capacity=30),
            ],
            "regions": [region("R1")],
            "products": [{"product_id": "P", "lost_sale_penalty": 50}],
            "demand": [{"region_id": "R1", "product_id": "P", "period": 1, "quantity": 10}],
        },
        policy=HUB_LINKING,
    )
    assert "reach" not in build_model(problem_of(path)).row_blocks


def test_a_model_without_its_reach_rows_is_the_model_built_without_them(tmp_path: Path) -> None:
    """``without_rows("reach")`` (a restricted solve) gives the model ``reach=False`` builds:
    the same matrix, sides and row blocks."""
    problem = problem_of(three_hubs(tmp_path, penalty=100.0, policy=HUB_LINKING))
    full = build_model(problem)
    dropped = full.without_rows("reach")
    built = build_model(problem, reach=False)
    assert "reach" in full.row_blocks and dropped.row_blocks == built.row_blocks
    assert (dropped.A != built.A).nnz == 0
    assert np.array_equal(dropped.row_lo, built.row_lo)
    assert np.array_equal(dropped.row_hi, built.row_hi)
    assert dropped.without_rows("reach") is dropped


def test_reach_row_closes_the_lp_gap_of_a_lone_hub(tmp_path: Path) -> None:
    """One hub (fixed cost 100, 100 m3); one region wanting 10 units of P (lost sales at 1000
    per unit) and 10 of L (at 1 per unit); 1 m3 a unit, 1 per unit shipped. The linking row
    per hub and period (ship_P + ship_L <= 20 open) lets the LP open half the hub for P
    alone: 50 + 10 + 10 lost units of L = 70. P's reach row (unmet_P + 10 open >= 10) makes
    it open the hub or lose P, so the LP relaxation is the plan's cost: 100 + 20 = 120."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H", 100, throughput_capacity=100)],
            "regions": [region("R")],
            "products": [
                {"product_id": "P", "unit_volume": 1.0, "lost_sale_penalty": 1000},
                {"product_id": "L", "unit_volume": 1.0, "lost_sale_penalty": 1},
            ],
            "demand": [
                {"region_id": "R", "product_id": p, "period": 1, "quantity": 10} for p in "PL"
            ],
            "lanes": [{"from_id": "H", "to_id": "R", "cost_per_unit": 1.0}],
        },
        policy=HUB_LINKING,
    )
    problem = problem_of(path)
    bounds = []
    for strengthen in (False, True):
        model = build_model(problem, strengthen=strengthen)
        block = model.var_blocks["open"]
        relaxed = FixedLp(model, np.arange(block.start, block.stop)).relaxation(60)
        assert relaxed.optimal
        bounds.append(relaxed.objective)
    assert np.allclose(bounds, [70.0, 120.0])
    assert math.isclose(solve_exact(build_model(problem)).objective, 120.0)


def test_reach_row_of_a_footprint_stream(tmp_path: Path) -> None:
    """A footprint campaign's incremental units are wanted only where the region is
    included: 10 open - 10 include >= 0 beside the base stream's 10 open >= 10."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H", throughput_capacity=100)],
            "regions": [region("R")],
            "products": [{"product_id": "P", "unit_volume": 1, "unit_margin": 5}],
            "demand": [{"region_id": "R", "product_id": "P", "period": 1, "quantity": 10}],
        },
        campaigns=[{"id": "sale", "uplift": 2.0, "footprint": "optimize"}],
        policy=HUB_LINKING,
    )
    model = build_model(problem_of(path))
    rows = model.row_blocks["reach"]
    block = model.A[rows].toarray()
    include = model.var_blocks["include"].start
    opens = model.var_blocks["open"].start
    got = sorted(
        (block[i, opens], block[i, include], model.row_lo[rows.start + i])
        for i in range(rows.stop - rows.start)
    )
    assert np.allclose(got, [(10.0, -10.0, 0.0), (10.0, 0.0, 10.0)])


def test_flow_bounds_are_finite_and_tight(tmp_path: Path) -> None:
    """ship <= min(10 units, capacity / 2.2 m3): 10 on every arc; stock and inflow finite."""
    problem = problem_of(three_hubs(tmp_path))
    strong = build_model(problem)
    plain = build_model(problem, strengthen=False)
    for name in ("ship", "inflow", "stock"):
        assert np.isfinite(strong.ub[strong.var_blocks[name]]).all(), name
    assert np.allclose(strong.ub[strong.var_blocks["ship"]], 10.0)
    assert np.all(strong.ub <= plain.ub)


def test_flow_bound_below_the_stream_by_capacity(tmp_path: Path) -> None:
    """A 30 m3 hub, unit volume 2, returns 10 %: at most 30 / 2.2 = 13.6 of a 50-unit stream."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("HA", 10, throughput_capacity=30), hub("HB", 20)],
            "regions": [region("R1")],
            "products": [{"product_id": "P", "unit_volume": 2.0}],
            "demand": [{"region_id": "R1", "product_id": "P", "period": 1, "quantity": 50}],
            "channels": [{"channel_id": "parcel", "return_rate": 0.1, "return_cost": 0.0}],
        },
    )
    problem = problem_of(path)
    model = build_model(problem)
    ub = model.ub[model.var_blocks["ship"]]
    hubs = problem.out_arcs["hub_idx"].to_numpy()
    assert np.allclose(ub[hubs == 0], 30 / 2.2)
    assert np.allclose(ub[hubs == 1], 50.0)
    rows = strong_rows(problem, model)
    opens = model.var_blocks["open"].start
    assert math.isclose(-rows.A[0, opens], 30 / 2.2)  # u_hk of (HA, R1) in its strong row


def test_strong_rows_per_pickup_point(tmp_path: Path) -> None:
    """Pickup candidates: one row per (point, stream) with min(d_k, point capacity)."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("HA", 10)],
            "regions": [region("R1"), region("R2")],
            "products": [{"product_id": "P"}],
            "demand": [
                {"region_id": r, "product_id": "P", "period": 1, "quantity": q, "channel": "pickup"}
                for r, q in (("R1", 8), ("R2", 30))
            ],
            "channels": [{"channel_id": "pickup", "kind": "pickup"}],
            "pickup_points": [
                {
                    "pickup_id": "Q1",
                    "lat": 37.61,
                    "lon": 127.1,
                    "capacity": 20,
                    "fixed_cost": 1,
                    "max_distance_km": 5,
                }
            ],
        },
    )
    problem = problem_of(path)
    model = build_model(problem)
    rows = strong_rows(problem, model)
    pickup = np.flatnonzero(rows.kind == "pickup_stream")
    assert len(pickup) == 2
    column = model.var_blocks["pickup_open"].start
    assert sorted(-rows.A[pickup, column].toarray().ravel()) == [8.0, 20.0]


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=scenarios(), must_serve=st.booleans())
def test_strengthening_keeps_every_optimum(case: Any, must_serve: bool) -> None:
    """Random small scenarios (must-serve demand or lost sales): flow bounds and cover rows
    leave the status and the optimum unchanged, and the optimal plan meets every strong row."""
    tables, blocks = copy.deepcopy(case)
    if must_serve:
        for product in tables["products"]:
            del product["lost_sale_penalty"]
    with tempfile.TemporaryDirectory() as folder:
        problem = problem_of(write_scenario(Path(folder), tables, **blocks))
    plain = solve_exact(build_model(problem, strengthen=False))
    model = build_model(problem)
    strong = solve_exact(model)
    assert plain.status == strong.status
    if plain.status != SolveStatus.OPTIMAL:
        assert plain.status == SolveStatus.INFEASIBLE
        return
    assert math.isclose(plain.objective, strong.objective, rel_tol=1e-6, abs_tol=1e-6)
    assert plain.x is not None
    rows = strong_rows(problem, model)
    scale = np.maximum(abs(rows.A).max(axis=1).toarray().ravel(), 1.0)
    assert np.all(rows.A @ plain.x <= rows.hi + 1e-6 * scale)


def test_cover_row_leaves_out_footprint_units(tmp_path: Path) -> None:
    """R wants 10 units (1 m3 each) and a footprint campaign could double them; the only hub
    carries 10 m3. The cover row asks for the 10 m3 of base demand only, so excluding R from
    the campaign stays feasible: the plan serves the 10 base units and leaves R out (had
    the row counted the 10 optional units, the model would be infeasible)."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("H", throughput_capacity=10)],
            "regions": [region("R")],
            "products": [{"product_id": "P", "unit_volume": 1, "unit_margin": 5}],
            "demand": [{"region_id": "R", "product_id": "P", "period": 1, "quantity": 10}],
        },
        campaigns=[{"id": "sale", "uplift": 2.0, "footprint": "optimize"}],
    )
    problem = problem_of(path)
    model = build_model(problem)
    row = model.row_blocks["cover"]
    assert math.isclose(model.row_lo[row.start], 10.0)
    result = solve(path, backend="highs")
    assert result.status == SolveStatus.OPTIMAL and result.solution is not None
    assert result.solution.footprint["included"].tolist() == [0]


def test_single_sourcing_rows_are_equalities_for_streams_served_in_full(tmp_path: Path) -> None:
    """Single sourcing, two hubs, one region wanting 10 units of P (must be served) and 10
    of L (lost sales allowed at 1 per unit). The (hub, P) rows become ``ship = 10 assign``;
    the (hub, L) rows stay ``ship <= 10 assign`` (L may go unserved); without strengthening
    (the elastic model) every row stays an inequality. Both models give the same optimum:
    HA (fixed 5, 10 m3) cannot carry both products, so the region goes to HB (fixed 8)
    and is served in full: 8 + 20 units x 1 per unit."""
    path = write_scenario(
        tmp_path,
        {
            "hubs": [hub("HA", 5, throughput_capacity=10), hub("HB", 8, throughput_capacity=40)],
            "regions": [region("R")],
            "products": [
                {"product_id": "P", "unit_volume": 1.0},
                {"product_id": "L", "unit_volume": 1.0, "lost_sale_penalty": 30.0},
            ],
            "demand": [
                {"region_id": "R", "product_id": p, "period": 1, "quantity": 10} for p in "PL"
            ],
            "lanes": [{"from_id": h, "to_id": "R", "cost_per_unit": 1.0} for h in ("HA", "HB")],
        },
        policy={"single_sourcing": True},
    )
    problem = problem_of(path)
    model = build_model(problem)
    rows = model.row_blocks["single_sourcing"]
    arcs = problem.out_arcs
    product = problem.streams["product_id"].to_numpy()[arcs["stream_idx"].to_numpy()]
    ship = model.var_blocks["ship"]
    lo = {}
    for r in range(rows.start, rows.stop):
        cols = model.A[r].indices
        arc = cols[(cols >= ship.start) & (cols < ship.stop)] - ship.start
        lo[str(product[arc[0]])] = lo.get(str(product[arc[0]]), set()) | {model.row_lo[r]}
    assert lo == {"P": {0.0}, "L": {-np.inf}}
    plain = build_model(problem, strengthen=False)
    assert (plain.row_lo[plain.row_blocks["single_sourcing"]] == -np.inf).all()
    strong, weak = solve_exact(model), solve_exact(plain)
    assert strong.status == weak.status == SolveStatus.OPTIMAL
    assert math.isclose(strong.objective, 28.0) and math.isclose(weak.objective, 28.0)
