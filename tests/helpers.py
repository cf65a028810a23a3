"""Builders shared by the model tests: write a scenario folder, solve it on every backend.

Each test states its instance as a few table rows; :func:`write_scenario` turns them into
CSV files plus a ``scenario.yaml`` that refers to them by relative paths.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from hypothesis import strategies as st

from hubopt.api import solve
from hubopt.result import Result
from hubopt.scenario.load import deep_merge
from hubopt.solvers import SolveStatus, available_backends

FIXTURES = Path(__file__).parent / "fixtures"
BACKENDS = available_backends(exact_only=True)
HEURISTIC = "heuristic" in available_backends()
REL_TOL = 1e-6

# A solve in the tests is exact (gap 0) and writes nothing.
DEFAULT_BLOCKS: dict[str, Any] = {
    "solver": {"mip_gap": 0.0, "time_limit_s": 60},
    "output": {"map": False, "report": False},
}


def write_scenario(
    tmp_path: Path,
    tables: Mapping[str, Sequence[Mapping[str, Any]] | pd.DataFrame],
    name: str = "test",
    filename: str = "scenario.yaml",
    **yaml_blocks: Any,
) -> Path:
    """Write ``tables`` as ``data/<table>.csv`` and a scenario YAML; return the YAML path.

    ``yaml_blocks`` are top-level YAML keys (``policy=``, ``campaigns=``, ``solver=`` ...);
    mappings merge over :data:`DEFAULT_BLOCKS` (exact solves, no map or report).
    """
    folder = Path(tmp_path)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    data: dict[str, str] = {}
    for table, rows in tables.items():
        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
        frame.to_csv(folder / "data" / f"{table}.csv", index=False, float_format="%.17g")
        data[table] = f"data/{table}.csv"
    doc = deep_merge({"name": name, "data": data, **DEFAULT_BLOCKS}, yaml_blocks)
    path = folder / filename
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def solve_verified(path: Path, backend: str) -> Result:
    """Solve on ``backend``; assert an optimal, independently verified plan."""
    result = solve(path, backend=backend)
    assert result.status == SolveStatus.OPTIMAL, f"{backend}: {result.status} {result.message}"
    assert result.solution is not None
    assert result.verification is not None and result.verification.ok, result.verification
    assert math.isclose(
        result.objective, result.solution.objective, rel_tol=REL_TOL, abs_tol=1e-6
    ), (
        f"{backend}: solver objective {result.objective} != sum of cost components "
        f"{result.solution.objective}"
    )
    return result


def solve_all_backends(path: Path) -> dict[str, Result]:
    """Solve on every exact backend listed by ``available_backends()``; none is skipped.

    A backend that raises or returns no verified optimum fails the calling test. The
    ``heuristic`` backend runs too (:func:`check_heuristic`) but is not returned.
    """
    assert BACKENDS, "no solver backend available"
    results = {backend: solve_verified(path, backend) for backend in BACKENDS}
    if HEURISTIC:
        check_heuristic(path, next(iter(results.values())).objective)
    return results


def check_heuristic(path: Path, optimum: float) -> Result:
    """The ``heuristic`` backend's plan is verified, costs at least ``optimum`` (the exact
    backends' value), and its bound is at most the optimum; optimal only if proven."""
    result = solve(path, backend="heuristic")
    assert result.status in {SolveStatus.OPTIMAL, SolveStatus.FEASIBLE}, (
        f"heuristic: {result.status} {result.message}"
    )
    assert result.solution is not None
    assert result.verification is not None and result.verification.ok, result.verification
    tol = 1e-6 * max(1.0, abs(optimum))
    assert result.objective >= optimum - tol, f"heuristic {result.objective} < optimum {optimum}"
    assert result.bound <= optimum + tol, f"heuristic bound {result.bound} > optimum {optimum}"
    assert result.bound <= result.objective + tol
    if result.status == SolveStatus.OPTIMAL:
        assert result.objective - result.bound <= tol + 1e-9 * abs(result.objective)
    return result


def assert_objective(result: Result, expected: float, rel: float = REL_TOL) -> None:
    """The objective equals ``expected`` within a relative tolerance."""
    assert math.isclose(result.objective, expected, rel_tol=rel, abs_tol=1e-6), (
        f"{result.backend}: objective {result.objective!r} != expected {expected!r}"
    )


