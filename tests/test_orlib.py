"""Real benchmark instances with published optima: OR-Library CFLP and Holmberg SSCFLP.

The small instances are copied into ``tests/fixtures`` (see its SOURCES.md); the large ones
(capa/b/c, Holmberg p25+) are read from ``shared/benchmarks`` and marked slow.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import BACKENDS, FIXTURES, assert_objective, solve_verified

from hubopt.orlib import read_holmberg, read_optima, read_orlib_cap, write_facility_scenario

CAP_OPTIMA = read_optima(FIXTURES / "orlib" / "capopt.txt")
# capopt prints 3 decimals (cap91 .438 vs cap101 .437 are the same optimum): 1e-6 relative.
REL = 1e-6


def holmberg_optima(path: Path) -> dict[str, float]:
    """``os_oscar-oliveira.txt``: line k is the optimum of instance pk."""
    lines = [line for line in path.read_text().split() if line.strip()]
    return {f"p{k}": float(value) for k, value in enumerate(lines, start=1)}


HOLMBERG_OPTIMA = holmberg_optima(FIXTURES / "holmberg" / "os_oscar-oliveira.txt")


def test_capopt_reader_has_every_small_instance() -> None:
    """capopt.txt parses to the published values (header skipped, capa's extra lines ignored)."""
    assert CAP_OPTIMA["cap41"] == 1040444.375
    assert CAP_OPTIMA["cap131"] == 793439.562
    assert CAP_OPTIMA["capa"] == 19240822.449
    assert HOLMBERG_OPTIMA["p1"] == 8848 and HOLMBERG_OPTIMA["p13"] == 8252


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["cap41", "cap71", "cap101", "cap131"])
def test_orlib_capacitated_optimum(name: str, backend: str, tmp_path: Path) -> None:
    """Multi-source CFLP: the published OR-Library optimum, on every backend."""
    instance = read_orlib_cap(FIXTURES / "orlib" / f"{name}.txt")
    assert instance.demand.sum() == 58268  # the clean copy (see shared README)
    path = write_facility_scenario(instance, tmp_path)
    result = solve_verified(path, backend)
    assert_objective(result, CAP_OPTIMA[name], rel=REL)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["p1", "p2", "p13"])
def test_holmberg_single_source_optimum(name: str, backend: str, tmp_path: Path) -> None:
    """Single-source CFLP: Holmberg's published optimum, every customer on one facility."""
    instance = read_holmberg(FIXTURES / "holmberg" / name)
    path = write_facility_scenario(instance, tmp_path, single_sourcing=True)
    result = solve_verified(path, backend)
    assert_objective(result, HOLMBERG_OPTIMA[name], rel=REL)
    assert result.solution is not None
    per_region = result.solution.flows.groupby("region_id")["hub_id"].nunique()
    assert (per_region == 1).all()
    assert len(per_region) == len(instance.demand)


# ---- slow: benchmark-size instances from ../shared --------------------------------------

CAPA_B_C = [
    ("capa", 14000, 17160439.012),
    ("capb", 8000, 13082516.496),
    ("capc", 7250, 11505767.394),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "capacity", "optimum"), CAPA_B_C)
def test_orlib_large_optimum(
    name: str, capacity: float, optimum: float, benchmarks_dir: Path, tmp_path: Path
) -> None:
    """100 x 1000 OR-Library instances (capacity substituted), HiGHS to a proven optimum."""
    instance = read_orlib_cap(benchmarks_dir / "orlib_cap" / f"{name}.txt", capacity=capacity)
    path = write_facility_scenario(instance, tmp_path)
    result = solve_verified(path, "highs")
    assert_objective(result, optimum, rel=REL)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["p25", "p41", "p56"])
def test_holmberg_large_optimum(name: str, benchmarks_dir: Path, tmp_path: Path) -> None:
    """Larger Holmberg instances (30 x 150, 10 x 90, 30 x 200) on HiGHS."""
    folder = benchmarks_dir / "holmberg_sscflp"
    instance = read_holmberg(folder / name)
    path = write_facility_scenario(instance, tmp_path, single_sourcing=True)
    result = solve_verified(path, "highs")
    assert_objective(result, holmberg_optima(folder / "os_oscar-oliveira.txt")[name], rel=REL)
