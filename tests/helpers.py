"""Builders shared by the model tests: write a scenario folder, solve it on every backend.

Each test states its instance as a few table rows; :func:`write_scenario` turns them into
CSV files plus a ``scenario.yaml`` that refers to them by relative paths.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from hubopt.api import Result, solve
from hubopt.scenario.load import deep_merge
from hubopt.solvers import SolveStatus, available_backends

FIXTURES = Path(__file__).parent / "fixtures"
BACKENDS = available_backends()
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
    """Solve on every backend listed by ``available_backends()``; none is skipped.

    A backend that raises or returns no verified optimum fails the calling test.
    """
    assert BACKENDS, "no solver backend available"
    return {backend: solve_verified(path, backend) for backend in BACKENDS}


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