def open_hubs(result: Result, period: int | None = None) -> set[str]:
    """Ids of the hubs open in ``period`` (any period when None)."""
    assert result.solution is not None
    hubs = result.solution.hubs
    if period is not None:
        hubs = hubs[hubs["period"] == period]
    return set(hubs.loc[hubs["open"] == 1, "hub_id"])


def shipped(result: Result, **where: Any) -> float:
    """Units shipped on the flow rows matching ``column=value`` filters."""
    assert result.solution is not None
    flows = result.solution.flows
    mask = pd.Series(True, index=flows.index)
    for column, value in where.items():
        mask &= flows[column] == value
    return float(flows.loc[mask, "quantity"].sum())


def stock_of(result: Result, hub_id: str, period: int, product_id: str | None = None) -> float:
    """End-of-period stock at a hub (all products unless one is named)."""
    assert result.solution is not None
    stock = result.solution.stock
    mask = (stock["hub_id"] == hub_id) & (stock["period"] == period)
    if product_id is not None:
        mask &= stock["product_id"] == product_id
    return float(stock.loc[mask, "quantity"].sum())


def lanes(rows: Sequence[tuple[Any, ...]], columns: Sequence[str]) -> list[dict[str, Any]]:
    """Lane rows from tuples, e.g. ``lanes([("H1", "R1", 2.0)], ["from_id", "to_id", "cost_per_unit"])``."""
    return [dict(zip(columns, row, strict=True)) for row in rows]


# ---- the tiny map scenario (maps, report, compare, browser tests) ---------------------

XSS = "<img src=x onerror=alert(1)>"
XSS_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"

# Three square regions: Seoul-like and Daejeon-like near hub H1, Busan-like far from it.
REGIONS = [
    ("R1", "Jongno-gu", "종로구", "Seoul", 150_000, 37.5, 126.9),
    ("R2", "Daedeok-gu", "대덕구", "Daejeon", 170_000, 36.3, 127.3),
    ("R3", "Haeundae-gu", "해운대구", "Busan", 400_000, 35.1, 129.0),
]


