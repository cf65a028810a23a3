"""Benders vs the compact model vs bare HiGHS on OR-Library capa/capb/capc (docs/solvers.md).

    python benchmarks/benders.py capb:5000 capa:8000 --compact --textbook

Per instance, in one run: hubopt end to end with ``solver.method: benders`` (load, build,
decomposition, full-model LP of the plan, decode, verify); optionally hubopt with
``solver.method: compact`` and the textbook strong-form CFLP passed to bare HiGHS in one
``passModel`` call. Each is capped by ``--limit`` seconds. Rows are appended to
``benchmarks/results/benders.csv`` with the machine's description; nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hubopt.api import solve  # noqa: E402
from hubopt.orlib import FacilityInstance, read_orlib_cap, write_facility_scenario  # noqa: E402
from hubopt.scenario.scenario import load_scenario  # noqa: E402

SHARED = ROOT.parent / "shared" / "benchmarks" / "orlib_cap"
OPTIMA = {
    ("capa", 8000): 19240822.449,
    ("capa", 10000): 18438046.543,
    ("capa", 12000): 17765201.949,
    ("capa", 14000): 17160439.012,
    ("capb", 5000): 13656379.578,
    ("capb", 6000): 13361927.449,
    ("capb", 7000): 13198556.434,
    ("capb", 8000): 13082516.496,
    ("capc", 5000): 11646596.974,
    ("capc", 5750): 11570340.289,
    ("capc", 6500): 11518743.744,
    ("capc", 7250): 11505767.394,
}
FIELDS = [
    "when",
    "machine",
    "instance",
    "method",
    "seconds",
    "status",
    "objective",
    "bound",
    "published",
    "rel_error",
]


def textbook(instance: FacilityInstance, limit: float) -> tuple[float, str, float, float]:
    """The strong-form CFLP (x_ij <= y_i rows) in bare HiGHS: seconds, status, obj, bound."""
    import highspy

    m, n = instance.cost.shape
    cols = m + m * n  # y, then x[i, j] i-major
    x = m + np.arange(m * n).reshape(m, n)
    rows = [
        sp.csr_matrix((np.ones(m * n), (np.tile(np.arange(n), m), x.ravel())), shape=(n, cols)),
        sp.csr_matrix(
            (
                np.concatenate([np.tile(instance.demand, m), -instance.capacity]),
                (
                    np.concatenate([np.repeat(np.arange(m), n), np.arange(m)]),
                    np.concatenate([x.ravel(), np.arange(m)]),
                ),
            ),
            shape=(m, cols),
        ),
        sp.csr_matrix(
            (
                np.concatenate([np.ones(m * n), -np.ones(m * n)]),
                (
                    np.tile(np.arange(m * n), 2),
                    np.concatenate([x.ravel(), np.repeat(np.arange(m), n)]),
                ),
            ),
            shape=(m * n, cols),
        ),
    ]
    A = sp.vstack(rows).tocsr()
    lo = np.concatenate([np.ones(n), np.full(m + m * n, -np.inf)])
    hi = np.concatenate([np.ones(n), np.zeros(m + m * n)])
    start = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("time_limit", float(limit))
    h.passModel(
        cols,
        A.shape[0],
        A.nnz,
        int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        np.concatenate([instance.fixed_cost, instance.cost.ravel()]),
        np.zeros(cols),
        np.ones(cols),
        lo,
        hi,
        A.indptr.astype(np.int32),
        A.indices.astype(np.int32),
        A.data,
        np.concatenate([np.ones(m, np.int32), np.zeros(m * n, np.int32)]),
    )
    h.run()
    seconds = time.perf_counter() - start
    info = h.getInfo()
    return (
        seconds,
        h.modelStatusToString(h.getModelStatus()),
        float(info.objective_function_value),
        float(info.mip_dual_bound),
    )


def hubopt_run(path: Path, method: str, limit: float) -> tuple[float, str, float, float]:
    """hubopt end to end with ``solver.method``: seconds, status, objective, bound."""
    scenario = load_scenario(path)
    settings = scenario.config.solver.model_copy(update={"method": method, "time_limit_s": limit})
    scenario = dataclasses.replace(
        scenario, config=scenario.config.model_copy(update={"solver": settings})
    )
    start = time.perf_counter()
    result = solve(scenario, backend="highs")
    return time.perf_counter() - start, str(result.status), result.objective, result.bound


def main() -> None:
    """Run the cases named on the command line and append their rows to the CSV."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="+", help="name:capacity, e.g. capb:5000")
    parser.add_argument("--compact", action="store_true", help="also hubopt compact")
    parser.add_argument("--textbook", action="store_true", help="also bare HiGHS")
    parser.add_argument("--limit", type=float, default=600.0)
    parser.add_argument("--data", type=Path, default=SHARED)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "benders.csv")
    args = parser.parse_args()
    machine = f"{platform.processor() or platform.machine()} x{os.cpu_count()}, {platform.python_version()}"
    when = datetime.now(UTC).isoformat(timespec="seconds")
    new = not args.out.exists()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a", newline="") as handle, TemporaryDirectory() as tmp:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        if new:
            writer.writeheader()
        for case in args.cases:
            name, capacity = case.split(":")
            key = (name, int(capacity))
            instance = read_orlib_cap(args.data / f"{name}.txt", capacity=float(capacity))
            path = write_facility_scenario(instance, Path(tmp) / case.replace(":", "_"))
            methods = ["benders"] + ["compact"] * args.compact + ["bare-highs"] * args.textbook
            for method in methods:
                if method == "bare-highs":
                    seconds, status, objective, bound = textbook(instance, args.limit)
                else:
                    seconds, status, objective, bound = hubopt_run(path, method, args.limit)
                row = {
                    "when": when,
                    "machine": machine,
                    "instance": case,
                    "method": method,
                    "seconds": round(seconds, 2),
                    "status": status,
                    "objective": objective,
                    "bound": bound,
                    "published": OPTIMA.get(key, ""),
                    "rel_error": abs(objective - OPTIMA[key]) / OPTIMA[key]
                    if key in OPTIMA
                    else "",
                }
                writer.writerow(row)
                handle.flush()
                print(row, flush=True)


if __name__ == "__main__":
    main()
