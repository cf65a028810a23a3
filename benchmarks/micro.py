"""Micro benchmarks of hubopt's pieces (part of ``make bench``; the solve benchmarks are
``benchmarks/run.py``).

Every figure is printed as a ratio against a baseline measured in the same run, because
the machines here are shared and noisy; nothing is asserted. Results go to
``bench-results/bench-<timestamp>.json``.

Cases
-----
build    hubopt's array model builder vs a row-by-row PuLP build of the same matrix
         (the usual dicts + lpSum layer), on the Korea scenarios.
load     handing the Korea matrix to HiGHS: highspy passModel (hubopt's `highs`) vs
         OR-Tools ModelBuilder fill_model_from_sparse_data (`ortools-highs`).
linking  Korea full: HiGHS root LP time with the per-period linking rows (auto) vs the
         strong per-stream form (each capped by --lp-limit seconds).
forecast ``hubopt forecast`` on the Korea order history (250 regions x 6 products x 3
         years) vs reading it and forecasting by seasonal naive alone (benchmarks/forecast.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.forecast import bench_forecast  # noqa: E402
from hubopt.data.problem import build_problem  # noqa: E402
from hubopt.model.build import build_model  # noqa: E402
from hubopt.model.matrix import MatrixModel  # noqa: E402
from hubopt.scenario.scenario import load_scenario  # noqa: E402
from hubopt.solvers.base import stdout_to_stderr  # noqa: E402
from hubopt.solvers.highs import pass_matrix  # noqa: E402


def timed(fn: Any, repeat: int = 3) -> tuple[float, Any]:
    """Median wall time of ``repeat`` calls and the last result."""
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def pulp_rowwise(model: MatrixModel) -> int:
    """Baseline: build the same model in PuLP row by row (variables, then lpSum rows)."""
    import pulp

    prob = pulp.LpProblem("baseline", pulp.LpMinimize)
    xs = [pulp.LpVariable(f"x{j}", lowBound=0) for j in range(model.n_vars)]
    prob += pulp.lpSum(float(model.c[j]) * xs[j] for j in np.flatnonzero(model.c))
    A = model.A
    for i in range(model.n_rows):
        sl = slice(A.indptr[i], A.indptr[i + 1])
        prob += pulp.lpSum(
            float(v) * xs[j] for j, v in zip(A.indices[sl], A.data[sl], strict=True)
        ) <= float(model.row_hi[i] if np.isfinite(model.row_hi[i]) else 1e30)
    return len(prob.constraints)


def bench_build(names: list[str]) -> list[dict[str, Any]]:
    """hubopt array build vs PuLP row-by-row build of the same matrix."""
    rows = []
    for name in names:
        scenario = load_scenario(ROOT / "scenarios" / "korea" / f"{name}.yaml")
        problem = build_problem(scenario)
        t_ours, model = timed(lambda problem=problem: build_model(problem))
        t_base, _ = timed(lambda model=model: pulp_rowwise(model), repeat=1)
        rows.append(
            {
                "case": f"build/{name}",
                "hubopt_s": t_ours,
                "baseline_s": t_base,
                "speedup": t_base / t_ours,
                **model.stats(),
            }
        )
    return rows


def bench_load(name: str) -> list[dict[str, Any]]:
    """Time to pass the same matrix to highspy vs OR-Tools ModelBuilder."""
    import highspy
    from ortools.linear_solver.python import model_builder as mb

    model = build_model(build_problem(load_scenario(ROOT / "scenarios" / "korea" / f"{name}.yaml")))

    def highs() -> None:
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        pass_matrix(h, model)

    def builder() -> None:
        m = mb.Model()
        fill: Any = m.helper.fill_model_from_sparse_data
        fill(model.lb, model.ub, model.c, model.row_lo, model.row_hi, model.A)
        for j in np.flatnonzero(model.integer):
            m.helper.set_var_integrality(int(j), True)

    t_highs, _ = timed(highs)
    t_builder, _ = timed(builder)
    return [
        {
            "case": f"load/{name}",
            "hubopt_s": t_highs,
            "baseline_s": t_builder,
            "speedup": t_builder / t_highs,
            **model.stats(),
        }
    ]


def bench_linking(limit: float) -> list[dict[str, Any]]:
    """Root-LP time of the Korea model, per-period linking (auto) vs strong per-stream."""
    import dataclasses

    import highspy

    out = {}
    for mode in ("auto", "stream"):
        scenario = load_scenario(ROOT / "scenarios" / "korea" / "korea.yaml")
        policy = scenario.config.policy.model_copy(update={"linking": mode})
        scenario = dataclasses.replace(
            scenario, config=scenario.config.model_copy(update={"policy": policy})
        )
        model = build_model(build_problem(scenario))
        relaxed = dataclasses.replace(model, integer=np.zeros_like(model.integer))
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", limit)
        pass_matrix(h, relaxed)
        start = time.perf_counter()
        h.run()
        out[mode] = (
            time.perf_counter() - start,
            h.modelStatusToString(h.getModelStatus()),
            model.n_rows,
        )
    return [
        {
            "case": "linking/korea-root-lp",
            "hubopt_s": out["auto"][0],
            "baseline_s": out["stream"][0],
            "speedup": out["stream"][0] / out["auto"][0],
            "auto_status": out["auto"][1],
            "strong_status": out["stream"][1],
            "rows_auto": out["auto"][2],
            "rows_strong": out["stream"][2],
            "note": f"strong form capped at {limit:g} s" if out["stream"][1] != "Optimal" else "",
        }
    ]


def main() -> None:
    """Run the benchmark cases, print ratios, write the results file."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small cases only")
    parser.add_argument(
        "--lp-limit", type=float, default=90.0, help="seconds per root LP in the linking case"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows: list[dict[str, Any]] = []
    with stdout_to_stderr():
        rows += bench_build(["korea-small"] if args.quick else ["korea-small", "korea"])
        rows += bench_load("korea-small" if args.quick else "korea")
        if not args.quick:
            rows += bench_linking(args.lp_limit)
        rows += bench_forecast()
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.out / f"bench-{stamp}.json"
    path.write_text(json.dumps({"when": stamp, "rows": rows}, indent=2, default=str))
    width = max(len(r["case"]) for r in rows)
    print(f"{'case':<{width}}  {'hubopt s':>9}  {'baseline s':>10}  ratio (baseline / hubopt)")
    for r in rows:
        print(
            f"{r['case']:<{width}}  {r['hubopt_s']:>9.3f}  {r['baseline_s']:>10.3f}  {r['baseline_s'] / r['hubopt_s']:>6.2f}x"
        )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