def _square(lat: float, lon: float, size: float = 0.2) -> list[list[list[float]]]:
    return [
        [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    ]


def write_tiny_scenario(folder: Path, xss: bool = False, geometry: bool = True) -> Path:
    """A 3-region, 3-hub, 1-source, 2-product, 2-period scenario; return its YAML path.

    With ``xss`` the region R2, its province, hub H1 and the campaign carry a malicious
    name. H1 opens (cheap, near R1/R2); H2 and H3 are too expensive and stay closed.
    """
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    regions = []
    for region_id, name, name_ko, sido, population, lat, lon in REGIONS:
        bad = xss and region_id == "R2"
        regions.append(
            {
                "region_id": region_id,
                "name": XSS if bad else name,
                "name_local": XSS if bad else name_ko,
                "province": XSS if bad else sido,
                "population": population,
                "lat": lat + 0.1,
                "lon": lon + 0.1,
                "square": _square(lat, lon),
            }
        )
    if geometry:
        features = [
            {
                "type": "Feature",
                "properties": {k: v for k, v in r.items() if k not in {"square", "lat", "lon"}},
                "geometry": {"type": "Polygon", "coordinates": r["square"]},
            }
            for r in regions
        ]
        (data / "regions.geojson").write_text(
            json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
        )
        regions_file = "data/regions.geojson"
    else:
        rows = [{k: v for k, v in r.items() if k != "square"} for r in regions]
        _csv(data / "regions.csv", rows)
        regions_file = "data/regions.csv"
    _csv(
        data / "hubs.csv",
        [
            {
                "hub_id": "H1",
                "name": XSS if xss else "Daejeon hub",
                "name_local": "대전 허브",
                "lat": 37.0,
                "lon": 127.2,
                "fixed_cost": 1000,
                "throughput_capacity": 1000,
            },
            {
                "hub_id": "H2",
                "name": "Busan hub",
                "name_local": "부산 허브",
                "lat": 35.2,
                "lon": 128.9,
                "fixed_cost": 1e9,
                "throughput_capacity": 1000,
            },
            {
                "hub_id": "H3",
                "name": "Gangneung hub",
                "name_local": "강릉 허브",
                "lat": 37.75,
                "lon": 128.9,
                "fixed_cost": 1e9,
                "throughput_capacity": 1000,
            },
        ],
    )
    _csv(
        data / "sources.csv",
        [{"source_id": "S1", "name": "Incheon port", "lat": 37.35, "lon": 126.6}],
    )
    _csv(
        data / "supply.csv",
        [{"source_id": "S1", "product_id": p, "unit_cost": 10} for p in ("P1", "P2")],
    )
    _csv(
        data / "products.csv",
        [
            {"product_id": "P1", "name": "Padded jacket", "unit_volume": 0.02, "unit_margin": 500},
            {"product_id": "P2", "name": "Mini heater", "unit_volume": 0.03, "unit_margin": 300},
        ],
    )
    demand = [
        {"region_id": r[0], "product_id": p, "period": t, "quantity": q}
        for r, q in zip(REGIONS, (100, 60, 30), strict=True)
        for p in ("P1", "P2")
        for t in (1, 2)
    ]
    _csv(data / "demand.csv", demand)
    _csv(
        data / "modes.csv",
        [
            {
                "mode_id": "PARCEL",
                "leg": "both",
                "cost_per_kg": 1,
                "cost_per_kg_km": 0.01,
                "speed_kmh": 25,
                "handling_hours": 8,
            }
        ],
    )
    doc: dict[str, Any] = {
        "name": "tiny-map",
        "description": "Three regions, three hubs.",
        "data": {
            "regions": regions_file,
            "hubs": "data/hubs.csv",
            "sources": "data/sources.csv",
            "supply": "data/supply.csv",
            "products": "data/products.csv",
            "demand": "data/demand.csv",
            "modes": "data/modes.csv",
        },
        "campaigns": [
            {
                "id": "promo",
                "name": XSS if xss else "Spring promo",
                "regions": ["R1", "R2"],
                "products": ["P1"],
                "periods": [1, 2],
                "uplift": 1.5,
                "delivery_window_hours": 48,
                "service_level": 0.9,
                "spend": 20000,
            }
        ],
        "policy": {"default_delivery_window_hours": 72},
        "solver": {"mip_gap": 0.0, "time_limit_s": 60},
    }
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    pd.DataFrame(rows).to_csv(path, index=False)


def solve_tiny(folder: Path, xss: bool = False, geometry: bool = True) -> Result:
    """Solve the tiny scenario; it must be optimal and verified."""
    result = solve(write_tiny_scenario(folder, xss=xss, geometry=geometry))
    assert result.solution is not None and result.verification is not None
    assert result.verification.ok
    return result


def solve_pair(folder: Path) -> tuple[Result, Result]:
    """The tiny map scenario (H1 open) and the same with H1 closed (a far hub must open)."""
    path_a = write_tiny_scenario(folder / "a")
    path_b = write_tiny_scenario(folder / "b")
    doc = yaml.safe_load(path_b.read_text(encoding="utf-8"))
    doc["name"] = "tiny-h1-closed"
    doc["whatif"] = [{"close_hubs": ["H1"]}]
    path_b.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return solve(path_a), solve(path_b)


# ---- random small scenarios (property tests) --------------------------------------------


def _money(draw: st.DrawFn, low: int, high: int) -> float:
    return float(draw(st.integers(low, high)))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """Tables and YAML blocks of a random, always-feasible small scenario."""
    n_hubs = draw(st.integers(2, 4))
    n_regions = draw(st.integers(2, 5))
    n_products = draw(st.integers(1, 2))
    periods = draw(st.integers(1, 3))
    # Hubs sit on odd, regions on even hundredths of a degree: never at the same point,
    # which the verifier's distance formula gets wrong (see test_verify, centroid).
    grid = st.tuples(st.integers(1750, 1900), st.integers(6325, 6475))
    hub_coord = grid.map(lambda c: ((2 * c[0] + 1) / 100, (2 * c[1] + 1) / 100))
    coord = grid.map(lambda c: (2 * c[0] / 100, 2 * c[1] / 100))
    windows = draw(st.booleans())
    late_penalty = draw(st.one_of(st.none(), st.integers(1, 30))) if windows else None
    single = draw(st.booleans()) and not windows  # single sourcing needs an arc to every region
    forced_ok = not single

    hubs = []
    for i in range(n_hubs):
        lat, lon = draw(hub_coord)
        row: dict[str, Any] = {
            "hub_id": f"H{i}",
            "lat": lat,
            "lon": lon,
            "fixed_cost": _money(draw, 0, 300),
        }
        if draw(st.booleans()):
            row["throughput_capacity"] = _money(draw, 5, 80)
        row["handling_cost"] = _money(draw, 0, 3)
        row["opening_cost"] = _money(draw, 0, 50)
        # hub 0 is a plain candidate from period 1, so every region has somewhere to turn
        if i > 0 and forced_ok:
            row["status"] = draw(
                st.sampled_from(
                    ["candidate", "candidate", "existing", "forced_open", "forced_closed"]
                )
            )
            if row["status"] in ("candidate", "forced_open"):
                row["open_from_period"] = draw(st.integers(1, periods))
        hubs.append(row)
    regions = []
    for j in range(n_regions):
        lat, lon = draw(coord)
        regions.append({"region_id": f"R{j}", "lat": lat, "lon": lon})
    products = [
        {
            "product_id": f"P{p}",
            "unit_weight_kg": _money(draw, 1, 5),
            "unit_volume": draw(st.sampled_from([0.5, 1.0, 2.0])),
            "holding_cost": _money(draw, 0, 3),
            "lost_sale_penalty": _money(draw, 5, 200),
        }
        for p in range(n_products)
    ]
    demand = [
        {
            "region_id": f"R{j}",
            "product_id": f"P{p}",
            "period": t,
            "quantity": _money(draw, 0, 30),
            "std": _money(draw, 0, 5),
        }
        for j in range(n_regions)
        for p in range(n_products)
        for t in range(1, periods + 1)
    ]
    tables: dict[str, list[dict[str, Any]]] = {
        "hubs": hubs,
        "regions": regions,
        "products": products,
        "demand": demand,
        "modes": [
            {
                "mode_id": "road",
                "leg": "both",
                "cost_per_kg": draw(st.sampled_from([0.0, 0.5, 1.0])),
                "cost_per_kg_km": draw(st.sampled_from([0.0, 0.002, 0.01])),
                "speed_kmh": 60,
                "co2_g_per_tkm": draw(st.sampled_from([0, 100, 1000])),
            }
        ],
    }
    if draw(st.booleans()):
        lat, lon = draw(coord)
        tables["sources"] = [{"source_id": "S0", "lat": lat, "lon": lon}]
        tables["supply"] = [
            {
                "source_id": "S0",
                "product_id": f"P{p}",
                "capacity": _money(draw, 10, 100),
                "unit_cost": _money(draw, 0, 10),
            }
            for p in range(n_products)
        ]
    if draw(st.booleans()):
        tables["inventory"] = [
            {"hub_id": "H0", "product_id": "P0", "quantity": _money(draw, 0, 20)}
        ]

    policy: dict[str, Any] = {
        "single_sourcing": single,
        "allow_closing": draw(st.booleans()),
        "safety_stock": {"z": draw(st.sampled_from([0.0, 1.0, 1.65]))},
        "carbon": {"price_per_t": _money(draw, 0, 200)},
    }
    if windows:
        policy["default_delivery_window_hours"] = draw(st.sampled_from([2, 4, 8]))
        if late_penalty is not None:
            policy["late_penalty_per_unit"] = float(late_penalty)
    if not any(h.get("status") in ("existing", "forced_open") for h in hubs) and draw(
        st.booleans()
    ):
        policy["max_open_hubs"] = draw(st.integers(1, n_hubs))
    blocks: dict[str, Any] = {"policy": policy}
    if draw(st.booleans()):
        blocks["campaigns"] = [
            {"id": "promo", "periods": [periods], "uplift": draw(st.sampled_from([1.0, 1.5, 2.0]))}
        ]
    return tables, blocks


# ---- forecast: synthetic order history with known seasonality, trend and uplift --------


def synthetic_truth(
    base: float, t: np.ndarray, trend: float = 0.10, amplitude: float = 0.6, peak: int = 6
) -> np.ndarray:
    """Expected weekly units at period index ``t``: ``base * (1 + trend)^(t/52) *
    (1 + amplitude * cos(2 pi (t - peak) / 52))``."""
    return base * (1 + trend) ** (t / 52) * (1 + amplitude * np.cos(2 * np.pi * (t - peak) / 52))


SYNTHETIC_START = pd.Timestamp("2023-01-02")  # a Monday: period index 0
SYNTHETIC_UPLIFT = {"North": 1.5, "South": 1.2}
SYNTHETIC_CAMPAIGN_WEEKS = range(108, 112)  # "promo" in year 3 -> next year: t = 160..163


def synthetic_history(
    n_regions: int = 8,
    products: Sequence[str] = ("COAT", "SCARF"),
    weeks: int = 156,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[tuple[str, str], float]]:
    """Weekly history (Poisson around :func:`synthetic_truth`) and a regions table.

    Regions R01..Rnn alternate between provinces North and South; base levels 150-500
    units a week. Weeks 108-111 are campaign ``promo`` with uplift 1.5 (North) and 1.2
    (South). Returns (history, regions, base level per (region, product)).
    """
    rng = np.random.default_rng(seed)
    t = np.arange(weeks)
    dates = (SYNTHETIC_START + pd.to_timedelta(7 * t, unit="D")).strftime("%Y-%m-%d")
    regions = pd.DataFrame(
        {
            "region_id": [f"R{i + 1:02d}" for i in range(n_regions)],
            "lat": [36.0 + 0.1 * i for i in range(n_regions)],
            "lon": [127.0 + 0.1 * i for i in range(n_regions)],
            "province": ["North" if i % 2 == 0 else "South" for i in range(n_regions)],
        }
    )
    rows, bases = [], {}
    for region, province in zip(regions["region_id"], regions["province"], strict=True):
        for product in products:
            base = float(rng.uniform(150, 500))
            bases[(region, product)] = base
            mean = synthetic_truth(base, t)
            flagged = np.isin(t, SYNTHETIC_CAMPAIGN_WEEKS)
            mean[flagged] *= SYNTHETIC_UPLIFT[province]
            rows.append(
                pd.DataFrame(
                    {
                        "region_id": region,
                        "product_id": product,
                        "date": dates,
                        "quantity": rng.poisson(mean),
                        "campaign_id": np.where(flagged, "promo", ""),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True), regions, bases


def write_omni_scenario(folder: Path) -> Path:
    """Capacity realism in one tiny scenario (issue 13): two periods, region R with 12
    parcel units (20 % returned) and 10 pickup units per period; hub H (base 20 m3, peak 10
    m3 at 1 per m3, so each period's 24.4 m3 with returns needs 4.4 m3 of peak), locker Q
    (fixed 3, capacity 20, reach 5 km) and a far locker QF beyond reach; pooled safety
    stock with z 1 and std 2 per stream."""
    point = {"lat": 37.61, "lon": 127.1, "fixed_cost": 3, "capacity": 20, "max_distance_km": 5}
    return write_scenario(
        folder,
        {
            "hubs": [
                {
                    "hub_id": "H",
                    "name": "Gimpo",
                    "lat": 37.5,
                    "lon": 127.0,
                    "fixed_cost": 0,
                    "throughput_capacity": 20,
                    "peak_capacity": 10,
                    "peak_cost_per_m3": 1,
                }
            ],
            "regions": [{"region_id": "R", "lat": 37.6, "lon": 127.1}],
            "products": [{"product_id": "P", "holding_cost": 1}],
            "demand": [
                {
                    "region_id": "R",
                    "product_id": "P",
                    "period": t,
                    "quantity": q,
                    "std": 2,
                    "channel": c,
                }
                for t in (1, 2)
                for c, q in (("parcel", 12), ("store", 10))
            ],
            "channels": [
                {"channel_id": "parcel", "return_rate": 0.2},
                {"channel_id": "store", "kind": "pickup"},
            ],
            "pickup_points": [
                {"pickup_id": "Q", "name": "Locker Q", **point},
                {"pickup_id": "QF", "name": "Locker QF", **point, "lat": 37.8},
            ],
        },
        policy={"safety_stock": {"z": 1.0, "pooling": True}},
    )
